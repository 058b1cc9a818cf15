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
};

/* Runs m (which must be in the precise or step run mode) to its next canonical exit and fills
 * *r. Counts the exits in m->stats as tv_machine_run does. 0, or -errno when the engine failed. */
int tv_machine_next_record(struct tv_machine *m, struct tv_record *r);

/* The record as a trace line: tv_trace_record plus the "hypercall" object. */
json_t *tv_record_json(int vm, uint64_t seq, const struct tv_record *r);

#endif
