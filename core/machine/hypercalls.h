/* The hypercall device: the host side of the ABI in hypercall_abi.h (guests/), registered on a
 * machine's port table.
 *
 * Addresses are guest virtual, translated by walking the guest's own page tables (pagewalk.h);
 * every byte read or written goes through the checked accessor. A hypercall that fails says why
 * in one line (ten of a kind at most, then a count at the end: struct tv_hc_log) and the guest
 * goes on. A refused call (wrong direction, width or count) has no other effect. */
#ifndef TWINVM_HYPERCALLS_H
#define TWINVM_HYPERCALLS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "hypercall_abi.h"

/* What the last hypercall did, for the trace. */
struct tv_hc_record {
	const char *name; /* NULL: the exit was not a hypercall */
	bool has_arg, has_result, failed, has_gpa, has_hva;
	uint64_t arg, result;
	uint64_t gpa, hva; /* HC_gvaToHva: where the address led (hva: the whole host pointer) */
	const char *text;  /* HC_printStr: the string printed (text_len bytes, no NUL), or NULL */
	size_t text_len;
	char error[192];
};

/* A failure message is printed the first TV_HC_LOG_REPEAT times each kind occurs; the rest are
 * counted, and the machine's end says how many in one line: a guest looping on a bad
 * hypercall (one rep outsb makes thousands) cannot flood stderr. A kind is one message template
 * of one hypercall: "HC_printStr: the string address 0x%x is %s" is one kind whatever the address
 * and the reason, because the guest picks those and could otherwise make every line unique. */
#define TV_HC_LOG_REPEAT 10
#define TV_HC_LOG_KINDS 32 /* more than the templates there are; extra kinds share the last */

struct tv_hc_log {
	struct {
		const char *name, *fmt; /* the hypercall and its message template */
		uint64_t count;         /* how many times it occurred */
		char last[192];         /* the last line printed, for the suppressed count's line */
	} kind[TV_HC_LOG_KINDS];
	unsigned kinds;
};

struct tv_machine;

/* Registers the six hypercall ports on m. Failure messages go to warnings (NULL: none); the
 * suppressed counts are said when m is destroyed. 0, or -errno. */
int tv_hypercalls_attach(struct tv_machine *m, FILE *warnings);

#endif
