/* Event shared by the BPF program and user space (one home for the layout). */
#ifndef __EXECVE_H
#define __EXECVE_H

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 127

struct event {
	int pid;
	int ppid;
	unsigned int uid;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
};

#endif /* __EXECVE_H */
