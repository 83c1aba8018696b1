/* Our own BPF ringbuf consumer. The kernel exposes a ring as: page 0 = consumer_pos
 * (we write it), page 1 = producer_pos (kernel writes it), then the data area mapped
 * twice in a row, so any span [pos, pos + n) with n <= size is contiguous in memory.
 * One drain = walk the committed prefix of headers (stop at BUSY), ship that span
 * verbatim as one EVENTS frame, and advance consumer_pos once the frame is written. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "helper.h"

int ring__map(struct ring *r, int fd, size_t size, size_t page_size)
{
	r->fd = fd;
	r->size = size;
	r->page_size = page_size;
	r->consumer_page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->consumer_page == MAP_FAILED) {
		r->consumer_page = NULL;
		return -errno;
	}
	r->producer_page = mmap(NULL, page_size + 2 * size, PROT_READ, MAP_SHARED, fd, (off_t)page_size);
	if (r->producer_page == MAP_FAILED) {
		int err = -errno;
		r->producer_page = NULL;
		ring__unmap(r);
		return err;
	}
	r->data = (const uint8_t *)r->producer_page + page_size;
	return 0;
}

void ring__unmap(struct ring *r)
{
	if (r->producer_page)
		munmap(r->producer_page, r->page_size + 2 * r->size);
	if (r->consumer_page)
		munmap(r->consumer_page, r->page_size);
	r->producer_page = r->consumer_page = NULL;
	r->data = NULL;
}

uint64_t ring__consumer_pos(const struct ring *r)
{
	return r->consumer_page ? __atomic_load_n((uint64_t *)r->consumer_page, __ATOMIC_ACQUIRE) : 0;
}

uint64_t ring__producer_pos(const struct ring *r)
{
	return r->producer_page ? __atomic_load_n((uint64_t *)r->producer_page, __ATOMIC_ACQUIRE) : 0;
}

/* Runs when the EVENTS frame is fully written (the records are delivered: free their space),
 * or dropped unwritten (they stay in the ring, to be shipped again or counted as left). */
static void ring__commit(void *ctx, uint64_t new_pos, bool written)
{
	struct ring *r = ctx;
	if (written) {
		r->records += r->pending_records;
		r->bytes += r->pending_bytes;
		__atomic_store_n((uint64_t *)r->consumer_page, new_pos, __ATOMIC_RELEASE);
	}
	r->pending_records = r->pending_bytes = 0;
	r->in_flight = false;
}

void ring__left(const struct ring *r, uint64_t upto, uint64_t *records, uint64_t *bytes)
{
	*records = *bytes = 0;
	if (!r->consumer_page)
		return;
	const uint64_t mask = r->size - 1;
	uint64_t pos = ring__consumer_pos(r);
	const uint64_t prod = ring__producer_pos(r);
	if (upto > prod)
		upto = prod;
	while (pos < upto) {
		/* The length is valid from reserve on, also while the record is still BUSY. */
		uint32_t len_flags = __atomic_load_n((const uint32_t *)(r->data + (pos & mask)), __ATOMIC_ACQUIRE);
		uint64_t len = len_flags & ~(RBS_RECORD_BUSY | RBS_RECORD_DISCARD);
		if (!(len_flags & RBS_RECORD_DISCARD)) {
			(*records)++;
			*bytes += len;
		}
		pos += (RBS_RECORD_HEADER_SIZE + len + 7) & ~7ull;
	}
}

/* A small backlog is left to grow for up to hold_ns (or until it reaches 1/16 of the
 * ring, at most 256 KiB) before it is shipped: under a flood that turns thousands of
 * tiny frames per second (each a wakeup here, a syscall, and an allocation plus a
 * callback in the reader) into a few large ones. While the backlog grows the kernel
 * sends no wakeups either (it only wakes a consumer that has caught up). The hold is
 * far shorter than any ring takes to fill at the size threshold, so it cannot cause
 * drops by itself; it adds at most hold_ns of latency to a quiet stream. */
int64_t ring__wait_ns(struct ring *r, uint64_t now_ns, uint64_t hold_ns)
{
	if (r->in_flight || !r->consumer_page)
		return -1;
	uint64_t pending = ring__producer_pos(r) - ring__consumer_pos(r);
	if (pending == 0) {
		r->hold_since_ns = 0;
		return -1;
	}
	uint64_t threshold = r->size / 16 < (256u << 10) ? r->size / 16 : (256u << 10);
	if (pending >= threshold || hold_ns == 0)
		return 0;
	if (!r->hold_since_ns)
		r->hold_since_ns = now_ns;
	uint64_t held = now_ns - r->hold_since_ns;
	return held >= hold_ns ? 0 : (int64_t)(hold_ns - held);
}

/* Queues one bounded batch. Returns 1 when a frame was queued, 0 when nothing is committed. */
int ring__drain(struct ring *r, struct output *o)
{
	if (r->in_flight || !r->consumer_page)
		return 0;
	const uint64_t mask = r->size - 1;
	const uint64_t cons = ring__consumer_pos(r);
	const uint64_t prod = ring__producer_pos(r);
	uint64_t pos = cons;
	uint32_t count = 0;
	uint64_t records = 0, bytes = 0;
	while (pos < prod) {
		const uint32_t *hdr = (const uint32_t *)(r->data + (pos & mask));
		uint32_t len_flags = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len_flags & RBS_RECORD_BUSY)
			break;
		uint64_t len = len_flags & ~(RBS_RECORD_BUSY | RBS_RECORD_DISCARD);
		uint64_t step = (RBS_RECORD_HEADER_SIZE + len + 7) & ~7ull;
		if (pos - cons + step > RBS_MAX_BATCH && count > 0)
			break;
		if (!(len_flags & RBS_RECORD_DISCARD)) {
			records++;
			bytes += len;
		}
		count++;
		pos += step;
	}
	if (count == 0)
		return 0;
	if (records == 0) { /* only discarded entries: nothing to ship */
		__atomic_store_n((uint64_t *)r->consumer_page, pos, __ATOMIC_RELEASE);
		return 0;
	}
	struct rbs_events_header h = {
		.ring_index = (uint32_t)r->index,
		.record_count = count,
		.time_ns = realtime_ns(),
	};
	r->pending_records = records;
	r->pending_bytes = bytes;
	int err = output_send_events(o, &h, r->data + (cons & mask), (size_t)(pos - cons), ring__commit, r, pos);
	if (err)
		return err;
	r->in_flight = true;
	r->hold_since_ns = 0;
	return 1;
}
