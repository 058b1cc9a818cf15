/* Golden traces for `twinvm diff --against`: the JSON Lines trace.h describes, as `twinvm run
 * --trace` writes it: one record per line, then {"vm":0,"ram":{"size":"0x...","fnv1a64":"0x..."}}.
 * Lines come from the trace reader (trace_read.h). Every field diff reads is checked before it is
 * used: vm, seq, reason (an exit name) and code (its number), detail, io or mmio (as the reason
 * requires: dir, port, size, count, data of size * count bytes; addr, len, write, data), regs and
 * sregs (all of them, "0x..." hex), hypercall. Other members are left alone. */
#ifndef TWINVM_GOLDEN_H
#define TWINVM_GOLDEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "golden_header.h"
#include "trace_read.h"

/* Parses one line of len bytes (no NUL needed): a record into *rec or the RAM line into *ram (a
 * new reference; the other NULL). 0, or -EINVAL with msg naming the field. */
int tv_golden_parse_line(const char *buf, size_t len, json_t **rec, json_t **ram, char *msg,
			 size_t msglen);

/* A golden trace being read, line by line. Zero it, then set in.f (in.name stays NULL: messages
 * begin "line N", and diff puts the file's name before them). */
struct tv_golden {
	struct tv_trace_reader in;
	json_t *ram; /* the final {"size","fnv1a64"} RAM object, once read, or NULL */
	struct tv_golden_header header; /* from the first line, if it is one */
};

/* The next record (*rec, a new reference): 1; 0 at the end; -errno with msg ("line 3: \"reason\":
 * not a string"). The header line goes to g->header and the RAM line to g->ram, not returned.
 * Read strictly: a header only as the first line, nothing after the RAM line, and no end
 * without it (a trace cut short). */
int tv_golden_next(struct tv_golden *g, json_t **rec, char *msg, size_t msglen);
void tv_golden_free(struct tv_golden *g);

/* Checks every line of f (fmemopen works) as tv_golden_next reads them, fills *header (when not
 * NULL; header->present false for a trace without one), then seeks f back to its start. 0, or
 * -errno with msg as tv_golden_next's. Also the golden reader's fuzz entry. */
int tv_golden_check(FILE *f, struct tv_golden_header *header, char *msg, size_t msglen);

#endif
