/* One instruction decoded in its code's width (decode.h).
 *
 * Invalid encodings. The exceptions class ends some snippets in an instruction the CPU raises #UD
 * for in that width, which Zydis does not decode there because it knows it is invalid (the table
 * in fz_invalid_at: the one-byte opcodes 64-bit code dropped, ARPL and the descriptor-table
 * instructions in real mode, a move to CS, a LOCK prefix on what cannot take one). Each is taken
 * as one instruction that reads and writes nothing (it never completes); its form and text name
 * it. */
#include "decode.h"

#include <errno.h>

/* Decodes one instruction of code made for bits (16, 32 or 64). */
int fz_decode(const uint8_t *code, size_t len, unsigned bits, struct decoded *d)
{
	ZydisMachineMode mode = bits == 16   ? ZYDIS_MACHINE_MODE_REAL_16
				: bits == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32
					     : ZYDIS_MACHINE_MODE_LONG_64;
	ZydisStackWidth stack = bits == 16   ? ZYDIS_STACK_WIDTH_16
				: bits == 32 ? ZYDIS_STACK_WIDTH_32
					     : ZYDIS_STACK_WIDTH_64;
	ZydisDecoder dec;

	if ((bits != 16 && bits != 32 && bits != 64) ||
	    !ZYAN_SUCCESS(ZydisDecoderInit(&dec, mode, stack)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code, len, &d->in, d->op)))
		return -EINVAL;
	return 0;
}

#define W16 1u
#define W32 2u
#define W64 4u

bool fz_invalid_at(const uint8_t *code, size_t len, unsigned bits, struct invalid *v)
{
	/* Opcode bytes and which of their bits must match (the ModRM's register forms). */
	static const struct {
		unsigned widths, n;
		uint8_t bytes[3], mask[3];
		const char *name;
	} table[] = {
		{ W64, 1, { 0x06 }, { 0xff }, "push es" },  { W64, 1, { 0x07 }, { 0xff }, "pop es" },
		{ W64, 1, { 0x0e }, { 0xff }, "push cs" },  { W64, 1, { 0x16 }, { 0xff }, "push ss" },
		{ W64, 1, { 0x17 }, { 0xff }, "pop ss" },   { W64, 1, { 0x1e }, { 0xff }, "push ds" },
		{ W64, 1, { 0x1f }, { 0xff }, "pop ds" },   { W64, 1, { 0x27 }, { 0xff }, "daa" },
		{ W64, 1, { 0x2f }, { 0xff }, "das" },	    { W64, 1, { 0x37 }, { 0xff }, "aaa" },
		{ W64, 1, { 0x3f }, { 0xff }, "aas" },	    { W64, 1, { 0x60 }, { 0xff }, "pusha" },
		{ W64, 1, { 0x61 }, { 0xff }, "popa" },	    { W64, 1, { 0xce }, { 0xff }, "into" },
		{ W64, 2, { 0xd4 }, { 0xff }, "aam imm8" }, { W64, 2, { 0xd5 }, { 0xff }, "aad imm8" },
		/* real mode does not recognise these (SDM Vol. 2, each one's "Real-Address Mode
		 * Exceptions"): register forms only */
		{ W16, 2, { 0x63, 0xc0 }, { 0xff, 0xc0 }, "arpl r16, r16" },
		{ W16, 3, { 0x0f, 0x00, 0xc0 }, { 0xff, 0xff, 0xf8 }, "sldt r16" },
		{ W16, 3, { 0x0f, 0x00, 0xc8 }, { 0xff, 0xff, 0xf8 }, "str r16" },
		{ W16, 3, { 0x0f, 0x02, 0xc0 }, { 0xff, 0xff, 0xc0 }, "lar r16, r16" },
		/* MOV to CS, in every width (SDM Vol. 2B "MOV", #UD) */
		{ W16 | W32 | W64, 2, { 0x8e, 0xc8 }, { 0xff, 0xf8 }, "mov cs, r16" },
	};
	const unsigned w = bits == 16 ? W16 : bits == 32 ? W32 : W64;
	struct decoded d;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		bool match = (table[i].widths & w) && len >= table[i].n;

		for (unsigned b = 0; match && b < table[i].n; b++)
			match = (code[b] & table[i].mask[b]) == table[i].bytes[b];
		if (match) {
			*v = (struct invalid){ .len = table[i].n, .name = table[i].name };
			return true;
		}
	}
	/* LOCK on an instruction that takes none (SDM Vol. 2A "LOCK": #UD) */
	if (len > 1 && code[0] == 0xf0 && fz_decode(code + 1, len - 1, bits, &d) == 0) {
		*v = (struct invalid){ .len = 1u + d.in.length, .name = NULL };
		return true;
	}
	return false;
}

/* enum fz_gpr of a general register of any size and any width's code (AH..BH are bits 8-15 of
 * RAX..RBX), or -1. */
int fz_gpr_of(ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	if (big < ZYDIS_REGISTER_RAX || big > ZYDIS_REGISTER_R15)
		return -1;
	return (int)(big - ZYDIS_REGISTER_RAX);
}
