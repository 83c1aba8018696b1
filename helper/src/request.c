/* The LOAD payload (PROTOCOL.md "LOAD"): flags, log level, drain timeout, max_entries
 * overrides, the programs to attach, then the object. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "load.h"

struct reader {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

/* n bytes into out (zeros, and the reader marked bad, when the payload ends first). */
static void reader__take(struct reader *r, void *out, size_t n)
{
	if (r->off + n > r->len) {
		r->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p + r->off, n);
	r->off += n;
}

static uint32_t reader__u32(struct reader *r)
{
	uint32_t v;
	reader__take(r, &v, sizeof(v));
	return v;
}

static uint16_t reader__u16(struct reader *r)
{
	uint16_t v;
	reader__take(r, &v, sizeof(v));
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

void load_request__free(struct load_request *q)
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

int load_request__parse(struct load_request *q, const uint8_t *p, size_t len)
{
	struct reader r = { .p = p, .len = len };
	memset(q, 0, sizeof(*q));
	q->flags = reader__u32(&r);
	q->log_level = reader__u32(&r);
	q->drain_timeout_ms = reader__u32(&r);
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

bool load_request__names(const struct load_request *q, const char *prog)
{
	for (size_t i = 0; i < q->n_attach; i++)
		if (strcmp(q->attach[i], prog) == 0)
			return true;
	return false;
}

bool load_request__wants(const struct load_request *q, const char *prog)
{
	if (q->flags & RBS_LOAD_VERIFY)
		return false; /* verify attaches nothing: the list names the programs to load */
	if (q->flags & RBS_LOAD_ATTACH_ALL)
		return true;
	return load_request__names(q, prog);
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

uint32_t load_request__max_entries(const struct load_request *q, struct bpf_object *obj, const char *map)
{
	for (size_t i = 0; i < q->n_overrides; i++)
		if (strcmp(q->override_names[i], map) == 0)
			return q->override_values[i];
	return map__declared_max_entries(obj, map);
}
