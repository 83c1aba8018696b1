/* LOAD: open the object from bytes, validate and apply max_entries overrides, load, map the
 * rings, and hand over to loaded.c (attach, LOADED) — or ERROR with the cause and the full
 * verifier log. A failed load is retried for separate reasons, each its own function: a
 * tracing program this kernel refuses (load the rest without it), a verifier log that filled
 * its buffer (grow it ×8; at the largest, statistics only), a statistics-only rejection (reload
 * at level 1 for the failing path), a rejection when verifying (load the rest without it), and
 * a verbose log asked for on failure (reload at level 2). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "load.h"

#define LOG_BUF_START (1u << 20)
#define LOG_BUF_MAX (48u << 20) /* stays below RBS_MAX_FRAME with JSON escaping headroom */
#define LOG_BUF_MIN 4096
#define LOG_STATS 4u            /* BPF_LOG_STATS: the "processed N insns …" summary */
/* Each retry changes something for good (at most ~7 per program); this only guards a bug. */
#define MAX_ATTEMPTS(n_progs) (16 + 8 * (n_progs))

static bool is_power_of_two(uint64_t v) { return v && !(v & (v - 1)); }

/* The nearest valid ring size: a power of two, at least one page (ties go up). */
static uint64_t ring_size__nearest(uint64_t v, uint64_t page_size)
{
	if (v <= page_size)
		return page_size;
	uint64_t up = page_size;
	while (up < v)
		up <<= 1;
	uint64_t down = up >> 1;
	return (v - down < up - v) ? down : up;
}

static void names__join(struct jw *out, struct bpf_object *obj, bool maps)
{
	jw_init(out);
	size_t n = 0;
	if (maps) {
		struct bpf_map *m;
		bpf_object__for_each_map(m, obj) {
			if (bpf_map__is_internal(m))
				continue;
			if (n++)
				jw_text(out, ", ");
			jw_text(out, bpf_map__name(m));
		}
	} else {
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj) {
			if (n++)
				jw_text(out, ", ");
			jw_text(out, bpf_program__name(p));
		}
	}
	if (!n)
		jw_text(out, "none");
}

static int load__check_overrides(struct session *s, struct bpf_object *obj, const struct load_request *q)
{
	char msg[512], hint[512];
	for (size_t i = 0; i < q->n_overrides; i++) {
		const char *name = q->override_names[i];
		uint32_t v = q->override_values[i];
		struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
		if (!map) {
			struct jw names;
			names__join(&names, obj, true);
			snprintf(msg, sizeof(msg), "max_entries override for map '%s': the object has no map of that name", name);
			snprintf(hint, sizeof(hint), "maps in this object: %s", names.buf ? names.buf : "none");
			jw_free(&names);
			return report__error(s, &(struct error_report){ .code = ERR_OVERRIDE, .fatal = true, .err = EINVAL,
					.message = msg, .hint = hint, .map = name });
		}
		if (v == 0) {
			snprintf(msg, sizeof(msg), "max_entries override for map '%s' is 0", name);
			return report__error(s, &(struct error_report){ .code = ERR_OVERRIDE, .fatal = true, .err = EINVAL,
					.message = msg, .hint = "max_entries must be at least 1", .map = name });
		}
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF &&
		    (!is_power_of_two(v) || v % s->page_size != 0)) {
			uint64_t nearest = ring_size__nearest(v, s->page_size);
			snprintf(msg, sizeof(msg),
				 "max_entries override for ringbuf map '%s' is %u: a ring's size must be a power of two and a multiple of the page size (%zu); nearest valid size: %llu",
				 name, v, s->page_size, (unsigned long long)nearest);
			snprintf(hint, sizeof(hint), "use --max-entries %s=%llu", name, (unsigned long long)nearest);
			return report__error(s, &(struct error_report){ .code = ERR_OVERRIDE, .fatal = true, .err = EINVAL,
					.message = msg, .hint = hint, .map = name });
		}
	}
	return 0;
}

/* The verifier's own words: the last line before the "processed N insns" summary
 * that is not an instruction dump or a source annotation. */
void verifier__summary(const char *log, char *out, size_t n)
{
	out[0] = '\0';
	const char *end = log + strlen(log);
	const char *line_end = end;
	while (line_end > log) {
		const char *line = line_end;
		while (line > log && line[-1] != '\n')
			line--;
		size_t len = (size_t)(line_end - line);
		while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
			len--;
		bool skip = len == 0 || strncmp(line, "processed ", 10) == 0 ||
			    strncmp(line, "verification time", 17) == 0 || strncmp(line, "stack depth", 11) == 0 ||
			    strncmp(line, "; ", 2) == 0 || (line[0] >= '0' && line[0] <= '9' && memchr(line, ':', len)) ||
			    strncmp(line, "-- END", 6) == 0;
		if (!skip) {
			snprintf(out, n, "%.*s", (int)len, line);
			return;
		}
		if (line == log)
			break;
		line_end = line - 1;
	}
}

static int load__check_attach_names(struct session *s, struct bpf_object *obj, const struct load_request *q)
{
	if (q->flags & RBS_LOAD_ATTACH_ALL)
		return 0;
	for (size_t i = 0; i < q->n_attach; i++) {
		if (bpf_object__find_program_by_name(obj, q->attach[i]))
			continue;
		char msg[512], hint[1024];
		struct jw names;
		names__join(&names, obj, false);
		snprintf(msg, sizeof(msg), "attach: the object has no program named '%s'", q->attach[i]);
		snprintf(hint, sizeof(hint), "programs in this object: %s", names.buf ? names.buf : "none");
		jw_free(&names);
		return report__error(s, &(struct error_report){ .code = ERR_ATTACH, .fatal = true, .err = ENOENT,
				.message = msg, .hint = hint, .program = q->attach[i] });
	}
	return 0;
}


static int load__report_failure(struct session *s, struct bpf_object *obj, int err, struct bpf_program *failed,
				 const char *log, bool truncated)
{
	char msg[1024], hint[1024];
	if (failed) {
		char summary[512];
		verifier__summary(log, summary, sizeof(summary));
		snprintf(msg, sizeof(msg), "load program '%s': %s%s%s", bpf_program__name(failed), strerror(err),
			 summary[0] ? ": " : "", summary);
		snprintf(hint, sizeof(hint),
			 "the verifier rejected '%s'; the line marked '; … @ file:LINE' just before the error is where it failed%s",
			 bpf_program__name(failed), truncated ? " (log truncated at the size limit)" : "");
		return report__error(s, &(struct error_report){ .code = ERR_VERIFIER, .fatal = true, .err = err,
				.message = msg, .hint = hint, .program = bpf_program__name(failed), .log = log });
	}
	/* No program log: a map or the object itself failed. libbpf said which in its warnings. */
	const struct libbpf_notes *notes = report__notes();
	if (notes->failed_map[0]) {
		const char *name = notes->failed_map;
		struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
		snprintf(msg, sizeof(msg), "create map '%s': %s", name, strerror(err));
		if (map && bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
			snprintf(hint, sizeof(hint),
				 "a ringbuf map needs max_entries set to a power of two that is a multiple of the page size (%zu), and no key or value type; override it with --max-entries %s=%zu",
				 s->page_size, name, s->page_size * 64);
		else
			snprintf(hint, sizeof(hint), "check the map definition of '%s' (type, key/value sizes, max_entries)", name);
		return report__error(s, &(struct error_report){ .code = ERR_MAP, .fatal = true, .err = err,
				.message = msg, .hint = hint, .map = name });
	}
	const char *w = notes->first_warn;
	snprintf(msg, sizeof(msg), "load object: %s%s%s", strerror(err), w[0] ? ": " : "", w);
	return report__error(s, &(struct error_report){ .code = ERR_LOAD, .fatal = true, .err = err,
			.message = msg, .hint = "see the libbpf log lines above for the cause" });
}

/* The largest verifier log buffer: LOG_BUF_MAX, or less with RINGBUF_HELPER_VERIFIER_LOG_MAX
 * (bytes; for small targets, and to reach the cut-log path in tests without a 48 MiB log). */
static size_t log_buf_max(void)
{
	const char *v = getenv("RINGBUF_HELPER_VERIFIER_LOG_MAX");
	char *end;
	unsigned long long n = v && *v ? strtoull(v, &end, 10) : 0;
	if (!n || *end)
		return LOG_BUF_MAX;
	return n < LOG_BUF_MIN ? LOG_BUF_MIN : n > LOG_BUF_MAX ? LOG_BUF_MAX : (size_t)n;
}

static void load_plan__free(struct load_plan *plan)
{
	for (size_t i = 0; plan->progs && i < plan->n_progs; i++) {
		free(plan->progs[i].buf);
		free(plan->progs[i].earlier);
	}
	free(plan->progs);
	load_request__free(&plan->q);
	memset(plan, 0, sizeof(*plan));
}

/* Opens the object (with the name "rbs"); the first time also sizes the plan and checks the
 * overrides and attach names against it. */
static int load__open(struct session *s, struct load_plan *plan, struct bpf_object **obj)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "rbs");
	char why[256];
	if (object__check_btf(plan->q.object, plan->q.object_len, why, sizeof(why)) != 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "the object's BTF is malformed: %s", why);
		return report__error(s, &(struct error_report){ .code = ERR_OBJECT, .fatal = true, .err = EINVAL,
				.message = msg, .hint = "rebuild the object with clang -target bpf -g -O2; it may be corrupted" });
	}
	report__notes_reset();
	*obj = bpf_object__open_mem(plan->q.object, plan->q.object_len, &opts);
	if (!*obj) {
		char msg[768];
		int err = errno ? errno : EINVAL;
		const char *w = report__notes()->first_warn;
		snprintf(msg, sizeof(msg), "open BPF object (%zu bytes): %s%s%s", plan->q.object_len, strerror(err),
			 w[0] ? ": " : "", w);
		return report__error(s, &(struct error_report){ .code = ERR_OBJECT, .fatal = true, .err = err,
				.message = msg, .hint = "send a BPF ELF object built with clang -target bpf -g -O2" });
	}
	if (plan->progs)
		return 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, *obj)
		plan->n_progs++;
	plan->progs = calloc(plan->n_progs + 1, sizeof(*plan->progs));
	if (!plan->progs)
		return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = ENOMEM,
				.message = "out of memory" });
	uint32_t level = plan->q.log_level > 2 ? 2 : plan->q.log_level;
	plan->log_max = log_buf_max();
	size_t i = 0;
	bpf_object__for_each_program(p, *obj) {
		plan->progs[i++] = (struct prog_log){ .size = LOG_BUF_START < plan->log_max ? LOG_BUF_START : plan->log_max,
						      .level = level,
						      .unwanted = plan->verify && plan->q.n_attach &&
								  !load_request__names(&plan->q, bpf_program__name(p)) };
	}
	int err = load__check_overrides(s, *obj, &plan->q);
	return err ? err : load__check_attach_names(s, *obj, &plan->q);
}

/* Everything set between open and load: overrides, no pinning, ringbuf key/value sizes,
 * each program's log buffer and level, and the programs this kernel refused left out. */
static int load__configure(struct session *s, struct load_plan *plan, struct bpf_object *obj, int attempt)
{
	const struct load_request *q = &plan->q;
	for (size_t i = 0; i < q->n_overrides; i++)
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, q->override_names[i]), q->override_values[i]);
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj) {
		bpf_map__set_pin_path(m, NULL); /* never pin: nothing may outlive the helper */
		/* `__type(value, struct X)` on a ringbuf map declares the event type for tools
		 * (cilium/ebpf >= 0.17 style); the kernel wants key and value size 0. */
		if (bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF && (bpf_map__key_size(m) || bpf_map__value_size(m))) {
			bpf_map__set_key_size(m, 0);
			bpf_map__set_value_size(m, 0);
		}
	}
	size_t i = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		struct prog_log *l = &plan->progs[i++];
		if (l->rejected || l->unwanted) {
			bpf_program__set_autoload(p, false); /* a rejected program keeps its log */
			continue;
		}
		free(l->buf);
		l->buf = malloc(l->size);
		if (!l->buf)
			return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = ENOMEM,
					.message = "out of memory for the verifier log" });
		l->buf[0] = '\0';
		bpf_program__set_log_buf(p, l->buf, l->size);
		if (l->refused)
			bpf_program__set_autoload(p, false);
		if (plan->verifier_data)
			bpf_program__set_log_level(p, l->level | LOG_STATS);
		else if (s->log_level > 1 && attempt > 0)
			bpf_program__set_log_level(p, (uint32_t)s->log_level);
	}
	return 0;
}

/* The program whose load failed: the one libbpf named, else the first with a log. */
static struct bpf_program *load__failed_program(struct bpf_object *obj, const struct load_plan *plan, size_t *index)
{
	const char *named = report__notes()->failed_prog;
	struct bpf_program *p, *first_with_log = NULL;
	size_t i = 0, first_index = 0;
	bpf_object__for_each_program(p, obj) {
		if (named[0] && strcmp(bpf_program__name(p), named) == 0) {
			*index = i;
			return p;
		}
		const struct prog_log *l = &plan->progs[i];
		if (!first_with_log && !l->rejected && !l->unwanted && l->buf && l->buf[0]) {
			first_with_log = p;
			first_index = i;
		}
		i++;
	}
	*index = first_index;
	return first_with_log;
}

/* fentry/fexit/lsm refused by this kernel (EPERM before any verification): reported per program
 * in LOADED like an attach failure; the rest of the object loads without it. */
static bool retry__without_refused(struct load_plan *plan, struct bpf_program *failed, size_t fi, int err)
{
	enum bpf_prog_type t = failed ? bpf_program__type(failed) : BPF_PROG_TYPE_UNSPEC;
	if (!failed || err != EPERM || plan->progs[fi].refused ||
	    (t != BPF_PROG_TYPE_TRACING && t != BPF_PROG_TYPE_LSM && t != BPF_PROG_TYPE_EXT))
		return false;
	plan->progs[fi].refused = err;
	return true;
}

/* A log that filled its buffer is cut: grow the buffer ×8 (up to the largest) and reload. */
static bool retry__grow_log(struct load_plan *plan, size_t fi)
{
	struct prog_log *l = &plan->progs[fi];
	if (l->size >= plan->log_max)
		return false;
	l->size = l->size * 8 > plan->log_max ? plan->log_max : l->size * 8;
	return true;
}

/* Verifier data: a log that fills even the largest buffer makes the kernel refuse the load (ENOSPC),
 * though the program may be fine. Keep that log, cut, and reload with statistics only. */
static bool retry__statistics_only(struct load_plan *plan, size_t fi)
{
	struct prog_log *l = &plan->progs[fi];
	if (!plan->verifier_data || l->level == 0 || l->earlier)
		return false;
	l->earlier = l->buf;
	l->earlier[l->size - 1] = '\0';
	l->buf = NULL;
	l->size = LOG_BUF_START < plan->log_max ? LOG_BUF_START : plan->log_max;
	l->level = 0;
	return true;
}

/* Verifier data at level 0 (statistics only): a rejection's log has the verifier's words but no
 * instructions, so no source line. Reload that program once at level 1 (the failing path). */
static bool retry__with_path(struct load_plan *plan, struct bpf_program *failed, size_t fi)
{
	struct prog_log *l = &plan->progs[fi];
	if (!failed || !plan->verifier_data || l->level != 0 || l->reworded)
		return false;
	l->level = 1;
	l->reworded = true;
	return true;
}

/* Verifying: a program the verifier rejects is left out (its log kept for LOADED) and the rest
 * loads, so every program gets its own verdict — libbpf stops at the first rejection. */
static bool retry__without_rejected(struct load_plan *plan, struct bpf_program *failed, size_t fi, int err)
{
	if (!failed || !plan->verify || plan->progs[fi].rejected)
		return false;
	plan->progs[fi].rejected = err ? err : EINVAL;
	return true;
}

/* The verbose log (LOAD log_level 2) is taken only when a load fails: reload once at level 2. */
static bool retry__verbose(const struct session *s, const struct load_plan *plan, struct bpf_program *failed, int attempt)
{
	return failed && !plan->verifier_data && s->log_level > 1 && attempt == 0;
}

/* After a failed bpf_object__load: 1 to load again (the reason is fixed), or the reported error. */
static int load__after_failure(struct session *s, struct load_plan *plan, struct bpf_object *obj, int err, int attempt)
{
	size_t fi = 0;
	struct bpf_program *failed = load__failed_program(obj, plan, &fi);
	if (retry__without_refused(plan, failed, fi, err))
		return 1;
	const struct prog_log *l = failed ? &plan->progs[fi] : NULL;
	if (l && !l->buf[0])
		failed = NULL; /* no verifier log: not a verifier rejection */
	bool filled = failed && strnlen(l->buf, l->size) + 2 >= l->size;
	if (filled && retry__grow_log(plan, fi))
		return 1;
	if (filled && retry__statistics_only(plan, fi))
		return 1;
	if (filled)
		plan->progs[fi].cut = true;
	if (retry__with_path(plan, failed, fi) || retry__without_rejected(plan, failed, fi, err))
		return 1;
	if (retry__verbose(s, plan, failed, attempt) && l->size < plan->log_max)
		return 1;
	return load__report_failure(s, obj, err, failed, failed ? l->buf : NULL, filled);
}

/* Rings, in object order; their index is what EVENTS and STATS refer to. */
static int load__map_rings(struct session *s)
{
	struct bpf_map *map;
	size_t n_rings = 0;
	bpf_object__for_each_map(map, s->obj)
		n_rings += bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF;
	s->rings = calloc(n_rings + 1, sizeof(*s->rings));
	if (!s->rings)
		return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = ENOMEM,
				.message = "out of memory" });
	bpf_object__for_each_map(map, s->obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF)
			continue;
		struct ring *r = &s->rings[s->n_rings];
		r->index = (int)s->n_rings;
		snprintf(r->name, sizeof(r->name), "%s", bpf_map__name(map));
		int err = ring__map(r, bpf_map__fd(map), bpf_map__max_entries(map), s->page_size);
		if (err) {
			char msg[256];
			snprintf(msg, sizeof(msg), "map ring '%s' into memory: %s", r->name, strerror(-err));
			return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = -err,
					.message = msg, .map = r->name });
		}
		s->n_rings++;
	}
	return 0;
}

int session__load(struct session *s, const uint8_t *payload, size_t len)
{
	struct load_plan plan = { 0 };
	struct bpf_object *obj = NULL;
	int err = 0;
	if (load_request__parse(&plan.q, payload, len) != 0) {
		err = report__error(s, &(struct error_report){ .code = ERR_PROTOCOL, .fatal = true, .err = EPROTO,
				.message = "malformed LOAD payload" });
		goto cleanup;
	}
	s->log_level = plan.q.log_level ? (int)plan.q.log_level : 1;
	s->drain_timeout_ms = !plan.q.drain_timeout_ms ? RBS_DRAIN_TIMEOUT_DEFAULT_MS
			      : plan.q.drain_timeout_ms > RBS_DRAIN_TIMEOUT_MAX_MS ? RBS_DRAIN_TIMEOUT_MAX_MS
										: plan.q.drain_timeout_ms;
	plan.verify = (plan.q.flags & RBS_LOAD_VERIFY) != 0;
	plan.verifier_data = plan.verify || (plan.q.flags & RBS_LOAD_VERIFIER_DATA) != 0;
	for (int attempt = 0;; attempt++) {
		if ((err = load__open(s, &plan, &obj)) || (err = load__configure(s, &plan, obj, attempt)))
			goto cleanup;
		err = bpf_object__load(obj);
		if (!err)
			break;
		err = load__after_failure(s, &plan, obj, -err, attempt);
		if (err > 0 && attempt + 1 >= (int)MAX_ATTEMPTS(plan.n_progs))
			err = report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true,
					.message = "the object did not load after many attempts" });
		if (err <= 0)
			goto cleanup;
		bpf_object__close(obj);
		obj = NULL;
	}
	s->obj = obj;
	obj = NULL;
	s->loaded = true;
	err = load__map_rings(s);
	if (!err) {
		counters__discover(s);
		err = loaded__attach_and_report(s, &plan);
	}
cleanup:
	if (obj)
		bpf_object__close(obj);
	load_plan__free(&plan);
	return err < 0 ? err : 0;
}
