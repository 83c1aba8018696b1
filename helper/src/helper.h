/* Internal interfaces of ringbuf-helper (one binary; files split by concern). */
#ifndef RBS_HELPER_H
#define RBS_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "protocol.h"

/* ── json.c: a tiny JSON writer ── */
#define JW_MAX_DEPTH 32
struct jw {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[JW_MAX_DEPTH];
	bool after_key;
	bool oom;
};
void jw_init(struct jw *j);
void jw_free(struct jw *j);
void jw_obj_begin(struct jw *j);
void jw_obj_end(struct jw *j);
void jw_arr_begin(struct jw *j);
void jw_arr_end(struct jw *j);
void jw_key(struct jw *j, const char *key);
void jw_str(struct jw *j, const char *s);
void jw_strn(struct jw *j, const char *s, size_t n);
void jw_int(struct jw *j, long long v);
void jw_uint(struct jw *j, unsigned long long v);
void jw_double(struct jw *j, double v);
void jw_bool(struct jw *j, bool v);
void jw_kv_str(struct jw *j, const char *k, const char *v);
void jw_kv_int(struct jw *j, const char *k, long long v);
void jw_kv_uint(struct jw *j, const char *k, unsigned long long v);
void jw_kv_bool(struct jw *j, const char *k, bool v);
void jw_text(struct jw *j, const char *text); /* raw text, for messages built with the same buffer */
size_t utf8_sequence_length(const char *s, size_t avail);

/* ── frame.c: the outgoing frame queue (non-blocking stdout) and the stdin frame reader ── */
typedef void (*out_done_fn)(void *ctx, uint64_t arg);
struct out_frame {
	struct out_frame *next;
	unsigned char header[sizeof(struct rbs_frame_header) + sizeof(struct rbs_events_header)];
	struct iovec iov[2];
	size_t total, done;
	void *owned;       /* freed when the frame is written or dropped */
	out_done_fn on_done; /* called once the whole frame is written */
	void *ctx;
	uint64_t arg;
};
struct output {
	int fd;
	struct out_frame *head, *tail;
	size_t queued_bytes;
	int error; /* first fatal write error (e.g. EPIPE), 0 while healthy */
};
void output_init(struct output *o, int fd);
int output_send(struct output *o, uint8_t kind, const void *payload, size_t len);
int output_send_json(struct output *o, uint8_t kind, struct jw *j);
int output_send_log(struct output *o, int level, const char *text, size_t len);
int output_send_events(struct output *o, const struct rbs_events_header *h, const void *span, size_t len,
		       out_done_fn on_done, void *ctx, uint64_t arg);
int output_flush(struct output *o);
int output_flush_wait(struct output *o, int timeout_ms);
bool output_pending(const struct output *o);
void output_drop(struct output *o);

struct input {
	uint8_t *buf;
	size_t len, cap, pos;
};
ssize_t input_fill(struct input *in, int fd);
int input_next(struct input *in, uint8_t *kind, const uint8_t **payload, size_t *len, char *err, size_t errlen);
void input_free(struct input *in);

/* ── drain.c: our own ringbuf consumer over the kernel's mmap layout ── */
struct ring {
	int index;
	char name[64];
	int fd;
	size_t size, page_size;
	void *consumer_page; /* RW: consumer_pos at offset 0 */
	void *producer_page; /* RO: producer_pos at offset 0, data area follows (mapped twice) */
	const uint8_t *data;
	uint64_t records, bytes;                  /* delivered totals (discards excluded) */
	uint64_t pending_records, pending_bytes;  /* in the frame being written */
	bool in_flight;
	uint64_t hold_since_ns; /* when we first saw a small backlog we are letting grow (0: none) */
};
int ring__map(struct ring *r, int fd, size_t size, size_t page_size);
void ring__unmap(struct ring *r);
uint64_t ring__consumer_pos(const struct ring *r);
uint64_t ring__producer_pos(const struct ring *r);
int ring__drain(struct ring *r, struct output *o);
/* ns until the ring should be drained: 0 = now, -1 = nothing to drain (or a frame in flight). */
int64_t ring__wait_ns(struct ring *r, uint64_t now_ns, uint64_t hold_ns);

/* ── session state shared by serve.c, load.c, counters.c ── */
struct counter {
	char name[64];
	char map[64];
	int fd;
	uint32_t entries;    /* array entries to sum */
	uint32_t value_size; /* per entry (per CPU for per-CPU maps) */
	uint32_t offset;     /* of the integer inside the value */
	uint32_t size;       /* 1, 2, 4 or 8 */
	bool is_signed;
	bool percpu;
};

struct bpf_object;
struct bpf_program;
struct bpf_link;
struct session {
	struct output out;
	struct input in;
	struct bpf_object *obj;
	struct bpf_link **links;
	size_t n_links;
	struct ring *rings;
	size_t n_rings;
	struct counter *counters;
	size_t n_counters;
	size_t page_size;
	int log_level;
	bool loaded, started, paused;
	int epfd, sigfd;
	pid_t parent;
	uint64_t next_stats_ms;
	bool stopping;
	const char *reason;
	char signal_name[16];
	char first_warn[512]; /* libbpf's first warning since open: usually the root cause */
	char failed_map[128]; /* map named by libbpf's "map '…': failed to create" warning */
	char failed_prog[128]; /* program named by libbpf's last "prog '…': … failed" warning */
	/* Where drain time goes (STATS "drain"): frames shipped, idle sleeps, time the
	 * reader kept stdout full, and our own wait for a CPU (schedstat run delay). */
	uint64_t drain_frames, drain_sleeps, out_blocked_ns, out_blocked_since_ns;
	uint64_t hold_ns; /* see ring__wait_ns */
};

int session__load(struct session *s, const uint8_t *payload, size_t len);
size_t session__unload(struct session *s);
int session__error(struct session *s, const char *code, bool fatal, int err, const char *message,
		   const char *hint, const char *program, const char *map, const char *log);
int counters__discover(struct session *s);
void counters__write(struct session *s, struct jw *j);
void attach__explain(const struct bpf_program *prog, int err, char *reason, size_t n);
void attach__target(const char *section, char *out, size_t n);

/* ── probe.c / vmlinux.c / serve.c ── */
void probe__hello(struct jw *j, bool probe_attach);
size_t probe__page_size(void);
int probe__main(void);
int vmlinux__main(const char *btf_path);
int serve__main(void);

uint64_t now_ms(void);
uint64_t monotonic_ns(void);
uint64_t realtime_ns(void);

#endif
