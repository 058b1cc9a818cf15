/* Canonical exit records: the README's "state at an exit", the same on both engines. This is
 * what --trace writes, golden traces hold and `diff` compares.
 *
 * A record is one exit, taken in the precise run mode (the exiting instruction completed), with
 * one normalisation on top: all the exits of one string I/O instruction (rep insb/outsb, which
 * KVM may batch into one exit and the emulator reports per element) become one record, with the
 * elements' data in order and the state once the instruction is done (RIP past it). */
#ifndef TWINVM_RECORD_H
#define TWINVM_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine.h"

#define TV_RECORD_DATA_MAX 4096 /* string I/O data merged into one record, at most */

struct tv_record {
	struct tv_exit exit; /* for IO, exit.io.data points at data */
	uint8_t data[TV_RECORD_DATA_MAX];
	struct tv_regs regs;
	struct tv_sregs sregs;
	bool have_state; /* regs and sregs could be read */
	struct tv_hc_record hc; /* the hypercall this exit made, if hc.name */
	/* The instruction that made the exit (IO, HLT: tv_exit_insn), or for the other exits but
	 * MMIO the one at RIP; insn_len 0: none known. */
	uint64_t insn_addr;
	uint8_t insn[15];
	size_t insn_len;
};

/* The caller's recorder for one machine: an exit read ahead while merging string I/O waits here
 * for the next record. Zero it to start; tv_recorder_free releases it. */
struct tv_recorder {
	struct tv_record *pending;
	bool has_pending;
};

void tv_recorder_free(struct tv_recorder *rec);

/* Runs m (which must be in the precise or step run mode) to its next canonical exit and fills
 * *r. Counts the exits in m->stats (tv_machine_step). 0, or -errno when the engine failed. */
int tv_record_next(struct tv_recorder *rec, struct tv_machine *m, struct tv_record *r);

/* tv_machine_run, or with m->opt.trace the traced run: one canonical record a line, then guest
 * RAM's size and hash once the guest has stopped (`diff --against` compares it). */
int tv_run(struct tv_machine *m, double timeout_s, struct tv_exit *last);

/* The record as a trace line: tv_trace_record plus the "hypercall" object. */
json_t *tv_record_json(int vm, uint64_t seq, const struct tv_record *r);

/* r as the seq-th line of m's trace, written and checked: 0, or -EIO (m->output_failed). */
int tv_record_write(struct tv_machine *m, uint64_t seq, const struct tv_record *r);

/* The trace's first line, from m->opt.trace_info (nothing without it): 0 or -errno. */
int tv_record_write_header(struct tv_machine *m);

/* The trace's last line, once the guest has stopped: guest RAM's size and hash. 0 or -EIO. */
int tv_record_write_ram(struct tv_machine *m);

#endif
