/* `vmlinux-h [btf-path]`: the kernel's BTF as a C header, like
 * `bpftool btf dump file … format c`, generated in-process with libbpf's btf_dump. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "helper.h"

static void vmlinux__print(void *ctx, const char *fmt, va_list args)
{
	vfprintf((FILE *)ctx, fmt, args);
}

/* libbpf 1.1 prints a prototype without parameters as "()"; C wants "(void)" there
 * (clang -Wstrict-prototypes), and newer bpftool prints that too. In a BTF dump "()"
 * appears only in such prototypes. */
static int vmlinux__write(const char *text, size_t len, FILE *out)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), "()", 2);
		size_t n = hit ? (size_t)(hit - p) : (size_t)(end - p);
		if (fwrite(p, 1, n, out) != n)
			return -1;
		if (!hit)
			break;
		if (fputs("(void)", out) == EOF)
			return -1;
		p = hit + 2;
	}
	return 0;
}

int vmlinux__main(const char *btf_path)
{
	struct btf *btf = NULL;
	struct btf_dump *dump = NULL;
	char *text = NULL;
	size_t text_len = 0;
	FILE *mem = NULL;
	int err = 0;
	const char *path = btf_path ? btf_path : "/sys/kernel/btf/vmlinux";

	btf = btf__parse(path, NULL);
	if (!btf) {
		err = errno;
		fprintf(stderr, "ringbuf-helper: read BTF from %s: %s\n", path, strerror(err));
		if (!btf_path && err == ENOENT)
			fprintf(stderr, "hint: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF); pass a vmlinux ELF with BTF instead\n");
		goto cleanup;
	}
	mem = open_memstream(&text, &text_len);
	if (!mem) {
		err = errno;
		goto cleanup;
	}
	dump = btf_dump__new(btf, vmlinux__print, mem, NULL);
	if (!dump) {
		err = errno;
		fprintf(stderr, "ringbuf-helper: btf_dump: %s\n", strerror(err));
		goto cleanup;
	}
	printf("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	printf("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
	       "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
	       "#endif\n\n");
	uint32_t n = btf__type_cnt(btf);
	for (uint32_t id = 1; id < n; id++) {
		err = btf_dump__dump_type(dump, id);
		if (err) {
			err = -err;
			fprintf(stderr, "ringbuf-helper: dump BTF type %u: %s\n", id, strerror(err));
			goto cleanup;
		}
	}
	if (fflush(mem) != 0 || vmlinux__write(text, text_len, stdout) != 0) {
		err = errno ? errno : EIO;
		fprintf(stderr, "ringbuf-helper: write vmlinux.h: %s\n", strerror(err));
		goto cleanup;
	}
	printf("\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n");
	printf("#endif /* __VMLINUX_H__ */\n");
	if (fflush(stdout) != 0)
		err = errno;

cleanup:
	btf_dump__free(dump);
	if (mem)
		fclose(mem);
	free(text);
	btf__free(btf);
	return err ? 1 : 0;
}
