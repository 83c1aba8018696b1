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
/* Called once per frame that carried a callback: written = true when the whole frame went
 * out, false when it was dropped unwritten (its records stay in the ring). */
typedef void (*out_done_fn)(void *ctx, uint64_t arg, bool written);
struct out_frame {
	struct out_frame *next;
	unsigned char header[sizeof(struct rbs_frame_header) + sizeof(struct rbs_events_header)];
	struct iovec iov[2];
	size_t total, done;
	void *owned;       /* freed when the frame is written or dropped */
	out_done_fn on_done;
	void *ctx;
	uint64_t arg;
};
struct output {
	int fd;
	struct out_frame *head, *tail;
	size_t queued_bytes;
	int error; /* first fatal write error (e.g. EPIPE), 0 while healthy */
};
/* How much stdout may hold unread (a pipe's size, a socket's send buffer). */
#define RBS_OUT_BUFFER (8 << 20)
void output__deepen(int fd);
void output_init(struct output *o, int fd);
int output_send(struct output *o, uint8_t kind, const void *payload, size_t len);
int output_send_json(struct output *o, uint8_t kind, struct jw *j);
int output_send_log(struct output *o, int level, const char *text, size_t len);
int output_send_chunked(struct output *o, uint8_t kind, const void *header, size_t header_len, size_t flags_at,
			const char *text, size_t len, size_t chunk);
int output_send_events(struct output *o, const struct rbs_events_header *h, const void *span, size_t len,
		       out_done_fn on_done, void *ctx, uint64_t arg);
int output_flush(struct output *o);
int output_flush_wait(struct output *o, int timeout_ms);
bool output_pending(const struct output *o);
bool output_partial(const struct output *o);
void output_drop(struct output *o);
void output_drop_unstarted_events(struct output *o);

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
/* Records (discarded ones excluded, reserved ones included) and payload bytes between the
 * consumer position and `upto`: what is still in the ring. */
void ring__left(const struct ring *r, uint64_t upto, uint64_t *records, uint64_t *bytes);

/* ── session state shared by serve.c, load.c, stop.c, flush.c, stats.c, counters.c ── */
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

/* Why the session ends (BYE.reason on the wire: stop_reason__name). */
enum stop_reason {
	STOP_NONE = 0,
	STOP_COMMAND,        /* STOP */
	STOP_STDIN_EOF,      /* the core closed our stdin (a closed connection) */
	STOP_SIGNAL,         /* SIGHUP/SIGINT/SIGTERM/SIGPIPE (signal_name says which) */
	STOP_PARENT_DIED,
	STOP_OUTPUT_CLOSED,  /* stdout broke: nobody reads any more */
	STOP_FATAL,          /* after a fatal ERROR */
};
const char *stop_reason__name(enum stop_reason r);

/* A FLUSH in progress: answered once every ring's consumer reached its goal (the producer
 * position when FLUSH arrived), or at the deadline. */
struct flush_request {
	uint32_t id;
	uint64_t deadline_ns;
	uint64_t *goals; /* per ring */
};

struct bpf_object;
struct bpf_program;
struct bpf_link;
struct session {
	struct output out;
	struct input in;
	struct bpf_object *obj;
	struct bpf_link **links;
	size_t n_links, n_detached;
	struct ring *rings;
	size_t n_rings;
	struct counter *counters;
	size_t n_counters;
	size_t page_size;
	int log_level;
	uint32_t drain_timeout_ms; /* bound of a drain at stop (and FLUSH's default) */
	bool loaded, started, paused;
	int epfd, sigfd;
	pid_t parent;
	uint64_t next_stats_ms;
	enum stop_reason stop_reason; /* STOP_NONE while running */
	char signal_name[16];
	struct flush_request *flushes; /* FIFO, answered in order */
	size_t n_flushes;
	/* Where drain time goes (STATS "drain"): frames shipped, idle sleeps, time the
	 * reader kept stdout full, and our own wait for a CPU (schedstat run delay). */
	uint64_t drain_frames, drain_sleeps, out_blocked_ns, out_blocked_since_ns;
	uint64_t hold_ns; /* see ring__wait_ns */
};

/* ── report.c: ERROR frames, libbpf's text (LOG frames) and what it says about failures ── */
enum error_code {
	ERR_PROTOCOL, /* malformed frame */
	ERR_OBJECT,   /* not a BPF ELF */
	ERR_MAP,      /* map creation failed */
	ERR_VERIFIER, /* program load rejected (log attached) */
	ERR_LOAD,     /* other load errors */
	ERR_ATTACH,   /* no selected program could attach */
	ERR_OVERRIDE, /* invalid max_entries override */
	ERR_STATE,    /* command not valid now */
	ERR_INTERNAL,
};
/* One ERROR frame. Only code and message are required; name the rest:
 *   report__error(s, &(struct error_report){ .code = ERR_STATE, .message = "…", .hint = "…" }); */
struct error_report {
	enum error_code code;
	bool fatal;
	int err; /* errno, 0 = none */
	const char *message;
	const char *hint, *program, *map, *log; /* optional */
};
/* Sends ERROR (never dropped: over-long text is cut with a marker); a fatal one ends the
 * session. Returns -1 when fatal, else 0. */
int report__error(struct session *s, const struct error_report *e);
/* What libbpf's warnings said since the last report__notes_reset(): libbpf names a failing
 * map or program only in its text. The print callback (report.c) is their one writer. */
struct libbpf_notes {
	char first_warn[512]; /* libbpf's first warning: usually the root cause */
	char failed_map[128]; /* map named by "map '…': failed to create" */
	char failed_prog[128]; /* program named by the last "prog '…': … failed" */
};
void report__libbpf_to(struct session *s); /* libbpf's print callback → LOG frames of s (NULL: off) */
void report__notes_reset(void);
const struct libbpf_notes *report__notes(void);
/* Replaces bytes that are not valid UTF-8 with '?', in place (LOG text must be UTF-8). */
void text__make_utf8(char *buf, size_t len);

/* ── load.c / loaded.c / counters.c / attach.c ── */
int session__load(struct session *s, const uint8_t *payload, size_t len);
size_t session__detach(struct session *s);  /* destroys every link: no new records */
void session__unload(struct session *s);    /* closes the object: nothing of ours remains */
int counters__discover(struct session *s);
void counters__write(struct session *s, struct jw *j);
void attach__explain(const struct bpf_program *prog, int err, char *reason, size_t n);
void attach__target(const char *section, char *out, size_t n);

/* ── flush.c: draining on request (FLUSH) and toward given positions (stop) ── */
enum drain_progress { DRAIN_REACHED, DRAIN_QUEUED, DRAIN_WAITING };
/* One step toward `goals` (consumer positions, per ring): queues the next batch of every ring
 * short of its goal, without the hold. REACHED once every consumer is at its goal (the
 * frames are written: consumer positions advance only then). */
enum drain_progress drain__toward(struct session *s, const uint64_t *goals);
void drain__goals_now(const struct session *s, uint64_t *goals); /* every ring's producer position */
int flush__request(struct session *s, const uint8_t *payload, size_t len);
bool flush__wants(const struct session *s, size_t ring);
int64_t flush__wait_ns(const struct session *s, uint64_t now_ns);
void flush__answer(struct session *s, bool force); /* FLUSHED for each finished (or, forced, every) request */
void flush__free(struct session *s);

/* ── stats.c / stop.c ── */
void stats__send(struct session *s, bool final);
void session__shutdown(struct session *s);

/* ── btfcheck.c: what libbpf 1.1 would trust blindly in an object's BTF ── */
/* 0 when the .BTF is sound (or absent: libbpf decides); -EINVAL with the reason in `err`. */
int object__check_btf(const void *object, size_t len, char *err, size_t errlen);

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
