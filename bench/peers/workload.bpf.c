// Benchmark workload: a tracepoint on getpid that, for the generator process only,
// writes 8 records of 48 bytes with reserve/submit into a 4 MiB ring and counts
// failed reservations (so loss is visible to every consumer).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "workload.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} rb SEC(".maps");

__u64 dropped = 0;
__u64 seq = 0;

static __always_inline int is_generator(void)
{
	char comm[16];
	const char want[] = WORKLOAD_COMM;

	bpf_get_current_comm(comm, sizeof(comm));
#pragma unroll
	for (int i = 0; i < (int)sizeof(want); i++)
		if (comm[i] != want[i])
			return 0;
	return 1;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int on_getpid(void *ctx)
{
	if (!is_generator())
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
#pragma unroll
	for (int i = 0; i < RECORDS_PER_CALL; i++) {
		struct bench_record *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
		if (!r) {
			__sync_fetch_and_add(&dropped, 1);
			continue;
		}
		r->seq = __sync_fetch_and_add(&seq, 1);
		r->pid = pid;
		r->slot = i;
		r->ts_ns = now;
		bpf_get_current_comm(r->comm, sizeof(r->comm));
		r->pad = 0;
		bpf_ringbuf_submit(r, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
