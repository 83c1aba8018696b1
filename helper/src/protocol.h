/* The helper ⇄ core wire protocol, version 1 (see ../PROTOCOL.md; TS mirror:
 * core/protocol/helper.ts). Frames: u32 length | u8 kind | payload, little-endian. */
#ifndef RBS_PROTOCOL_H
#define RBS_PROTOCOL_H

#include <stdint.h>

#define RBS_PROTOCOL_VERSION 1
#define RBS_HELPER_VERSION "0.1.0"
/* Largest value of a frame's length field either side accepts. */
#define RBS_MAX_FRAME (64u * 1024 * 1024)
/* Bytes of ring records one EVENTS frame carries at most (one record may exceed it). */
#ifndef RBS_MAX_BATCH
#define RBS_MAX_BATCH (1u * 1024 * 1024)
#endif
/* Helper → core text frames are split below this size. */
#define RBS_MAX_LOG_CHUNK (64u * 1024)

enum rbs_frame_kind {
	/* helper → core */
	RBS_HELLO = 0x01,
	RBS_LOG = 0x02,
	RBS_LOADED = 0x03,
	RBS_EVENTS = 0x04,
	RBS_STATS = 0x05,
	RBS_ERROR = 0x06,
	RBS_BYE = 0x07,
	/* core → helper */
	RBS_LOAD = 0x81,
	RBS_START = 0x82,
	RBS_STOP = 0x83,
	RBS_PAUSE = 0x84,
	RBS_RESUME = 0x85,
};

enum rbs_log_level {
	RBS_LOG_WARN = 0,
	RBS_LOG_INFO = 1,
	RBS_LOG_DEBUG = 2,
};

#define RBS_LOG_MORE 0x01 /* LOG flags: more chunks of this message follow */
#define RBS_LOAD_ATTACH_ALL 0x01 /* LOAD flags */

/* Frame header as it is on the wire (packed, little-endian; x86_64 and aarch64 are LE). */
struct rbs_frame_header {
	uint32_t length; /* 1 + payload length */
	uint8_t kind;
} __attribute__((packed));

struct rbs_events_header {
	uint32_t ring_index;
	uint32_t record_count; /* entries in the span, discarded ones included */
	uint64_t time_ns;      /* CLOCK_REALTIME when drained */
} __attribute__((packed));

struct rbs_log_header {
	uint8_t level;
	uint8_t flags;
	uint16_t reserved;
} __attribute__((packed));

/* Ring record header bits (BPF_RINGBUF_BUSY_BIT / BPF_RINGBUF_DISCARD_BIT). */
#define RBS_RECORD_BUSY (1u << 31)
#define RBS_RECORD_DISCARD (1u << 30)
#define RBS_RECORD_HEADER_SIZE 8u

#endif
