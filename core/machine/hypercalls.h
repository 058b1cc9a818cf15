/* The hypercalls: one VM exit each, the same ABI in every mode, arguments in registers.
 *
 *   port  name               guest does  argument                     result
 *   0xE9  HC_print8bit       outb        AL                           the byte is printed
 *   0xEA  HC_print32bit      outl        EAX                          decimal, then a newline
 *   0xEB  HC_numExits        inl         -                            EAX = exits so far, this one too
 *   0xEC  HC_printStr        outl        EAX = address of a string    the string, byte for byte
 *   0xED  HC_numExitsByType  inl         -                            EAX = address of "IO in: x\nIO out: y\n"
 *   0xEE  HC_gvaToHva        inl         EBX (RBX in 64-bit code)     EAX = low 32 bits of the host
 *                                                                     address, or 0 and "Invalid GVA"
 *
 * Addresses are guest virtual, translated by walking the guest's own page tables (pagewalk.h);
 * every byte read or written goes through the checked accessor. A hypercall that fails says why
 * in one line on stderr (ten of a kind at most, then a count at the end: struct tv_hc_log) and
 * the guest goes on. A refused call (wrong direction, width or count) has no other effect. */
#ifndef TWINVM_HYPERCALLS_H
#define TWINVM_HYPERCALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

#define TV_HC_PRINT8BIT 0xE9
#define TV_HC_PRINT32BIT 0xEA
#define TV_HC_NUMEXITS 0xEB
#define TV_HC_PRINTSTR 0xEC
#define TV_HC_NUMEXITSBYTYPE 0xED
#define TV_HC_GVATOHVA 0xEE

/* The longest string HC_printStr prints, NUL excluded: a guest cannot make the host walk all of
 * its RAM for one call. */
#define TV_HC_STR_MAX 4096

/* What the last hypercall did, for the trace. */
struct tv_hc_record {
	const char *name; /* NULL: the exit was not a hypercall */
	bool has_arg, has_result, failed;
	uint64_t arg, result;
	char error[192];
};

/* A failure message is printed the first TV_HC_LOG_REPEAT times each kind occurs; the rest are
 * counted, and tv_hypercall_log_flush says how many in one line: a guest looping on a bad
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

/* Handles e if it is a hypercall (an IO exit on one of the ports above) and returns true; the
 * record of what it did is left in m->hc. */
bool tv_hypercall(struct tv_machine *m, struct tv_exit *e);

/* Prints "twinvm: <hypercall>: <last message> (N more like this suppressed)" on stderr for each
 * kind of failure message that occurred more than TV_HC_LOG_REPEAT times, and starts counting
 * afresh. The machine calls it when it is destroyed: the end of the run. */
void tv_hypercall_log_flush(struct tv_machine *m);

#endif
