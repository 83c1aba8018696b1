// cli_jsonl_vs_c baseline: the plain C reader a user would write instead of
// `ringbuf-studio run --format jsonl` — libbpf ring_buffer__poll with a callback that
// printf()s each record as the same JSON line — on the peer workload
// (bench/peers/workload.*: 48-byte records, 8 per getpid() of the generator).
// Usage: printf_reader OBJ OUT SECONDS
// Prints "ready" on stderr once attached, then reads for SECONDS into OUT (fully buffered).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <bpf/libbpf.h>

struct bench_record {
	uint64_t seq;
	uint32_t pid;
	uint32_t slot;
	uint64_t ts_ns;
	char comm[16];
	uint64_t pad;
};

static FILE *out;

static int record__print(void *ctx, void *data, size_t size)
{
	const struct bench_record *r = data;

	(void)ctx;
	if (size < sizeof(*r))
		return 0;
	fprintf(out, "{\"seq\":%llu,\"pid\":%u,\"slot\":%u,\"ts_ns\":%llu,\"comm\":\"%.16s\",\"pad\":%llu}\n",
		(unsigned long long)r->seq, r->pid, r->slot, (unsigned long long)r->ts_ns, r->comm,
		(unsigned long long)r->pad);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = NULL;
	struct bpf_link *link = NULL;
	struct ring_buffer *rb = NULL;
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	int err = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: printf_reader OBJ OUT SECONDS\n");
		return 2;
	}
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	out = fopen(argv[2], "w");
	if (!out || setvbuf(out, NULL, _IOFBF, 1 << 20)) {
		fprintf(stderr, "printf_reader: cannot open %s\n", argv[2]);
		goto cleanup;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "printf_reader: cannot load %s\n", argv[1]);
		goto cleanup;
	}
	link = bpf_program__attach(bpf_object__find_program_by_name(obj, "on_getpid"));
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), record__print, NULL, NULL);
	if (!link || !rb) {
		fprintf(stderr, "printf_reader: attach or ring_buffer__new failed: %d\n", errno);
		goto cleanup;
	}
	fprintf(stderr, "ready\n");
	for (double deadline = now_s() + atof(argv[3]); now_s() < deadline;)
		if (ring_buffer__poll(rb, 100) < 0)
			goto cleanup;
	err = 0;
cleanup:
	if (out)
		fclose(out);
	ring_buffer__free(rb);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return err;
}
