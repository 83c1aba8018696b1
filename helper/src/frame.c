/* Frames out (a FIFO written with writev on a non-blocking stdout, so the main loop
 * never blocks and keeps reading control frames) and frames in (stdin). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

/* A deep stdout lets the rings keep draining while the reader is off the CPU for a while
 * (on a busy machine: tens of ms) instead of the rings filling up and the program dropping
 * records. A pipe (SSH, sudo) is deepened with F_SETPIPE_SZ; a socket (Node and libuv give
 * a child a socketpair, not a pipe) with its send buffer, which bounds what a unix stream
 * socket holds unread (root may go past the sysctl limits). Fails harmlessly otherwise. */
void output__deepen(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return;
	if (S_ISFIFO(st.st_mode)) {
		if (fcntl(fd, F_SETPIPE_SZ, RBS_OUT_BUFFER) < 0)
			fcntl(fd, F_SETPIPE_SZ, 1 << 20);
	} else if (S_ISSOCK(st.st_mode)) {
		int size = RBS_OUT_BUFFER;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
}

void output_init(struct output *o, int fd)
{
	memset(o, 0, sizeof(*o));
	o->fd = fd;
}

static struct out_frame *output__new_frame(uint8_t kind, size_t payload_len, size_t header_extra)
{
	struct out_frame *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	struct rbs_frame_header h = { .length = (uint32_t)(1 + payload_len), .kind = kind };
	memcpy(f->header, &h, sizeof(h));
	f->iov[0].iov_base = f->header;
	f->iov[0].iov_len = sizeof(h) + header_extra;
	f->total = sizeof(h) + payload_len;
	return f;
}

static void output__append(struct output *o, struct out_frame *f)
{
	if (o->tail)
		o->tail->next = f;
	else
		o->head = f;
	o->tail = f;
	o->queued_bytes += f->total;
}

int output_send(struct output *o, uint8_t kind, const void *payload, size_t len)
{
	if (len + 1 > RBS_MAX_FRAME)
		return -EMSGSIZE;
	struct out_frame *f = output__new_frame(kind, len, 0);
	if (!f)
		return -ENOMEM;
	if (len) {
		f->owned = malloc(len);
		if (!f->owned) {
			free(f);
			return -ENOMEM;
		}
		memcpy(f->owned, payload, len);
		f->iov[1].iov_base = f->owned;
		f->iov[1].iov_len = len;
	}
	output__append(o, f);
	return 0;
}

/* Takes over the writer's buffer (no copy); the writer is left empty. */
int output_send_json(struct output *o, uint8_t kind, struct jw *j)
{
	if (j->oom) {
		jw_free(j);
		return -ENOMEM;
	}
	if (j->len + 1 > RBS_MAX_FRAME) {
		jw_free(j);
		return -EMSGSIZE;
	}
	struct out_frame *f = output__new_frame(kind, j->len, 0);
	if (!f) {
		jw_free(j);
		return -ENOMEM;
	}
	f->owned = j->buf;
	f->iov[1].iov_base = j->buf;
	f->iov[1].iov_len = j->len;
	j->buf = NULL;
	jw_free(j);
	output__append(o, f);
	return 0;
}

/* Long text goes out in chunks of at most `chunk` bytes, cut on UTF-8 boundaries: each frame
 * is `header` (with RBS_LOG_MORE or'ed into its byte at flags_at on all but the last) + text. */
int output_send_chunked(struct output *o, uint8_t kind, const void *header, size_t header_len, size_t flags_at,
			const char *text, size_t len, size_t chunk)
{
	do {
		size_t n = len;
		if (n > chunk) {
			n = chunk;
			while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
				n--;
		}
		char *buf = malloc(header_len + n);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, header, header_len);
		if (n < len)
			buf[flags_at] |= RBS_LOG_MORE;
		memcpy(buf + header_len, text, n);
		struct out_frame *f = output__new_frame(kind, header_len + n, 0);
		if (!f) {
			free(buf);
			return -ENOMEM;
		}
		f->owned = buf;
		f->iov[1].iov_base = buf;
		f->iov[1].iov_len = header_len + n;
		output__append(o, f);
		text += n;
		len -= n;
	} while (len > 0);
	return 0;
}

int output_send_log(struct output *o, int level, const char *text, size_t len)
{
	struct rbs_log_header h = { .level = (uint8_t)level };
	return output_send_chunked(o, RBS_LOG, &h, sizeof(h), offsetof(struct rbs_log_header, flags), text, len,
				   RBS_MAX_LOG_CHUNK);
}

/* The span is written straight from the ring mapping; on_done runs when the frame is out. */
int output_send_events(struct output *o, const struct rbs_events_header *h, const void *span, size_t len,
		       out_done_fn on_done, void *ctx, uint64_t arg)
{
	struct out_frame *f = output__new_frame(RBS_EVENTS, sizeof(*h) + len, sizeof(*h));
	if (!f)
		return -ENOMEM;
	memcpy(f->header + sizeof(struct rbs_frame_header), h, sizeof(*h));
	f->iov[1].iov_base = (void *)span;
	f->iov[1].iov_len = len;
	f->on_done = on_done;
	f->ctx = ctx;
	f->arg = arg;
	output__append(o, f);
	return 0;
}

/* Takes the frame after `prev` (the head when prev is NULL) out of the queue and frees it;
 * its callback learns whether it was written. */
static void output__remove(struct output *o, struct out_frame *prev, bool written)
{
	struct out_frame *f = prev ? prev->next : o->head;
	if (prev)
		prev->next = f->next;
	else
		o->head = f->next;
	if (o->tail == f)
		o->tail = prev;
	o->queued_bytes -= f->total;
	if (f->on_done)
		f->on_done(f->ctx, f->arg, written);
	free(f->owned);
	free(f);
}

static void output__pop(struct output *o, bool completed) { output__remove(o, NULL, completed); }

/* Writes as much as the fd takes. 0: queue empty; -EAGAIN: would block; other -errno: broken. */
int output_flush(struct output *o)
{
	if (o->error)
		return -o->error;
	while (o->head) {
		struct out_frame *f = o->head;
		struct iovec iov[2];
		int cnt = 0;
		size_t skip = f->done;
		for (int i = 0; i < 2; i++) {
			if (f->iov[i].iov_len == 0)
				continue;
			if (skip >= f->iov[i].iov_len) {
				skip -= f->iov[i].iov_len;
				continue;
			}
			iov[cnt].iov_base = (char *)f->iov[i].iov_base + skip;
			iov[cnt].iov_len = f->iov[i].iov_len - skip;
			skip = 0;
			cnt++;
		}
		ssize_t n = writev(o->fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return -EAGAIN;
			o->error = errno;
			return -o->error;
		}
		f->done += (size_t)n;
		if (f->done == f->total)
			output__pop(o, true);
	}
	return 0;
}

/* For shutdown: keeps flushing until the queue is empty, the reader is gone or time is up. */
int output_flush_wait(struct output *o, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int err = output_flush(o);
		if (err != -EAGAIN)
			return err;
		uint64_t now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = o->fd, .events = POLLOUT };
		poll(&p, 1, (int)(deadline - now));
	}
}

bool output_pending(const struct output *o) { return o->head != NULL; }

/* True when the first queued frame is partly written: nothing else can go out before it. */
bool output_partial(const struct output *o) { return o->head && o->head->done > 0; }

/* Drops queued frames without writing them (their ring spans are not consumed). */
void output_drop(struct output *o)
{
	while (o->head)
		output__pop(o, false);
}

/* Drops EVENTS frames not yet begun (their records stay in the ring, counted as left there);
 * a partly written frame and every other frame stay queued, in order. */
void output_drop_unstarted_events(struct output *o)
{
	struct out_frame *prev = NULL;
	while (prev ? prev->next : o->head) {
		struct out_frame *f = prev ? prev->next : o->head;
		if (((const struct rbs_frame_header *)f->header)->kind == RBS_EVENTS && f->done == 0)
			output__remove(o, prev, false);
		else
			prev = f;
	}
}

ssize_t input_fill(struct input *in, int fd)
{
	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	size_t want = 64 * 1024;
	if (in->cap - in->len < want) {
		size_t cap = in->cap ? in->cap : want;
		while (cap - in->len < want)
			cap *= 2;
		uint8_t *buf = realloc(in->buf, cap);
		if (!buf)
			return -ENOMEM;
		in->buf = buf;
		in->cap = cap;
	}
	for (;;) {
		ssize_t n = read(fd, in->buf + in->len, in->cap - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		in->len += (size_t)n;
		return n;
	}
}

/* 1: a frame (kind, payload) is ready; 0: need more bytes; -EPROTO: bad length (err says why). */
int input_next(struct input *in, uint8_t *kind, const uint8_t **payload, size_t *len, char *err, size_t errlen)
{
	size_t avail = in->len - in->pos;
	if (avail < 4)
		return 0;
	uint32_t length;
	memcpy(&length, in->buf + in->pos, 4);
	if (length == 0 || length > RBS_MAX_FRAME) {
		/* Never show these bytes (not even as a number): they may be a secret typed for
		 * something else, such as a sudo password written before sudo asked for it. */
		snprintf(err, errlen, "the helper's input is not a valid protocol frame (the length field is %s)",
			 length == 0 ? "zero" : "over the 64 MiB limit");
		return -EPROTO;
	}
	if (avail < 4 + (size_t)length)
		return 0;
	*kind = in->buf[in->pos + 4];
	*payload = in->buf + in->pos + 5;
	*len = length - 1;
	in->pos += 4 + (size_t)length;
	return 1;
}

void input_free(struct input *in)
{
	free(in->buf);
	memset(in, 0, sizeof(*in));
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
