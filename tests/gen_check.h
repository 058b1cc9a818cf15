/* Checks of generated snippets, shared by the generator's suites (test_fuzz_gen.c): each
 * instruction decoded again, the values the generator's guards put in registers followed, and
 * every instruction held to the generator's safety rules (core/fuzz/gen.c's header comment). */
#ifndef TWINVM_TEST_GEN_CHECK_H
#define TWINVM_TEST_GEN_CHECK_H

#include <Zydis/Zydis.h>
#include <stdint.h>

#include "fz.h"

/* A decoded instruction of a snippet. */
struct insn {
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
};

/* Decodes instruction i of s in s's width (asserting it decodes to its whole length). */
void decode_at(const struct fz_snippet *s, unsigned i, struct insn *d);

/* What `mov reg, imm` instructions so far set (the generator's guards): bits known of each. */
struct known {
	uint64_t value[FZ_NGPR];
	unsigned bits[FZ_NGPR];
};

/* Updates k over d in code of bits: a mov of an immediate sets the register's low bits (all of
 * them for a 32-bit one in 64-bit code), other writes forget it. */
void track(struct known *k, const struct insn *d, unsigned bits);

/* The value of register r (of an address's width) that k knows; fails when it does not. */
uint64_t known_value(const struct known *k, ZydisRegister r, const char *text);

/* Every instruction of s (made from in): decodes in s's width and re-encodes to the same bytes;
 * nothing branches; below 64 bits only the 8 legacy registers, no 64-bit operand size and never
 * ESP as an operand; each memory access inside the scratch area as the code addresses it: an
 * absolute one, [rsp+disp] (RSP moves by at most 8 per instruction before it), or a string
 * pointer and count set by the movs before it. */
void check_instructions(const struct fz_snippet *s, const struct fz_state *in, const char *cls);

#endif
