/* Checks an object's .BTF before libbpf opens it. libbpf 1.1 (Debian's) trusts the type
 * ids inside BTF: a struct member naming type 2061 of 24 makes bpf_object__open_mem
 * dereference NULL while it parses a map definition (found by fuzzing). Newer libbpf
 * checks this itself (btf_sanity_check); we do the same here: every type id a type
 * refers to must exist, and every name must be inside the string section. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "helper.h"

static bool btf__id_ok(const struct btf *btf, __u32 id)
{
	return id < btf__type_cnt(btf);
}

/* The first type id `t` refers to that does not exist (its position in `what`), or 0. */
static __u32 btf_type__bad_ref(const struct btf *btf, const struct btf_type *t, const char **what)
{
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		*what = "type";
		return btf__id_ok(btf, t->type) ? 0 : t->type;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		*what = btf__id_ok(btf, a->type) ? "index type" : "element type";
		return !btf__id_ok(btf, a->type) ? a->type : !btf__id_ok(btf, a->index_type) ? a->index_type : 0;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);
		*what = "member type";
		for (int i = 0; i < btf_vlen(t); i++, m++)
			if (!btf__id_ok(btf, m->type))
				return m->type;
		return 0;
	}
	case BTF_KIND_FUNC_PROTO: {
		const struct btf_param *p = btf_params(t);
		*what = "return type";
		if (!btf__id_ok(btf, t->type))
			return t->type;
		*what = "parameter type";
		for (int i = 0; i < btf_vlen(t); i++, p++)
			if (!btf__id_ok(btf, p->type))
				return p->type;
		return 0;
	}
	case BTF_KIND_DATASEC: {
		const struct btf_var_secinfo *v = btf_var_secinfos(t);
		*what = "variable";
		for (int i = 0; i < btf_vlen(t); i++, v++)
			if (!btf__id_ok(btf, v->type))
				return v->type;
		return 0;
	}
	default:
		return 0;
	}
}

/* The .BTF section of an ELF image in memory, or NULL (no ELF, no .BTF: libbpf decides). */
static const void *elf__btf_section(Elf *elf, size_t *size)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".BTF") != 0)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			return NULL;
		*size = data->d_size;
		return data->d_buf;
	}
	return NULL;
}

static int btf__check(const struct btf *btf, char *err, size_t errlen)
{
	__u32 n = btf__type_cnt(btf);
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *what = "type";
		__u32 bad = t ? btf_type__bad_ref(btf, t, &what) : 0;
		if (!t || bad) {
			snprintf(err, errlen, "type [%u] refers to type %u (its %s), but the BTF has only %u types", id, bad, what, n - 1);
			return -EINVAL;
		}
		if (!btf__name_by_offset(btf, t->name_off)) {
			snprintf(err, errlen, "type [%u] has a name outside the string section (offset %u)", id, t->name_off);
			return -EINVAL;
		}
	}
	return 0;
}

int object__check_btf(const void *object, size_t len, char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	Elf *elf = elf_memory((char *)object, len);
	if (!elf)
		return 0; /* not ELF: libbpf says so in its own words */
	size_t size = 0;
	const void *data = elf__btf_section(elf, &size);
	int ret = 0;
	if (data) {
		struct btf *btf = btf__new(data, (__u32)size);
		if (!btf) {
			snprintf(err, errlen, "its .BTF section cannot be parsed (%s)", strerror(errno ? errno : EINVAL));
			ret = -EINVAL;
		} else {
			ret = btf__check(btf, err, errlen);
			btf__free(btf);
		}
	}
	elf_end(elf);
	return ret;
}
