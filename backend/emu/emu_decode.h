/* The little x86-64 decoding the emulator's fault corrections need (emu_fault.c): an
 * instruction's prefixes, opcode and memory operand, and the near branches' targets. Not a
 * disassembler: no operands but ModRM's memory one, no EVEX. Pure, for backend/emu/ only. */
#ifndef TWINVM_EMU_DECODE_H
#define TWINVM_EMU_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#define EMU_NO_REG (-1)
#define EMU_REG_RIP 16 /* a RIP-relative operand's base */

/* One instruction of 64-bit code. */
struct emu_insn {
	unsigned map;	  /* 0: one-byte opcodes, 1: 0F, 2: 0F 38, 3: 0F 3A */
	uint8_t op;	  /* the opcode byte in its map */
	uint8_t rex;	  /* 0 when none (VEX's R, X and B are put here too) */
	int seg;	  /* the last segment override, 0-5 (ES CS SS DS FS GS), or -1 */
	bool o16, a32;	  /* 66, 67 */
	bool has_modrm;	  /* and then: */
	uint8_t modrm;	  /* its byte */
	bool mem;	  /* mod != 3: a memory operand, at base + index * scale + disp */
	int base, index;  /* 0-15, EMU_REG_RIP or EMU_NO_REG */
	unsigned scale;	  /* 1, 2, 4, 8 */
	int64_t disp;
	unsigned end;	  /* the bytes through the displacement (no immediate counted) */
};

/* Decodes the n bytes at b as 64-bit code up to the immediate: false when they are not one
 * instruction this decoder knows (EVEX, too short). */
bool emu_decode(const uint8_t *b, unsigned n, struct emu_insn *d);

/* ModRM's reg field (without REX.R). */
static inline unsigned emu_insn_reg(const struct emu_insn *d)
{
	return (d->modrm >> 3) & 7;
}

/* The memory operand's offset (before any segment base), the registers by number (RAX, RCX, RDX,
 * RBX, RSP, RBP, RSI, RDI, R8-R15), rip_next the RIP past the instruction. */
uint64_t emu_insn_ea(const struct emu_insn *d, const uint64_t gpr[16], uint64_t rip_next);

/* Whether la is canonical with 48-bit linear addresses. */
static inline bool emu_canonical(uint64_t la)
{
	uint64_t top = la >> 47; /* bits 63-47: all clear or all set */

	return top == 0 || top == 0x1ffff;
}

/* A near branch of 64-bit code. */
enum emu_branch_kind {
	EMU_BR_NONE,
	EMU_BR_REL,  /* JMP, Jcc, JRCXZ, LOOPcc, CALL with a relative target (rel) */
	EMU_BR_RM,   /* JMP or CALL through a register or memory (FF /4, FF /2) */
	EMU_BR_RET,  /* RET, RET imm16 (pop extra bytes) */
};

struct emu_branch {
	enum emu_branch_kind kind;
	unsigned len; /* the whole instruction */
	bool call;    /* it pushed its return address */
	bool loop;    /* LOOP, LOOPE, LOOPNE: it decremented RCX (ECX with a32) */
	int64_t rel;  /* EMU_BR_REL: the target less the next instruction's address */
	unsigned pop; /* EMU_BR_RET: the immediate */
	struct emu_insn d;
};

/* The n bytes at b as a near branch of 64-bit code: false for anything else. */
bool emu_decode_branch(const uint8_t *b, unsigned n, struct emu_branch *br);

#endif
