/* Reporting: ERROR frames (never dropped: text too long for a frame is cut with a marker),
 * libbpf's print callback (LOG frames), and the facts libbpf states only in its text — which
 * map or program failed — kept here as the one owner (struct libbpf_notes), read by load.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "helper.h"

static const char *const error_code_names[] = {
	[ERR_PROTOCOL] = "protocol", [ERR_OBJECT] = "object",     [ERR_MAP] = "map",
	[ERR_VERIFIER] = "verifier", [ERR_LOAD] = "load",         [ERR_ATTACH] = "attach",
	[ERR_OVERRIDE] = "override", [ERR_STATE] = "state",       [ERR_INTERNAL] = "internal",
};

const char *stop_reason__name(enum stop_reason r)
{
	switch (r) {
	case STOP_COMMAND: return "stop";
	case STOP_STDIN_EOF: return "stdin-eof";
	case STOP_SIGNAL: return "signal";
	case STOP_PARENT_DIED: return "parent-died";
	case STOP_OUTPUT_CLOSED: return "output-closed";
	case STOP_FATAL: return "fatal";
	case STOP_NONE: break;
	}
	return "stop";
}

/* Short fields (message, hint, names) are capped so the log keeps most of the frame. */
#define MAX_FIELD_BYTES (64u << 10)
/* Worst case of JSON escaping: one byte becomes \u00XX. */
#define ESCAPE_GROWTH 6u
/* Room for keys, numbers and the short fields at their cap. */
#define FRAME_RESERVE (5 * MAX_FIELD_BYTES * ESCAPE_GROWTH + 4096)

/* Bytes that keep UTF-8 sequences whole: n moved back off a continuation byte. */
static size_t utf8_floor(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* s, or when longer than max bytes: its start and end around a line saying what was cut (the
 * verifier states the error at the end of its log). Returns a malloc'ed copy when it cut. */
static char *text__cut(const char *what, const char *s, size_t max, const char **out)
{
	size_t len = strlen(s);
	*out = s;
	if (len <= max)
		return NULL;
	size_t half = max / 2;
	size_t head = utf8_floor(s, half), tail_at = len - half;
	while (tail_at < len && ((unsigned char)s[tail_at] & 0xc0) == 0x80)
		tail_at++;
	char note[128];
	int n = snprintf(note, sizeof(note), "\n… %zu bytes of the %s cut here to fit the 64 MiB frame limit …\n",
			 tail_at - head, what);
	char *cut = malloc(head + (size_t)n + (len - tail_at) + 1);
	if (!cut)
		return NULL;
	memcpy(cut, s, head);
	memcpy(cut + head, note, (size_t)n);
	memcpy(cut + head + n, s + tail_at, len - tail_at + 1);
	*out = cut;
	return cut;
}

static void jw_kv_capped(struct jw *j, const char *key, const char *value, size_t max, char **owned)
{
	const char *text;
	*owned = text__cut(key, value, max, &text);
	jw_kv_str(j, key, text);
}

/* The ERROR JSON with every text field cut to fit `log_max` (log) and MAX_FIELD_BYTES (others). */
static void report__json(struct jw *j, const struct error_report *e, size_t log_max)
{
	const char *const keys[] = { "message", "hint", "program", "map" };
	const char *const values[] = { e->message, e->hint, e->program, e->map };
	char *owned[5] = { NULL };
	jw_init(j);
	jw_obj_begin(j);
	jw_kv_str(j, "code", error_code_names[e->code]);
	jw_kv_bool(j, "fatal", e->fatal);
	if (e->err)
		jw_kv_int(j, "errno", e->err);
	for (size_t i = 0; i < 4; i++)
		if (values[i] || i == 0)
			jw_kv_capped(j, keys[i], values[i] ? values[i] : "", MAX_FIELD_BYTES, &owned[i]);
	if (e->log)
		jw_kv_capped(j, "log", e->log, log_max, &owned[4]);
	jw_obj_end(j);
	for (size_t i = 0; i < 5; i++)
		free(owned[i]);
}

int report__error(struct session *s, const struct error_report *e)
{
	/* Raw log bytes that surely fit once escaped; a log of plain text (the usual case) gets
	 * more on a second pass. The frame is never silently dropped for its size. */
	size_t budget = RBS_MAX_FRAME - 1 - FRAME_RESERVE;
	struct jw j;
	report__json(&j, e, budget / ESCAPE_GROWTH * 3);
	if (j.len + 1 > RBS_MAX_FRAME) {
		jw_free(&j);
		report__json(&j, e, budget / ESCAPE_GROWTH);
	}
	if (output_send_json(&s->out, RBS_ERROR, &j) != 0)
		fprintf(stderr, "ringbuf-helper: %s error: %s\n", error_code_names[e->code], e->message);
	if (e->fatal && s->stop_reason == STOP_NONE)
		s->stop_reason = STOP_FATAL;
	return e->fatal ? -1 : 0;
}

static struct session *g_session; /* where libbpf's text goes */
static struct libbpf_notes g_notes;

void report__notes_reset(void) { memset(&g_notes, 0, sizeof(g_notes)); }
const struct libbpf_notes *report__notes(void) { return &g_notes; }

void text__make_utf8(char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x80)
			continue;
		size_t seq = utf8_sequence_length(buf + i, len - i);
		if (seq)
			i += seq - 1;
		else
			buf[i] = '?';
	}
}

static void notes__take(const char *line, size_t len)
{
	if (!g_notes.first_warn[0])
		snprintf(g_notes.first_warn, sizeof(g_notes.first_warn), "%.*s", (int)len, line);
	const char *m = strstr(line, "map '");
	if (m && strstr(m, "failed to create") && !g_notes.failed_map[0])
		sscanf(m, "map '%127[^']'", g_notes.failed_map);
	const char *p = strstr(line, "prog '");
	if (p && strstr(p, "failed"))
		sscanf(p, "prog '%127[^']'", g_notes.failed_prog);
}

static int libbpf__print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	struct session *s = g_session;
	char buf[4096];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n <= 0 || !s)
		return 0;
	size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	/* libbpf quotes names straight from the object, which may hold any bytes (found by fuzzing). */
	text__make_utf8(buf, len);
	if (level == LIBBPF_WARN) {
		size_t w = len;
		while (w && buf[w - 1] == '\n')
			w--;
		notes__take(buf, w);
	}
	if (level == LIBBPF_DEBUG && s->log_level < 2)
		return 0;
	int wire = level == LIBBPF_WARN ? RBS_LOG_WARN : level == LIBBPF_INFO ? RBS_LOG_INFO : RBS_LOG_DEBUG;
	output_send_log(&s->out, wire, buf, len);
	return 0;
}

void report__libbpf_to(struct session *s)
{
	g_session = s;
	libbpf_set_print(s ? libbpf__print : NULL);
}
