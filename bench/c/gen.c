// Load generator: renames itself (argv[2], default "rbs_gen") so only its syscalls
// trigger the benchmark/flood programs, then calls getpid() in a tight loop for
// argv[1] seconds (default 5). Dies with its parent.
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5.0;
	struct timespec start, now;

	prctl(PR_SET_NAME, argc > 2 ? argv[2] : "rbs_gen", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		for (int i = 0; i < 1024; i++)
			syscall(SYS_getpid); /* the raw syscall: libc may cache getpid() */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 >= seconds)
			break;
	}
	return 0;
}
