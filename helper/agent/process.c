/* Channels: a process started from an argv array (stdin/stdout/stderr/exit), or a file
 * being written (PUT). Everything here is driven by agent.c's poll loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

#define MAX_ARGS 4096
/* After the process exits, wait this long for its pipes to close (a background child may hold them). */
#define LINGER_MS 1000
/* An orphaned process (its host went away) gets this long to exit after its stdin closed. */
#define ORPHAN_GRACE_MS 5000

static const char *const default_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/sh", "TERM=dumb",
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct channel *channel__alloc(struct agent *a, int port, uint32_t id, enum channel_kind kind)
{
	for (int i = 0; i < MAX_CHANNELS; i++) {
		struct channel *c = &a->channels[i];
		if (c->kind != CH_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->kind = kind;
		c->port = port;
		c->id = id;
		c->in_fd = c->out_fd = c->err_fd = -1;
		return c;
	}
	return NULL;
}

struct channel *channel__find(struct agent *a, int port, uint32_t id)
{
	for (int i = 0; i < MAX_CHANNELS; i++) {
		struct channel *c = &a->channels[i];
		if (c->kind != CH_FREE && !c->orphan && c->port == port && c->id == id)
			return c;
	}
	return NULL;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void channel__free(struct channel *c)
{
	close_fd(&c->in_fd);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
	buf__free(&c->in_q);
	c->kind = CH_FREE;
}

/* Splits n NUL-terminated strings starting at *p (bounded by end) into out[]. */
static int take_strings(const uint8_t **p, const uint8_t *end, char **out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
		if (!nul)
			return -1;
		out[i] = (char *)*p;
		*p = nul + 1;
	}
	return 0;
}

/* envp for the child: the given entries, then the defaults whose names were not given. */
static char **child_env(char **given, uint32_t n)
{
	size_t ndef = sizeof(default_env) / sizeof(default_env[0]);
	char **env = calloc(n + ndef + 1, sizeof(char *));
	size_t k = 0;
	if (!env)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		env[k++] = given[i];
	for (size_t d = 0; d < ndef; d++) {
		size_t name_len = (size_t)(strchr(default_env[d], '=') - default_env[d]) + 1;
		bool overridden = false;
		for (uint32_t i = 0; i < n && !overridden; i++)
			overridden = strncmp(given[i], default_env[d], name_len) == 0;
		if (!overridden)
			env[k++] = (char *)default_env[d];
	}
	env[k] = NULL;
	return env;
}

/* In the forked child: wire the pipes, reset what exec would inherit, exec. Never returns. */
static void child__exec(int in_r, int out_w, int err_w, int report, const char *cwd, char **argv, char **envp)
{
	sigset_t none;
	int err;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		goto fail;
	if (chdir(cwd && cwd[0] ? cwd : "/root") < 0)
		goto fail;
	execvpe(argv[0], argv, envp);
fail:
	err = errno;
	if (write(report, &err, sizeof(err)) < 0) {
		/* nothing left to tell anyone */
	}
	_exit(127);
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* SPAWN: u32 argc | u32 envc | cwd\0 | argv\0… | env\0… */
int process__spawn(struct agent *a, int port, uint32_t id, const uint8_t *payload, size_t len)
{
	const uint8_t *p = payload + 8, *end = payload + len;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, report[2] = { -1, -1 };
	char **argv = NULL, **env = NULL, **envp = NULL, *cwd = NULL;
	struct channel *c = NULL;
	int ret = -1, child_err = 0;
	uint32_t argc, envc;
	pid_t pid;

	if (len < 8)
		goto bad;
	argc = le32(payload);
	envc = le32(payload + 4);
	if (argc < 1 || argc > MAX_ARGS || envc > MAX_ARGS)
		goto bad;
	argv = calloc(argc + 1, sizeof(char *));
	env = calloc(envc + 1, sizeof(char *));
	if (!argv || !env || take_strings(&p, end, &cwd, 1) || take_strings(&p, end, argv, argc) ||
	    take_strings(&p, end, env, envc) || p != end || !argv[0][0])
		goto bad;
	envp = child_env(env, envc);
	c = channel__alloc(a, port, id, CH_PROCESS);
	if (!envp || !c) {
		agent__send_error(a, port, id, c ? ENOMEM : EMFILE, "spawn");
		goto cleanup;
	}
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(report, O_CLOEXEC)) {
		agent__send_error(a, port, id, errno, "pipe");
		goto cleanup;
	}
	pid = fork();
	if (pid < 0) {
		agent__send_error(a, port, id, errno, "fork");
		goto cleanup;
	}
	if (pid == 0)
		child__exec(in[0], out[1], errp[1], report[1], cwd, argv, envp);
	close_fd(&report[1]);
	if (read(report[0], &child_err, sizeof(child_err)) == (ssize_t)sizeof(child_err)) {
		waitpid(pid, NULL, 0);
		agent__send_error(a, port, id, child_err, argv[0]);
		goto cleanup;
	}
	c->pid = pid;
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = errp[0];
	in[1] = out[0] = errp[0] = -1;
	set_nonblock(c->in_fd);
	set_nonblock(c->out_fd);
	set_nonblock(c->err_fd);
	{
		uint8_t pid_le[4] = { (uint8_t)pid, (uint8_t)(pid >> 8), (uint8_t)(pid >> 16), (uint8_t)(pid >> 24) };
		agent__send(a, port, AGENT_STARTED, id, pid_le, sizeof(pid_le));
	}
	c = NULL;
	ret = 0;
	goto cleanup;
bad:
	agent__send_error(a, port, id, EINVAL, "malformed SPAWN frame");
cleanup:
	if (c)
		channel__free(c);
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&errp[i]);
		close_fd(&report[i]);
	}
	free(envp);
	free(env);
	free(argv);
	return ret;
}

/* PUT: u32 mode | path\0 — the file is created (or truncated), never followed through a symlink. */
int file__open(struct agent *a, int port, uint32_t id, const uint8_t *payload, size_t len)
{
	struct channel *c;
	uint32_t mode;
	const char *path;
	int fd;

	if (len < 6 || payload[len - 1] != 0 || memchr(payload + 4, 0, len - 5)) {
		agent__send_error(a, port, id, EINVAL, "malformed PUT frame");
		return -1;
	}
	mode = le32(payload) & 07777;
	path = (const char *)payload + 4;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		agent__send_error(a, port, id, errno, path);
		return -1;
	}
	if (fchmod(fd, mode) < 0) {
		agent__send_error(a, port, id, errno, path);
		close(fd);
		return -1;
	}
	c = channel__alloc(a, port, id, CH_FILE);
	if (!c) {
		agent__send_error(a, port, id, EMFILE, path);
		close(fd);
		return -1;
	}
	c->in_fd = fd;
	return 0;
}

void channel__flush_stdin(struct channel *c)
{
	while (c->in_fd >= 0 && c->in_q.len) {
		ssize_t n = write(c->in_fd, c->in_q.data, c->in_q.len);
		if (n > 0) {
			buf__consume(&c->in_q, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EPIPE: the process closed its stdin; what it did not read is dropped. */
		c->in_q.len = 0;
		close_fd(&c->in_fd);
	}
	if (c->in_eof && !c->in_q.len)
		close_fd(&c->in_fd);
}

void channel__data(struct agent *a, struct channel *c, const uint8_t *data, size_t len)
{
	if (c->kind == CH_FILE) {
		while (len) {
			ssize_t n = write(c->in_fd, data, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				agent__send_error(a, c->port, c->id, n < 0 ? errno : EIO, "write");
				channel__free(c);
				return;
			}
			data += n;
			len -= (size_t)n;
		}
		return;
	}
	if (c->in_fd < 0 || c->in_eof)
		return;
	if (buf__append(&c->in_q, data, len) < 0) {
		agent__send_error(a, c->port, c->id, ENOMEM, "stdin");
		return;
	}
	channel__flush_stdin(c);
}

void channel__eof(struct agent *a, struct channel *c)
{
	if (c->kind == CH_FILE) {
		int fd = c->in_fd;
		uint8_t zero[8] = { 0 };
		c->in_fd = -1;
		if (close(fd) < 0)
			agent__send_error(a, c->port, c->id, errno, "close");
		else
			agent__send(a, c->port, AGENT_EXIT, c->id, zero, sizeof(zero));
		channel__free(c);
		return;
	}
	c->in_eof = true;
	channel__flush_stdin(c);
}

void channel__read_output(struct agent *a, struct channel *c, int which)
{
	static uint8_t chunk[65536];
	int *fd = which == 1 ? &c->out_fd : &c->err_fd;
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n > 0) {
		if (!c->orphan)
			agent__send(a, c->port, which == 1 ? AGENT_STDOUT : AGENT_STDERR, c->id, chunk, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	close_fd(fd);
	channel__maybe_finish(a, c);
}

/* The host side is gone: close stdin (the helper's signal to detach), kill later if need be. */
void channel__orphan(struct channel *c)
{
	if (c->kind == CH_FILE) {
		channel__free(c);
		return;
	}
	c->orphan = true;
	c->in_q.len = 0;
	close_fd(&c->in_fd);
	c->kill_at = agent__now_ms() + ORPHAN_GRACE_MS;
}

void channel__maybe_finish(struct agent *a, struct channel *c)
{
	uint8_t exit_le[8];
	int32_t code, sig;

	if (c->kind != CH_PROCESS || !c->reaped)
		return;
	if ((c->out_fd >= 0 || c->err_fd >= 0) && agent__now_ms() - c->reaped_at < LINGER_MS)
		return;
	code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : -1;
	sig = WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0;
	for (int i = 0; i < 4; i++) {
		exit_le[i] = (uint8_t)((uint32_t)code >> (8 * i));
		exit_le[4 + i] = (uint8_t)((uint32_t)sig >> (8 * i));
	}
	if (!c->orphan)
		agent__send(a, c->port, AGENT_EXIT, c->id, exit_le, sizeof(exit_le));
	channel__free(c);
}

/* SIGCHLD: collect every exited child (ours, and orphans reparented to us as PID 1). */
void channel__reap(struct agent *a)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_CHANNELS; i++) {
			struct channel *c = &a->channels[i];
			if (c->kind != CH_PROCESS || c->pid != pid)
				continue;
			c->reaped = true;
			c->status = status;
			c->reaped_at = agent__now_ms();
			channel__maybe_finish(a, c);
			break;
		}
	}
}
