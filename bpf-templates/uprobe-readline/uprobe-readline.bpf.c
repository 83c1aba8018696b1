// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Every line an interactive bash reads: a uretprobe on readline() sees its return
 * value, a user-space pointer to the line. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uprobe-readline.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Records lost because the ring was full. */
__u64 dropped = 0;

/* libbpf attaches this to the readline symbol of /bin/bash on its own. If your bash
 * lives elsewhere or uses a shared libreadline, change the path after "//". */
SEC("uretprobe//bin/bash:readline")
int BPF_KRETPROBE(bash_readline, const char *ret)
{
	struct event *e;

	if (!ret)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(&e->line, sizeof(e->line), ret);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
