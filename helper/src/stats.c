/* STATS frames: per ring what was delivered and how full it is, the program's own drop
 * counters, and where drain time goes. The final one (at stop, after the drain) also says
 * what was still in each ring when the drain ended: normally nothing. */
#include <stdio.h>

#include "helper.h"

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

static void stats__ring(struct jw *j, const struct ring *r, bool final)
{
	uint64_t prod = ring__producer_pos(r), cons = ring__consumer_pos(r);
	jw_obj_begin(j);
	jw_kv_int(j, "index", r->index);
	jw_kv_str(j, "name", r->name);
	jw_kv_uint(j, "size", r->size);
	jw_kv_uint(j, "records", r->records);
	jw_kv_uint(j, "bytes", r->bytes);
	jw_kv_uint(j, "producer_pos", prod);
	jw_kv_uint(j, "consumer_pos", cons);
	jw_key(j, "fill");
	jw_double(j, r->size ? (double)(prod - cons) / (double)r->size : 0.0);
	if (final) {
		uint64_t records, bytes;
		ring__left(r, prod, &records, &bytes);
		jw_kv_uint(j, "left_records", records);
		jw_kv_uint(j, "left_bytes", bytes);
	}
	jw_obj_end(j);
}

void stats__send(struct session *s, bool final)
{
	struct jw j;
	jw_init(&j);
	jw_obj_begin(&j);
	jw_kv_uint(&j, "time_ms", realtime_ns() / 1000000);
	jw_kv_bool(&j, "paused", s->paused);
	if (final)
		jw_kv_bool(&j, "final", true);
	jw_key(&j, "rings");
	jw_arr_begin(&j);
	for (size_t i = 0; i < s->n_rings; i++)
		stats__ring(&j, &s->rings[i], final);
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
