// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Variable-size records: reserve only the bytes each event needs (kernel ≥ 5.19). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "dynptr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Scratch space for the name: too big for the 512-byte BPF stack next to the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[MAX_NAME_LEN]);
} scratch SEC(".maps");

/* Records lost because the ring was full. */
__u64 dropped = 0;

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct bpf_dynptr ptr;
	struct event hdr = {};
	__u32 zero = 0;
	char *name;
	long len;

	name = bpf_map_lookup_elem(&scratch, &zero);
	if (!name)
		return 0;
	len = bpf_probe_read_kernel_str(name, MAX_NAME_LEN, (void *)ctx + (ctx->__data_loc_filename & 0xFFFF));
	if (len <= 0 || len > MAX_NAME_LEN) /* a bound the verifier can see */
		return 0;

	hdr.pid = bpf_get_current_pid_tgid() >> 32;
	hdr.name_len = len;
	bpf_get_current_comm(&hdr.comm, sizeof(hdr.comm));

	/* A failed reserve still hands out a dynptr that must be discarded. */
	if (bpf_ringbuf_reserve_dynptr(&events, sizeof(hdr) + len, 0, &ptr)) {
		__sync_fetch_and_add(&dropped, 1);
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}
	if (bpf_dynptr_write(&ptr, 0, &hdr, sizeof(hdr), 0) ||
	    bpf_dynptr_write(&ptr, sizeof(hdr), name, len, 0)) {
		bpf_ringbuf_discard_dynptr(&ptr, 0);
		return 0;
	}
	bpf_ringbuf_submit_dynptr(&ptr, 0);
	return 0;
}
