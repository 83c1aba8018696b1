/* ringbuf-agent: runs as PID 1 (exec'd by /init) inside Ringbuf Studio's own VMs and starts
 * processes from argv arrays for the host, over virtio-serial ports named "rbs.agent.N"
 * (one host process per port; channels multiplex its processes). Protocol: AGENT-PROTOCOL.md.
 * It powers the VM off after --idle seconds with no host connected and nothing running. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define PORT_PREFIX "rbs.agent."
/* A disconnected port reports POLLHUP continuously: poll it again only after SIGIO or this long. */
#define PORT_RETRY_MS 2000

long long agent__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int buf__append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;
		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void buf__consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buf__free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void port__flush(struct port *p)
{
	while (p->tx.len) {
		ssize_t n = write(p->fd, p->tx.data, p->tx.len);
		if (n > 0) {
			buf__consume(&p->tx, (size_t)n);
			continue;
		}
		return; /* EAGAIN: POLLOUT later; a lost host is noticed as POLLHUP */
	}
}

void agent__send(struct agent *a, int port, uint8_t type, uint32_t channel, const void *payload, size_t len)
{
	struct port *p = &a->ports[port];
	uint8_t hdr[AGENT_HEADER];

	if (!p->connected)
		return;
	put_le32(hdr, (uint32_t)(len + 5));
	hdr[4] = type;
	put_le32(hdr + 5, channel);
	if (buf__append(&p->tx, hdr, sizeof(hdr)) < 0 || buf__append(&p->tx, payload, len) < 0) {
		fprintf(stderr, "ringbuf-agent: out of memory queueing output for %s\n", p->name);
		return;
	}
	port__flush(p);
}

/* ERROR: i32 errno | text ("<what>: <strerror>") */
void agent__send_error(struct agent *a, int port, uint32_t channel, int err, const char *what)
{
	char msg[512];
	uint8_t payload[4 + sizeof(msg)];
	int n = snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	put_le32(payload, (uint32_t)err);
	memcpy(payload + 4, msg, (size_t)n);
	agent__send(a, port, AGENT_ERROR, channel, payload, 4 + (size_t)n);
}

/* The host side of a port went away (or started over): its processes see EOF on stdin.
 * Input already received is kept when the reset comes from a HELLO_REQ in that input. */
static void port__reset(struct agent *a, int port, bool drop_input)
{
	for (int i = 0; i < MAX_CHANNELS; i++) {
		struct channel *c = &a->channels[i];
		if (c->kind != CH_FREE && !c->orphan && c->port == port)
			channel__orphan(c);
	}
	if (drop_input)
		a->ports[port].rx.len = 0;
	a->ports[port].tx.len = 0;
}

static void send_hello(struct agent *a, int port)
{
	uint8_t payload[8 + 8 + 32];
	size_t vlen = strlen(AGENT_VERSION);
	memcpy(payload, AGENT_MAGIC, 8);
	put_le32(payload + 8, AGENT_PROTOCOL);
	put_le32(payload + 12, (uint32_t)a->idle_sec);
	memcpy(payload + 16, AGENT_VERSION, vlen);
	agent__send(a, port, AGENT_HELLO, 0, payload, 16 + vlen);
}

/* Powers the VM off — only as PID 1, i.e. inside our guest: anywhere else (the agent run on a
 * host by a test) it just exits, so it can never take a real machine down. */
static void agent__poweroff(const char *why)
{
	if (getpid() != 1) {
		fprintf(stderr, "ringbuf-agent: %s: exiting (not PID 1, so not powering anything off)\n", why);
		exit(0);
	}
	fprintf(stderr, "ringbuf-agent: %s: powering off\n", why);
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

static void dispatch(struct agent *a, int port, uint8_t type, uint32_t id, const uint8_t *payload, size_t len)
{
	struct channel *c = type == AGENT_HELLO_REQ || type == AGENT_POWEROFF ? NULL : channel__find(a, port, id);

	switch (type) {
	case AGENT_HELLO_REQ:
		port__reset(a, port, false);
		send_hello(a, port);
		break;
	case AGENT_SPAWN:
	case AGENT_PUT:
		if (c)
			agent__send_error(a, port, id, EEXIST, "channel in use");
		else if (type == AGENT_SPAWN)
			process__spawn(a, port, id, payload, len);
		else
			file__open(a, port, id, payload, len);
		break;
	case AGENT_DATA:
		if (c)
			channel__data(a, c, payload, len);
		break;
	case AGENT_EOF:
		if (c)
			channel__eof(a, c);
		break;
	case AGENT_SIGNAL:
		if (c && c->kind == CH_PROCESS && !c->reaped && len == 4) {
			int sig = (int)(payload[0] | payload[1] << 8);
			if (kill(-c->pid, sig) < 0)
				kill(c->pid, sig);
		}
		break;
	case AGENT_POWEROFF:
		agent__poweroff("asked by the host");
		break;
	default:
		agent__send_error(a, port, id, EPROTO, "unknown frame type");
	}
}

static void port__read(struct agent *a, int port)
{
	struct port *p = &a->ports[port];
	uint8_t chunk[65536];
	ssize_t n = read(p->fd, chunk, sizeof(chunk));
	size_t off = 0;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (p->connected)
			port__reset(a, port, true);
		p->connected = false;
		p->retry_at = agent__now_ms() + PORT_RETRY_MS;
		return;
	}
	if (n < 0)
		return;
	p->connected = true;
	if (buf__append(&p->rx, chunk, (size_t)n) < 0) {
		port__reset(a, port, true);
		return;
	}
	while (p->rx.len - off >= AGENT_HEADER) {
		const uint8_t *f = p->rx.data + off;
		uint32_t len = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 24;
		if (len < 5 || len > 5 + AGENT_MAX_PAYLOAD) {
			fprintf(stderr, "ringbuf-agent: bad frame length %u on %s; dropping the session\n", len, p->name);
			port__reset(a, port, true);
			return;
		}
		if (p->rx.len - off < 4 + (size_t)len)
			break;
		dispatch(a, port, f[4], (uint32_t)f[5] | (uint32_t)f[6] << 8 | (uint32_t)f[7] << 16 | (uint32_t)f[8] << 24,
			 f + AGENT_HEADER, len - 5);
		off += 4 + (size_t)len;
	}
	buf__consume(&p->rx, off);
}

/* Finds the ports named rbs.agent.* (the virtio_console driver names them in sysfs). */
static void ports__discover(struct agent *a)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && a->nports < MAX_PORTS) {
		char path[PATH_MAX], name[64] = "";
		FILE *f;
		struct port *p;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
		name[strcspn(name, "\n")] = 0;
		if (strncmp(name, PORT_PREFIX, strlen(PORT_PREFIX)) != 0)
			continue;
		p = &a->ports[a->nports];
		snprintf(p->dev, sizeof(p->dev), "/dev/%s", e->d_name);
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->fd = open(p->dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (p->fd < 0)
			continue;
		/* SIGIO on host connect/disconnect and on data, so a closed port need not be polled. */
		fcntl(p->fd, F_SETOWN, getpid());
		fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_ASYNC);
		a->nports++;
	}
	closedir(d);
}

/* --port-fd N: one already-open port (a socket a test hands over on the host). */
static void ports__adopt(struct agent *a, int fd)
{
	struct port *p = &a->ports[0];
	snprintf(p->name, sizeof(p->name), "fd %d", fd);
	snprintf(p->dev, sizeof(p->dev), "fd %d", fd);
	p->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	a->nports = 1;
}

static int agent__setup(struct agent *a, int want_ports, int port_fd)
{
	sigset_t mask;
	long long deadline = agent__now_ms() + 15000;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGIO);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0) {
		perror("ringbuf-agent: signalfd");
		return -1;
	}
	if (port_fd >= 0)
		ports__adopt(a, port_fd);
	/* The ports appear once virtio_console has probed them (devtmpfs creates the nodes). */
	for (; port_fd < 0;) {
		for (int i = 0; i < a->nports; i++)
			close(a->ports[i].fd);
		a->nports = 0;
		ports__discover(a);
		if (a->nports >= want_ports || agent__now_ms() > deadline)
			break;
		usleep(50000);
	}
	if (!a->nports) {
		fprintf(stderr, "ringbuf-agent: no virtio-serial port named %s* found\n", PORT_PREFIX);
		return -1;
	}
	fprintf(stderr, "ringbuf-agent %s: protocol %d, %d port%s, idle power-off %s%d s\n", AGENT_VERSION, AGENT_PROTOCOL,
		a->nports, a->nports > 1 ? "s" : "", a->idle_sec ? "after " : "off (", a->idle_sec);
	return 0;
}

enum slot_kind { SLOT_SIGNAL, SLOT_PORT, SLOT_STDIN, SLOT_STDOUT, SLOT_STDERR };
struct slot {
	enum slot_kind kind;
	int index;
};

static int build_pollset(struct agent *a, struct pollfd *fds, struct slot *slots, long long now, int *timeout)
{
	int n = 0;

	fds[n] = (struct pollfd){ .fd = a->sigfd, .events = POLLIN };
	slots[n++] = (struct slot){ SLOT_SIGNAL, 0 };
	*timeout = PORT_RETRY_MS;
	for (int i = 0; i < a->nports; i++) {
		struct port *p = &a->ports[i];
		if (p->retry_at > now)
			continue;
		fds[n] = (struct pollfd){ .fd = p->fd, .events = (short)(POLLIN | (p->tx.len ? POLLOUT : 0)) };
		slots[n++] = (struct slot){ SLOT_PORT, i };
	}
	for (int i = 0; i < MAX_CHANNELS; i++) {
		struct channel *c = &a->channels[i];
		bool room = c->orphan || a->ports[c->port].tx.len < PORT_TX_HIGH;
		if (c->kind != CH_PROCESS)
			continue;
		if (c->in_fd >= 0 && c->in_q.len) {
			fds[n] = (struct pollfd){ .fd = c->in_fd, .events = POLLOUT };
			slots[n++] = (struct slot){ SLOT_STDIN, i };
		}
		if (c->out_fd >= 0 && room) {
			fds[n] = (struct pollfd){ .fd = c->out_fd, .events = POLLIN };
			slots[n++] = (struct slot){ SLOT_STDOUT, i };
		}
		if (c->err_fd >= 0 && room) {
			fds[n] = (struct pollfd){ .fd = c->err_fd, .events = POLLIN };
			slots[n++] = (struct slot){ SLOT_STDERR, i };
		}
		if (c->reaped || (c->orphan && c->kill_at != LLONG_MAX))
			*timeout = 100;
	}
	return n;
}

static void handle_signals(struct agent *a)
{
	struct signalfd_siginfo si;
	bool child = false;

	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			child = true;
		else /* SIGIO: a host connected or left somewhere; look at every port again */
			for (int i = 0; i < a->nports; i++)
				a->ports[i].retry_at = 0;
	}
	if (child)
		channel__reap(a);
}

static void handle_event(struct agent *a, struct slot s, short revents)
{
	struct channel *c = &a->channels[s.index];
	struct port *p = &a->ports[s.index];

	switch (s.kind) {
	case SLOT_SIGNAL:
		handle_signals(a);
		break;
	case SLOT_PORT:
		if (revents & (POLLHUP | POLLERR)) {
			if (p->connected)
				port__reset(a, s.index, true);
			p->connected = false;
			p->retry_at = agent__now_ms() + PORT_RETRY_MS;
			break;
		}
		if (revents & POLLOUT)
			port__flush(p);
		if (revents & POLLIN)
			port__read(a, s.index);
		break;
	case SLOT_STDIN:
		if (c->kind == CH_PROCESS)
			channel__flush_stdin(c);
		break;
	case SLOT_STDOUT:
	case SLOT_STDERR:
		if (c->kind == CH_PROCESS)
			channel__read_output(a, c, s.kind == SLOT_STDOUT ? 1 : 2);
		break;
	}
}

/* Timers: lingering exited processes, orphans past their grace, the idle power-off. */
static void agent__tick(struct agent *a, long long now)
{
	bool busy = false;

	for (int i = 0; i < a->nports; i++)
		busy |= a->ports[i].connected;
	for (int i = 0; i < MAX_CHANNELS; i++) {
		struct channel *c = &a->channels[i];
		if (c->kind == CH_FREE)
			continue;
		busy = true;
		if (c->orphan && !c->reaped && now >= c->kill_at) {
			kill(-c->pid, SIGKILL);
			kill(c->pid, SIGKILL);
			c->kill_at = LLONG_MAX;
		}
		channel__maybe_finish(a, c);
	}
	if (busy)
		a->last_busy = now;
	else if (a->idle_sec > 0 && now - a->last_busy >= (long long)a->idle_sec * 1000)
		agent__poweroff("idle");
}

static void agent__run(struct agent *a)
{
	static struct pollfd fds[1 + MAX_PORTS + 3 * MAX_CHANNELS];
	static struct slot slots[1 + MAX_PORTS + 3 * MAX_CHANNELS];

	a->last_busy = agent__now_ms();
	for (;;) {
		int timeout, n = build_pollset(a, fds, slots, agent__now_ms(), &timeout);
		long long idle_left = (long long)a->idle_sec * 1000 - (agent__now_ms() - a->last_busy);
		if (a->idle_sec > 0 && idle_left < timeout)
			timeout = idle_left < 0 ? 0 : (int)idle_left;
		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			perror("ringbuf-agent: poll");
			sleep(1);
		}
		for (int i = 0; i < n; i++)
			if (fds[i].revents)
				handle_event(a, slots[i], fds[i].revents);
		agent__tick(a, agent__now_ms());
	}
}

int main(int argc, char **argv)
{
	static struct agent a;
	int want_ports = 1, port_fd = -1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--idle") == 0)
			a.idle_sec = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--ports") == 0)
			want_ports = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--port-fd") == 0)
			port_fd = atoi(argv[i + 1]);
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("ringbuf-agent %s protocol %d\n", AGENT_VERSION, AGENT_PROTOCOL);
		return 0;
	}
	if (agent__setup(&a, want_ports, port_fd) < 0) {
		if (getpid() == 1)
			agent__poweroff("cannot start");
		return 1;
	}
	agent__run(&a);
	return 0;
}
