/* `serve`: the protocol on stdio. One epoll loop over stdin (control frames), a
 * signalfd, stdout (when a write would block) and the ring fds. Each turn reads
 * control frames first, then drains at most one bounded batch per ring, so a
 * flooding ring never starves STOP/PAUSE; a slow reader back-pressures the rings
 * (the consumer position only advances once a frame is fully written). The end of
 * the session — detach, final drain, final STATS, BYE — is stop.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "helper.h"

#define STATS_INTERVAL_MS 250
#define IDLE_TIMEOUT_MS 100
#define DEFAULT_HOLD_US 1000
#define MAX_QUEUED_STATS_BYTES (8u << 20)
/* Ring fds are in the epoll set only while we want to drain them (else their level
 * trigger would spin the loop while output is blocked or paused). */
#define MAX_RINGS 4096

enum { TAG_STDIN = 1, TAG_SIGNAL, TAG_STDOUT, TAG_RING = 1000 };

static const char *const version_hint = "the extension and helper versions differ; rebuild the helper";

static bool session__stopping(const struct session *s) { return s->stop_reason != STOP_NONE; }

static void session__stop(struct session *s, enum stop_reason reason)
{
	if (!session__stopping(s))
		s->stop_reason = reason;
}

static void session__start_state(struct session *s, uint8_t kind)
{
	if (!s->loaded) {
		report__error(s, &(struct error_report){ .code = ERR_STATE,
				.message = kind == RBS_START ? "START before LOAD" : "PAUSE/RESUME before LOAD",
				.hint = "send LOAD first and wait for LOADED" });
		return;
	}
	if (kind == RBS_START) {
		s->started = true;
		s->paused = false;
		s->next_stats_ms = now_ms();
	} else {
		s->paused = kind == RBS_PAUSE;
		stats__send(s, false); /* acknowledges the new state at once */
	}
}

static void session__command(struct session *s, uint8_t kind, const uint8_t *payload, size_t len)
{
	switch (kind) {
	case RBS_LOAD:
		if (s->loaded) {
			report__error(s, &(struct error_report){ .code = ERR_STATE,
					.message = "the helper already loaded an object; start a new helper for another" });
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
		session__start_state(s, kind);
		return;
	case RBS_FLUSH:
		flush__request(s, payload, len);
		return;
	case RBS_STOP:
		session__stop(s, STOP_COMMAND);
		return;
	default: {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown frame kind 0x%02x from core", kind);
		report__error(s, &(struct error_report){ .code = ERR_PROTOCOL, .fatal = true, .err = EPROTO,
				.message = msg, .hint = version_hint });
	}
	}
}

static void session__read_stdin(struct session *s)
{
	ssize_t n = input_fill(&s->in, STDIN_FILENO);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		session__stop(s, STOP_STDIN_EOF);
		return;
	}
	uint8_t kind;
	const uint8_t *payload;
	size_t len;
	char err[128];
	int r;
	while (!session__stopping(s) && (r = input_next(&s->in, &kind, &payload, &len, err, sizeof(err))) != 0) {
		if (r < 0) {
			report__error(s, &(struct error_report){ .code = ERR_PROTOCOL, .fatal = true, .err = EPROTO,
					.message = err,
					.hint = "only Ringbuf Studio may write to the helper's stdin. If sudo runs the helper, "
						"something may have typed a password when sudo did not ask for one (a NOPASSWD rule "
						"or a cached sudo ticket): update Ringbuf Studio, which sends the password only after "
						"sudo's own prompt; if you started the helper by hand, start it through Ringbuf Studio" });
			return;
		}
		session__command(s, kind, payload, len);
	}
}

static void session__read_signal(struct session *s)
{
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (session__stopping(s))
			continue;
		if (getppid() != s->parent) {
			session__stop(s, STOP_PARENT_DIED);
			continue;
		}
		session__stop(s, STOP_SIGNAL);
		snprintf(s->signal_name, sizeof(s->signal_name), "SIG%s", sigabbrev_np((int)si.ssi_signo));
	}
}

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

/* Writes what stdout takes; tracks how long it stays full and asks epoll for room while it
 * is. False when stdout broke (nobody reads any more). */
static bool session__write_out(struct session *s, bool *want_out, bool stdout_pollable)
{
	int ferr = output_flush(&s->out);
	if (ferr && ferr != -EAGAIN) {
		session__stop(s, STOP_OUTPUT_CLOSED);
		return false;
	}
	bool blocked = ferr == -EAGAIN;
	if (blocked && !s->out_blocked_since_ns)
		s->out_blocked_since_ns = monotonic_ns();
	else if (!blocked && s->out_blocked_since_ns) {
		s->out_blocked_ns += monotonic_ns() - s->out_blocked_since_ns;
		s->out_blocked_since_ns = 0;
	}
	if (stdout_pollable && blocked != *want_out) {
		struct epoll_event ev = { .events = blocked ? EPOLLOUT : 0, .data.u32 = TAG_STDOUT };
		epoll_ctl(s->epfd, EPOLL_CTL_MOD, STDOUT_FILENO, &ev);
		*want_out = blocked;
	}
	flush__answer(s, false); /* frames just written may complete a FLUSH */
	return true;
}

/* How long the loop may sleep: until the next STATS, a held backlog is due, or a FLUSH
 * needs another look. */
static int64_t session__timeout_ns(struct session *s)
{
	int64_t timeout_ns = (int64_t)IDLE_TIMEOUT_MS * 1000000;
	uint64_t now_ns = monotonic_ns();
	int64_t f = flush__wait_ns(s, now_ns);
	if (f >= 0 && f < timeout_ns)
		timeout_ns = f;
	if (!s->started)
		return timeout_ns;
	uint64_t now = now_ms();
	if (s->next_stats_ms <= now)
		return 0;
	if ((s->next_stats_ms - now) * 1000000 < (uint64_t)timeout_ns)
		timeout_ns = (int64_t)(s->next_stats_ms - now) * 1000000;
	for (size_t i = 0; i < s->n_rings && timeout_ns && !s->paused; i++) {
		int64_t w = ring__wait_ns(&s->rings[i], now_ns, s->hold_ns);
		if (w >= 0 && w < timeout_ns)
			timeout_ns = w;
	}
	return timeout_ns;
}

/* One bounded batch per ring that is due (streaming and past its hold) or owed to a FLUSH. */
static void session__drain_rings(struct session *s)
{
	uint64_t now_ns = monotonic_ns();
	for (size_t i = 0; i < s->n_rings; i++) {
		bool due = s->started && !s->paused && ring__wait_ns(&s->rings[i], now_ns, s->hold_ns) == 0;
		if ((due || (s->n_flushes && flush__wants(s, i))) && ring__drain(&s->rings[i], &s->out) > 0)
			s->drain_frames++;
	}
	flush__answer(s, false);
	uint64_t now = now_ms();
	if (s->started && now >= s->next_stats_ms) {
		if (s->out.queued_bytes < MAX_QUEUED_STATS_BYTES)
			stats__send(s, false);
		s->next_stats_ms = now + STATS_INTERVAL_MS;
	}
}

struct serve_fds {
	bool stdout_pollable, stdin_pollable;
	int stdout_flags;
};

static void serve__loop(struct session *s, const struct serve_fds *fds)
{
	bool armed[MAX_RINGS] = { false };
	bool want_out = false;
	while (!session__stopping(s)) {
		if (!session__write_out(s, &want_out, fds->stdout_pollable))
			break;
		session__arm_rings(s, armed);
		int64_t timeout_ns = fds->stdin_pollable ? session__timeout_ns(s) : 0;
		struct epoll_event events[16];
		if (timeout_ns && s->started)
			s->drain_sleeps++;
		int n = wait_events(s->epfd, events, 16, timeout_ns);
		if (n < 0 && errno != EINTR) {
			report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = errno,
					.message = "epoll_wait failed" });
			break;
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.u32 == TAG_SIGNAL)
				session__read_signal(s);
			else if (events[i].data.u32 == TAG_STDIN)
				session__read_stdin(s);
		}
		if (!fds->stdin_pollable && !session__stopping(s))
			session__read_stdin(s);
		if (session__stopping(s))
			break;
		if (getppid() != s->parent) {
			session__stop(s, STOP_PARENT_DIED);
			break;
		}
		session__drain_rings(s);
	}
}

/* Signals as a signalfd, stdout non-blocking (and a deep pipe), HELLO, the epoll set. */
static int serve__setup(struct session *s, struct serve_fds *fds)
{
	sigset_t mask;
	/* Parent death: the kernel sends SIGTERM; getppid() catches a death before prctl. */
	s->parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &unlimited); /* older kernels charge ring memory to memlock */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

	fds->stdout_flags = fcntl(STDOUT_FILENO, F_GETFL);
	if (fds->stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, fds->stdout_flags | O_NONBLOCK);
	output__deepen(STDOUT_FILENO);
	output_init(&s->out, STDOUT_FILENO);
	s->page_size = probe__page_size();
	s->hold_ns = hold_ns_from_env();
	s->log_level = 1;
	s->drain_timeout_ms = RBS_DRAIN_TIMEOUT_DEFAULT_MS;
	report__libbpf_to(s);

	struct jw hello;
	probe__hello(&hello, false);
	output_send_json(&s->out, RBS_HELLO, &hello);

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || s->sigfd < 0)
		return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = errno,
				.message = "cannot create epoll/signalfd" });
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = TAG_STDIN };
	fds->stdin_pollable = epoll_ctl(s->epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0; /* else a file: read directly */
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u32 = TAG_SIGNAL };
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev);
	ev = (struct epoll_event){ .events = 0, .data.u32 = TAG_STDOUT };
	fds->stdout_pollable = epoll_ctl(s->epfd, EPOLL_CTL_ADD, STDOUT_FILENO, &ev) == 0;
	return 0;
}

int serve__main(void)
{
	struct session s = { .epfd = -1, .sigfd = -1 };
	struct serve_fds fds = { .stdout_flags = -1 };
	if (serve__setup(&s, &fds) == 0)
		serve__loop(&s, &fds);
	session__shutdown(&s);
	if (fds.stdout_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, fds.stdout_flags);
	report__libbpf_to(NULL);
	flush__free(&s);
	input_free(&s.in);
	if (s.epfd >= 0)
		close(s.epfd);
	if (s.sigfd >= 0)
		close(s.sigfd);
	return s.stop_reason == STOP_FATAL ? 1 : 0;
}
