// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Reserve → decide → submit or discard, with counters for every way a record can
 * fail to reach user space. The kernel counts no ring buffer drops for you. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "drop-counter.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Set before load to discard events from one more pid (0: only pid 1). */
const volatile int filter_pid = 0;

/* Read by user space: reserve failed (ring full) — these events are lost. */
__u64 dropped = 0;
/* Read by user space: reserved, then discarded on purpose by the filter. */
__u64 discarded = 0;

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct event *e;
	int pid;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}

	pid = bpf_get_current_pid_tgid() >> 32;
	if (pid == 1 || (filter_pid && pid == filter_pid)) {
		/* Give the space back without waking the reader. */
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		__sync_fetch_and_add(&discarded, 1);
		return 0;
	}

	e->pid = pid;
	e->uid = (unsigned int)bpf_get_current_uid_gid();
	e->ts_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
