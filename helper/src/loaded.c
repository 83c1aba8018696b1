/* After a successful load: each program's verifier data (VERIFIER_LOG frames, when asked
 * for), attach the selected programs, and answer LOADED with maps, rings and programs (the
 * attach result and the reason of each failure in plain words). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "load.h"

/* Verifier logs travel in chunks this big (helper → core frames stay ≤ 4 MiB). */
#define VERIFIER_LOG_CHUNK (1u << 20)

static const char earlier_marker[] =
	"\n… the verifier log above outgrew the largest log buffer and was cut (kernels before 6.4 keep its "
	"start, newer ones its end); the program was loaded again with statistics only: …\n";

/* The log delivered for one program: an earlier over-long log (cut) and the last load's log. */
static char *verifier__text(const struct prog_log *l, size_t *len)
{
	size_t a = l->earlier ? strlen(l->earlier) : 0, m = l->earlier ? sizeof(earlier_marker) - 1 : 0;
	size_t b = l->buf ? strnlen(l->buf, l->size) : 0;
	char *text = malloc(a + m + b + 1);
	if (!text)
		return NULL;
	if (a)
		memcpy(text, l->earlier, a);
	memcpy(text + a, earlier_marker, m);
	if (b)
		memcpy(text + a + m, l->buf, b);
	text[a + m + b] = '\0';
	*len = a + m + b;
	text__make_utf8(text, *len);
	return text;
}

/* VERIFIER_LOG frames for every program that was loaded (before LOADED, which says how many
 * bytes to expect). */
static int loaded__verifier_logs(struct session *s, const struct load_plan *plan)
{
	struct bpf_program *prog;
	uint32_t i = 0;
	bpf_object__for_each_program(prog, s->obj) {
		const struct prog_log *l = &plan->progs[i];
		size_t len = 0;
		char *text = l->refused || l->unwanted ? NULL : verifier__text(l, &len);
		if (text) {
			struct rbs_verifier_log_header h = { .program_index = i };
			output_send_chunked(&s->out, RBS_VERIFIER_LOG, &h, sizeof(h),
					    offsetof(struct rbs_verifier_log_header, flags), text, len, VERIFIER_LOG_CHUNK);
			free(text);
		}
		i++;
	}
	return 0;
}

static void loaded__maps(struct jw *j, const struct load_plan *plan, struct bpf_object *obj)
{
	struct bpf_map *map;
	int ring_index = 0;
	jw_key(j, "maps");
	jw_arr_begin(j);
	bpf_object__for_each_map(map, obj) {
		uint32_t effective = bpf_map__max_entries(map);
		uint32_t requested = load_request__max_entries(&plan->q, obj, bpf_map__name(map));
		const char *tn = libbpf_bpf_map_type_str(bpf_map__type(map));
		jw_obj_begin(j);
		jw_kv_str(j, "name", bpf_map__name(map));
		jw_kv_int(j, "type", bpf_map__type(map));
		jw_kv_str(j, "type_name", tn ? tn : "unknown");
		jw_kv_uint(j, "max_entries", effective);
		if (requested && requested != effective)
			jw_kv_uint(j, "requested_max_entries", requested);
		jw_kv_uint(j, "key_size", bpf_map__key_size(map));
		jw_kv_uint(j, "value_size", bpf_map__value_size(map));
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
			jw_kv_int(j, "ring_index", ring_index++);
		jw_obj_end(j);
	}
	jw_arr_end(j);
}

static void loaded__rings(struct jw *j, const struct session *s)
{
	jw_key(j, "rings");
	jw_arr_begin(j);
	for (size_t i = 0; i < s->n_rings; i++) {
		jw_obj_begin(j);
		jw_kv_int(j, "index", s->rings[i].index);
		jw_kv_str(j, "name", s->rings[i].name);
		jw_kv_uint(j, "size", s->rings[i].size);
		jw_obj_end(j);
	}
	jw_arr_end(j);
}

/* Attaches one selected program (unless the kernel refused it at load); true when attached. */
static bool loaded__attach(struct session *s, struct jw *j, struct bpf_program *prog, int refused)
{
	const char *tn = libbpf_bpf_prog_type_str(bpf_program__type(prog));
	struct bpf_link *link = refused ? NULL : bpf_program__attach(prog);
	int err = refused ? refused : link ? 0 : (errno ? errno : EINVAL);
	jw_kv_bool(j, "attached", link != NULL);
	if (link) {
		s->links[s->n_links++] = link;
		return true;
	}
	char reason[1024], message[512];
	attach__explain(prog, err, reason, sizeof(reason));
	snprintf(message, sizeof(message), "%s %s failed: %s", tn ? tn : "program", refused ? "load" : "attach",
		 strerror(err));
	jw_key(j, "error");
	jw_obj_begin(j);
	jw_kv_int(j, "errno", err);
	jw_kv_str(j, "message", message);
	jw_kv_str(j, "reason", reason);
	jw_obj_end(j);
	return false;
}

static void loaded__verifier_json(struct jw *j, const struct prog_log *l)
{
	size_t len = (l->earlier ? strlen(l->earlier) + sizeof(earlier_marker) - 1 : 0) +
		     (l->buf ? strnlen(l->buf, l->size) : 0);
	jw_key(j, "verifier");
	jw_obj_begin(j);
	jw_kv_uint(j, "level", l->level);
	jw_kv_uint(j, "bytes", len);
	jw_kv_bool(j, "truncated", l->earlier != NULL || l->cut);
	jw_obj_end(j);
}

/* Verify: whether the program was loaded, and for a rejected one the errno and the verifier's words. */
static void loaded__verdict_json(struct jw *j, struct bpf_program *prog, const struct prog_log *l)
{
	jw_kv_bool(j, "loaded", !l->rejected && !l->unwanted && !l->refused);
	if (!l->rejected)
		return;
	char summary[512], message[1024];
	verifier__summary(l->buf ? l->buf : "", summary, sizeof(summary));
	text__make_utf8(summary, strlen(summary));
	snprintf(message, sizeof(message), "load program '%s': %s%s%s", bpf_program__name(prog), strerror(l->rejected),
		 summary[0] ? ": " : "", summary);
	jw_key(j, "rejected");
	jw_obj_begin(j);
	jw_kv_int(j, "errno", l->rejected);
	jw_kv_str(j, "message", message);
	jw_obj_end(j);
}

/* The programs array; counts how many were selected for attach and how many attached. */
static void loaded__programs(struct session *s, struct jw *j, const struct load_plan *plan, size_t *selected,
			     size_t *attached)
{
	struct bpf_program *prog;
	size_t i = 0;
	jw_key(j, "programs");
	jw_arr_begin(j);
	bpf_object__for_each_program(prog, s->obj) {
		const struct prog_log *l = &plan->progs[i++];
		const char *section = bpf_program__section_name(prog);
		const char *tn = libbpf_bpf_prog_type_str(bpf_program__type(prog));
		char target[256];
		attach__target(section, target, sizeof(target));
		jw_obj_begin(j);
		jw_kv_str(j, "name", bpf_program__name(prog));
		jw_kv_str(j, "section", section);
		jw_kv_str(j, "type", tn ? tn : "unknown");
		jw_kv_str(j, "attach_target", target);
		if (plan->verifier_data && !l->refused && !l->unwanted)
			loaded__verifier_json(j, l);
		if (plan->verify)
			loaded__verdict_json(j, prog, l);
		if (load_request__wants(&plan->q, bpf_program__name(prog))) {
			(*selected)++;
			*attached += loaded__attach(s, j, prog, l->refused);
		} else {
			jw_kv_bool(j, "attached", false);
		}
		jw_obj_end(j);
	}
	jw_arr_end(j);
}

int loaded__attach_and_report(struct session *s, const struct load_plan *plan)
{
	size_t selected = 0, attached = 0;
	s->links = calloc(plan->n_progs + 1, sizeof(*s->links));
	if (!s->links)
		return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = ENOMEM,
				.message = "out of memory" });
	if (plan->verifier_data)
		loaded__verifier_logs(s, plan);
	struct jw j;
	jw_init(&j);
	jw_obj_begin(&j);
	loaded__maps(&j, plan, s->obj);
	loaded__rings(&j, s);
	loaded__programs(s, &j, plan, &selected, &attached);
	jw_obj_end(&j);
	int err = output_send_json(&s->out, RBS_LOADED, &j);
	if (err)
		return report__error(s, &(struct error_report){ .code = ERR_INTERNAL, .fatal = true, .err = -err,
				.message = "cannot send LOADED" });
	if (selected > 0 && attached == 0)
		return report__error(s, &(struct error_report){ .code = ERR_ATTACH, .fatal = true,
				.message = selected == 1 ? "the selected program could not attach"
							 : "none of the selected programs could attach",
				.hint = "the reason for each program is in the LOADED reply" });
	return 0;
}
