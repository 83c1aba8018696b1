// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* One record per exiting process (not per thread), from the raw tracepoint. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "process-exit.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Records lost because the ring was full. */
__u64 dropped = 0;

/* Raw tracepoint arguments are the tracepoint's C arguments: (struct task_struct *p, …). */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	struct event *e;
	__u64 id = bpf_get_current_pid_tgid();
	int pid = id >> 32;
	int code;

	/* Threads exit too; report the process once, when its main thread exits. */
	if (pid != (__u32)id)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	code = BPF_CORE_READ(p, exit_code);
	e->pid = pid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->exit_code = (code >> 8) & 0xff;
	e->signal = code & 0x7f;
	e->duration_ns = bpf_ktime_get_ns() - BPF_CORE_READ(p, start_time);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
