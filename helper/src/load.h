/* Internals of LOAD shared by request.c (the payload), load.c (open and load, retrying for
 * the verifier's sake) and loaded.c (attach, verifier data, the LOADED reply). */
#ifndef RBS_LOAD_H
#define RBS_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helper.h"

struct load_request {
	uint32_t flags;
	uint32_t log_level;
	uint32_t drain_timeout_ms;
	size_t n_overrides;
	char **override_names;
	uint32_t *override_values;
	size_t n_attach;
	char **attach;
	const uint8_t *object;
	size_t object_len;
};

int load_request__parse(struct load_request *q, const uint8_t *p, size_t len);
void load_request__free(struct load_request *q);
/* The program is named in the LOAD's list (attach list; with the verify flag, the programs to load). */
bool load_request__names(const struct load_request *q, const char *prog);
/* The program is to be attached. */
bool load_request__wants(const struct load_request *q, const char *prog);
/* max_entries the request (an override) or else the object's BTF asked for, 0 if unknown. */
uint32_t load_request__max_entries(const struct load_request *q, struct bpf_object *obj, const char *map);

/* One program's verifier log across load attempts. */
struct prog_log {
	char *buf;       /* the kernel writes the log here */
	size_t size;     /* of buf; grown ×8 when the log filled it */
	uint32_t level;  /* verifier data: 0 (statistics only), 1 or 2; | 4 (statistics) is added */
	int refused;     /* errno when the kernel refused this attach type at load (program skipped) */
	char *earlier;   /* a log that outgrew the largest buffer, kept (cut) before the reload's */
	int rejected;    /* verify: errno of the verifier's rejection (program left out, its log kept) */
	bool cut;        /* the log filled the largest buffer (the kernel kept only part of it) */
	bool unwanted;   /* verify: not in the list of programs to load */
	bool reworded;   /* a statistics-only rejection was loaded again at level 1 for its words and path */
};

struct load_plan {
	struct load_request q;
	struct prog_log *progs; /* in object order, the order of LOADED.programs */
	size_t n_progs;
	size_t log_max;     /* largest log buffer (48 MiB unless RINGBUF_HELPER_VERIFIER_LOG_MAX) */
	bool verifier_data; /* every program's log and statistics, also when it loads */
	bool verify;        /* LOAD flag verify: each program on its own, nothing attached */
};

/* The verifier's own words from a log (the last line that is not an instruction, annotation or summary). */
void verifier__summary(const char *log, char *out, size_t n);

int loaded__attach_and_report(struct session *s, const struct load_plan *plan);

#endif
