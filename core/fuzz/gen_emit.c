/* The generator's encoding toolkit (gen_parts.h): its random choices, the operands it builds, and
 * emit, which encodes a request onto the snippet and steps the taint analysis over it. */
#include "gen_parts.h"

#include <string.h>

#define RSP_DISP_MAX 0x400 /* [rsp+disp] within +-this */

/* splitmix64: any seed, 0 included, gives a good sequence. */
uint64_t fzg_rnd(struct gen *g)
{
	uint64_t z = (*g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n): the high bits scaled, no division. */
unsigned fzg_below(struct gen *g, unsigned n)
{
	return (unsigned)(((fzg_rnd(g) >> 32) * n) >> 32);
}

bool fzg_chance(struct gen *g, unsigned percent)
{
	return fzg_below(g, 100) < percent;
}

/* A value of bits width that edge cases live at: 0, 1, -1, powers of two, sign boundaries, small
 * numbers, or anything. Returned zero-extended. */
uint64_t fzg_interesting(struct gen *g, unsigned bits)
{
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1, v;

	switch (fzg_below(g, 10)) {
	case 0: v = 0; break;
	case 1: v = 1; break;
	case 2: v = ~0ull; break;
	case 3: v = 1ull << fzg_below(g, bits); break;
	case 4: v = (1ull << (bits - 1)) - 1; break; /* the largest signed */
	case 5: v = 1ull << (bits - 1); break;       /* the smallest signed */
	case 6: v = fzg_below(g, 32); break;
	case 7: v = (uint64_t)-(int64_t)fzg_below(g, 32); break;
	default: v = fzg_rnd(g); break;
	}
	return v & mask;
}

static const unsigned sizes[4] = { 8, 16, 32, 64 };

/* 8, 16, 32 or 64 (64 only in 64-bit code); from 16 when min16. */
unsigned fzg_pick_size(struct gen *g, bool min16)
{
	unsigned n = g->bits == 64 ? 4 : 3;

	return min16 ? sizes[1 + fzg_below(g, n - 1)] : sizes[fzg_below(g, n)];
}

/* The byte registers but SPL (RSP is never an operand); the first 8 need no REX, the only ones
 * below 64 bits. */
static const ZydisRegister regs8[] = {
	ZYDIS_REGISTER_AL, ZYDIS_REGISTER_CL, ZYDIS_REGISTER_DL, ZYDIS_REGISTER_BL,
	ZYDIS_REGISTER_AH, ZYDIS_REGISTER_CH, ZYDIS_REGISTER_DH, ZYDIS_REGISTER_BH,
	ZYDIS_REGISTER_BPL, ZYDIS_REGISTER_SIL, ZYDIS_REGISTER_DIL, ZYDIS_REGISTER_R8B,
	ZYDIS_REGISTER_R9B, ZYDIS_REGISTER_R10B, ZYDIS_REGISTER_R11B, ZYDIS_REGISTER_R12B,
	ZYDIS_REGISTER_R13B, ZYDIS_REGISTER_R14B, ZYDIS_REGISTER_R15B,
};

/* General register id (enum fz_gpr) at a size; AH..BH for ids 4..7 with high8. */
ZydisRegister fzg_reg_at(unsigned bits, unsigned id)
{
	static const ZydisRegisterClass cls[4] = { ZYDIS_REGCLASS_GPR8, ZYDIS_REGCLASS_GPR16,
						   ZYDIS_REGCLASS_GPR32, ZYDIS_REGCLASS_GPR64 };
	unsigned k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;

	if (bits == 8 && id >= 4 && id < 8)
		return (ZydisRegister[]){ZYDIS_REGISTER_SPL, ZYDIS_REGISTER_BPL, ZYDIS_REGISTER_SIL,
					 ZYDIS_REGISTER_DIL}[id - 4];
	return ZydisRegisterEncode(cls[k], (ZyanU8)id);
}

/* A random register of bits width that the code's width has (fz_gprs), never RSP; and never one
 * of the registers in avoid (a mask of enum fz_gpr bits). */
ZydisRegister fzg_pick_reg(struct gen *g, unsigned bits, uint16_t avoid)
{
	for (;;) {
		ZydisRegister r;
		unsigned id;

		if (bits == 8) {
			r = regs8[fzg_below(g,
					    g->bits == 64 ? sizeof(regs8) / sizeof(regs8[0]) : 8)];
			id = (unsigned)(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64,
									 r) -
					ZYDIS_REGISTER_RAX);
		} else {
			id = fzg_below(g, (unsigned)fz_gprs(g->bits));
			r = fzg_reg_at(bits, id);
		}
		if (id != FZ_RSP && !(avoid & (1u << id)))
			return r;
	}
}

/* A request for m; emit gives it the snippet's machine mode. */
void fzg_rq(ZydisEncoderRequest *r, ZydisMnemonic m)
{
	memset(r, 0, sizeof(*r));
	r->mnemonic = m;
}

/* The stack pointer in an address: ESP below 64 bits (16-bit code through the 0x67 prefix, which
 * is safe because ESP's upper half starts at 0 and a push or pop changes SP only). */
ZydisRegister fzg_stack_reg(const struct gen *g)
{
	return g->bits == 64 ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP;
}

void fzg_op_reg(ZydisEncoderRequest *r, ZydisRegister reg)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_REGISTER;
	o->reg.value = reg;
}

void fzg_op_imm(ZydisEncoderRequest *r, uint64_t v)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	o->imm.u = v;
}

/* An immediate for an operation of bits width: 64-bit operations take a sign-extended imm32. */
void fzg_op_imm_for(ZydisEncoderRequest *r, unsigned bits, uint64_t v)
{
	fzg_op_imm(r, bits == 64 ? (uint64_t)(int64_t)(int32_t)(uint32_t)v : v);
}

void fzg_op_mem_at(ZydisEncoderRequest *r, ZydisRegister base, int64_t disp, unsigned bytes)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.base = base;
	o->mem.displacement = disp;
	o->mem.size = (ZyanU16)bytes;
}

/* An absolute address of bytes inside the scratch area as the code sees it (an offset into it in
 * 16-bit code), aligned to them when aligned. */
int64_t fzg_scratch_addr(struct gen *g, unsigned bytes, bool aligned)
{
	unsigned off = fzg_below(g, FZ_SCRATCH_SIZE - bytes + 1);

	if (aligned)
		off &= ~(bytes - 1);
	return (int64_t)(fz_scratch_start(g->bits) + off);
}

/* A memory operand of bytes inside the scratch area: absolute or RSP-relative. */
void fzg_op_mem(struct gen *g, ZydisEncoderRequest *r, unsigned bytes, bool aligned)
{
	if (aligned || fzg_chance(g, 50))
		fzg_op_mem_at(r, ZYDIS_REGISTER_NONE, fzg_scratch_addr(g, bytes, aligned), bytes);
	else
		fzg_op_mem_at(r, fzg_stack_reg(g),
			      (int64_t)fzg_below(g, 2 * RSP_DISP_MAX) - RSP_DISP_MAX, bytes);
}

/* Register or memory operand of bits width. */
void fzg_op_rm(struct gen *g, ZydisEncoderRequest *r, unsigned bits, bool mem, bool aligned)
{
	if (mem)
		fzg_op_mem(g, r, bits / 8, aligned);
	else
		fzg_op_reg(r, fzg_pick_reg(g, bits, 0));
}

/* Bytes the native oracle refuses to run, from the byte before from (a pair may straddle). */
static bool refused(const uint8_t *code, size_t from, size_t to)
{
	size_t start = from ? from - 1 : 0;

	return fz_native_refuses(code + start, to - start);
}

/* Encodes r onto the snippet. False when it does not encode, does not fit, decodes to another
 * instruction, holds a refused byte, or would put an undefined value in memory. */
bool fzg_emit(struct gen *g, const ZydisEncoderRequest *r)
{
	struct fz_snippet *s = g->s;
	struct fz_taint t = g->t;
	struct fz_step st;
	ZydisEncoderRequest req = *r;
	ZyanUSize n = ZYDIS_MAX_INSTRUCTION_LENGTH;
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];

	/* The decoder's modes (decode.c): 16-bit code as real mode's, which has no VEX. */
	req.machine_mode = g->bits == 16   ? ZYDIS_MACHINE_MODE_REAL_16
			   : g->bits == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32
					   : ZYDIS_MACHINE_MODE_LONG_64;
	if (s->ninsn >= FZ_INSN_MAX ||
	    !ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, buf, &n)) || s->len + n > FZ_CODE_MAX)
		return false;
	memcpy(s->code + s->len, buf, n);
	if ((!g->engine && refused(s->code, s->len, s->len + n)) ||
	    fz_taint_step(&t, s->code + s->len, n, &st) != 0 || st.len != n ||
	    st.mnemonic != (unsigned)r->mnemonic)
		return false;
	g->t = t;
	g->read_undefined |= st.read_undefined;
	s->off[s->ninsn++] = s->len;
	s->len = (uint16_t)(s->len + n);
	return true;
}

/* Shorthands for the guards: op reg|mem, imm. */
bool fzg_emit_ri(struct gen *g, ZydisMnemonic m, const ZydisEncoderOperand *dst, unsigned bits,
		    uint64_t imm)
{
	ZydisEncoderRequest r;

	fzg_rq(&r, m);
	r.operands[r.operand_count++] = *dst;
	fzg_op_imm_for(&r, bits, imm);
	return fzg_emit(g, &r);
}

bool fzg_emit0(struct gen *g, ZydisMnemonic m)
{
	ZydisEncoderRequest r;

	fzg_rq(&r, m);
	return fzg_emit(g, &r);
}

/* cbw, cwd, cdq or cqo: the sign extension of the accumulator into the high half that a divide
 * of bits width takes. */
ZydisMnemonic fzg_sign_extend(unsigned bits)
{
	static const ZydisMnemonic ops[4] = { ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWD,
					      ZYDIS_MNEMONIC_CDQ, ZYDIS_MNEMONIC_CQO };

	return ops[bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3];
}
