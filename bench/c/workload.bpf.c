// helper_drain workload: each getpid() of the generator (comm "rbs_gen") writes
// RECORDS_PER_CALL (256) records of 48 bytes with bpf_loop into a 16 MiB ring; failed
// reservations are counted in `dropped` (a .bss global every consumer can read).
// Default submit flags: the kernel wakes a consumer only when it has caught up
// (forcing a wakeup per call costs ~3 µs here: an IPI in this VM).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#ifndef RECORDS_PER_CALL
#define RECORDS_PER_CALL 256
#endif

struct drain_record {
	__u64 seq;
	__u32 pid;
	__u32 slot;
	__u64 ts_ns;
	char comm[16];
	__u64 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} rb SEC(".maps");

__u64 dropped = 0;
__u64 seq = 0;

struct loop_ctx {
	__u32 pid;
	__u64 now;
};

static long emit(__u32 i, void *data)
{
	struct loop_ctx *c = data;
	struct drain_record *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	r->seq = seq++;
	r->pid = c->pid;
	r->slot = i;
	r->ts_ns = c->now;
	__builtin_memcpy(r->comm, "rbs_gen", 8);
	r->pad = 0;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int drain_getpid(void *ctx)
{
	char comm[8];
	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 'r' || comm[1] != 'b' || comm[2] != 's' || comm[3] != '_' || comm[4] != 'g' || comm[5] != 'e' ||
	    comm[6] != 'n')
		return 0;
	struct loop_ctx c = { .pid = bpf_get_current_pid_tgid() >> 32, .now = bpf_ktime_get_ns() };
	bpf_loop(RECORDS_PER_CALL, emit, &c, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
