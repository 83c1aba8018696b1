/* Record layout shared with user space: a fixed header, then `name_len` bytes of
 * file name (NUL included). Records differ in size. */
#ifndef __DYNPTR_H
#define __DYNPTR_H

#define TASK_COMM_LEN 16
#define MAX_NAME_LEN 256

struct event {
	int pid;
	unsigned int name_len;
	char comm[TASK_COMM_LEN];
	/* followed by name_len bytes of file name */
};

#endif /* __DYNPTR_H */
