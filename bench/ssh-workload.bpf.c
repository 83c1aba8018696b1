// ssh_e2e workload: like bench/peers/workload.bpf.c (48-byte records for the
// generator "rbs_gen" only) but 256 records per getpid() through bpf_loop, so that
// producing is cheap and the transport — not the producer sharing our CPUs on
// loopback — is what the benchmark measures.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "peers/workload.h"

#define SSH_RECORDS_PER_CALL 256

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} rb SEC(".maps");

__u64 dropped = 0;
__u64 seq = 0;

struct emit_ctx {
	__u32 pid;
	__u64 now;
};

static long emit(__u32 i, void *data)
{
	struct emit_ctx *c = data;
	struct bench_record *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 1; /* ring full: stop this burst */
	}
	r->seq = __sync_fetch_and_add(&seq, 1);
	r->pid = c->pid;
	r->slot = i;
	r->ts_ns = c->now;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	r->pad = 0;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	char comm[16];
	const char want[] = WORKLOAD_COMM;

	bpf_get_current_comm(comm, sizeof(comm));
#pragma unroll
	for (int i = 0; i < (int)sizeof(want); i++)
		if (comm[i] != want[i])
			return 0;
	struct emit_ctx c = { .pid = bpf_get_current_pid_tgid() >> 32, .now = bpf_ktime_get_ns() };
	bpf_loop(SSH_RECORDS_PER_CALL, emit, &c, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
