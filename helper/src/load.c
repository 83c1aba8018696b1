/* LOAD: open the object from bytes, validate and apply max_entries overrides, load
 * (growing each program's verifier log buffer instead of truncating), map the rings,
 * attach, and answer LOADED — or ERROR with the cause and the full verifier log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "helper.h"

#define LOG_BUF_START (1u << 20)
#define LOG_BUF_MAX (48u << 20) /* stays below RBS_MAX_FRAME with JSON escaping headroom */
#define MAX_NAMES 4096

struct load_request {
	uint32_t flags;
	uint32_t log_level;
	size_t n_overrides;
	char **override_names;
	uint32_t *override_values;
	size_t n_attach;
	char **attach;
	const uint8_t *object;
	size_t object_len;
};

struct reader {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static uint32_t reader__u32(struct reader *r)
{
	uint32_t v = 0;
	if (r->off + 4 > r->len) { r->bad = true; return 0; }
	memcpy(&v, r->p + r->off, 4);
	r->off += 4;
	return v;
}

static uint16_t reader__u16(struct reader *r)
{
	uint16_t v = 0;
	if (r->off + 2 > r->len) { r->bad = true; return 0; }
	memcpy(&v, r->p + r->off, 2);
	r->off += 2;
	return v;
}

static char *reader__name(struct reader *r)
{
	uint16_t n = reader__u16(r);
	if (r->bad || r->off + n > r->len) { r->bad = true; return NULL; }
	char *s = strndup((const char *)r->p + r->off, n);
	if (!s || strlen(s) != n) { /* embedded NUL: not a valid name */
		free(s);
		r->bad = true;
		return NULL;
	}
	r->off += n;
	return s;
}

static void load_request__free(struct load_request *q)
{
	for (size_t i = 0; i < q->n_overrides; i++)
		free(q->override_names ? q->override_names[i] : NULL);
	for (size_t i = 0; i < q->n_attach; i++)
		free(q->attach ? q->attach[i] : NULL);
	free(q->override_names);
	free(q->override_values);
	free(q->attach);
	memset(q, 0, sizeof(*q));
}

static int load_request__parse(struct load_request *q, const uint8_t *p, size_t len)
{
	struct reader r = { .p = p, .len = len };
	memset(q, 0, sizeof(*q));
	q->flags = reader__u32(&r);
	q->log_level = reader__u32(&r);
	size_t n = reader__u16(&r);
	if (r.bad)
		return -EPROTO;
	q->override_names = calloc(n + 1, sizeof(char *));
	q->override_values = calloc(n + 1, sizeof(uint32_t));
	if (!q->override_names || !q->override_values)
		return -ENOMEM;
	for (size_t i = 0; i < n && !r.bad; i++) {
		q->override_names[i] = reader__name(&r);
		q->override_values[i] = reader__u32(&r);
		q->n_overrides = i + 1;
	}
	n = reader__u16(&r);
	if (r.bad)
		return -EPROTO;
	q->attach = calloc(n + 1, sizeof(char *));
	if (!q->attach)
		return -ENOMEM;
	for (size_t i = 0; i < n && !r.bad; i++) {
		q->attach[i] = reader__name(&r);
		q->n_attach = i + 1;
	}
	if (r.bad)
		return -EPROTO;
	q->object = p + r.off;
	q->object_len = len - r.off;
	return 0;
}

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

/* max_entries as the object's BTF map definition wrote it (before libbpf's rounding), 0 if unknown. */
static uint32_t map__declared_max_entries(struct bpf_object *obj, const char *map_name)
{
	struct btf *btf = bpf_object__btf(obj);
	if (!btf)
		return 0;
	int sec_id = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	if (sec_id < 0)
		return 0;
	const struct btf_type *sec = btf__type_by_id(btf, (uint32_t)sec_id);
	const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		if (!var || strcmp(btf__name_by_offset(btf, var->name_off), map_name) != 0)
			continue;
		const struct btf_type *def = btf__type_by_id(btf, var->type);
		while (def && btf_is_mod(def))
			def = btf__type_by_id(btf, def->type);
		if (!def || !btf_is_struct(def))
			return 0;
		const struct btf_member *m = btf_members(def);
		for (int k = 0; k < btf_vlen(def); k++, m++) {
			if (strcmp(btf__name_by_offset(btf, m->name_off), "max_entries") != 0)
				continue;
			const struct btf_type *ptr = btf__type_by_id(btf, m->type);
			if (!ptr || !btf_is_ptr(ptr))
				return 0;
			const struct btf_type *arr = btf__type_by_id(btf, ptr->type);
			return arr && btf_is_array(arr) ? btf_array(arr)->nelems : 0;
		}
		return 0;
	}
	return 0;
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
			return session__error(s, "override", true, EINVAL, msg, hint, NULL, name, NULL);
		}
		if (v == 0) {
			snprintf(msg, sizeof(msg), "max_entries override for map '%s' is 0", name);
			return session__error(s, "override", true, EINVAL, msg, "max_entries must be at least 1", NULL, name, NULL);
		}
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF &&
		    (!is_power_of_two(v) || v % s->page_size != 0)) {
			uint64_t nearest = ring_size__nearest(v, s->page_size);
			snprintf(msg, sizeof(msg),
				 "max_entries override for ringbuf map '%s' is %u: a ring's size must be a power of two and a multiple of the page size (%zu); nearest valid size: %llu",
				 name, v, s->page_size, (unsigned long long)nearest);
			snprintf(hint, sizeof(hint), "use --max-entries %s=%llu", name, (unsigned long long)nearest);
			return session__error(s, "override", true, EINVAL, msg, hint, NULL, name, NULL);
		}
	}
	return 0;
}

/* The verifier's own words: the last line before the "processed N insns" summary
 * that is not an instruction dump or a source annotation. */
static void verifier__summary(const char *log, char *out, size_t n)
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

static int load__report_failure(struct session *s, struct bpf_object *obj, int err, struct bpf_program *failed,
				 const char *log, size_t log_size, bool truncated)
{
	char msg[1024], hint[1024];
	if (failed) {
		char summary[512];
		verifier__summary(log, summary, sizeof(summary));
		snprintf(msg, sizeof(msg), "load program '%s': %s%s%s", bpf_program__name(failed), strerror(err),
			 summary[0] ? ": " : "", summary);
		snprintf(hint, sizeof(hint),
			 "the verifier rejected '%s'; the line marked '; … @ file:LINE' just before the error is where it failed%s",
			 bpf_program__name(failed),
			 truncated ? " (log truncated at the size limit)" : "");
		(void)log_size;
		return session__error(s, "verifier", true, err, msg, hint, bpf_program__name(failed), NULL, log);
	}
	/* No program log: a map or the object itself failed. libbpf said which in its last warning. */
	const char *w = s->first_warn;
	if (s->failed_map[0]) {
		const char *name = s->failed_map;
		struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
		snprintf(msg, sizeof(msg), "create map '%s': %s", name, strerror(err));
		if (map && bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
			snprintf(hint, sizeof(hint),
				 "a ringbuf map needs max_entries set to a power of two that is a multiple of the page size (%zu), and no key or value type; override it with --max-entries %s=%zu",
				 s->page_size, name, s->page_size * 64);
		else
			snprintf(hint, sizeof(hint), "check the map definition of '%s' (type, key/value sizes, max_entries)", name);
		return session__error(s, "map", true, err, msg, hint, NULL, name, NULL);
	}
	snprintf(msg, sizeof(msg), "load object: %s%s%s", strerror(err), w[0] ? ": " : "", w);
	return session__error(s, "load", true, err, msg, "see the libbpf log lines above for the cause", NULL, NULL, NULL);
}

static bool request__wants(const struct load_request *q, const char *prog)
{
	if (q->flags & RBS_LOAD_ATTACH_ALL)
		return true;
	for (size_t i = 0; i < q->n_attach; i++)
		if (strcmp(q->attach[i], prog) == 0)
			return true;
	return false;
}

static int load__attach_and_report(struct session *s, const struct load_request *q, const int *refused)
{
	struct bpf_object *obj = s->obj;
	struct jw j;
	size_t n_progs = 0, n_selected = 0, n_attached = 0;
	struct bpf_program *prog;
	struct bpf_map *map;

	bpf_object__for_each_program(prog, obj)
		n_progs++;
	s->links = calloc(n_progs + 1, sizeof(*s->links));
	if (!s->links)
		return session__error(s, "internal", true, ENOMEM, "out of memory", NULL, NULL, NULL, NULL);

	jw_init(&j);
	jw_obj_begin(&j);
	jw_key(&j, "maps");
	jw_arr_begin(&j);
	int ring_index = 0;
	bpf_object__for_each_map(map, obj) {
		uint32_t effective = bpf_map__max_entries(map);
		uint32_t requested = 0;
		for (size_t i = 0; i < q->n_overrides; i++)
			if (strcmp(q->override_names[i], bpf_map__name(map)) == 0)
				requested = q->override_values[i];
		if (!requested)
			requested = map__declared_max_entries(obj, bpf_map__name(map));
		const char *tn = libbpf_bpf_map_type_str(bpf_map__type(map));
		jw_obj_begin(&j);
		jw_kv_str(&j, "name", bpf_map__name(map));
		jw_kv_int(&j, "type", bpf_map__type(map));
		jw_kv_str(&j, "type_name", tn ? tn : "unknown");
		jw_kv_uint(&j, "max_entries", effective);
		if (requested && requested != effective)
			jw_kv_uint(&j, "requested_max_entries", requested);
		jw_kv_uint(&j, "key_size", bpf_map__key_size(map));
		jw_kv_uint(&j, "value_size", bpf_map__value_size(map));
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
			jw_kv_int(&j, "ring_index", ring_index++);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_key(&j, "rings");
	jw_arr_begin(&j);
	for (size_t i = 0; i < s->n_rings; i++) {
		jw_obj_begin(&j);
		jw_kv_int(&j, "index", s->rings[i].index);
		jw_kv_str(&j, "name", s->rings[i].name);
		jw_kv_uint(&j, "size", s->rings[i].size);
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_key(&j, "programs");
	jw_arr_begin(&j);
	size_t prog_index = 0;
	bpf_object__for_each_program(prog, obj) {
		const char *section = bpf_program__section_name(prog);
		const char *tn = libbpf_bpf_prog_type_str(bpf_program__type(prog));
		char target[256];
		attach__target(section, target, sizeof(target));
		jw_obj_begin(&j);
		jw_kv_str(&j, "name", bpf_program__name(prog));
		jw_kv_str(&j, "section", section);
		jw_kv_str(&j, "type", tn ? tn : "unknown");
		jw_kv_str(&j, "attach_target", target);
		if (!request__wants(q, bpf_program__name(prog))) {
			prog_index++;
			jw_kv_bool(&j, "attached", false);
			jw_obj_end(&j);
			continue;
		}
		n_selected++;
		int refused_err = refused[prog_index++];
		struct bpf_link *link = refused_err ? NULL : bpf_program__attach(prog);
		int err = refused_err ? refused_err : link ? 0 : (errno ? errno : EINVAL);
		if (link) {
			s->links[s->n_links++] = link;
			n_attached++;
			jw_kv_bool(&j, "attached", true);
		} else {
			char reason[1024], message[512];
			attach__explain(prog, err, reason, sizeof(reason));
			snprintf(message, sizeof(message), "%s %s failed: %s", tn ? tn : "program",
				 refused_err ? "load" : "attach", strerror(err));
			jw_kv_bool(&j, "attached", false);
			jw_key(&j, "error");
			jw_obj_begin(&j);
			jw_kv_int(&j, "errno", err);
			jw_kv_str(&j, "message", message);
			jw_kv_str(&j, "reason", reason);
			jw_obj_end(&j);
		}
		jw_obj_end(&j);
	}
	jw_arr_end(&j);
	jw_obj_end(&j);
	int err = output_send_json(&s->out, RBS_LOADED, &j);
	if (err)
		return session__error(s, "internal", true, -err, "cannot send LOADED", NULL, NULL, NULL, NULL);
	if (n_selected > 0 && n_attached == 0)
		return session__error(s, "attach", true, 0,
				      n_selected == 1 ? "the selected program could not attach"
						      : "none of the selected programs could attach",
				      "the reason for each program is in the LOADED reply", NULL, NULL, NULL);
	return 0;
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
		return session__error(s, "attach", true, ENOENT, msg, hint, q->attach[i], NULL, NULL);
	}
	return 0;
}

int session__load(struct session *s, const uint8_t *payload, size_t len)
{
	struct load_request q;
	struct bpf_object *obj = NULL;
	char **logs = NULL;
	size_t *log_sizes = NULL;
	int *refused = NULL; /* per program: errno when the kernel refused this attach type at load */
	size_t n_progs = 0;
	int err = load_request__parse(&q, payload, len);
	if (err) {
		err = session__error(s, "protocol", true, EPROTO, "malformed LOAD payload", NULL, NULL, NULL, NULL);
		goto cleanup;
	}
	s->log_level = q.log_level ? (int)q.log_level : 1;

	for (int attempt = 0;; attempt++) {
		LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "rbs");
		s->first_warn[0] = '\0';
		s->failed_map[0] = '\0';
		s->failed_prog[0] = '\0';
		obj = bpf_object__open_mem(q.object, q.object_len, &opts);
		if (!obj) {
			char msg[768];
			err = errno ? errno : EINVAL;
			snprintf(msg, sizeof(msg), "open BPF object (%zu bytes): %s%s%s", q.object_len, strerror(err),
				 s->first_warn[0] ? ": " : "", s->first_warn);
			err = session__error(s, "object", true, err, msg,
					     "send a BPF ELF object built with clang -target bpf -g -O2", NULL, NULL, NULL);
			goto cleanup;
		}
		if (attempt == 0) {
			struct bpf_program *p;
			bpf_object__for_each_program(p, obj)
				n_progs++;
			logs = calloc(n_progs + 1, sizeof(*logs));
			log_sizes = calloc(n_progs + 1, sizeof(*log_sizes));
			refused = calloc(n_progs + 1, sizeof(*refused));
			if (!logs || !log_sizes || !refused) {
				err = session__error(s, "internal", true, ENOMEM, "out of memory", NULL, NULL, NULL, NULL);
				goto cleanup;
			}
			for (size_t i = 0; i < n_progs; i++)
				log_sizes[i] = LOG_BUF_START;
			if ((err = load__check_overrides(s, obj, &q)) || (err = load__check_attach_names(s, obj, &q)))
				goto cleanup;
		}
		for (size_t i = 0; i < q.n_overrides; i++)
			bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, q.override_names[i]),
						 q.override_values[i]);
		struct bpf_map *m;
		bpf_object__for_each_map(m, obj) {
			bpf_map__set_pin_path(m, NULL); /* never pin: nothing may outlive the helper */
			/* `__type(value, struct X)` on a ringbuf map declares the event type for tools
			 * (cilium/ebpf >= 0.17 style); the kernel wants key and value size 0. */
			if (bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF &&
			    (bpf_map__key_size(m) || bpf_map__value_size(m))) {
				bpf_map__set_key_size(m, 0);
				bpf_map__set_value_size(m, 0);
			}
		}

		size_t i = 0;
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj) {
			if (!logs[i] || attempt > 0) {
				free(logs[i]);
				logs[i] = malloc(log_sizes[i]);
				if (!logs[i]) {
					err = session__error(s, "internal", true, ENOMEM, "out of memory for the verifier log", NULL, NULL, NULL, NULL);
					goto cleanup;
				}
			}
			logs[i][0] = '\0';
			bpf_program__set_log_buf(p, logs[i], log_sizes[i]);
			if (refused[i])
				bpf_program__set_autoload(p, false);
			if (s->log_level > 1 && attempt > 0)
				bpf_program__set_log_level(p, (uint32_t)s->log_level);
			i++;
		}

		err = bpf_object__load(obj);
		if (!err)
			break;
		err = -err;
		struct bpf_program *failed = NULL;
		size_t fi = 0;
		i = 0;
		bpf_object__for_each_program(p, obj) {
			if (!failed && logs[i][0]) {
				failed = p;
				fi = i;
			}
			i++;
		}
		if (!failed && s->failed_prog[0]) {
			i = 0;
			bpf_object__for_each_program(p, obj) {
				if (strcmp(bpf_program__name(p), s->failed_prog) == 0) {
					failed = p;
					fi = i;
				}
				i++;
			}
		}
		/* fentry/fexit/lsm refused by this kernel (EPERM before any verification): report
		 * it per program in LOADED like an attach failure, and load the rest without it. */
		enum bpf_prog_type ft = failed ? bpf_program__type(failed) : BPF_PROG_TYPE_UNSPEC;
		if (failed && err == EPERM && !refused[fi] &&
		    (ft == BPF_PROG_TYPE_TRACING || ft == BPF_PROG_TYPE_LSM || ft == BPF_PROG_TYPE_EXT)) {
			refused[fi] = err;
			bpf_object__close(obj);
			obj = NULL;
			continue;
		}
		if (failed && !logs[fi][0])
			failed = NULL; /* no verifier log: not a verifier rejection */
		bool truncated = failed && strlen(logs[fi]) + 2 >= log_sizes[fi];
		bool want_verbose = failed && s->log_level > 1 && attempt == 0;
		if (failed && (truncated || want_verbose) && log_sizes[fi] < LOG_BUF_MAX) {
			if (truncated)
				log_sizes[fi] = log_sizes[fi] * 8 > LOG_BUF_MAX ? LOG_BUF_MAX : log_sizes[fi] * 8;
			bpf_object__close(obj);
			obj = NULL;
			continue;
		}
		err = load__report_failure(s, obj, err, failed, failed ? logs[fi] : NULL, failed ? log_sizes[fi] : 0,
					   truncated);
		goto cleanup;
	}

	s->obj = obj;
	obj = NULL;
	s->loaded = true;

	/* Rings, in object order; their index is what EVENTS and STATS refer to. */
	struct bpf_map *map;
	size_t n_rings = 0;
	bpf_object__for_each_map(map, s->obj)
		n_rings += bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF;
	s->rings = calloc(n_rings + 1, sizeof(*s->rings));
	if (!s->rings) {
		err = session__error(s, "internal", true, ENOMEM, "out of memory", NULL, NULL, NULL, NULL);
		goto cleanup;
	}
	bpf_object__for_each_map(map, s->obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF)
			continue;
		struct ring *r = &s->rings[s->n_rings];
		r->index = (int)s->n_rings;
		snprintf(r->name, sizeof(r->name), "%s", bpf_map__name(map));
		err = ring__map(r, bpf_map__fd(map), bpf_map__max_entries(map), s->page_size);
		if (err) {
			char msg[256];
			snprintf(msg, sizeof(msg), "map ring '%s' into memory: %s", r->name, strerror(-err));
			err = session__error(s, "internal", true, -err, msg, NULL, NULL, r->name, NULL);
			goto cleanup;
		}
		s->n_rings++;
	}
	counters__discover(s);
	err = load__attach_and_report(s, &q, refused);

cleanup:
	if (obj)
		bpf_object__close(obj);
	for (size_t i = 0; logs && i < n_progs; i++)
		free(logs[i]);
	free(logs);
	free(log_sizes);
	free(refused);
	load_request__free(&q);
	return err;
}
