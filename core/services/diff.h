/* The differential tester: one guest on two engines in lockstep (or one engine against a golden
 * trace), canonical record by canonical record (record.h), reporting the first divergence.
 *
 * What is compared, per record: the exit reason; the IO payload (direction, port, size, count,
 * data) or the MMIO one (address, length, direction, data); every general register, RIP and
 * RFLAGS; the six segment selectors and bases; CR0, CR3, CR4 and EFER. At the end, guest RAM: a
 * hash, then the first differing byte. Fields can be masked with --ignore (exact names, as
 * `tv_diff_fields` lists them, or one RFLAGS bit such as rflags.af). */
#ifndef TWINVM_DIFF_H
#define TWINVM_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "backend.h"
#include "modes.h"

enum tv_diff_status {
	TV_DIFF_SAME = 0,
	TV_DIFF_DIVERGED = 1,
	TV_DIFF_ERROR = 2,
};

struct tv_diff_opts {
	enum tv_mode mode;
	const char *guest_name; /* for the report */
	const uint8_t *image;
	size_t len;
	uint64_t ram_size;
	bool step;            /* compare after every instruction, not only at exits */
	uint64_t max_records; /* stop, agreeing, after this many; 0: until the guest ends */
	const char *const *ignore;
	int nignore;
	const struct tv_backend_ops *a; /* the engine that runs */
	const struct tv_backend_ops *b; /* the other engine, or NULL with golden */
	FILE *golden;                   /* --against: records recorded earlier */
	const char *golden_name;
	double timeout_s; /* for each engine to reach its next record */
	const char *cpu_model; /* tv_machine_opts.cpu_model for both engines; NULL: default */
	FILE *out;        /* the report */
	FILE *err;        /* error lines ("twinvm diff: ..."); NULL: stderr */
};

/* The field names the comparison uses, NULL-terminated: "reason", "io.port", "rax", "cs.base",
 * "cr0", ..., "ram". */
extern const char *const tv_diff_fields[];

/* True when name is something --ignore understands (a field, or rflags.<flag>). */
bool tv_diff_field_known(const char *name);

/* Runs the comparison and writes its report to o->out; errors go to o->err. */
enum tv_diff_status tv_diff(const struct tv_diff_opts *o);

/* ---- golden traces ----------------------------------------------------------------------------
 * The JSON Lines trace.h describes, as `twinvm run --trace` writes it: one record per line, then
 * {"vm":0,"ram":{"size":"0x...","fnv1a64":"0x..."}}. Every field diff reads is checked before it
 * is used: vm, seq, reason (an exit name) and code (its number), detail, io or mmio (as the reason
 * requires: dir, port, size, count, data of size * count bytes; addr, len, write, data), regs and
 * sregs (all of them, "0x..." hex), hypercall. Other members are left alone. */

#define TV_GOLDEN_LINE_MAX 65536 /* bytes in a line, newline included, at most */

/* Parses one line of len bytes (no NUL needed): a record into *rec or the RAM line into *ram (a
 * new reference; the other NULL). 0, or -EINVAL with msg naming the field. */
int tv_golden_parse_line(const char *buf, size_t len, json_t **rec, json_t **ram, char *msg,
			 size_t msglen);

/* A golden trace being read from f, line by line. Zero it, then set f. */
struct tv_golden {
	FILE *f;
	uint64_t line; /* lines read */
	json_t *ram;   /* the last {"size","fnv1a64"} RAM object read, or NULL */
};

/* The next record (*rec, a new reference): 1; 0 at the end; -errno with msg ("line 3: \"reason\":
 * not a string"). RAM lines are kept in g->ram, not returned. */
int tv_golden_next(struct tv_golden *g, json_t **rec, char *msg, size_t msglen);
void tv_golden_free(struct tv_golden *g);

/* Fuzz entry for the golden-trace reader: checks every line of f (fmemopen works), then seeks f
 * back to its start. 0, or -errno with msg as tv_golden_next's. */
int tv_golden_check(FILE *f, char *msg, size_t msglen);

#endif
