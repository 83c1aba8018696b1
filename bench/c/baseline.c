// helper_drain baseline: the minimal libbpf consumer. Loads the workload object with
// a RING_BYTES ring, attaches it, and per cycle: runs the generator (on CPU 0) until
// the ring is full (the program's `dropped` rises), stops it, then times
// ring_buffer__poll counting records in its callback until the backlog is drained.
// Prints {"records_per_s":…,"records":…,"seconds":…}.
// Live mode instead prints "ready", then "T <records> <CLOCK_MONOTONIC ns>" every
// 100 ms while it consumes what the bench's generator produces, until killed.
// Usage: baseline backlog OBJ GEN RING_BYTES CYCLES | baseline live OBJ
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static uint64_t records;

static int record__count(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	records++;
	return 0;
}

/* A .bss global of the workload, read through the map (libbpf 1.1 maps .bss into our
 * memory only for skeletons). Returns UINT64_MAX when it cannot be found. */
static uint64_t global__read(struct bpf_object *obj, const char *name)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj) {
		const struct btf_type *sec = btf ? btf__type_by_id(btf, bpf_map__btf_value_type_id(map)) : NULL;
		if (!bpf_map__is_internal(map) || !sec || !btf_is_datasec(sec))
			continue;
		const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
		for (int i = 0; i < btf_vlen(sec); i++, vs++) {
			if (strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off), name) != 0)
				continue;
			char value[4096];
			uint32_t key = 0;
			uint64_t v;
			if (bpf_map__value_size(map) > sizeof(value) || bpf_map_lookup_elem(bpf_map__fd(map), &key, value))
				return UINT64_MAX;
			memcpy(&v, value + vs->offset, sizeof(v));
			return v;
		}
	}
	return UINT64_MAX;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the generator on CPU 0 until the ring is full, then stops it. */
static int ring__fill(struct bpf_object *obj, const char *gen)
{
	uint64_t dropped = global__read(obj, "dropped");
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		cpu_set_t cpus;
		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
		execl(gen, gen, "60", (char *)NULL);
		_exit(127);
	}
	double deadline = now_s() + 60;
	while (global__read(obj, "dropped") == dropped && now_s() < deadline)
		usleep(20000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return now_s() < deadline ? 0 : -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = NULL;
	struct bpf_link *link = NULL;
	struct ring_buffer *rb = NULL;
	int err = 1;

	bool live = argc == 3 && strcmp(argv[1], "live") == 0;
	if (!live && (argc < 6 || strcmp(argv[1], "backlog") != 0)) {
		fprintf(stderr, "usage: baseline backlog OBJ GEN RING_BYTES CYCLES | baseline live OBJ\n");
		return 2;
	}
	argv++; /* argv[1] = OBJ from here on */
	int cycles = live ? 0 : atoi(argv[4]);
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &r);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || (!live && bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "rb"), (uint32_t)atol(argv[3]))) ||
	    bpf_object__load(obj)) {
		fprintf(stderr, "baseline: cannot load %s\n", argv[1]);
		goto cleanup;
	}
	link = bpf_program__attach(bpf_object__find_program_by_name(obj, "drain_getpid"));
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "rb")), record__count, NULL, NULL);
	if (!link || !rb) {
		fprintf(stderr, "baseline: attach or ring_buffer__new failed: %d\n", errno);
		goto cleanup;
	}
	if (live) {
		printf("ready\n");
		fflush(stdout);
		for (double next = now_s();;) {
			if (ring_buffer__poll(rb, 100) < 0)
				goto cleanup;
			if (now_s() >= next) {
				printf("T %llu %.0f\n", (unsigned long long)records, now_s() * 1e9);
				fflush(stdout);
				next += 0.1;
			}
		}
	}
	uint64_t total;
	double seconds = 0;
	for (int c = 0; c < cycles; c++) {
		if (ring__fill(obj, argv[2])) {
			fprintf(stderr, "baseline: the ring did not fill within 60 s\n");
			goto cleanup;
		}
		uint64_t target = global__read(obj, "seq"); /* every record ever written */
		double t0 = now_s();
		while (records < target)
			if (ring_buffer__poll(rb, 100) < 0)
				goto cleanup;
		seconds += now_s() - t0;
	}
	total = records;
	printf("{\"records_per_s\":%.0f,\"records\":%llu,\"seconds\":%.6f}\n", (double)total / seconds,
	       (unsigned long long)total, seconds);
	err = 0;
cleanup:
	ring_buffer__free(rb);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return err;
}
