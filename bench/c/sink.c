// helper_drain sink: reads ringbuf-helper frames from stdin, parses only frame and
// EVENTS headers and counts records. It reports on stdout, one line each:
//   F <kind> <json>            every JSON frame (HELLO, LOADED, STATS, ERROR, BYE)
//   B <records> <last_ns>      a burst of records ended (no EVENTS for 100 ms);
//                              last_ns = CLOCK_MONOTONIC when its last frame arrived
//   T <records> <now_ns>       running total, every 100 ms
// Usage: sink   (until EOF)
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(void)
{
	static unsigned char buf[4 << 20];
	static unsigned char small[1 << 20]; /* a JSON frame's payload */
	unsigned char head[21];
	size_t head_have = 0, small_have = 0;
	uint64_t skip = 0, burst = 0, last_ns = 0;
	uint32_t kind = 0, len = 0;
	int in_small = 0;
	uint64_t total = 0, next_tick = now_ns();

	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		int r = poll(&p, 1, 20);
		if (burst && now_ns() - last_ns > 100000000ull) {
			printf("B %llu %llu\n", (unsigned long long)burst, (unsigned long long)last_ns);
			fflush(stdout);
			burst = 0;
		}
		if (now_ns() >= next_tick) {
			printf("T %llu %llu\n", (unsigned long long)total, (unsigned long long)now_ns());
			fflush(stdout);
			next_tick += 100000000ull;
		}
		if (r <= 0)
			continue;
		ssize_t n = read(0, buf, sizeof(buf));
		if (n <= 0)
			break;
		size_t off = 0;
		while (off < (size_t)n) {
			size_t avail = (size_t)n - off;
			if (skip) {
				size_t k = avail < skip ? avail : skip;
				off += k;
				skip -= k;
				continue;
			}
			if (in_small) {
				size_t want = len - 1 - small_have;
				size_t k = avail < want ? avail : want;
				if (small_have + k <= sizeof(small))
					memcpy(small + small_have, buf + off, k);
				small_have += k;
				off += k;
				if (small_have == len - 1) {
					if (kind != 0x02 && small_have <= sizeof(small))
						printf("F %u %.*s\n", kind, (int)small_have, small);
					fflush(stdout);
					in_small = 0;
				}
				continue;
			}
			/* header: 5 bytes, then for EVENTS 16 more */
			size_t need = (head_have < 5 ? 5 : 21) - head_have;
			size_t k = avail < need ? avail : need;
			memcpy(head + head_have, buf + off, k);
			head_have += k;
			off += k;
			if (head_have < 5)
				continue;
			memcpy(&len, head, 4);
			kind = head[4];
			if (kind != 0x04) {
				head_have = 0;
				small_have = 0;
				in_small = len > 1;
				continue;
			}
			if (head_have < 21)
				continue;
			uint32_t count;
			memcpy(&count, head + 9, 4);
			burst += count;
			total += count;
			last_ns = now_ns();
			skip = len - 17;
			head_have = 0;
		}
	}
	if (burst)
		printf("B %llu %llu\n", (unsigned long long)burst, (unsigned long long)last_ns);
	return 0;
}
