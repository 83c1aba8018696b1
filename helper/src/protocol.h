/* The helper ⇄ core wire protocol, version 2 (see ../PROTOCOL.md; TS mirror:
 * core/protocol/helper.ts). Frames: u32 length | u8 kind | payload, little-endian. */
#ifndef RBS_PROTOCOL_H
#define RBS_PROTOCOL_H

#include <stdint.h>

#define RBS_PROTOCOL_VERSION 2
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
	RBS_FLUSHED = 0x08,
	RBS_VERIFIER_LOG = 0x09,
	/* core → helper */
	RBS_LOAD = 0x81,
	RBS_START = 0x82,
	RBS_STOP = 0x83,
	RBS_PAUSE = 0x84,
	RBS_RESUME = 0x85,
	RBS_FLUSH = 0x86,
};

enum rbs_log_level {
	RBS_LOG_WARN = 0,
	RBS_LOG_INFO = 1,
	RBS_LOG_DEBUG = 2,
};

#define RBS_LOG_MORE 0x01 /* LOG flags: more chunks of this message follow */
#define RBS_LOAD_ATTACH_ALL 0x01 /* LOAD flags */
#define RBS_LOAD_VERIFIER_DATA 0x02 /* LOAD flags: every program's verifier log and statistics, also on success */
/* LOAD flags: verify — attach nothing, each program on its own (a rejected one is reported in LOADED
 * and left out, the others load), the attach list names the programs to load; implies bit 1. */
#define RBS_LOAD_VERIFY 0x04
/* How long a stop may spend draining the rings (LOAD.drain_timeout_ms 0 = this; at most the max). */
#define RBS_DRAIN_TIMEOUT_DEFAULT_MS 3000u
#define RBS_DRAIN_TIMEOUT_MAX_MS 60000u
/* After the drain: how long the last frames (final STATS, FLUSHED, ERROR, BYE) may wait for the reader. */
#define RBS_FINAL_WRITE_MS 5000u

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

/* VERIFIER_LOG: one program's verifier log (chunks; flag RBS_LOG_MORE on all but the last). */
struct rbs_verifier_log_header {
	uint32_t program_index; /* position in LOADED.programs */
	uint8_t flags;
	uint8_t reserved[3];
} __attribute__((packed));

/* FLUSH payload (core → helper). */
struct rbs_flush_request {
	uint32_t id;
	uint32_t timeout_ms; /* 0: LOAD's drain timeout */
} __attribute__((packed));

/* Ring record header bits (BPF_RINGBUF_BUSY_BIT / BPF_RINGBUF_DISCARD_BIT). */
#define RBS_RECORD_BUSY (1u << 31)
#define RBS_RECORD_DISCARD (1u << 30)
#define RBS_RECORD_HEADER_SIZE 8u

#endif
