/* A tiny JSON writer: objects, arrays, strings with correct escaping, numbers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"

static void jw__reserve(struct jw *j, size_t more)
{
	if (j->oom || j->len + more + 1 <= j->cap)
		return;
	size_t cap = j->cap ? j->cap : 256;
	while (cap < j->len + more + 1)
		cap *= 2;
	char *buf = realloc(j->buf, cap);
	if (!buf) {
		j->oom = true;
		return;
	}
	j->buf = buf;
	j->cap = cap;
}

static void jw__raw(struct jw *j, const char *s, size_t n)
{
	jw__reserve(j, n);
	if (j->oom)
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

/* Separator before a value: a comma unless it is the first in its container or follows a key. */
static void jw__value_start(struct jw *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (!j->first[j->depth - 1])
			jw__raw(j, ",", 1);
		j->first[j->depth - 1] = false;
	}
}

static void jw__open(struct jw *j, char c)
{
	jw__value_start(j);
	jw__raw(j, &c, 1);
	if (j->depth < JW_MAX_DEPTH)
		j->first[j->depth] = true;
	j->depth++;
}

static void jw__close(struct jw *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	jw__raw(j, &c, 1);
}

void jw_init(struct jw *j) { memset(j, 0, sizeof(*j)); }
void jw_free(struct jw *j) { free(j->buf); memset(j, 0, sizeof(*j)); }
void jw_obj_begin(struct jw *j) { jw__open(j, '{'); }
void jw_obj_end(struct jw *j) { jw__close(j, '}'); }
void jw_arr_begin(struct jw *j) { jw__open(j, '['); }
void jw_arr_end(struct jw *j) { jw__close(j, ']'); }

static void jw__string(struct jw *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	jw__raw(j, "\"", 1);
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char ubuf[7];
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				ubuf[0] = '\\'; ubuf[1] = 'u'; ubuf[2] = '0'; ubuf[3] = '0';
				ubuf[4] = hex[c >> 4]; ubuf[5] = hex[c & 15]; ubuf[6] = '\0';
				esc = ubuf;
			} else if (c >= 0x80) {
				/* Keep valid UTF-8 as is; replace a broken byte so the frame stays valid JSON. */
				size_t len = utf8_sequence_length(s + i, n - i);
				if (len) {
					i += len - 1;
					continue;
				}
				esc = "\\ufffd";
			}
		}
		if (esc) {
			jw__raw(j, s + start, i - start);
			jw__raw(j, esc, strlen(esc));
			start = i + 1;
		}
	}
	jw__raw(j, s + start, n - start);
	jw__raw(j, "\"", 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
size_t utf8_sequence_length(const char *s, size_t avail)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t min;
	if (u[0] < 0x80)
		return 1;
	if ((u[0] & 0xe0) == 0xc0) { len = 2; min = 0x80; }
	else if ((u[0] & 0xf0) == 0xe0) { len = 3; min = 0x800; }
	else if ((u[0] & 0xf8) == 0xf0) { len = 4; min = 0x10000; }
	else return 0;
	if (len > avail)
		return 0;
	uint32_t cp = u[0] & (0x7f >> len);
	for (size_t k = 1; k < len; k++) {
		if ((u[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void jw_key(struct jw *j, const char *key)
{
	jw__value_start(j);
	jw__string(j, key, strlen(key));
	jw__raw(j, ":", 1);
	j->after_key = true;
}

void jw_strn(struct jw *j, const char *s, size_t n) { jw__value_start(j); jw__string(j, s, n); }
void jw_str(struct jw *j, const char *s) { jw_strn(j, s ? s : "", s ? strlen(s) : 0); }

static void jw__number(struct jw *j, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jw__value_start(j);
	jw__raw(j, buf, (size_t)n);
}

void jw_int(struct jw *j, long long v) { jw__number(j, "%lld", v); }
void jw_uint(struct jw *j, unsigned long long v) { jw__number(j, "%llu", v); }
void jw_double(struct jw *j, double v) { jw__number(j, "%.6g", v); }
void jw_bool(struct jw *j, bool v) { jw__value_start(j); jw__raw(j, v ? "true" : "false", v ? 4 : 5); }

void jw_kv_str(struct jw *j, const char *k, const char *v) { jw_key(j, k); jw_str(j, v); }
void jw_kv_int(struct jw *j, const char *k, long long v) { jw_key(j, k); jw_int(j, v); }
void jw_kv_uint(struct jw *j, const char *k, unsigned long long v) { jw_key(j, k); jw_uint(j, v); }
void jw_kv_bool(struct jw *j, const char *k, bool v) { jw_key(j, k); jw_bool(j, v); }
void jw_text(struct jw *j, const char *text) { jw__raw(j, text, strlen(text)); }
