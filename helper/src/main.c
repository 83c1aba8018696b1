/* ringbuf-helper: loads BPF objects, attaches them and streams their ring buffers
 * to Ringbuf Studio over a framed protocol on stdio (see ../PROTOCOL.md). */
#include <stdio.h>
#include <string.h>

#include "helper.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ringbuf-helper serve              speak protocol %d on stdin/stdout\n"
		"       ringbuf-helper probe              kernel features as JSON\n"
		"       ringbuf-helper vmlinux-h [BTF]    C header of the kernel's BTF (default /sys/kernel/btf/vmlinux)\n"
		"       ringbuf-helper --version\n",
		RBS_PROTOCOL_VERSION);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("ringbuf-helper %s protocol %d\n", RBS_HELPER_VERSION, RBS_PROTOCOL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "serve") == 0 && argc == 2)
		return serve__main();
	if (strcmp(cmd, "probe") == 0 && argc == 2)
		return probe__main();
	if (strcmp(cmd, "vmlinux-h") == 0 && argc <= 3)
		return vmlinux__main(argc == 3 ? argv[2] : NULL);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ringbuf-helper: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
