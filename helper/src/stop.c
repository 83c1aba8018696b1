/* The end of a session, whatever ends it (STOP, stdin EOF, a signal, parent death, a fatal
 * error): detach every program (no new records), let programs already running finish, drain
 * every ring to empty within the drain timeout, answer pending FLUSHes, send the final STATS
 * (per ring: delivered, and what was still in the ring — normally nothing), close everything,
 * BYE. Nothing committed is lost without being counted. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "helper.h"

size_t session__detach(struct session *s)
{
	size_t detached = 0;
	for (size_t i = 0; i < s->n_links; i++)
		if (bpf_link__destroy(s->links[i]) == 0)
			detached++;
	free(s->links);
	s->links = NULL;
	s->n_links = 0;
	return detached;
}

void session__unload(struct session *s)
{
	session__detach(s);
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
}

/* A program that started before its link went away may still be writing a record. A global
 * membarrier is a synchronize_rcu(), which waits for every such run to end. */
static void stop__wait_running_programs(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
		usleep(2000); /* refused (nohz_full): running programs finish within microseconds */
}

static int ms_until(uint64_t deadline_ns)
{
	uint64_t now = monotonic_ns();
	return now >= deadline_ns ? 0 : (int)((deadline_ns - now + 999999) / 1000000);
}

/* Ships every record up to the producer positions of now. 0 when drained, -ETIMEDOUT when the
 * drain timeout ended it first, another -errno when stdout broke. */
static int stop__drain(struct session *s)
{
	uint64_t *goals = calloc(s->n_rings + 1, sizeof(*goals));
	if (!goals)
		return -ENOMEM;
	drain__goals_now(s, goals);
	uint64_t deadline = monotonic_ns() + (uint64_t)s->drain_timeout_ms * 1000000;
	int err;
	for (;;) {
		err = output_flush(&s->out);
		if (err && err != -EAGAIN)
			break;
		enum drain_progress p = drain__toward(s, goals);
		if (p == DRAIN_REACHED) {
			err = 0;
			break;
		}
		int left = ms_until(deadline);
		if (left == 0) {
			err = -ETIMEDOUT;
			break;
		}
		if (p == DRAIN_QUEUED && err == 0)
			continue;
		/* stdout full: wait for room; else a record is still being written: look again soon */
		struct pollfd pfd = { .fd = s->out.fd, .events = POLLOUT };
		poll(&pfd, err == -EAGAIN ? 1 : 0, err == -EAGAIN ? (left < 100 ? left : 100) : 1);
	}
	free(goals);
	return err;
}

static void stop__bye(struct session *s)
{
	struct jw j;
	jw_init(&j);
	jw_obj_begin(&j);
	jw_kv_str(&j, "reason", stop_reason__name(s->stop_reason));
	if (s->signal_name[0])
		jw_kv_str(&j, "signal", s->signal_name);
	jw_kv_uint(&j, "detached", s->n_detached);
	jw_obj_end(&j);
	output_send_json(&s->out, RBS_BYE, &j);
}

void session__shutdown(struct session *s)
{
	bool loaded = s->loaded;
	if (loaded) {
		s->n_detached = session__detach(s);
		if (s->n_detached)
			stop__wait_running_programs();
		if (s->started || s->n_flushes)
			stop__drain(s);
	}
	/* Frames not begun stay unsent (their records are counted as left in the ring); one
	 * already partly written must finish before anything else can follow it. */
	output_drop_unstarted_events(&s->out);
	uint64_t final_deadline = monotonic_ns() + (uint64_t)RBS_FINAL_WRITE_MS * 1000000;
	if (output_partial(&s->out) && output_flush_wait(&s->out, ms_until(final_deadline)) != 0 &&
	    output_partial(&s->out) && !s->out.error)
		s->out.error = EPIPE; /* the reader is stuck mid-frame: nothing more can be said */
	flush__answer(s, true);
	if (loaded)
		stats__send(s, true);
	if (loaded)
		session__unload(s);
	stop__bye(s);
	output_flush_wait(&s->out, ms_until(final_deadline));
	output_drop(&s->out);
}
