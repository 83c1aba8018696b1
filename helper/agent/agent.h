/* ringbuf-agent: the process runner inside Ringbuf Studio's own VMs (qemu: targets).
 * It speaks the framed protocol in AGENT-PROTOCOL.md over virtio-serial ports and
 * nothing else: no network, no other input. Mirrored in core/transport/qemu/agentProtocol.ts. */
#ifndef RBS_AGENT_H
#define RBS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENT_PROTOCOL 1
#define AGENT_VERSION "0.1.0"
#define AGENT_MAGIC "RBSAGENT"

/* u32 length (of what follows) | u8 type | u32 channel | payload */
#define AGENT_HEADER 9
#define AGENT_MAX_PAYLOAD (1u << 20)

/* host → guest */
#define AGENT_HELLO_REQ 0x01
#define AGENT_SPAWN 0x02
#define AGENT_PUT 0x03
#define AGENT_DATA 0x04
#define AGENT_EOF 0x05
#define AGENT_SIGNAL 0x06
#define AGENT_POWEROFF 0x07

/* guest → host */
#define AGENT_HELLO 0x81
#define AGENT_STARTED 0x82
#define AGENT_STDOUT 0x83
#define AGENT_STDERR 0x84
#define AGENT_EXIT 0x85
#define AGENT_ERROR 0x86

#define MAX_PORTS 16
#define MAX_CHANNELS 256
/* Stop reading children's output while a port has this much queued for the host. */
#define PORT_TX_HIGH (1u << 20)

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

enum channel_kind { CH_FREE = 0, CH_PROCESS, CH_FILE };

struct channel {
	enum channel_kind kind;
	int port;
	uint32_t id;
	pid_t pid;
	int in_fd;  /* process stdin (write end), or the file being written */
	int out_fd; /* process stdout (read end) */
	int err_fd; /* process stderr (read end) */
	struct buf in_q;
	bool in_eof; /* close in_fd once in_q is written */
	bool reaped;
	int status;
	long long reaped_at;
	/* Set when the host side went away: no more frames, kill after kill_at. */
	bool orphan;
	long long kill_at;
};

struct port {
	int fd;
	char name[64];
	char dev[96];
	bool connected;
	long long retry_at; /* while disconnected: poll again from this time on */
	struct buf rx;
	struct buf tx;
};

struct agent {
	struct port ports[MAX_PORTS];
	int nports;
	struct channel channels[MAX_CHANNELS];
	int sigfd;
	int idle_sec;
	long long last_busy;
};

/* buf.c-style helpers (agent.c) */
long long agent__now_ms(void);
int buf__append(struct buf *b, const void *data, size_t len);
void buf__consume(struct buf *b, size_t n);
void buf__free(struct buf *b);

/* frames (agent.c) */
void agent__send(struct agent *a, int port, uint8_t type, uint32_t channel, const void *payload, size_t len);
void agent__send_error(struct agent *a, int port, uint32_t channel, int err, const char *what);

/* process.c */
int process__spawn(struct agent *a, int port, uint32_t id, const uint8_t *payload, size_t len);
int file__open(struct agent *a, int port, uint32_t id, const uint8_t *payload, size_t len);
void channel__data(struct agent *a, struct channel *c, const uint8_t *data, size_t len);
void channel__eof(struct agent *a, struct channel *c);
void channel__flush_stdin(struct channel *c);
void channel__read_output(struct agent *a, struct channel *c, int which);
void channel__orphan(struct channel *c);
void channel__maybe_finish(struct agent *a, struct channel *c);
void channel__reap(struct agent *a);
struct channel *channel__find(struct agent *a, int port, uint32_t id);
void channel__free(struct channel *c);

#endif
