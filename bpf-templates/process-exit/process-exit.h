/* Event shared by the BPF program and user space. */
#ifndef __PROCESS_EXIT_H
#define __PROCESS_EXIT_H

#define TASK_COMM_LEN 16

struct event {
	int pid;
	int ppid;
	int exit_code;
	int signal;
	unsigned long long duration_ns;
	char comm[TASK_COMM_LEN];
};

#endif /* __PROCESS_EXIT_H */
