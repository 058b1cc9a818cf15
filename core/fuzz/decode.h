/* One instruction of a snippet decoded, for the analysis (analyze.c) and the text of a snippet
 * (insn_text.c): Zydis's decoder in the code's width, and the invalid encodings the exceptions
 * class ends some snippets in, which Zydis will not decode. Private to core/fuzz. */
#ifndef TWINVM_FZ_DECODE_H
#define TWINVM_FZ_DECODE_H

#include <Zydis/Zydis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct decoded {
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
};

/* Decodes one instruction of code made for bits (16, 32 or 64). 0, or -EINVAL. */
int fz_decode(const uint8_t *code, size_t len, unsigned bits, struct decoded *d);

/* An encoding #UD ends (decode.c's header comment): its length, and its name or, for a LOCK
 * prefix, NULL: the name is "lock " and the instruction after the prefix. */
struct invalid {
	unsigned len;
	const char *name;
};

/* Whether code (of bits) starts with one of those encodings, described in *v. */
bool fz_invalid_at(const uint8_t *code, size_t len, unsigned bits, struct invalid *v);

/* enum fz_gpr of a general register of any size and any width's code (AH..BH are bits 8-15 of
 * RAX..RBX), or -1. */
int fz_gpr_of(ZydisRegister r);

#endif
