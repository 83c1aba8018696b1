/* What this kernel can do: HELLO's facts (serve sends them at start) and, for the
 * `probe` subcommand, real attach attempts of tiny programs where that is cheap. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "helper.h"

size_t probe__page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps > 0 ? (size_t)ps : 4096;
}

/* r0 = 0; exit */
static const struct bpf_insn return_zero[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int prog__load_tiny(enum bpf_prog_type type, enum bpf_attach_type eat, uint32_t btf_id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = eat, .attach_btf_id = btf_id);
	return bpf_prog_load(type, "rbs_probe", "GPL", return_zero, 2, &opts);
}

static bool path_exists(const char *p) { return access(p, F_OK) == 0; }

static int tracepoint_id(const char *cat, const char *name)
{
	const char *roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	for (size_t i = 0; i < 2; i++) {
		char path[256], buf[32];
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], cat, name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		int id = fgets(buf, sizeof(buf), f) ? atoi(buf) : -1;
		fclose(f);
		return id;
	}
	return -1;
}

static bool probe__attach_tracepoint(void)
{
	int id = tracepoint_id("syscalls", "sys_enter_getpid");
	if (id < 0)
		id = tracepoint_id("sched", "sched_process_exec");
	if (id < 0)
		return false;
	int prog = prog__load_tiny(BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (prog < 0)
		return false;
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr), .config = (uint64_t)id };
	int pfd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	bool ok = pfd >= 0 && ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) == 0;
	if (pfd >= 0)
		close(pfd);
	close(prog);
	return ok;
}

static bool probe__attach_raw_tp(void)
{
	int prog = prog__load_tiny(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0);
	if (prog < 0)
		return false;
	int link = bpf_raw_tracepoint_open("sched_switch", prog);
	if (link >= 0)
		close(link);
	close(prog);
	return link >= 0;
}

/* fentry (function) and tp_btf (typedef btf_trace_*) through a BTF id of vmlinux. */
static bool probe__attach_btf(struct btf *vmlinux, const char *const *names, int kind, enum bpf_attach_type eat)
{
	if (!vmlinux)
		return false;
	int id = -1;
	for (size_t i = 0; names[i] && id < 0; i++)
		id = btf__find_by_name_kind(vmlinux, names[i], kind);
	if (id < 0)
		return false;
	int prog = prog__load_tiny(BPF_PROG_TYPE_TRACING, eat, (uint32_t)id);
	if (prog < 0)
		return false;
	int link = bpf_raw_tracepoint_open(NULL, prog);
	if (link >= 0)
		close(link);
	close(prog);
	return link >= 0;
}

static void probe__prog_types(struct jw *j, struct btf *vmlinux)
{
	static const struct { const char *name; enum bpf_prog_type type; } types[] = {
		{ "tracepoint", BPF_PROG_TYPE_TRACEPOINT }, { "raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT },
		{ "kprobe", BPF_PROG_TYPE_KPROBE },         { "perf_event", BPF_PROG_TYPE_PERF_EVENT },
		{ "xdp", BPF_PROG_TYPE_XDP },               { "socket_filter", BPF_PROG_TYPE_SOCKET_FILTER },
	};
	jw_key(j, "prog_types");
	jw_obj_begin(j);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int r = libbpf_probe_bpf_prog_type(types[i].type, NULL);
		if (r >= 0) /* a negative answer means "cannot tell" (e.g. needs a BTF target): leave it out */
			jw_kv_bool(j, types[i].name, r == 1);
	}
	/* tracing (fentry/fexit) and lsm programs need a BTF target to load at all */
	int id = vmlinux ? btf__find_by_name_kind(vmlinux, "do_nanosleep", BTF_KIND_FUNC) : -1;
	if (id > 0) {
		int fd = prog__load_tiny(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, (uint32_t)id);
		jw_kv_bool(j, "tracing", fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	id = vmlinux ? btf__find_by_name_kind(vmlinux, "bpf_lsm_file_open", BTF_KIND_FUNC) : -1;
	if (id > 0) {
		int fd = prog__load_tiny(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, (uint32_t)id);
		jw_kv_bool(j, "lsm", fd >= 0);
		if (fd >= 0)
			close(fd);
	}
	jw_obj_end(j);
}

void probe__hello(struct jw *j, bool probe_attach)
{
	struct utsname u;
	uname(&u);
	jw_init(j);
	jw_obj_begin(j);
	jw_kv_int(j, "protocol", RBS_PROTOCOL_VERSION);
	jw_kv_str(j, "helper", RBS_HELPER_VERSION);
	jw_kv_str(j, "kernel", u.release);
	jw_kv_str(j, "arch", u.machine);
	jw_kv_uint(j, "page_size", probe__page_size());
	jw_kv_bool(j, "btf", path_exists("/sys/kernel/btf/vmlinux"));
	jw_kv_bool(j, "ringbuf", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1);
	jw_kv_int(j, "pid", getpid());
	jw_kv_int(j, "uid", getuid());
	/* serve skips what needs the kernel's BTF parsed (~50 ms): a missing key means "not probed" */
	struct btf *vmlinux = probe_attach ? btf__load_vmlinux_btf() : NULL;
	jw_key(j, "features");
	jw_obj_begin(j);
	probe__prog_types(j, vmlinux);
	jw_key(j, "attach");
	jw_obj_begin(j);
	if (probe_attach) {
		static const char *const fentry_targets[] = { "do_nanosleep", "hrtimer_nanosleep", "do_sys_openat2", NULL };
		static const char *const tp_btf_targets[] = { "btf_trace_sched_switch", NULL };
		/* kprobe/uprobe: libbpf needs the PMU or the legacy tracefs files; without them attach is ENOENT */
		jw_kv_bool(j, "kprobe", path_exists("/sys/bus/event_source/devices/kprobe/type") ||
					   path_exists("/sys/kernel/tracing/kprobe_events"));
		jw_kv_bool(j, "fentry", probe__attach_btf(vmlinux, fentry_targets, BTF_KIND_FUNC, BPF_TRACE_FENTRY));
		jw_kv_bool(j, "tracepoint", probe__attach_tracepoint());
		jw_kv_bool(j, "raw_tp", probe__attach_raw_tp());
		jw_kv_bool(j, "tp_btf", probe__attach_btf(vmlinux, tp_btf_targets, BTF_KIND_TYPEDEF, BPF_TRACE_RAW_TP));
		jw_kv_bool(j, "uprobe", path_exists("/sys/bus/event_source/devices/uprobe/type") ||
					   path_exists("/sys/kernel/tracing/uprobe_events"));
	}
	btf__free(vmlinux);
	jw_obj_end(j);
	jw_kv_bool(j, "bpf_loop", libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, NULL) == 1);
	jw_kv_bool(j, "dynptr", libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_ringbuf_reserve_dynptr, NULL) == 1);
	jw_obj_end(j);
	jw_obj_end(j);
}

static int probe__silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int probe__main(void)
{
	struct jw j;
	libbpf_set_print(probe__silent);
	probe__hello(&j, true);
	if (j.oom) {
		fprintf(stderr, "ringbuf-helper: out of memory\n");
		jw_free(&j);
		return 1;
	}
	printf("%s\n", j.buf);
	jw_free(&j);
	return fflush(stdout) == 0 ? 0 : 1;
}
