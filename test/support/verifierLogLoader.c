// A test-only loader that asks the kernel for the verifier log of every program of a BPF
// object at a chosen log level, whether the program loads or not, and attaches nothing.
// The helper returns a log only for rejections until it can report logs of programs that
// load (issue 15, phase 2); this loader lets tests see a loaded program's complexity now.
//
//   verifier-log-loader OBJECT LEVEL LOG_MIB
//
// stdout, per program, in object order:
//   @@rbs-program <name> <section>
//   <the verifier log, as the kernel wrote it>
//   @@rbs-end <name> <0 | -errno>
// Programs after the first rejected one are not verified (libbpf loads in order): they
// end with -ECANCELED (and an empty log). Exit status: 0 when every program loaded, 1 otherwise, 2 on usage.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	char **logs = NULL;
	size_t n = 0, i = 0, log_size;
	int err = 0, level;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJECT LEVEL LOG_MIB\n", argv[0]);
		return 2;
	}
	level = atoi(argv[2]);
	log_size = (size_t)atoi(argv[3]) << 20;
	libbpf_set_print(silent_print);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		n++;
	logs = calloc(n + 1, sizeof(*logs));
	if (!logs) {
		err = -ENOMEM;
		goto cleanup;
	}
	bpf_object__for_each_program(prog, obj) {
		logs[i] = calloc(1, log_size);
		if (!logs[i]) {
			err = -ENOMEM;
			goto cleanup;
		}
		bpf_program__set_log_buf(prog, logs[i], log_size);
		bpf_program__set_log_level(prog, (__u32)level);
		i++;
	}
	err = bpf_object__load(obj);
	/* libbpf verifies in object order and stops at the first rejection: that program is
	 * the last one with a log; the ones before it passed (and were unloaded again). */
	size_t failed = n;
	for (i = 0; err && i < n; i++)
		if (logs[i][0])
			failed = i;
	i = 0;
	bpf_object__for_each_program(prog, obj) {
		int rc = !err || i < failed ? 0 : i == failed ? err : -ECANCELED;
		printf("@@rbs-program %s %s\n%s\n@@rbs-end %s %d\n", bpf_program__name(prog), bpf_program__section_name(prog),
		       logs[i], bpf_program__name(prog), rc);
		i++;
	}
cleanup:
	for (i = 0; logs && i < n; i++)
		free(logs[i]);
	free(logs);
	bpf_object__close(obj);
	return err ? 1 : 0;
}
