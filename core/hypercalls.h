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
 * in one line on stderr and the guest goes on. */
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

struct tv_machine;

/* Handles e if it is a hypercall (an IO exit on one of the ports above) and returns true; the
 * record of what it did is left in m->hc. */
bool tv_hypercall(struct tv_machine *m, struct tv_exit *e);

#endif
