/* The event both versions emit; user space decodes the same struct either way. */
#ifndef __PERF_TO_RINGBUF_H
#define __PERF_TO_RINGBUF_H

#define TASK_COMM_LEN 16

struct event {
	int pid;
	int ppid;
	char comm[TASK_COMM_LEN];
};

#endif /* __PERF_TO_RINGBUF_H */
