/* twinvm fuzz: the snippet generator (gen.c and its parts, gen_parts.h) and the instruction
 * analysis (analyze.c, on decode.c; the texts in insn_text.c).
 *
 * The generator makes short random instruction sequences with Zydis's encoder, each with the start
 * state it runs from. The analysis decodes a snippet and works out, by taint tracking over the
 * sequence, which parts of the end state the architecture leaves undefined: those are masked when
 * the fuzzer compares (fz_snippet's rflags_undefined and gpr_undefined). Both need Zydis 4; meson
 * builds them only when it is found (TWINVM_HAVE_ZYDIS). */
#ifndef TWINVM_FZ_GEN_H
#define TWINVM_FZ_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fz.h"

/* Decodes code of bits (16, 32 or 64; fz.h) into s: code and len, bits, ninsn, off[], the
 * end-state masks from taint tracking (analyze.c's header comment gives the rules), and system
 * when it holds a segment or control register move, port I/O or a privileged instruction. 0;
 * -EINVAL when the code does not decode fully, holds more than FZ_INSN_MAX instructions or bits
 * is not a width; -ENOTSUP when an undefined value reaches memory or an address (the scratch
 * memory would not compare), or a segment or control register or a port, with s filled all the
 * same. */
int fz_analyze(const uint8_t *code, size_t len, unsigned bits, struct fz_snippet *s);

/* The bucket key of the one instruction at code: mnemonic and operand kinds and sizes, as
 * "shld r64, r64, cl", "popcnt r16, m16", "lock adc m32, imm8". Fixed registers (cl, al) are
 * named, others are not; immediates give their encoded size, not their value. 0, -EINVAL when
 * code is not one whole instruction, -ENOSPC when buf is too small (truncated, terminated). */
int fz_insn_form(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n);

/* Intel-syntax text of the whole snippet, instructions separated by "; ", addresses as at
 * FZ_CODE_ADDR. 0, -EINVAL when the code does not decode, -ENOSPC when buf is too small. */
int fz_disasm(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n);

/* The general registers that stand as explicit operands (by name in the instruction text) of
 * any instruction in code: a bucket key says "reg" for them, so that the same bug in rcx and
 * in r13 is one bucket, and names only implicit ones (cmpxchg's rax, mul's rdx). */
uint16_t fz_explicit_gprs(const uint8_t *code, size_t len, unsigned bits);

/* The instruction classes (gen.c's table names each one's function, which says what it
 * generates; movsxd, cdqe, cqo and cmpxchg16b only in 64-bit code). */
enum fz_class {
	FZ_CLASS_ALU = 1u << 0,    /* add..cmp, test, mov, inc/dec/neg/not; lock on memory */
	FZ_CLASS_SHIFT = 1u << 1,  /* shifts and rotates by imm, 1, cl; shld/shrd */
	FZ_CLASS_MULDIV = 1u << 2, /* mul, imul (1-3 operands), div/idiv behind a guard */
	FZ_CLASS_BIT = 1u << 3,    /* bt/bts/btr/btc, bsf/bsr, lzcnt/tzcnt/popcnt */
	FZ_CLASS_BMI = 1u << 4,    /* BMI1, BMI2, ADX (16-bit code: ADX only, no VEX) */
	FZ_CLASS_MOVE = 1u << 5,   /* movzx/movsx/movsxd, cmovcc, setcc, lea, bswap, cbw..cqo */
	FZ_CLASS_XCHG = 1u << 6,   /* xchg, xadd, cmpxchg, cmpxchg8b/16b, with and without lock */
	FZ_CLASS_FLAGS = 1u << 7,  /* pushf/popf behind masks, lahf/sahf, clc/stc/cmc/cld/std */
	FZ_CLASS_STRING = 1u << 8, /* movs/stos/lods/cmps/scas, rep prefixes, on the scratch area */
	FZ_CLASS_SYSTEM = 1u << 9, /* segment moves, mov cr, in/out: the KVM oracle only */
	/* a fault on purpose, with its setup, ending the snippet: the KVM oracle only */
	FZ_CLASS_EXCEPTIONS = 1u << 10,
	FZ_CLASS_COUNT = 11,
};
#define FZ_CLASS_USER 0x1ffu   /* every class the native oracle can run */
#define FZ_CLASS_ENGINE 0x600u /* the classes only the engine oracles run: system, exceptions */
#define FZ_CLASS_ALL 0x7ffu

/* "alu" for FZ_CLASS_ALU; NULL for anything but one class bit. */
const char *fz_class_name(uint32_t bit);

/* A comma-separated list of class names ("alu,shift,muldiv"; "all" and "user" name the sets
 * above) into *mask. 0, or -EINVAL on an unknown or empty name. */
int fz_class_parse(const char *list, uint32_t *mask);

struct fz_gen_opts {
	/* Instructions of the chosen classes per snippet. The guards some need (a divisor made
	 * safe, string pointers, a pushf's mask) come on top, and a snippet stops early rather than
	 * pass FZ_INSN_MAX instructions in all. 1 <= min_len <= max_len <= FZ_INSN_MAX. */
	unsigned min_len, max_len;
	uint32_t classes; /* enum fz_class bits, not 0 */
	unsigned bits;    /* the code width, 16, 32 or 64 (fz.h); 0 is taken as 64 */
	bool system;      /* the KVM oracle: the FZ_CLASS_ENGINE classes are refused without it */
};

/* One snippet of o->bits into s (with its masks, bits and system, as fz_analyze gives them)
 * and its start state into in: interesting register values (below 64 bits the 8 legacy ones,
 * upper halves 0), RSP inside the scratch area, RIP at fz_code_start, random scratch bytes and
 * RFLAGS within FZ_RFLAGS_START_MASK. Every memory access stays in the scratch area and no
 * instruction faults from that state on the native oracle (classes below FZ_CLASS_SYSTEM), but
 * for an exceptions item: it comes last (the snippet ends there), and its last instruction
 * faults on purpose, its accesses reaching outside the scratch area where that is the fault.
 * *rng is the generator's state (any value; the same value gives the same snippet). 0 or
 * -EINVAL for bad options. */
int fz_generate(uint64_t *rng, const struct fz_gen_opts *o, struct fz_snippet *s,
		struct fz_state *in);

#endif
