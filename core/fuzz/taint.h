/* The analysis one instruction at a time, for the generator: it steps a copy of the state over
 * each instruction it encodes and keeps the copy only if the instruction is one it wants.
 * Private to core/fuzz (analyze.c, the generator). */
#ifndef TWINVM_FZ_TAINT_H
#define TWINVM_FZ_TAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fz.h"

struct fz_taint {
	uint8_t bits;            /* the code width it decodes (16, 32, 64) */
	bool system;             /* it stepped over an FZ_CLASS_SYSTEM instruction */
	uint64_t flags;          /* RFLAGS bits (of FZ_RFLAGS_COMPARED) holding an undefined value */
	uint16_t gpr;            /* general registers holding one, bit per enum fz_gpr */
	uint64_t ones[FZ_NGPR];  /* bits known to be set (so bsf/bsr's source is not zero) */
	uint64_t mem_ones_addr;  /* the same for one absolute memory operand */
	uint64_t mem_ones;
	uint16_t mem_ones_size;
	uint16_t pushf_pending;  /* a pushf's size: [rsp] holds unmasked RFLAGS until an and */
	uint64_t pushf_allowed;  /* the bits that and may keep */
};

/* What one step saw. */
struct fz_step {
	unsigned len;        /* bytes of the instruction */
	unsigned mnemonic;   /* ZydisMnemonic */
	bool read_undefined; /* it read an undefined flag or register */
	bool system;         /* a segment or control register operand, port I/O, or privileged */
};

/* The start of code of bits (16, 32 or 64): everything defined. */
void fz_taint_init(struct fz_taint *t, unsigned bits);

/* Steps t over the instruction at code. 0; -EINVAL when it does not decode; -ENOTSUP when an
 * undefined value (or an unmasked pushf) reaches memory or an address, or a segment register,
 * a control register or a port: the end state would not compare. t is left as it was on an
 * error; st is filled whenever the instruction decodes, -ENOTSUP included. */
int fz_taint_step(struct fz_taint *t, const uint8_t *code, size_t len, struct fz_step *st);

/* Whether t can end a snippet: no pushf waiting for its mask. */
bool fz_taint_can_end(const struct fz_taint *t);

#endif
