/* Event shared by the BPF program and user space. */
#ifndef __DROP_COUNTER_H
#define __DROP_COUNTER_H

#define TASK_COMM_LEN 16

struct event {
	int pid;
	unsigned int uid;
	unsigned long long ts_ns;
	char comm[TASK_COMM_LEN];
};

#endif /* __DROP_COUNTER_H */
