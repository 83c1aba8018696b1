// The generator: calls getpid() in a tight loop until killed or for argv[1] seconds.
// Its comm is set to "rbs_gen" so the workload program fires for it alone.
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 5.0;
	struct timespec start, now;

	prctl(PR_SET_NAME, "rbs_gen", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		for (int i = 0; i < 4096; i++)
			syscall(SYS_getpid); /* bypass any libc caching */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >= seconds)
			break;
	}
	return 0;
}
