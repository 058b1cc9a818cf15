/* The snippet generator's parts (gen.c's header comment says what it makes and why it is safe):
 * its state, the encoding toolkit every class builds with (gen_emit.c), and the classes
 * (gen_user.c, gen_system.c, gen_exc.c) that gen.c's table names. Private to the generator. */
#ifndef TWINVM_FZ_GEN_PARTS_H
#define TWINVM_FZ_GEN_PARTS_H

#include <Zydis/Zydis.h>
#include <stdbool.h>
#include <stdint.h>

#include "gen.h"
#include "taint.h"

struct gen {
	uint64_t *rng;
	unsigned bits; /* the code width (fz.h) */
	struct fz_snippet *s;
	struct fz_taint t;
	bool read_undefined; /* an instruction of the current item did */
	bool engine;         /* an item for the engine oracles only: no refused bytes to avoid */
	bool ended;          /* an exceptions item ended the snippet */
};

/* ---- Random choices (g->rng) ---- */

/* The next random number: splitmix64. */
uint64_t fzg_rnd(struct gen *g);

/* A number in [0, n). */
unsigned fzg_below(struct gen *g, unsigned n);

/* True percent times in 100. */
bool fzg_chance(struct gen *g, unsigned percent);

/* A value of bits width that edge cases live at, zero-extended. */
uint64_t fzg_interesting(struct gen *g, unsigned bits);

/* An operand size: 8, 16, 32 or 64 (64 only in 64-bit code); from 16 when min16. */
unsigned fzg_pick_size(struct gen *g, bool min16);

/* ---- Registers and operands ---- */

/* General register id (enum fz_gpr) at a size of bits; SPL..DIL for ids 4..7 at 8 bits. */
ZydisRegister fzg_reg_at(unsigned bits, unsigned id);

/* A random register of bits width the code has, never RSP nor one in avoid (enum fz_gpr bits). */
ZydisRegister fzg_pick_reg(struct gen *g, unsigned bits, uint16_t avoid);

/* RSP, or ESP below 64 bits: the stack pointer in an address. */
ZydisRegister fzg_stack_reg(const struct gen *g);

/* An empty request for m. */
void fzg_rq(ZydisEncoderRequest *r, ZydisMnemonic m);

/* Operands appended to r: a register, an immediate, one sign-extended from 32 bits for a
 * 64-bit operation, and a memory operand [base + disp] of bytes. */
void fzg_op_reg(ZydisEncoderRequest *r, ZydisRegister reg);
void fzg_op_imm(ZydisEncoderRequest *r, uint64_t v);
void fzg_op_imm_for(ZydisEncoderRequest *r, unsigned bits, uint64_t v);
void fzg_op_mem_at(ZydisEncoderRequest *r, ZydisRegister base, int64_t disp, unsigned bytes);

/* An absolute address of bytes inside the scratch area as the code sees it. */
int64_t fzg_scratch_addr(struct gen *g, unsigned bytes, bool aligned);

/* A memory operand of bytes inside the scratch area, absolute or RSP-relative. */
void fzg_op_mem(struct gen *g, ZydisEncoderRequest *r, unsigned bytes, bool aligned);

/* A register or (mem) memory operand of bits width. */
void fzg_op_rm(struct gen *g, ZydisEncoderRequest *r, unsigned bits, bool mem, bool aligned);

/* cbw, cwd, cdq or cqo for a divide of bits width. */
ZydisMnemonic fzg_sign_extend(unsigned bits);

/* ---- Emitting ---- */

/* Encodes r onto the snippet and steps the analysis over it. False when it does not encode, does
 * not fit, decodes to another instruction, holds a refused byte, or would put an undefined value
 * in memory; the snippet and g->t are then as they were. */
bool fzg_emit(struct gen *g, const ZydisEncoderRequest *r);

/* m dst, imm (imm as fzg_op_imm_for puts it); and m with no operands. */
bool fzg_emit_ri(struct gen *g, ZydisMnemonic m, const ZydisEncoderOperand *dst, unsigned bits,
		 uint64_t imm);
bool fzg_emit0(struct gen *g, ZydisMnemonic m);

/* ---- The classes ---- */

/* One item each: an instruction and the guards it needs. False when it does not fit. */

bool fzg_alu(struct gen *g);
bool fzg_shift(struct gen *g);
bool fzg_muldiv(struct gen *g);
bool fzg_bit(struct gen *g);
bool fzg_bmi(struct gen *g);
bool fzg_move(struct gen *g);
bool fzg_xchg(struct gen *g);
bool fzg_flags(struct gen *g);
bool fzg_string(struct gen *g);
bool fzg_system(struct gen *g);     /* gen_system.c: the KVM oracle only */
bool fzg_exceptions(struct gen *g); /* gen_exc.c: ends the snippet in a fault */

#endif
