/* `serve`: the protocol on stdio. One epoll loop over stdin (control frames), a
 * signalfd, stdout (when a write would block) and the ring fds. Each turn reads
 * control frames first, then drains at most one bounded batch per ring, so a
 * flooding ring never starves STOP/PAUSE; a slow reader back-pressures the rings
 * (the consumer position only advances once a frame is fully written). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "helper.h"

#define STATS_INTERVAL_MS 250
#define IDLE_TIMEOUT_MS 100
#define DEFAULT_HOLD_US 1000
#define MAX_QUEUED_STATS_BYTES (8u << 20)

enum { TAG_STDIN = 1, TAG_SIGNAL, TAG_STDOUT, TAG_RING = 1000 };

static struct session *g_session; /* for libbpf's print callback */

static int libbpf__print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct session *s = g_session;
	char buf[4096];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n <= 0 || !s)
		return 0;
	size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	/* LOG text must be UTF-8 (PROTOCOL.md), but libbpf quotes names straight from the
	 * object, which may hold any bytes: replace broken sequences (found by fuzzing). */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x80)
			continue;
		size_t seq = utf8_sequence_length(buf + i, len - i);
		if (seq)
			i += seq - 1;
		else
			buf[i] = '?';
	}
	if (level == LIBBPF_WARN) {
		size_t w = len;
		while (w && buf[w - 1] == '\n')
			w--;
		if (!s->first_warn[0])
			snprintf(s->first_warn, sizeof(s->first_warn), "%.*s", (int)w, buf);
		const char *m = strstr(buf, "map '");
		if (m && strstr(m, "failed to create") && !s->failed_map[0])
			sscanf(m, "map '%127[^']'", s->failed_map);
		const char *p = strstr(buf, "prog '");
		if (p && strstr(p, "failed"))
			sscanf(p, "prog '%127[^']'", s->failed_prog);
	}
	if (level == LIBBPF_DEBUG && s->log_level < 2)
		return 0;
	int wire = level == LIBBPF_WARN ? RBS_LOG_WARN : level == LIBBPF_INFO ? RBS_LOG_INFO : RBS_LOG_DEBUG;
	output_send_log(&s->out, wire, buf, len);
	return 0;
}

/* An ERROR frame must stay under RBS_MAX_FRAME after JSON escaping: a longer log keeps
 * its start and its end (where the verifier states the error) and says what was cut. */
#define MAX_ERROR_LOG (24u << 20)

static char *log__trim(const char *log)
{
	size_t len = strlen(log), half = MAX_ERROR_LOG / 2;
	char note[96];
	int n = snprintf(note, sizeof(note), "\n… %zu bytes of the log cut here …\n", len - 2 * half);
	char *out = malloc(2 * half + (size_t)n + 1);
	if (!out)
		return NULL;
	memcpy(out, log, half);
	memcpy(out + half, note, (size_t)n);
	memcpy(out + half + n, log + len - half, half + 1);
	return out;
}

int session__error(struct session *s, const char *code, bool fatal, int err, const char *message,
		   const char *hint, const char *program, const char *map, const char *log)
{
	char *trimmed = log && strlen(log) > MAX_ERROR_LOG ? log__trim(log) : NULL;
	if (trimmed)
		log = trimmed;
	struct jw j;
	jw_init(&j);
	jw_obj_begin(&j);
	jw_kv_str(&j, "code", code);
	jw_kv_bool(&j, "fatal", fatal);
	if (err)
		jw_kv_int(&j, "errno", err);
	jw_kv_str(&j, "message", message);
	if (hint)
		jw_kv_str(&j, "hint", hint);
	if (program)
		jw_kv_str(&j, "program", program);
	if (map)
		jw_kv_str(&j, "map", map);
	if (log)
		jw_kv_str(&j, "log", log);
	jw_obj_end(&j);
	output_send_json(&s->out, RBS_ERROR, &j);
	free(trimmed);
	if (fatal && !s->stopping) {
		s->stopping = true;
		s->reason = "fatal";
	}
	return fatal ? -1 : 0;
}

/* Time this process spent runnable but waiting for a CPU (/proc/self/schedstat, 2nd
 * field; 0 when the kernel has no schedstats): drops with a low value are not ours. */
static uint64_t self_run_delay_ns(void)
{
	unsigned long long run = 0, delay = 0;
	FILE *f = fopen("/proc/self/schedstat", "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &run, &delay) != 2)
		delay = 0;
	fclose(f);
	return delay;
}

static void session__send_stats(struct session *s)
{
	struct jw j;
	jw_init(&j);
	jw_obj_begin(&j);
	jw_kv_uint(&j, "time_ms", realtime_ns() / 1000000);
	jw_kv_bool(&j, "paused", s->paused);
	jw_key(&j, "rings");
	jw_arr_begin(&j);
	for (size_t i = 0; i < s->n_rings; i++) {
		struct ring *r = &s->rings[i];
		uint64_t prod = ring__producer_pos(r), cons = ring__consumer_pos(r);
		jw_obj_begin(&j);
		jw_kv_int(&j, "index", r->index);
		jw_kv_str(&j, "name", r->name);
		jw_kv_uint(&j, "size", r->size);
		jw_kv_uint(&j, "records", r->records);
		jw_kv_uint(&j, "bytes", r->bytes);
		jw_kv_uint(&j, "producer_pos", prod);
		jw_kv_uint(&j, "consumer_pos", cons);
		jw_key(&j, "fill");
		jw_double(&j, r->size ? (double)(prod - cons) / (double)r->size : 0.0);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	counters__write(s, &j);
	uint64_t blocked = s->out_blocked_ns + (s->out_blocked_since_ns ? monotonic_ns() - s->out_blocked_since_ns : 0);
	jw_key(&j, "drain");
	jw_obj_begin(&j);
	jw_kv_uint(&j, "frames", s->drain_frames);
	jw_kv_uint(&j, "sleeps", s->drain_sleeps);
	jw_kv_uint(&j, "output_blocked_ms", blocked / 1000000);
	jw_kv_uint(&j, "run_delay_ms", self_run_delay_ns() / 1000000);
	jw_obj_end(&j);
	jw_obj_end(&j);
	output_send_json(&s->out, RBS_STATS, &j);
}

size_t session__unload(struct session *s)
{
	size_t detached = 0;
	for (size_t i = 0; i < s->n_links; i++)
		if (bpf_link__destroy(s->links[i]) == 0)
			detached++;
	free(s->links);
	s->links = NULL;
	s->n_links = 0;
	for (size_t i = 0; i < s->n_rings; i++) {
		if (s->epfd >= 0)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->rings[i].fd, NULL);
		ring__unmap(&s->rings[i]);
	}
	free(s->rings);
	s->rings = NULL;
	s->n_rings = 0;
	free(s->counters);
	s->counters = NULL;
	s->n_counters = 0;
	bpf_object__close(s->obj); /* closes every program and map fd: nothing of ours remains */
	s->obj = NULL;
	s->loaded = false;
	return detached;
}

static void session__stop(struct session *s, const char *reason)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->reason = reason;
}

static void session__command(struct session *s, uint8_t kind, const uint8_t *payload, size_t len)
{
	switch (kind) {
	case RBS_LOAD:
		if (s->loaded) {
			session__error(s, "state", false, 0, "the helper already loaded an object; start a new helper for another",
				       NULL, NULL, NULL, NULL);
			return;
		}
		if (session__load(s, payload, len) == 0) {
			for (size_t i = 0; i < s->n_rings; i++) {
				struct epoll_event ev = { .events = 0, .data.u32 = TAG_RING + (uint32_t)i };
				epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->rings[i].fd, &ev);
			}
		}
		return;
	case RBS_START:
	case RBS_PAUSE:
	case RBS_RESUME:
		if (!s->loaded) {
			session__error(s, "state", false, 0,
				       kind == RBS_START ? "START before LOAD" : "PAUSE/RESUME before LOAD",
				       "send LOAD first and wait for LOADED", NULL, NULL, NULL);
			return;
		}
		if (kind == RBS_START) {
			s->started = true;
			s->paused = false;
			s->next_stats_ms = now_ms();
		} else {
			s->paused = kind == RBS_PAUSE;
			session__send_stats(s); /* acknowledges the new state at once */
		}
		return;
	case RBS_STOP:
		session__stop(s, "stop");
		return;
	default: {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown frame kind 0x%02x from core", kind);
		session__error(s, "protocol", true, EPROTO, msg, "the extension and helper versions differ; rebuild the helper",
			       NULL, NULL, NULL);
	}
	}
}

static void session__read_stdin(struct session *s)
{
	ssize_t n = input_fill(&s->in, STDIN_FILENO);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		session__stop(s, "stdin-eof");
		return;
	}
	uint8_t kind;
	const uint8_t *payload;
	size_t len;
	char err[128];
	int r;
	while (!s->stopping && (r = input_next(&s->in, &kind, &payload, &len, err, sizeof(err))) != 0) {
		if (r < 0) {
			session__error(s, "protocol", true, EPROTO, err, "the extension and helper versions differ; rebuild the helper",
				       NULL, NULL, NULL);
			return;
		}
		session__command(s, kind, payload, len);
	}
}

static void session__read_signal(struct session *s)
{
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (s->stopping)
			continue;
		if (getppid() != s->parent) {
			session__stop(s, "parent-died");
			continue;
		}
		session__stop(s, "signal");
		snprintf(s->signal_name, sizeof(s->signal_name), "SIG%s", sigabbrev_np((int)si.ssi_signo));
	}
}

/* Ring fds are in the epoll set only while we want to drain them (else their level
 * trigger would spin the loop while output is blocked or paused). */
#define MAX_RINGS 4096

/* epoll_wait with a ns timeout (epoll_pwait2, Linux 5.11+); older kernels round up to ms. */
static int wait_events(int epfd, struct epoll_event *events, int max, int64_t timeout_ns)
{
	static bool no_pwait2;
	if (!no_pwait2) {
		struct timespec ts = { .tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000 };
		int n = epoll_pwait2(epfd, events, max, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = true;
	}
	return epoll_wait(epfd, events, max, (int)((timeout_ns + 999999) / 1000000));
}

/* RINGBUF_HELPER_HOLD_US: how long a small backlog may grow before it ships (see
 * ring__wait_ns); default 1000, 0 ships every record at once. */
static uint64_t hold_ns_from_env(void)
{
	const char *v = getenv("RINGBUF_HELPER_HOLD_US");
	if (!v || !*v)
		return DEFAULT_HOLD_US * 1000ull;
	char *end;
	unsigned long long us = strtoull(v, &end, 10);
	if (*end || us > 100000)
		return DEFAULT_HOLD_US * 1000ull;
	return us * 1000ull;
}

static void session__arm_rings(struct session *s, bool *armed)
{
	for (size_t i = 0; i < s->n_rings && i < MAX_RINGS; i++) {
		/* Not while a backlog is held either: the ring's level-triggered EPOLLIN would
		 * spin the loop; the hold's own timeout wakes us. */
		bool want = s->started && !s->paused && !s->rings[i].in_flight &&
			    ring__producer_pos(&s->rings[i]) == ring__consumer_pos(&s->rings[i]);
		if (want == armed[i])
			continue;
		struct epoll_event ev = { .events = want ? EPOLLIN : 0, .data.u32 = TAG_RING + (uint32_t)i };
		epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->rings[i].fd, &ev);
		armed[i] = want;
	}
}

static void session__shutdown(struct session *s, int stdout_flags)
{
	/* Finish frames already being written (bounded), then report, detach, say BYE. */
	if (output_flush_wait(&s->out, 300) == 0 && s->loaded && s->started)
		session__send_stats(s);
	if (output_flush_wait(&s->out, 300) != 0 && !s->out.error) {
		/* The reader is stuck: a partly written frame cannot be followed by anything. */
		bool partial = s->out.head && s->out.head->done > 0;
		output_drop(&s->out);
		if (partial)
			s->out.error = EPIPE;
	}
	output_drop(&s->out);
	size_t detached = s->loaded ? session__unload(s) : 0;
	struct jw j;
	jw_init(&j);
	jw_obj_begin(&j);
	jw_kv_str(&j, "reason", s->reason ? s->reason : "stop");
	if (s->signal_name[0])
		jw_kv_str(&j, "signal", s->signal_name);
	jw_kv_uint(&j, "detached", detached);
	jw_obj_end(&j);
	output_send_json(&s->out, RBS_BYE, &j);
	output_flush_wait(&s->out, 500);
	output_drop(&s->out);
	if (stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, stdout_flags);
}

int serve__main(void)
{
	struct session s = { .epfd = -1, .sigfd = -1 };
	bool armed[MAX_RINGS] = { false };
	bool stdout_pollable = true, stdin_pollable = true;
	int stdout_flags = -1;
	sigset_t mask;

	/* Parent death: the kernel sends SIGTERM; getppid() catches a death before prctl. */
	s.parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &unlimited); /* older kernels charge ring memory to memlock */

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

	stdout_flags = fcntl(STDOUT_FILENO, F_GETFL);
	if (stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, stdout_flags | O_NONBLOCK);
	/* A deep pipe lets several batches be in flight (fewer wakeups per MiB); root may go
	 * past pipe-max-size. Fails harmlessly when stdout is not a pipe. */
	if (fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 8 << 20) < 0)
		fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
	output_init(&s.out, STDOUT_FILENO);
	s.page_size = probe__page_size();
	s.hold_ns = hold_ns_from_env();
	s.log_level = 1;
	g_session = &s;
	libbpf_set_print(libbpf__print);

	struct jw hello;
	probe__hello(&hello, false);
	output_send_json(&s.out, RBS_HELLO, &hello);

	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s.epfd < 0 || s.sigfd < 0) {
		session__error(&s, "internal", true, errno, "cannot create epoll/signalfd", NULL, NULL, NULL, NULL);
		goto cleanup;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_STDIN };
	if (epoll_ctl(s.epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0)
		stdin_pollable = false; /* a regular file or /dev/null: read it directly */
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = TAG_SIGNAL };
	epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.sigfd, &ev);
	ev = (struct epoll_event){ .events = 0, .data.u32 = TAG_STDOUT };
	if (epoll_ctl(s.epfd, EPOLL_CTL_ADD, STDOUT_FILENO, &ev) != 0)
		stdout_pollable = false;
	bool want_out = false;

	while (!s.stopping) {
		int ferr = output_flush(&s.out);
		if (ferr && ferr != -EAGAIN) {
			session__stop(&s, "signal");
			snprintf(s.signal_name, sizeof(s.signal_name), "SIGPIPE");
			break;
		}
		bool blocked = ferr == -EAGAIN;
		if (blocked && !s.out_blocked_since_ns)
			s.out_blocked_since_ns = monotonic_ns();
		else if (!blocked && s.out_blocked_since_ns) {
			s.out_blocked_ns += monotonic_ns() - s.out_blocked_since_ns;
			s.out_blocked_since_ns = 0;
		}
		if (stdout_pollable && blocked != want_out) {
			ev = (struct epoll_event){ .events = blocked ? EPOLLOUT : 0, .data.u32 = TAG_STDOUT };
			epoll_ctl(s.epfd, EPOLL_CTL_MOD, STDOUT_FILENO, &ev);
			want_out = blocked;
		}
		session__arm_rings(&s, armed);

		int64_t timeout_ns = (int64_t)IDLE_TIMEOUT_MS * 1000000;
		uint64_t now = now_ms();
		if (s.started) {
			if (s.next_stats_ms <= now)
				timeout_ns = 0;
			else if ((s.next_stats_ms - now) * 1000000 < (uint64_t)timeout_ns)
				timeout_ns = (int64_t)(s.next_stats_ms - now) * 1000000;
			uint64_t now_ns = monotonic_ns();
			for (size_t i = 0; i < s.n_rings && timeout_ns && !s.paused; i++) {
				int64_t w = ring__wait_ns(&s.rings[i], now_ns, s.hold_ns);
				if (w >= 0 && w < timeout_ns)
					timeout_ns = w;
			}
		}
		if (!stdin_pollable)
			timeout_ns = 0;
		struct epoll_event events[16];
		if (timeout_ns && s.started)
			s.drain_sleeps++;
		int n = wait_events(s.epfd, events, 16, timeout_ns);
		if (n < 0 && errno != EINTR) {
			session__error(&s, "internal", true, errno, "epoll_wait failed", NULL, NULL, NULL, NULL);
			break;
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.u32 == TAG_SIGNAL)
				session__read_signal(&s);
			else if (events[i].data.u32 == TAG_STDIN)
				session__read_stdin(&s);
		}
		if (!stdin_pollable && !s.stopping)
			session__read_stdin(&s);
		if (s.stopping)
			break;
		if (getppid() != s.parent) {
			session__stop(&s, "parent-died");
			break;
		}
		if (s.started && !s.paused) {
			uint64_t now_ns = monotonic_ns();
			for (size_t i = 0; i < s.n_rings; i++)
				if (ring__wait_ns(&s.rings[i], now_ns, s.hold_ns) == 0 && ring__drain(&s.rings[i], &s.out) > 0)
					s.drain_frames++;
		}
		now = now_ms();
		if (s.started && now >= s.next_stats_ms) {
			if (s.out.queued_bytes < MAX_QUEUED_STATS_BYTES)
				session__send_stats(&s);
			s.next_stats_ms = now + STATS_INTERVAL_MS;
		}
	}

cleanup:
	session__shutdown(&s, stdout_flags);
	libbpf_set_print(NULL);
	g_session = NULL;
	input_free(&s.in);
	if (s.epfd >= 0)
		close(s.epfd);
	if (s.sigfd >= 0)
		close(s.sigfd);
	return s.reason && strcmp(s.reason, "fatal") == 0 ? 1 : 0;
}
