/* Event shared by the BPF program and user space. */
#ifndef __UPROBE_READLINE_H
#define __UPROBE_READLINE_H

#define TASK_COMM_LEN 16
#define MAX_LINE_LEN 128

struct event {
	int pid;
	char comm[TASK_COMM_LEN];
	char line[MAX_LINE_LEN];
};

#endif /* __UPROBE_READLINE_H */
