/* Draining toward positions: FLUSH (every record committed before it reaches the reader, then
 * FLUSHED) and the drain at stop (stop.c) share drain__toward. A goal is a producer position
 * taken at the request; it is reached when the consumer position is there, which happens only
 * once the frames carrying those records are fully written — so a FLUSHED queued then follows
 * the last EVENTS frame of its drain on the wire. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"

#define MAX_FLUSHES 64
/* While a flush waits for a record still being written (BUSY), look again this often. */
#define FLUSH_POLL_NS 1000000

void drain__goals_now(const struct session *s, uint64_t *goals)
{
	for (size_t i = 0; i < s->n_rings; i++)
		goals[i] = ring__producer_pos(&s->rings[i]);
}

enum drain_progress drain__toward(struct session *s, const uint64_t *goals)
{
	bool reached = true, queued = false;
	for (size_t i = 0; i < s->n_rings; i++) {
		struct ring *r = &s->rings[i];
		if (ring__consumer_pos(r) >= goals[i])
			continue;
		if (!r->in_flight && ring__drain(r, &s->out) > 0) {
			s->drain_frames++;
			queued = true;
		}
		/* (a span of only discarded records is consumed without a frame) */
		if (ring__consumer_pos(r) < goals[i])
			reached = false;
	}
	return reached ? DRAIN_REACHED : queued ? DRAIN_QUEUED : DRAIN_WAITING;
}

int flush__request(struct session *s, const uint8_t *payload, size_t len)
{
	struct rbs_flush_request req;
	if (len != sizeof(req))
		return report__error(s, &(struct error_report){ .code = ERR_PROTOCOL, .fatal = true, .err = EPROTO,
				.message = "malformed FLUSH payload (expected u32 id, u32 timeout_ms)" });
	memcpy(&req, payload, sizeof(req));
	if (!s->loaded)
		return report__error(s, &(struct error_report){ .code = ERR_STATE, .message = "FLUSH before LOAD",
				.hint = "send LOAD first and wait for LOADED" });
	if (s->n_flushes >= MAX_FLUSHES)
		return report__error(s, &(struct error_report){ .code = ERR_STATE, .message = "too many FLUSH requests pending",
				.hint = "wait for FLUSHED before sending more" });
	struct flush_request *next = realloc(s->flushes, (s->n_flushes + 1) * sizeof(*next));
	uint64_t *goals = calloc(s->n_rings + 1, sizeof(*goals));
	if (next)
		s->flushes = next;
	if (!next || !goals) {
		free(goals);
		return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = ENOMEM,
				.message = "out of memory for a FLUSH" });
	}
	uint32_t ms = req.timeout_ms ? req.timeout_ms : s->drain_timeout_ms;
	if (ms > RBS_DRAIN_TIMEOUT_MAX_MS)
		ms = RBS_DRAIN_TIMEOUT_MAX_MS;
	drain__goals_now(s, goals);
	s->flushes[s->n_flushes++] = (struct flush_request){
		.id = req.id, .deadline_ns = monotonic_ns() + (uint64_t)ms * 1000000, .goals = goals,
	};
	return 0;
}

bool flush__wants(const struct session *s, size_t ring)
{
	const struct ring *r = &s->rings[ring];
	uint64_t cons = ring__consumer_pos(r);
	for (size_t k = 0; k < s->n_flushes; k++)
		if (s->flushes[k].goals[ring] > cons)
			return true;
	return false;
}

int64_t flush__wait_ns(const struct session *s, uint64_t now_ns)
{
	if (s->n_flushes == 0)
		return -1;
	uint64_t deadline = s->flushes[0].deadline_ns;
	if (deadline <= now_ns)
		return 0;
	return deadline - now_ns < FLUSH_POLL_NS ? (int64_t)(deadline - now_ns) : FLUSH_POLL_NS;
}

static bool flush__reached(const struct session *s, const struct flush_request *f)
{
	for (size_t i = 0; i < s->n_rings; i++)
		if (ring__consumer_pos(&s->rings[i]) < f->goals[i])
			return false;
	return true;
}

static void flush__send(struct session *s, const struct flush_request *f, bool complete)
{
	struct jw j;
	jw_init(&j);
	jw_obj_begin(&j);
	jw_kv_uint(&j, "id", f->id);
	jw_kv_bool(&j, "complete", complete);
	jw_key(&j, "rings");
	jw_arr_begin(&j);
	for (size_t i = 0; i < s->n_rings; i++) {
		const struct ring *r = &s->rings[i];
		uint64_t records = 0, bytes = 0;
		if (!complete)
			ring__left(r, f->goals[i], &records, &bytes);
		jw_obj_begin(&j);
		jw_kv_int(&j, "index", r->index);
		jw_kv_str(&j, "name", r->name);
		jw_kv_uint(&j, "records", r->records);
		jw_kv_uint(&j, "bytes", r->bytes);
		jw_kv_uint(&j, "consumer_pos", ring__consumer_pos(r));
		jw_kv_uint(&j, "goal_pos", f->goals[i]);
		jw_kv_uint(&j, "left_records", records);
		jw_kv_uint(&j, "left_bytes", bytes);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	output_send_json(&s->out, RBS_FLUSHED, &j);
}

void flush__answer(struct session *s, bool force)
{
	size_t done = 0;
	uint64_t now = monotonic_ns();
	while (done < s->n_flushes) {
		struct flush_request *f = &s->flushes[done];
		bool reached = flush__reached(s, f);
		if (!reached && !force && now < f->deadline_ns)
			break;
		flush__send(s, f, reached);
		free(f->goals);
		done++;
	}
	if (!done)
		return;
	memmove(s->flushes, s->flushes + done, (s->n_flushes - done) * sizeof(*s->flushes));
	s->n_flushes -= done;
	output_flush(&s->out); /* on its way now; a blocked or broken stdout is seen by the loop */
}

void flush__free(struct session *s)
{
	for (size_t k = 0; k < s->n_flushes; k++)
		free(s->flushes[k].goals);
	free(s->flushes);
	s->flushes = NULL;
	s->n_flushes = 0;
}
