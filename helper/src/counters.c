/* Drop counters the program exposes, found by name (drop/lost/miss/fail): integer
 * globals in .bss/.data (via the DATASEC's var_secinfos) and ARRAY/PERCPU_ARRAY maps
 * with integer values. Read with bpf_map_lookup_elem; per-CPU values are summed. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "helper.h"

#define MAX_COUNTERS 64
#define MAX_ARRAY_ENTRIES 4096

static bool name__is_drop_counter(const char *name)
{
	static const char *const words[] = { "drop", "lost", "miss", "fail" };
	char lower[128];
	size_t i = 0;
	for (; name[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strstr(lower, words[k]))
			return true;
	return false;
}

static struct counter *counters__add(struct session *s)
{
	if (s->n_counters >= MAX_COUNTERS)
		return NULL;
	if (!s->counters) {
		s->counters = calloc(MAX_COUNTERS, sizeof(*s->counters));
		if (!s->counters)
			return NULL;
	}
	struct counter *c = &s->counters[s->n_counters++];
	memset(c, 0, sizeof(*c));
	return c;
}

/* An integer type (through typedefs/modifiers, incl. enums) → its size, else 0. */
static uint32_t btf__int_size(const struct btf *btf, uint32_t id, bool *is_signed)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t)
		return 0;
	if (btf_is_int(t)) {
		*is_signed = (btf_int_encoding(t) & BTF_INT_SIGNED) != 0;
		return btf_int_bits(t) % 8 == 0 && t->size <= 8 ? t->size : 0;
	}
	if (btf_is_enum(t)) {
		*is_signed = false;
		return t->size <= 8 ? t->size : 0;
	}
	return 0;
}

static void counters__from_datasec(struct session *s, struct bpf_map *map, const struct btf *btf)
{
	uint32_t sec_id = bpf_map__btf_value_type_id(map);
	const struct btf_type *sec = sec_id ? btf__type_by_id(btf, sec_id) : NULL;
	if (!sec || !btf_is_datasec(sec))
		return;
	const char *sec_name = btf__name_by_offset(btf, sec->name_off);
	if (strcmp(sec_name, ".bss") != 0 && strcmp(sec_name, ".data") != 0 && strncmp(sec_name, ".data.", 6) != 0)
		return;
	const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		if (!var || !btf_is_var(var))
			continue;
		const char *name = btf__name_by_offset(btf, var->name_off);
		bool is_signed = false;
		uint32_t size = btf__int_size(btf, var->type, &is_signed);
		if (!size || !name__is_drop_counter(name))
			continue;
		struct counter *c = counters__add(s);
		if (!c)
			return;
		snprintf(c->name, sizeof(c->name), "%s", name);
		snprintf(c->map, sizeof(c->map), "%s", sec_name);
		c->fd = bpf_map__fd(map);
		c->entries = 1;
		c->value_size = bpf_map__value_size(map);
		c->offset = vs->offset;
		c->size = size;
		c->is_signed = is_signed;
	}
}

int counters__discover(struct session *s)
{
	struct btf *btf = bpf_object__btf(s->obj);
	struct bpf_map *map;
	bpf_object__for_each_map(map, s->obj) {
		enum bpf_map_type type = bpf_map__type(map);
		if (bpf_map__is_internal(map)) {
			if (btf)
				counters__from_datasec(s, map, btf);
			continue;
		}
		if (type != BPF_MAP_TYPE_ARRAY && type != BPF_MAP_TYPE_PERCPU_ARRAY)
			continue;
		uint32_t vsz = bpf_map__value_size(map);
		if (!name__is_drop_counter(bpf_map__name(map)) || bpf_map__key_size(map) != 4 ||
		    (vsz != 1 && vsz != 2 && vsz != 4 && vsz != 8))
			continue;
		struct counter *c = counters__add(s);
		if (!c)
			break;
		snprintf(c->name, sizeof(c->name), "%s", bpf_map__name(map));
		snprintf(c->map, sizeof(c->map), "%s", bpf_map__name(map));
		c->fd = bpf_map__fd(map);
		c->entries = bpf_map__max_entries(map) < MAX_ARRAY_ENTRIES ? bpf_map__max_entries(map) : MAX_ARRAY_ENTRIES;
		c->value_size = vsz;
		c->size = vsz;
		c->percpu = type == BPF_MAP_TYPE_PERCPU_ARRAY;
	}
	return 0;
}

static long long value__read(const uint8_t *p, uint32_t size, bool is_signed)
{
	switch (size) {
	case 1: return is_signed ? (long long)*(const int8_t *)p : (long long)*p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return is_signed ? (long long)(int16_t)v : (long long)v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return is_signed ? (long long)(int32_t)v : (long long)v; }
	default: { uint64_t v; memcpy(&v, p, 8); return (long long)v; }
	}
}

static bool counter__read(const struct counter *c, long long *total)
{
	int ncpus = c->percpu ? libbpf_num_possible_cpus() : 1;
	if (ncpus < 1)
		return false;
	size_t stride = c->percpu ? ((c->value_size + 7) & ~7u) : c->value_size;
	uint8_t *buf = calloc((size_t)ncpus, stride);
	if (!buf)
		return false;
	bool ok = false;
	*total = 0;
	for (uint32_t key = 0; key < c->entries; key++) {
		if (bpf_map_lookup_elem(c->fd, &key, buf) != 0)
			continue;
		ok = true;
		for (int cpu = 0; cpu < ncpus; cpu++)
			*total += value__read(buf + (size_t)cpu * stride + c->offset, c->size, c->is_signed);
	}
	free(buf);
	return ok;
}

void counters__write(struct session *s, struct jw *j)
{
	jw_key(j, "counters");
	jw_arr_begin(j);
	for (size_t i = 0; i < s->n_counters; i++) {
		long long v;
		if (!counter__read(&s->counters[i], &v))
			continue;
		jw_obj_begin(j);
		jw_kv_str(j, "name", s->counters[i].name);
		jw_kv_str(j, "map", s->counters[i].map);
		jw_kv_int(j, "value", v);
		jw_obj_end(j);
	}
	jw_arr_end(j);
}
