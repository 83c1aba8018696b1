/* The one workload every peer runs: 48-byte records, 8 per getpid() call of the generator. */
#ifndef RBS_BENCH_WORKLOAD_H
#define RBS_BENCH_WORKLOAD_H

#define WORKLOAD_COMM "rbs_gen"
#define RECORDS_PER_CALL 8

struct bench_record {
	__u64 seq;
	__u32 pid;
	__u32 slot;
	__u64 ts_ns;
	char comm[16];
	__u64 pad;
};

#endif
