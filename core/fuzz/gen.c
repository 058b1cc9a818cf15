/* The snippet generator: random short instruction sequences from Zydis's encoder, and the start
 * state each one runs from.
 *
 * Every instruction is built as an encoder request (mnemonic and operands), encoded in the
 * snippet's machine mode (64-bit, 32-bit protected, or real mode for 16-bit code), then decoded
 * again by the analysis (taint.h), which checks it is the instruction asked for and tracks what
 * it leaves undefined. An item (one instruction of a class, with the guards it needs) is retried
 * when it does not encode, would put an undefined value in memory, or reads an undefined flag or
 * register (after a few tries that last one is accepted: its result is then masked).
 *
 * Widths (fz.h). 64-bit code uses all 16 registers and every operand size. 32- and 16-bit code
 * use the 8 legacy registers (AL..BH for bytes, no REX), operand sizes 8, 16 and 32 (0x66 gives
 * the one that is not the default), and nothing that exists in 64-bit code only (movsxd, cdqe,
 * cqo, cmpxchg16b). Its registers start with their upper 32 bits 0, r8-r15 at 0.
 *
 * Safety, so the whole snippet runs to its end on every oracle:
 *  - memory operands are absolute addresses in the scratch area as the code sees it (64 and
 *    32: [disp32] at FZ_SCRATCH_ADDR, below 2^31; 16: [disp16], an offset into it, DS being
 *    based there), or [rsp+disp] with |disp| < 0x400 ([esp+disp] below 64 bits; 16-bit code
 *    reaches it through 0x67, ESP's upper half being 0): RSP starts at the middle of the
 *    scratch area and at most FZ_INSN_MAX pushes or pops move it by 8 each. Locked operands and
 *    cmpxchg8b/16b use aligned absolute addresses (no split locks, #GP on a misaligned 16-byte
 *    operand). bt* with a register bit offset is generated on registers only (on memory it
 *    could reach outside);
 *  - no instruction writes RSP except push/pop, none jumps, loops, calls or makes a system call,
 *    and no encoding holds a byte the native oracle refuses (FS/GS prefix values, syscall);
 *  - div: `and <high half>, 2^k-1; or <divisor>, 2^k; div <divisor>` (high half < divisor, so
 *    the quotient fits); idiv: `and <divisor>, -2; or <divisor>, 2^k (k >= 1); cbw..cqo;
 *    idiv <divisor>` (the dividend is a sign-extended half and |divisor| >= 2): no #DE from any
 *    start state;
 *  - string instructions get RSI/RDI inside the scratch area and RCX <= 16 from mov imm just
 *    before them, far enough from its ends for either DF (16-bit code: SI, DI, CX, or ESI, EDI,
 *    ECX when it takes 0x67; ES is based at the scratch area too);
 *  - pushf is followed by `and [rsp], mask` ([esp]) of the pushf's size, keeping only the
 *    defined arithmetic flags and DF (IF, IOPL, AC differ between user mode and a CPL0 guest);
 *    popf pops a value first masked the same way;
 *  - the system class (KVM only) is safe for a CPL-0 guest of twinvm: see its functions;
 *  - the exceptions class (KVM only) is the exception to all of this: its item ends the snippet
 *    in a fault on purpose (see its comment), and never writes outside the scratch area nor
 *    touches the fuzzer's tables (traps.h) where the fault does not come. */
#include "gen.h"
#include "taint.h"

#include <Zydis/Zydis.h>
#include <errno.h>
#include <string.h>

#include "hypercalls.h"
#include "layout.h"
#include "traps.h"

#define STACK_OFF 0x800u   /* RSP's start, from FZ_SCRATCH_ADDR */
#define RSP_DISP_MAX 0x400 /* [rsp+disp] within +-this */
#define STRING_MARGIN 0x100u
#define STRING_COUNT_MAX 16u
#define SCRATCH_EDGES 16
#define TRIES 16
#define TRIES_CLEAN 8 /* of which the first look for an item reading nothing undefined */

struct gen {
	uint64_t *rng;
	unsigned bits; /* the code width (fz.h) */
	struct fz_snippet *s;
	struct fz_taint t;
	bool read_undefined; /* an instruction of the current item did */
	bool engine;         /* the item is for the engine oracles only: no refused bytes to avoid */
	bool ended;          /* an exceptions item ended the snippet */
};

/* splitmix64: any seed, 0 included, gives a good sequence. */
static uint64_t rnd(struct gen *g)
{
	uint64_t z = (*g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n): the high bits scaled, no division. */
static unsigned below(struct gen *g, unsigned n)
{
	return (unsigned)(((rnd(g) >> 32) * n) >> 32);
}

static bool chance(struct gen *g, unsigned percent)
{
	return below(g, 100) < percent;
}

/* A value of bits width that edge cases live at: 0, 1, -1, powers of two, sign boundaries, small
 * numbers, or anything. Returned zero-extended. */
static uint64_t interesting(struct gen *g, unsigned bits)
{
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1, v;

	switch (below(g, 10)) {
	case 0: v = 0; break;
	case 1: v = 1; break;
	case 2: v = ~0ull; break;
	case 3: v = 1ull << below(g, bits); break;
	case 4: v = (1ull << (bits - 1)) - 1; break; /* the largest signed */
	case 5: v = 1ull << (bits - 1); break;       /* the smallest signed */
	case 6: v = below(g, 32); break;
	case 7: v = (uint64_t)-(int64_t)below(g, 32); break;
	default: v = rnd(g); break;
	}
	return v & mask;
}

static const unsigned sizes[4] = { 8, 16, 32, 64 };

/* 8, 16, 32 or 64 (64 only in 64-bit code); from 16 when min16. */
static unsigned pick_size(struct gen *g, bool min16)
{
	unsigned n = g->bits == 64 ? 4 : 3;

	return min16 ? sizes[1 + below(g, n - 1)] : sizes[below(g, n)];
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
static ZydisRegister reg_at(unsigned bits, unsigned id)
{
	static const ZydisRegisterClass cls[4] = { ZYDIS_REGCLASS_GPR8, ZYDIS_REGCLASS_GPR16,
						   ZYDIS_REGCLASS_GPR32, ZYDIS_REGCLASS_GPR64 };
	unsigned k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;

	if (bits == 8 && id >= 4 && id < 8)
		return (ZydisRegister[]){ ZYDIS_REGISTER_SPL, ZYDIS_REGISTER_BPL, ZYDIS_REGISTER_SIL,
					  ZYDIS_REGISTER_DIL }[id - 4];
	return ZydisRegisterEncode(cls[k], (ZyanU8)id);
}

/* A random register of bits width that the code's width has (fz_gprs), never RSP; and never one
 * of the registers in avoid (a mask of enum fz_gpr bits). */
static ZydisRegister pick_reg(struct gen *g, unsigned bits, uint16_t avoid)
{
	for (;;) {
		ZydisRegister r;
		unsigned id;

		if (bits == 8) {
			r = regs8[below(g, g->bits == 64 ? sizeof(regs8) / sizeof(regs8[0]) : 8)];
			id = (unsigned)(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r) -
					ZYDIS_REGISTER_RAX);
		} else {
			id = below(g, (unsigned)fz_gprs(g->bits));
			r = reg_at(bits, id);
		}
		if (id != FZ_RSP && !(avoid & (1u << id)))
			return r;
	}
}

/* A request for m; emit gives it the snippet's machine mode. */
static void rq(ZydisEncoderRequest *r, ZydisMnemonic m)
{
	memset(r, 0, sizeof(*r));
	r->mnemonic = m;
}

/* The stack pointer in an address: ESP below 64 bits (16-bit code through the 0x67 prefix, which
 * is safe because ESP's upper half starts at 0 and a push or pop changes SP only). */
static ZydisRegister stack_reg(const struct gen *g)
{
	return g->bits == 64 ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP;
}

static void op_reg(ZydisEncoderRequest *r, ZydisRegister reg)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_REGISTER;
	o->reg.value = reg;
}

static void op_imm(ZydisEncoderRequest *r, uint64_t v)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	o->imm.u = v;
}

/* An immediate for an operation of bits width: 64-bit operations take a sign-extended imm32. */
static void op_imm_for(ZydisEncoderRequest *r, unsigned bits, uint64_t v)
{
	op_imm(r, bits == 64 ? (uint64_t)(int64_t)(int32_t)(uint32_t)v : v);
}

static void op_mem_at(ZydisEncoderRequest *r, ZydisRegister base, int64_t disp, unsigned bytes)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.base = base;
	o->mem.displacement = disp;
	o->mem.size = (ZyanU16)bytes;
}

/* An absolute address of bytes inside the scratch area as the code sees it (an offset into it in
 * 16-bit code), aligned to them when aligned. */
static int64_t scratch_addr(struct gen *g, unsigned bytes, bool aligned)
{
	unsigned off = below(g, FZ_SCRATCH_SIZE - bytes + 1);

	if (aligned)
		off &= ~(bytes - 1);
	return (int64_t)(fz_scratch_start(g->bits) + off);
}

/* A memory operand of bytes inside the scratch area: absolute or RSP-relative. */
static void op_mem(struct gen *g, ZydisEncoderRequest *r, unsigned bytes, bool aligned)
{
	if (aligned || chance(g, 50))
		op_mem_at(r, ZYDIS_REGISTER_NONE, scratch_addr(g, bytes, aligned), bytes);
	else
		op_mem_at(r, stack_reg(g), (int64_t)below(g, 2 * RSP_DISP_MAX) - RSP_DISP_MAX,
			  bytes);
}

/* Register or memory operand of bits width. */
static void op_rm(struct gen *g, ZydisEncoderRequest *r, unsigned bits, bool mem, bool aligned)
{
	if (mem)
		op_mem(g, r, bits / 8, aligned);
	else
		op_reg(r, pick_reg(g, bits, 0));
}

/* Bytes the native oracle refuses to run, from the byte before from (a pair may straddle). */
static bool refused(const uint8_t *code, size_t from, size_t to)
{
	size_t start = from ? from - 1 : 0;

	return fz_native_refuses(code + start, to - start);
}

/* Encodes r onto the snippet. False when it does not encode, does not fit, decodes to another
 * instruction, holds a refused byte, or would put an undefined value in memory. */
static bool emit(struct gen *g, const ZydisEncoderRequest *r)
{
	struct fz_snippet *s = g->s;
	struct fz_taint t = g->t;
	struct fz_step st;
	ZydisEncoderRequest req = *r;
	ZyanUSize n = ZYDIS_MAX_INSTRUCTION_LENGTH;
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];

	/* The decoder's modes (analyze.c): 16-bit code as real mode's, which has no VEX. */
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
static bool emit_ri(struct gen *g, ZydisMnemonic m, const ZydisEncoderOperand *dst, unsigned bits,
		    uint64_t imm)
{
	ZydisEncoderRequest r;

	rq(&r, m);
	r.operands[r.operand_count++] = *dst;
	op_imm_for(&r, bits, imm);
	return emit(g, &r);
}

static bool emit0(struct gen *g, ZydisMnemonic m)
{
	ZydisEncoderRequest r;

	rq(&r, m);
	return emit(g, &r);
}

/* ---- The classes ---- */

static bool gen_alu(struct gen *g)
{
	static const ZydisMnemonic two[] = {
		ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR,	ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB,
		ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP,
		ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_MOV,
	};
	static const ZydisMnemonic one[] = { ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_DEC,
					     ZYDIS_MNEMONIC_NEG, ZYDIS_MNEMONIC_NOT };
	unsigned bits = pick_size(g, false), form = below(g, 6);
	ZydisEncoderRequest r;
	ZydisMnemonic m;
	bool lock;

	if (form == 5) { /* one operand */
		rq(&r, one[below(g, 4)]);
		lock = chance(g, 50);
		op_rm(g, &r, bits, lock || chance(g, 40), lock);
	} else {
		m = two[below(g, 10)];
		rq(&r, m);
		lock = (form == 2 || form == 4) && m != ZYDIS_MNEMONIC_CMP &&
		       m != ZYDIS_MNEMONIC_TEST && m != ZYDIS_MNEMONIC_MOV && chance(g, 30);
		if (form == 0 || form == 1 || form == 3)
			op_reg(&r, pick_reg(g, bits, 0));
		else
			op_mem(g, &r, bits / 8, lock);
		if (form == 0 || form == 2)
			op_reg(&r, pick_reg(g, bits, 0));
		else if (form == 1)
			op_mem(g, &r, bits / 8, false);
		else
			op_imm_for(&r, bits, interesting(g, bits == 64 ? 32 : bits));
	}
	if (lock)
		r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
	return emit(g, &r);
}

/* A shift count worth trying at an operand size. */
static uint64_t shift_count(struct gen *g, unsigned bits)
{
	const uint64_t counts[] = { 0, 1, 2, bits - 1, bits, bits + 1, 31, 32, 63, 64 };

	return chance(g, 70) ? counts[below(g, 10)] : below(g, 256);
}

static bool gen_shift(struct gen *g)
{
	static const ZydisMnemonic shifts[] = {
		ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_RCL, ZYDIS_MNEMONIC_RCR,
		ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR,
	};
	bool dbl = chance(g, 25);
	unsigned bits = pick_size(g, dbl), count = below(g, 3);
	ZydisEncoderRequest r;

	rq(&r, dbl ? (chance(g, 50) ? ZYDIS_MNEMONIC_SHLD : ZYDIS_MNEMONIC_SHRD)
		   : shifts[below(g, 7)]);
	op_rm(g, &r, bits, chance(g, 40), false);
	if (dbl)
		op_reg(&r, pick_reg(g, bits, 0));
	if (count == 0)
		op_imm(&r, shift_count(g, bits) & 0xff);
	else if (count == 1)
		op_imm(&r, 1);
	else
		op_reg(&r, ZYDIS_REGISTER_CL);
	return emit(g, &r);
}

static const ZydisMnemonic sign_extend[4] = { ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWD,
					      ZYDIS_MNEMONIC_CDQ, ZYDIS_MNEMONIC_CQO };

/* div/idiv behind their guards (the header comment). */
static bool gen_divide(struct gen *g, bool sign)
{
	unsigned bits = pick_size(g, false), k;
	uint16_t avoid = (1u << FZ_RAX) | (1u << FZ_RDX);
	ZydisEncoderRequest r;
	ZydisEncoderOperand div, high = { 0 };

	rq(&r, ZYDIS_MNEMONIC_DIV);
	op_rm(g, &r, bits, chance(g, 40), false);
	if (r.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER)
		r.operands[0].reg.value = pick_reg(g, bits, avoid);
	div = r.operands[0];
	if (sign) {
		k = 1 + below(g, bits == 64 ? 30 : bits - 2);
		if (!emit_ri(g, ZYDIS_MNEMONIC_AND, &div, bits, (uint64_t)-2) ||
		    !emit_ri(g, ZYDIS_MNEMONIC_OR, &div, bits, 1ull << k) ||
		    !emit0(g, sign_extend[bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3]))
			return false;
	} else {
		k = below(g, bits == 64 ? 32 : bits);
		high.type = ZYDIS_OPERAND_TYPE_REGISTER;
		high.reg.value = bits == 8 ? ZYDIS_REGISTER_AH : reg_at(bits, FZ_RDX);
		if (!emit_ri(g, ZYDIS_MNEMONIC_AND, &high, bits, (1ull << k) - 1) ||
		    !emit_ri(g, ZYDIS_MNEMONIC_OR, &div, bits, 1ull << k))
			return false;
	}
	r.mnemonic = sign ? ZYDIS_MNEMONIC_IDIV : ZYDIS_MNEMONIC_DIV;
	return emit(g, &r);
}

static bool gen_muldiv(struct gen *g)
{
	unsigned kind = below(g, 6), bits = pick_size(g, kind == 2 || kind == 3);
	ZydisEncoderRequest r;

	if (kind >= 4)
		return gen_divide(g, kind == 5);
	rq(&r, kind == 0 ? ZYDIS_MNEMONIC_MUL : ZYDIS_MNEMONIC_IMUL);
	if (kind >= 2)
		op_reg(&r, pick_reg(g, bits, 0));
	op_rm(g, &r, bits, chance(g, 40), false);
	if (kind == 3)
		op_imm_for(&r, bits, interesting(g, chance(g, 50) ? 8 : bits == 64 ? 32 : bits));
	return emit(g, &r);
}

static bool gen_bit(struct gen *g)
{
	static const ZydisMnemonic bt[] = { ZYDIS_MNEMONIC_BT, ZYDIS_MNEMONIC_BTS,
					    ZYDIS_MNEMONIC_BTR, ZYDIS_MNEMONIC_BTC };
	static const ZydisMnemonic count[] = { ZYDIS_MNEMONIC_LZCNT, ZYDIS_MNEMONIC_TZCNT,
					       ZYDIS_MNEMONIC_POPCNT };
	unsigned kind = below(g, 3), bits = pick_size(g, true);
	bool mem = chance(g, 40);
	ZydisEncoderRequest r;

	if (kind == 0) { /* bt*: a register bit offset only on a register (see the header) */
		ZydisMnemonic m = bt[below(g, 4)];
		bool lock = mem && m != ZYDIS_MNEMONIC_BT && chance(g, 30);

		rq(&r, m);
		op_rm(g, &r, bits, mem, lock);
		if (!mem && chance(g, 50))
			op_reg(&r, pick_reg(g, bits, 0));
		else
			op_imm(&r, below(g, 256));
		if (lock)
			r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
		return emit(g, &r);
	}
	if (kind == 1) { /* bsf/bsr, guarded to a non-zero source more often than not */
		rq(&r, chance(g, 50) ? ZYDIS_MNEMONIC_BSF : ZYDIS_MNEMONIC_BSR);
		op_reg(&r, pick_reg(g, bits, 0));
		op_rm(g, &r, bits, mem, false);
		if (chance(g, 60)) {
			if (mem) /* the analysis knows absolute operands only */
				r.operands[1].mem.base = ZYDIS_REGISTER_NONE,
				r.operands[1].mem.displacement = scratch_addr(g, bits / 8, false);
			if (!emit_ri(g, ZYDIS_MNEMONIC_OR, &r.operands[1], bits,
				     1ull << below(g, bits == 64 ? 31 : bits)))
				return false;
		}
		return emit(g, &r);
	}
	rq(&r, count[below(g, 3)]);
	op_reg(&r, pick_reg(g, bits, 0));
	op_rm(g, &r, bits, mem, false);
	return emit(g, &r);
}

static bool gen_bmi(struct gen *g)
{
	/* Operand shapes: d = register, s = register or memory, v = register, i = imm8. All but
	 * the last two are VEX-encoded, which real mode does not recognise (C4/C5 are LES/LDS
	 * there; SDM Vol. 2, 2.3): 16-bit code gets adcx/adox only. */
	static const struct {
		ZydisMnemonic m;
		const char *shape;
	} ops[] = {
		{ ZYDIS_MNEMONIC_ANDN, "dvs" },	 { ZYDIS_MNEMONIC_BEXTR, "dsv" },
		{ ZYDIS_MNEMONIC_BLSI, "ds" },	 { ZYDIS_MNEMONIC_BLSMSK, "ds" },
		{ ZYDIS_MNEMONIC_BLSR, "ds" },	 { ZYDIS_MNEMONIC_BZHI, "dsv" },
		{ ZYDIS_MNEMONIC_MULX, "dvs" },	 { ZYDIS_MNEMONIC_PDEP, "dvs" },
		{ ZYDIS_MNEMONIC_PEXT, "dvs" },	 { ZYDIS_MNEMONIC_RORX, "dsi" },
		{ ZYDIS_MNEMONIC_SARX, "dsv" },	 { ZYDIS_MNEMONIC_SHLX, "dsv" },
		{ ZYDIS_MNEMONIC_SHRX, "dsv" },	 { ZYDIS_MNEMONIC_ADCX, "ds" },
		{ ZYDIS_MNEMONIC_ADOX, "ds" },
	};
	const unsigned n = sizeof(ops) / sizeof(ops[0]);
	unsigned k = g->bits == 16 ? n - 2 + below(g, 2) : below(g, n);
	unsigned bits = chance(g, 50) || g->bits < 64 ? 32 : 64;
	ZydisEncoderRequest r;

	rq(&r, ops[k].m);
	for (const char *p = ops[k].shape; *p; p++) {
		if (*p == 's')
			op_rm(g, &r, bits, chance(g, 40), false);
		else if (*p == 'i')
			op_imm(&r, below(g, 256));
		else
			op_reg(&r, pick_reg(g, bits, 0));
	}
	return emit(g, &r);
}

/* lea in the code's address size, or now and then the other one (0x67): 32-bit in 64-bit code,
 * 16-bit ([bx|bp + si|di + disp16]) in 32-bit code, 32-bit in 16-bit code. */
static bool gen_lea(struct gen *g, ZydisEncoderRequest *r)
{
	bool other = chance(g, 25);
	unsigned abits = g->bits == 64 ? (other ? 32 : 64)
			 : other       ? (g->bits == 32 ? 16 : 32)
				       : g->bits;
	ZydisEncoderOperand *o;

	rq(r, ZYDIS_MNEMONIC_LEA);
	op_reg(r, pick_reg(g, pick_size(g, true), 0));
	o = &r->operands[r->operand_count++];
	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	if (abits == 16) {
		o->mem.base = chance(g, 80) ? (chance(g, 50) ? ZYDIS_REGISTER_BX : ZYDIS_REGISTER_BP)
					    : ZYDIS_REGISTER_NONE;
		if (chance(g, 60)) {
			o->mem.index = chance(g, 50) ? ZYDIS_REGISTER_SI : ZYDIS_REGISTER_DI;
			o->mem.scale = 1;
		}
		o->mem.displacement = chance(g, 30) ? 0 : (int16_t)(uint16_t)interesting(g, 16);
	} else {
		o->mem.base = chance(g, 80) ? reg_at(abits, below(g, (unsigned)fz_gprs(g->bits)))
					    : ZYDIS_REGISTER_NONE;
		if (chance(g, 60)) {
			o->mem.index = pick_reg(g, abits, 0);
			o->mem.scale = (ZyanU8)(1u << below(g, 4));
		}
		o->mem.displacement = chance(g, 30) ? 0 : (int32_t)(uint32_t)interesting(g, 32);
	}
	if (o->mem.base == ZYDIS_REGISTER_NONE && o->mem.index == ZYDIS_REGISTER_NONE)
		o->mem.base = reg_at(abits, FZ_RBX);
	o->mem.size = (ZyanU16)(abits / 8);
	r->address_size_hint = abits == 16   ? ZYDIS_ADDRESS_SIZE_HINT_16
			       : abits == 32 ? ZYDIS_ADDRESS_SIZE_HINT_32
					     : ZYDIS_ADDRESS_SIZE_HINT_64;
	return emit(g, r);
}

static bool gen_move(struct gen *g)
{
	static const ZydisMnemonic convert[] = { ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWDE,
						 ZYDIS_MNEMONIC_CDQE, ZYDIS_MNEMONIC_CWD,
						 ZYDIS_MNEMONIC_CDQ, ZYDIS_MNEMONIC_CQO };
	static const ZydisMnemonic convert32[] = { ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWDE,
						   ZYDIS_MNEMONIC_CWD, ZYDIS_MNEMONIC_CDQ };
	unsigned kind = below(g, 9), bits = pick_size(g, true), from;
	bool mem = chance(g, 40);
	ZydisEncoderRequest r;

	if (kind == 1 && g->bits < 64)
		kind = 0; /* no movsxd: movzx/movsx instead */
	switch (kind) {
	case 0: /* movzx, movsx */
		from = bits == 16 || chance(g, 50) ? 8 : 16;
		rq(&r, chance(g, 50) ? ZYDIS_MNEMONIC_MOVZX : ZYDIS_MNEMONIC_MOVSX);
		op_reg(&r, pick_reg(g, bits, 0));
		op_rm(g, &r, from, mem, false);
		break;
	case 1:
		rq(&r, ZYDIS_MNEMONIC_MOVSXD);
		op_reg(&r, pick_reg(g, 64, 0));
		op_rm(g, &r, 32, mem, false);
		break;
	case 2: /* cmovcc: the 16 conditions are consecutive mnemonics */
		rq(&r, (ZydisMnemonic)(ZYDIS_MNEMONIC_CMOVB + below(g, 16)));
		op_reg(&r, pick_reg(g, bits, 0));
		op_rm(g, &r, bits, mem, false);
		break;
	case 3: /* setcc: consecutive too, but for SETSSBSY between SETS and SETZ */
		from = below(g, 16);
		rq(&r, from == 15 ? ZYDIS_MNEMONIC_SETZ : (ZydisMnemonic)(ZYDIS_MNEMONIC_SETB + from));
		op_rm(g, &r, 8, mem, false);
		break;
	case 4:
		return gen_lea(g, &r);
	case 5:
		rq(&r, ZYDIS_MNEMONIC_BSWAP);
		op_reg(&r, pick_reg(g, chance(g, 50) || g->bits < 64 ? 32 : 64, 0));
		break;
	case 6:
		if (g->bits == 64)
			rq(&r, convert[below(g, 6)]);
		else
			rq(&r, convert32[below(g, 4)]);
		break;
	case 7: /* mov r64, imm64; mov r32, imm32 below 64 bits */
		rq(&r, ZYDIS_MNEMONIC_MOV);
		if (g->bits == 64) {
			op_reg(&r, pick_reg(g, 64, 0));
			op_imm(&r, interesting(g, 64) | (chance(g, 50) ? 1ull << 40 : 0));
		} else {
			op_reg(&r, pick_reg(g, 32, 0));
			op_imm(&r, interesting(g, 32));
		}
		break;
	default: /* push of the stack width mostly, now and then 16 (32 in 16-bit code) bits; pop
		  * into a 16-bit register whatever the push's size: RSP moves by the difference */
		rq(&r, ZYDIS_MNEMONIC_PUSH);
		op_reg(&r, pick_reg(g, chance(g, 80) ? g->bits : g->bits == 16 ? 32 : 16, 0));
		if (!emit(g, &r))
			return false;
		rq(&r, ZYDIS_MNEMONIC_POP);
		op_reg(&r, pick_reg(g, 16, 0));
		break;
	}
	return emit(g, &r);
}

static bool gen_xchg(struct gen *g)
{
	unsigned kind = below(g, 4), bits = pick_size(g, false);
	bool mem = chance(g, 50), lock = mem && chance(g, 50);
	ZydisEncoderRequest r;

	if (kind == 3) { /* cmpxchg8b, cmpxchg16b (64-bit code only): memory only */
		bits = chance(g, 50) || g->bits < 64 ? 64 : 128;
		rq(&r, bits == 64 ? ZYDIS_MNEMONIC_CMPXCHG8B : ZYDIS_MNEMONIC_CMPXCHG16B);
		op_mem(g, &r, bits / 8, true);
	} else {
		rq(&r, kind == 0 ? ZYDIS_MNEMONIC_XCHG
				 : kind == 1 ? ZYDIS_MNEMONIC_XADD : ZYDIS_MNEMONIC_CMPXCHG);
		/* xchg with memory locks whatever the prefix: aligned like the locked ones */
		op_rm(g, &r, bits, mem, lock || (mem && kind == 0));
		op_reg(&r, pick_reg(g, bits, 0));
		lock = lock && kind != 0;
	}
	if (lock)
		r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
	return emit(g, &r);
}

static bool gen_flags(struct gen *g)
{
	static const ZydisMnemonic simple[] = { ZYDIS_MNEMONIC_LAHF, ZYDIS_MNEMONIC_SAHF,
						ZYDIS_MNEMONIC_CLC,  ZYDIS_MNEMONIC_STC,
						ZYDIS_MNEMONIC_CMC,  ZYDIS_MNEMONIC_CLD,
						ZYDIS_MNEMONIC_STD };
	/* pushf/popf of the stack width mostly, now and then 16 bits (32 in 16-bit code) */
	static const ZydisMnemonic push[] = { ZYDIS_MNEMONIC_PUSHF, ZYDIS_MNEMONIC_PUSHFD,
					      ZYDIS_MNEMONIC_PUSHFQ };
	static const ZydisMnemonic pop[] = { ZYDIS_MNEMONIC_POPF, ZYDIS_MNEMONIC_POPFD,
					     ZYDIS_MNEMONIC_POPFQ };
	unsigned kind = below(g, 4);
	unsigned bits = chance(g, 80) ? g->bits : g->bits == 16 ? 32 : 16;
	unsigned w = bits == 16 ? 0 : bits == 32 ? 1 : 2;
	ZydisEncoderOperand top = { .type = ZYDIS_OPERAND_TYPE_MEMORY };
	ZydisEncoderRequest r;

	top.mem.base = stack_reg(g);
	top.mem.size = (ZyanU16)(bits / 8);
	if (kind == 0) { /* pushf; and [rsp], the defined flags; maybe pop */
		uint64_t keep = FZ_RFLAGS_COMPARED & ~g->t.flags & (chance(g, 50) ? ~0ull : rnd(g));

		if (!emit0(g, push[w]) || !emit_ri(g, ZYDIS_MNEMONIC_AND, &top, bits, keep))
			return false;
		if (chance(g, 50))
			return true;
		rq(&r, ZYDIS_MNEMONIC_POP);
		op_reg(&r, pick_reg(g, bits, 0));
		return emit(g, &r);
	}
	if (kind == 1) /* popf of a masked value */
		return emit_ri(g, ZYDIS_MNEMONIC_AND, &top, bits,
			       FZ_RFLAGS_COMPARED & (chance(g, 50) ? ~0ull : rnd(g))) &&
		       emit0(g, pop[w]);
	return emit0(g, simple[below(g, 7)]);
}

static bool gen_string(struct gen *g)
{
	/* Per operation: the b/w/d/q mnemonics, whether it uses RSI and RDI, its prefixes. */
	static const struct {
		ZydisMnemonic m[4];
		bool rsi, rdi, compares;
	} ops[] = {
		{ { ZYDIS_MNEMONIC_MOVSB, ZYDIS_MNEMONIC_MOVSW, ZYDIS_MNEMONIC_MOVSD,
		    ZYDIS_MNEMONIC_MOVSQ }, true, true, false },
		{ { ZYDIS_MNEMONIC_STOSB, ZYDIS_MNEMONIC_STOSW, ZYDIS_MNEMONIC_STOSD,
		    ZYDIS_MNEMONIC_STOSQ }, false, true, false },
		{ { ZYDIS_MNEMONIC_LODSB, ZYDIS_MNEMONIC_LODSW, ZYDIS_MNEMONIC_LODSD,
		    ZYDIS_MNEMONIC_LODSQ }, true, false, false },
		{ { ZYDIS_MNEMONIC_CMPSB, ZYDIS_MNEMONIC_CMPSW, ZYDIS_MNEMONIC_CMPSD,
		    ZYDIS_MNEMONIC_CMPSQ }, true, true, true },
		{ { ZYDIS_MNEMONIC_SCASB, ZYDIS_MNEMONIC_SCASW, ZYDIS_MNEMONIC_SCASD,
		    ZYDIS_MNEMONIC_SCASQ }, false, true, true },
	};
	unsigned k = below(g, 5), rep = below(g, 3);
	const unsigned span = FZ_SCRATCH_SIZE - 2 * STRING_MARGIN;
	const uint64_t base = fz_scratch_start(g->bits) + STRING_MARGIN;
	/* 16-bit code: SI, DI, CX, or ESI, EDI, ECX through 0x67; otherwise a mov to the 32-bit
	 * register, which in 64-bit code clears the upper half too */
	unsigned abits = g->bits == 16 && chance(g, 50) ? 16 : 32;
	ZydisEncoderOperand reg = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;

	reg.reg.value = reg_at(abits, FZ_RSI);
	if (ops[k].rsi && !emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, abits, base + below(g, span)))
		return false;
	reg.reg.value = reg_at(abits, FZ_RDI);
	if (ops[k].rdi && !emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, abits, base + below(g, span)))
		return false;
	reg.reg.value = reg_at(abits, FZ_RCX);
	if (rep && !emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, abits, below(g, STRING_COUNT_MAX + 1)))
		return false;
	rq(&r, ops[k].m[below(g, g->bits == 64 ? 4 : 3)]);
	if (g->bits == 16)
		r.address_size_hint = abits == 16 ? ZYDIS_ADDRESS_SIZE_HINT_16
						  : ZYDIS_ADDRESS_SIZE_HINT_32;
	if (rep)
		r.prefixes = !ops[k].compares ? ZYDIS_ATTRIB_HAS_REP
			     : rep == 1	      ? ZYDIS_ATTRIB_HAS_REPE
					      : ZYDIS_ATTRIB_HAS_REPNE;
	return emit(g, &r);
}

/* The system class: instructions a CPL-0 guest of twinvm may run without leaving the snippet's
 * world. Segment loads keep the scratch area where the code addresses it (16-bit: DS, ES, SS
 * only at FZ_SCRATCH_ADDR >> 4; FS and GS are free, no snippet uses them) or fault the same way
 * everywhere (a null DS then a memory access, an out-of-GDT selector); control register writes
 * toggle only bits that change nothing a snippet relies on and exist on every host; the ports
 * are ones nothing answers. */

#define CR0_TS (1u << 3)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PCE (1u << 8)
#define CR0_NW (1u << 29)

static const ZydisRegister data_sregs[] = { ZYDIS_REGISTER_DS, ZYDIS_REGISTER_ES,
					    ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS,
					    ZYDIS_REGISTER_SS };

/* mov sreg, r16 from a mov r32, imm just before it. */
static bool gen_sreg_load(struct gen *g)
{
	ZydisRegister sr = data_sregs[below(g, 5)];
	bool fs_gs = sr == ZYDIS_REGISTER_FS || sr == ZYDIS_REGISTER_GS;
	ZydisEncoderOperand reg = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	uint64_t sel;

	if (g->bits == 16)
		sel = fs_gs ? interesting(g, 16) : FZ_SCRATCH_ADDR >> 4;
	else if (sr == ZYDIS_REGISTER_SS)
		sel = TV_SEL_DATA;
	else if (chance(g, 80))
		sel = chance(g, 50) ? 0 : TV_SEL_DATA;
	else if (chance(g, 50))
		sel = TV_SEL_CODE32; /* execute/read: a valid data segment too */
	else /* past the fuzzer's GDT's limit (traps.h): #GP(selector) */
		sel = (FZ_GDT_ENTRIES + below(g, 0x2000 - FZ_GDT_ENTRIES)) << 3;
	reg.reg.value = pick_reg(g, 32, 0);
	if (!emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, 32, sel))
		return false;
	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, sr);
	op_reg(&r, reg_at(16, (unsigned)(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64,
									   reg.reg.value) -
					 ZYDIS_REGISTER_RAX)));
	return emit(g, &r);
}

/* mov r, sreg (r16, r32; r64 in 64-bit code). CS is left out: a 16-bit snippet's CS is where
 * its oracle put the code. */
static bool gen_sreg_read(struct gen *g)
{
	ZydisEncoderRequest r;

	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, pick_reg(g, g->bits == 64 && chance(g, 30) ? 64 : chance(g, 50) ? 32 : 16, 0));
	op_reg(&r, data_sregs[below(g, 5)]);
	return emit(g, &r);
}

/* The control register operand size: 64 in 64-bit code, 32 otherwise. */
static unsigned cr_bits(const struct gen *g)
{
	return g->bits == 64 ? 64 : 32;
}

/* mov r, crN: any of CR0, CR2, CR3, CR4. */
static bool gen_cr_read(struct gen *g)
{
	static const ZydisRegister crs[] = { ZYDIS_REGISTER_CR0, ZYDIS_REGISTER_CR2,
					     ZYDIS_REGISTER_CR3, ZYDIS_REGISTER_CR4 };
	ZydisEncoderRequest r;

	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, pick_reg(g, cr_bits(g), 0));
	op_reg(&r, crs[below(g, 4)]);
	return emit(g, &r);
}

/* mov r, crN; xor r, bit; mov crN, r for a bit that changes nothing a snippet does (no x87 or
 * SSE, no alignment check at CPL 0, no paging change) and that every host has: never PE, PG,
 * PAE, nor a CR3 write. */
static bool gen_cr_toggle(struct gen *g)
{
	static const struct {
		ZydisRegister cr;
		uint32_t bit;
	} bits[] = {
		{ ZYDIS_REGISTER_CR0, CR0_TS },	    { ZYDIS_REGISTER_CR0, TV_CR0_MP },
		{ ZYDIS_REGISTER_CR0, TV_CR0_NE },  { ZYDIS_REGISTER_CR0, TV_CR0_WP },
		{ ZYDIS_REGISTER_CR0, TV_CR0_AM },  { ZYDIS_REGISTER_CR4, CR4_TSD },
		{ ZYDIS_REGISTER_CR4, CR4_DE },	    { ZYDIS_REGISTER_CR4, CR4_PCE },
		{ ZYDIS_REGISTER_CR4, TV_CR4_OSFXSR }, { ZYDIS_REGISTER_CR4, TV_CR4_OSXMMEXCPT },
	};
	unsigned k = below(g, sizeof(bits) / sizeof(bits[0]));
	ZydisEncoderOperand reg = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;

	reg.reg.value = pick_reg(g, cr_bits(g), 0);
	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, reg.reg.value);
	op_reg(&r, bits[k].cr);
	if (!emit(g, &r) || !emit_ri(g, ZYDIS_MNEMONIC_XOR, &reg, cr_bits(g), bits[k].bit))
		return false;
	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, bits[k].cr);
	op_reg(&r, reg.reg.value);
	return emit(g, &r);
}

/* mov r, imm; mov cr2, r: CR2 only holds the last page fault's address. */
static bool gen_cr2_write(struct gen *g)
{
	ZydisRegister reg = pick_reg(g, cr_bits(g), 0);
	ZydisEncoderRequest r;

	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, reg);
	op_imm(&r, interesting(g, cr_bits(g)));
	if (!emit(g, &r))
		return false;
	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, ZYDIS_REGISTER_CR2);
	op_reg(&r, reg);
	return emit(g, &r);
}

/* The ports left alone: twinvm's hypercalls (core/machine/hypercalls.h) and the devices an engine might
 * model (PIC, PIT, keyboard controller and port B, CMOS, COM1, PCI configuration). Nothing
 * answers any other port in twinvm: writes are dropped, reads give all ones (core/machine/io.c). */
static const struct {
	uint16_t first, last;
} busy_ports[] = {
	{ 0x20, 0x21 },
	{ 0x40, 0x43 },
	{ 0x60, 0x64 },
	{ 0x70, 0x71 },
	{ 0xa0, 0xa1 },
	{ TV_HC_PRINT8BIT, TV_HC_PRINT8BIT },
	{ TV_HC_PRINT32BIT, TV_HC_PRINT32BIT },
	{ TV_HC_NUMEXITS, TV_HC_NUMEXITS },
	{ TV_HC_PRINTSTR, TV_HC_PRINTSTR },
	{ TV_HC_NUMEXITSBYTYPE, TV_HC_NUMEXITSBYTYPE },
	{ TV_HC_GVATOHVA, TV_HC_GVATOHVA },
	{ 0x3f8, 0x3ff },
	{ 0xcf8, 0xcff },
};

/* A port below limit that nothing answers. */
static unsigned free_port(struct gen *g, unsigned limit)
{
	for (;;) {
		unsigned p = below(g, limit);
		bool busy = false;

		for (unsigned i = 0; i < sizeof(busy_ports) / sizeof(busy_ports[0]); i++)
			busy |= p >= busy_ports[i].first && p <= busy_ports[i].last;
		if (!busy)
			return p;
	}
}

/* in or out of 1, 2 or 4 bytes on a free port, by imm8 or by DX from a mov just before. */
static bool gen_port(struct gen *g)
{
	static const ZydisRegister acc[] = { ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX,
					     ZYDIS_REGISTER_EAX };
	bool in = chance(g, 50);
	ZydisEncoderOperand port = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	ZydisRegister a = acc[below(g, 3)];

	if (chance(g, 50)) {
		port.reg.value = ZYDIS_REGISTER_EDX;
		if (!emit_ri(g, ZYDIS_MNEMONIC_MOV, &port, 32,
			     free_port(g, chance(g, 50) ? 0x100 : 0x10000)))
			return false;
		port.reg.value = ZYDIS_REGISTER_DX;
	} else {
		port.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
		port.imm.u = free_port(g, 0x100);
	}
	rq(&r, in ? ZYDIS_MNEMONIC_IN : ZYDIS_MNEMONIC_OUT);
	if (in)
		op_reg(&r, a);
	r.operands[r.operand_count++] = port;
	if (!in)
		op_reg(&r, a);
	return emit(g, &r);
}

static bool gen_system(struct gen *g)
{
	switch (below(g, 6)) {
	case 0: return gen_sreg_load(g);
	case 1: return gen_sreg_read(g);
	case 2: return gen_cr_read(g);
	case 3: return gen_cr_toggle(g);
	case 4: return gen_cr2_write(g);
	default: return gen_port(g);
	}
}

/* ---- The exceptions class (engine oracles only) ----
 * Each item is the setup a fault needs and the instruction that raises it, whatever the start
 * state, and ends the snippet (fz_generate stops after it): the engines then compare the vector,
 * the error code and the frame (compare.h). Twinvm's guests run at CPL 0, so the privileged
 * instructions do not fault and #AC cannot happen (it needs CPL 3); what is left, by width:
 *  - #DE (all): div/idiv by a zero register or memory operand, idiv of the smallest signed
 *    dividend by -1, div whose high half is not below the divisor;
 *  - #UD (all): ud2, ud1, syscall (EFER.SCE is clear), a move to CS, LOCK on an instruction that
 *    takes none; 64-bit code the one-byte opcodes it dropped (into, aaa, daa, pusha...), real
 *    mode ARPL, SLDT, STR and LAR (analyze.c takes these as instructions);
 *  - #BP and #DB (all): int3, int 3, int1; #OF (16, 32): into after an add that overflows;
 *    #BR (16, 32): bound with a value outside bounds stored just before;
 *  - #GP(0) (all): CR0.NW without CD, a reserved CR4 bit (64: CR0 and CR4 bits 63:32);
 *    64: a non-canonical address through a register or as an absolute one, and an access that
 *    crosses from canonical into non-canonical; 32: a memory access through a null DS, ES, FS or
 *    GS; 16: an access past a segment's 64 KiB limit (reads only: TCG does not check limits,
 *    and a write past one would land outside the scratch area);
 *  - #GP(selector), #NP(selector), #SS(selector) (32, 64): segment loads of the fuzzer's GDT's
 *    descriptors that cannot be taken as asked (traps.h), of selectors past its limit, of a data
 *    segment with RPL above its DPL, and of null into SS where that faults (always below 64
 *    bits; with RPL 3 in 64-bit code);
 *  - #SS(0): 64: a non-canonical address through RBP or RSP (push, pop, [rsp+disp]: long mode
 *    takes faults on IST1, so the frame does not need the snippet's stack); 16: through BP or
 *    EBP past SS's limit (reads);
 *  - #PF (64): reads, writes and read-modify-writes of addresses the identity map of the first
 *    4 GiB leaves out (above 4 GiB, the upper half), and a push there; CR2 compared. paged32
 *    maps all 4 GiB: it has no #PF form, as protected and real mode have none. */

/* mov reg, v with v as it is (a 64-bit register takes an imm64). */
static bool emit_mov_imm(struct gen *g, ZydisRegister reg, uint64_t v)
{
	ZydisEncoderRequest r;

	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, reg);
	op_imm(&r, v);
	return emit(g, &r);
}

/* Bytes the encoder does not make (an invalid encoding, analyze.c's invalid_at) onto the
 * snippet, as one instruction. */
static bool emit_raw(struct gen *g, const uint8_t *bytes, size_t n)
{
	struct fz_snippet *s = g->s;
	struct fz_taint t = g->t;
	struct fz_step st;

	if (s->ninsn >= FZ_INSN_MAX || s->len + n > FZ_CODE_MAX)
		return false;
	memcpy(s->code + s->len, bytes, n);
	if (fz_taint_step(&t, s->code + s->len, n, &st) != 0 || st.len != n)
		return false;
	g->t = t;
	s->off[s->ninsn++] = s->len;
	s->len = (uint16_t)(s->len + n);
	return true;
}

/* r encoded in the snippet's width into buf; its length, or 0. */
static size_t encode(const struct gen *g, const ZydisEncoderRequest *r, uint8_t *buf)
{
	ZydisEncoderRequest req = *r;
	ZyanUSize n = ZYDIS_MAX_INSTRUCTION_LENGTH;

	req.machine_mode = g->bits == 16   ? ZYDIS_MACHINE_MODE_REAL_16
			   : g->bits == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32
					   : ZYDIS_MACHINE_MODE_LONG_64;
	return ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, buf, &n)) ? n : 0;
}

/* The general register id (enum fz_gpr) of r. */
static unsigned gpr_id(ZydisRegister r)
{
	return (unsigned)(ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r) -
			  ZYDIS_REGISTER_RAX);
}

/* The smallest signed value of bits, zero-extended. */
static uint64_t int_min(unsigned bits)
{
	return 1ull << (bits - 1);
}

/* #DE: the three ways (the comment above). */
static bool exc_divide(struct gen *g)
{
	unsigned bits = pick_size(g, false), kind = below(g, 3);
	uint16_t avoid = (1u << FZ_RAX) | (1u << FZ_RDX);
	bool mem = chance(g, 40);
	ZydisEncoderOperand div = { 0 }, high = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	uint64_t d, h;

	rq(&r, kind == 1 || (kind == 0 && chance(g, 50)) ? ZYDIS_MNEMONIC_IDIV : ZYDIS_MNEMONIC_DIV);
	if (mem)
		op_mem_at(&r, ZYDIS_REGISTER_NONE, scratch_addr(g, bits / 8, false), bits / 8);
	else
		op_reg(&r, pick_reg(g, bits, avoid));
	div = r.operands[0];
	if (kind == 0) { /* a zero divisor */
		d = 0;
	} else if (kind == 1) { /* the smallest signed dividend, sign-extended, by -1 */
		d = ~0ull;
		if (!emit_mov_imm(g, reg_at(bits, FZ_RAX), int_min(bits)) ||
		    !emit0(g, sign_extend[bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3]))
			return false;
	} else { /* div with a high half at or above the divisor: the quotient does not fit */
		const unsigned limit = bits == 8 ? 0xff : 0xffff;

		d = 1 + below(g, limit);
		h = d + (chance(g, 50) ? 0 : below(g, limit + 1 - (unsigned)d));
		high.reg.value = bits == 8 ? ZYDIS_REGISTER_AH : reg_at(bits, FZ_RDX);
		if (!emit_mov_imm(g, high.reg.value, h))
			return false;
	}
	d &= bits == 64 ? ~0ull : (1ull << bits) - 1;
	if (mem ? !emit_ri(g, ZYDIS_MNEMONIC_MOV, &div, bits, d) : !emit_mov_imm(g, div.reg.value, d))
		return false;
	return emit(g, &r);
}

/* #UD (the comment above). */
static bool exc_undefined(struct gen *g)
{
	/* the one-byte opcodes 64-bit code dropped, and aam/aad with their imm8 */
	static const uint8_t dropped64[] = { 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27,
					     0x2f, 0x37, 0x3f, 0x60, 0x61, 0xce, 0xd4, 0xd5 };
	static const ZydisMnemonic alu[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR,
					     ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB,
					     ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_SUB,
					     ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_MOV };
	uint8_t b[ZYDIS_MAX_INSTRUCTION_LENGTH + 1];
	unsigned kind = below(g, 6), bits;
	ZydisEncoderRequest r;
	size_t n;

	switch (kind) {
	case 0:
		return emit0(g, ZYDIS_MNEMONIC_UD2);
	case 1:
		rq(&r, ZYDIS_MNEMONIC_UD1);
		op_reg(&r, pick_reg(g, 32, 0));
		op_reg(&r, pick_reg(g, 32, 0));
		return emit(g, &r);
	case 2:
		return emit0(g, ZYDIS_MNEMONIC_SYSCALL);
	case 3: /* mov cs, r16 */
		b[0] = 0x8e;
		b[1] = (uint8_t)(0xc8 | below(g, 8));
		return emit_raw(g, b, 2);
	case 4: /* lock on a register destination, or on mov */
		bits = pick_size(g, false);
		rq(&r, alu[below(g, 8)]);
		op_rm(g, &r, bits, r.mnemonic == ZYDIS_MNEMONIC_MOV, false);
		op_reg(&r, pick_reg(g, bits, 0));
		b[0] = 0xf0;
		n = encode(g, &r, b + 1);
		return n && emit_raw(g, b, n + 1);
	default:
		if (g->bits == 64) {
			b[0] = dropped64[below(g, sizeof(dropped64))];
			b[1] = (uint8_t)below(g, 256);
			return emit_raw(g, b, b[0] == 0xd4 || b[0] == 0xd5 ? 2 : 1);
		}
		if (g->bits == 16) { /* arpl, sldt, str, lar: register forms */
			static const uint8_t ops[4][2] = { { 0x63, 0 }, { 0x0f, 0x00 },
							   { 0x0f, 0x00 }, { 0x0f, 0x02 } };
			unsigned k = below(g, 4);

			b[0] = ops[k][0];
			b[1] = ops[k][1];
			n = k == 0 ? 1 : 2;
			b[n] = (uint8_t)(0xc0 | (k == 2 ? 0x08 : k == 1 ? 0 : below(g, 8) << 3) |
					 below(g, 8));
			return emit_raw(g, b, n + 1);
		}
		return emit0(g, ZYDIS_MNEMONIC_UD2);
	}
}

/* #BP, #DB and #OF: traps, RIP after the instruction. */
static bool exc_trap(struct gen *g)
{
	ZydisEncoderOperand o = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;

	switch (below(g, g->bits == 64 ? 3 : 4)) {
	case 0:
		return emit0(g, ZYDIS_MNEMONIC_INT3);
	case 1:
		rq(&r, ZYDIS_MNEMONIC_INT);
		op_imm(&r, 3);
		return emit(g, &r);
	case 2:
		return emit0(g, ZYDIS_MNEMONIC_INT1);
	default: /* into after an add or sub that overflows a byte */
		o.reg.value = pick_reg(g, 8, 0);
		if (chance(g, 50))
			return emit_mov_imm(g, o.reg.value, 0x7f) &&
			       emit_ri(g, ZYDIS_MNEMONIC_ADD, &o, 8, 1 + below(g, 0x80)) &&
			       emit0(g, ZYDIS_MNEMONIC_INTO);
		return emit_mov_imm(g, o.reg.value, 0x80) &&
		       emit_ri(g, ZYDIS_MNEMONIC_SUB, &o, 8, 1 + below(g, 0x7f)) &&
		       emit0(g, ZYDIS_MNEMONIC_INTO);
	}
}

/* #BR (16- and 32-bit code): bounds stored in the scratch area that leave the value out. */
static bool exc_bound(struct gen *g)
{
	unsigned bits = chance(g, 50) ? 16 : 32;
	uint64_t mask = (1ull << bits) - 1, v = interesting(g, bits), lo, hi;
	int64_t at = scratch_addr(g, bits / 4, true);
	ZydisEncoderOperand m = { .type = ZYDIS_OPERAND_TYPE_MEMORY };
	ZydisEncoderRequest r;
	ZydisRegister reg = pick_reg(g, bits, 0);

	if (v != (int_min(bits) - 1)) { /* not the largest signed: bounds above it */
		lo = (v + 1) & mask;
		hi = (lo + below(g, 0x100)) & mask;
		if ((int64_t)(hi << (64 - bits)) < (int64_t)(lo << (64 - bits)))
			hi = int_min(bits) - 1;
	} else { /* bounds below it */
		hi = (v - 1 - below(g, 0x100)) & mask;
		lo = int_min(bits);
	}
	m.mem.displacement = at;
	m.mem.size = (ZyanU16)(bits / 8);
	if (!emit_ri(g, ZYDIS_MNEMONIC_MOV, &m, bits, lo))
		return false;
	m.mem.displacement = at + bits / 8;
	if (!emit_ri(g, ZYDIS_MNEMONIC_MOV, &m, bits, hi) || !emit_mov_imm(g, reg, v))
		return false;
	rq(&r, ZYDIS_MNEMONIC_BOUND);
	op_reg(&r, reg);
	op_mem_at(&r, ZYDIS_REGISTER_NONE, at, bits / 4);
	return emit(g, &r);
}

/* #GP(0) from a control register write: CR0.NW without CD, or a reserved CR4 bit (in 64-bit
 * code also CR0's and CR4's upper halves). */
static bool exc_cr_write(struct gen *g)
{
	const unsigned bits = g->bits == 64 ? 64 : 32;
	bool cr0 = chance(g, 50);
	ZydisRegister reg = pick_reg(g, bits, 0), tmp;
	ZydisEncoderOperand o = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	uint64_t bit;

	if (cr0)
		bit = g->bits == 64 && chance(g, 40) ? 1ull << (32 + below(g, 32)) /* reserved */
						     : CR0_NW; /* with CD clear, as twinvm has it */
	else /* reserved: 29-31, and from 40 (32 is FRED's, on hosts that have it) */
		bit = g->bits == 64 && chance(g, 50) ? 1ull << (40 + below(g, 24))
						     : 1ull << (29 + below(g, 3));
	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, reg);
	op_reg(&r, cr0 ? ZYDIS_REGISTER_CR0 : ZYDIS_REGISTER_CR4);
	if (!emit(g, &r))
		return false;
	o.reg.value = reg;
	if (bits == 64 && bit >> 31) { /* no imm32 for it: through a second register */
		tmp = pick_reg(g, bits, (uint16_t)(1u << gpr_id(reg)));
		if (!emit_mov_imm(g, tmp, bit))
			return false;
		rq(&r, ZYDIS_MNEMONIC_OR);
		op_reg(&r, reg);
		op_reg(&r, tmp);
		if (!emit(g, &r))
			return false;
	} else if (!emit_ri(g, ZYDIS_MNEMONIC_OR, &o, bits, bit)) {
		return false;
	}
	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, cr0 ? ZYDIS_REGISTER_CR0 : ZYDIS_REGISTER_CR4);
	op_reg(&r, reg);
	return emit(g, &r);
}

/* A non-canonical address of 64-bit code (bits 63:47 not all equal). */
static uint64_t noncanonical(struct gen *g)
{
	switch (below(g, 4)) {
	case 0: return 1ull << 47;            /* the first */
	case 1: return 0xffff7fffffffffffull; /* the last */
	case 2: return 1ull << 63;
	default:
		for (;;) {
			uint64_t v = rnd(g), top = v >> 47;

			if (top != 0 && top != 0x1ffff)
				return v;
		}
	}
}

/* An address of 64-bit code no page table of twinvm's maps: above the first 4 GiB in the lower
 * half, or in the upper half; with room for 8 bytes in the same page. */
static uint64_t unmapped(struct gen *g)
{
	uint64_t v;

	switch (below(g, 4)) {
	case 0: v = 1ull << 32; break;
	case 1: v = (1ull << 32) + (rnd(g) & ((1ull << 47) - (1ull << 32) - 1)); break;
	case 2: v = 0xffff800000000000ull | rnd(g); break;
	default: v = chance(g, 50) ? 0x00007ffffffffff8ull : 0xfffffffffffffff8ull; break;
	}
	return v & ~7ull;
}

/* A memory access through base (holding an address set just before): a read, a write or a
 * read-modify-write of size bits. */
static bool access_through(struct gen *g, ZydisRegister base, unsigned bits, uint16_t avoid)
{
	static const ZydisMnemonic rmw[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_XOR,
					     ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_NOT };
	unsigned kind = below(g, 3);
	ZydisEncoderRequest r;
	ZydisMnemonic m = kind == 2 ? rmw[below(g, 4)] : ZYDIS_MNEMONIC_MOV;

	rq(&r, m);
	if (kind == 0)
		op_reg(&r, pick_reg(g, bits, avoid));
	op_mem_at(&r, base, 0, bits / 8);
	if (kind != 0 && m != ZYDIS_MNEMONIC_INC && m != ZYDIS_MNEMONIC_NOT)
		op_reg(&r, pick_reg(g, bits, avoid));
	return emit(g, &r);
}

/* #GP(0), #SS(0) and #PF from addresses (64-bit code). */
static bool exc_address64(struct gen *g)
{
	unsigned bits = pick_size(g, false), kind = below(g, 7);
	ZydisRegister base = pick_reg(g, 64, 1u << FZ_RBP);
	ZydisEncoderRequest r;
	uint64_t a;

	switch (kind) {
	case 0: /* non-canonical through a register other than RBP and RSP: #GP(0) */
		return emit_mov_imm(g, base, noncanonical(g)) &&
		       access_through(g, base, bits, 1u << gpr_id(base));
	case 1: /* non-canonical as an absolute address (moffs): #GP(0) */
		rq(&r, ZYDIS_MNEMONIC_MOV);
		if (chance(g, 50))
			op_reg(&r, reg_at(bits, FZ_RAX));
		op_mem_at(&r, ZYDIS_REGISTER_NONE, (int64_t)noncanonical(g), bits / 8);
		if (r.operand_count == 1)
			op_reg(&r, reg_at(bits, FZ_RAX));
		return emit(g, &r);
	case 2: /* crossing from canonical into non-canonical */
		bits = chance(g, 50) ? 64 : 32;
		a = (1ull << 47) - 1 - below(g, bits / 8 - 1);
		return emit_mov_imm(g, base, a) && access_through(g, base, bits, 1u << gpr_id(base));
	case 3: /* non-canonical through RBP: #SS(0) */
		return emit_mov_imm(g, ZYDIS_REGISTER_RBP, noncanonical(g)) &&
		       access_through(g, ZYDIS_REGISTER_RBP, bits, 1u << FZ_RBP);
	case 4: /* non-canonical RSP: push, pop, [rsp]: #SS(0) */
		if (!emit_mov_imm(g, ZYDIS_REGISTER_RSP, noncanonical(g)))
			return false;
		if (chance(g, 40))
			return access_through(g, ZYDIS_REGISTER_RSP, bits, 0);
		rq(&r, chance(g, 50) ? ZYDIS_MNEMONIC_PUSH : ZYDIS_MNEMONIC_POP);
		op_reg(&r, pick_reg(g, chance(g, 80) ? 64 : 16, 0));
		return emit(g, &r);
	case 5: /* not mapped: #PF, CR2 the address */
		return emit_mov_imm(g, base, unmapped(g)) &&
		       access_through(g, base, bits, 1u << gpr_id(base));
	default: /* a push where nothing is mapped: #PF (a write) */
		if (!emit_mov_imm(g, ZYDIS_REGISTER_RSP, unmapped(g) + 8))
			return false;
		rq(&r, ZYDIS_MNEMONIC_PUSH);
		op_reg(&r, pick_reg(g, 64, 0));
		return emit(g, &r);
	}
}

/* #GP(0) and #SS(0) past real mode's 64 KiB segment limits, reads only: a word or dword at the
 * last offsets, or a 32-bit address (0x67) above 0xffff through DS or through SS (EBP). */
static bool exc_limit16(struct gen *g)
{
	unsigned bits = chance(g, 50) ? 16 : 32;
	ZydisRegister base = chance(g, 30) ? ZYDIS_REGISTER_EBP : pick_reg(g, 32, 1u << FZ_RBP);
	ZydisEncoderRequest r;

	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, pick_reg(g, bits, 0));
	if (chance(g, 40)) {
		op_mem_at(&r, ZYDIS_REGISTER_NONE, (int64_t)(0x10000 - 1 - below(g, bits / 8 - 1)),
			  bits / 8);
		return emit(g, &r);
	}
	/* DS and SS are based at the scratch area: past 0xffff, still in guest RAM below 2 MiB */
	if (!emit_mov_imm(g, base, 0x10000 + below(g, 0x10000)))
		return false;
	op_mem_at(&r, base, 0, bits / 8);
	r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	return emit(g, &r);
}

/* mov sreg, r16 of sel, from a mov r32, imm just before. */
static bool load_sreg(struct gen *g, ZydisRegister sreg, uint64_t sel)
{
	ZydisRegister reg = pick_reg(g, 32, 0);
	ZydisEncoderRequest r;

	if (!emit_mov_imm(g, reg, sel))
		return false;
	rq(&r, ZYDIS_MNEMONIC_MOV);
	op_reg(&r, sreg);
	op_reg(&r, reg_at(16, gpr_id(reg)));
	return emit(g, &r);
}

/* #GP, #NP and #SS from segment loads (32- and 64-bit code; the comment above), and in 32-bit
 * code from the use of a null data segment. */
static bool exc_segment(struct gen *g)
{
	static const ZydisRegister data[] = { ZYDIS_REGISTER_DS, ZYDIS_REGISTER_ES,
					      ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS };
	static const ZydisInstructionAttributes override[] = {
		0, ZYDIS_ATTRIB_HAS_SEGMENT_ES, ZYDIS_ATTRIB_HAS_SEGMENT_FS, ZYDIS_ATTRIB_HAS_SEGMENT_GS
	};
	const unsigned rpl = below(g, 4);
	unsigned k = below(g, 4), bits;
	ZydisRegister ds = data[k];
	ZydisEncoderRequest r;

	switch (below(g, g->bits == 64 ? 8 : 9)) {
	case 0: return load_sreg(g, ds, FZ_SEL_NOT_PRESENT | rpl);                /* #NP */
	case 1: return load_sreg(g, ZYDIS_REGISTER_SS, FZ_SEL_NOT_PRESENT);       /* #SS */
	case 2: return load_sreg(g, ZYDIS_REGISTER_SS, FZ_SEL_READ_ONLY);         /* #GP */
	case 3: return load_sreg(g, chance(g, 20) ? ZYDIS_REGISTER_SS : ds, FZ_SEL_EXEC_ONLY | rpl);
	case 4: return load_sreg(g, ZYDIS_REGISTER_SS, FZ_SEL_DATA_DPL3 | (rpl & 2));
	case 5: /* a code segment into SS */
		return load_sreg(g, ZYDIS_REGISTER_SS, chance(g, 50) ? TV_SEL_CODE32 : TV_SEL_CODE64);
	case 6: /* past the GDT's limit, into any */
		return load_sreg(g, chance(g, 20) ? ZYDIS_REGISTER_SS : ds,
				 (FZ_GDT_ENTRIES + below(g, 0x2000 - FZ_GDT_ENTRIES)) << 3 | rpl);
	case 7: /* null into SS: RPL 3 in 64-bit code (RPL != CPL), any below it; or a data
		 * segment with RPL 3 above its DPL 0 */
		if (chance(g, 50))
			return load_sreg(g, ZYDIS_REGISTER_SS, g->bits == 64 ? 3 : rpl);
		return load_sreg(g, ds, TV_SEL_DATA | 3);
	default: /* 32-bit code: a read through a null data segment (absolute: [esp] is SS's) */
		if (!load_sreg(g, ds, rpl))
			return false;
		bits = pick_size(g, false);
		rq(&r, ZYDIS_MNEMONIC_MOV);
		op_reg(&r, pick_reg(g, bits, 0));
		op_mem_at(&r, ZYDIS_REGISTER_NONE, scratch_addr(g, bits / 8, false), bits / 8);
		r.prefixes = override[k];
		return emit(g, &r);
	}
}

static bool gen_exceptions(struct gen *g)
{
	bool ok;

	g->engine = true; /* refused bytes are the native oracle's business, not the engines' */
	switch (below(g, g->bits == 16 ? 6 : 7)) {
	case 0: ok = exc_divide(g); break;
	case 1: ok = exc_undefined(g); break;
	case 2: ok = exc_trap(g); break;
	case 3: ok = exc_cr_write(g); break;
	case 4: ok = g->bits == 64 ? exc_address64(g) : exc_bound(g); break;
	case 5: ok = g->bits == 16 ? exc_limit16(g) : exc_segment(g); break;
	default: ok = g->bits == 64 ? exc_address64(g) : exc_segment(g); break;
	}
	g->engine = false;
	g->ended = ok;
	return ok;
}

/* ---- Classes by name, and the snippet ---- */

/* Each class's function says what it generates. Below 64 bits: bmi in 16-bit code is adcx/adox
 * only (real mode does not recognise VEX: C4/C5 are LES/LDS there, SDM Vol. 2, 2.3; lzcnt, tzcnt
 * and popcnt are bit's), move has no movsxd, cdqe or cqo, xchg no cmpxchg16b. */
static const struct {
	const char *name;
	bool (*gen)(struct gen *g);
} classes[FZ_CLASS_COUNT] = {
	{ "alu", gen_alu },	{ "shift", gen_shift },	  { "muldiv", gen_muldiv },
	{ "bit", gen_bit },	{ "bmi", gen_bmi },	  { "move", gen_move },
	{ "xchg", gen_xchg },	{ "flags", gen_flags },	  { "string", gen_string },
	{ "system", gen_system }, { "exceptions", gen_exceptions },
};

const char *fz_class_name(uint32_t bit)
{
	for (unsigned i = 0; i < FZ_CLASS_COUNT; i++)
		if (bit == 1u << i)
			return classes[i].name;
	return NULL;
}

int fz_class_parse(const char *list, uint32_t *mask)
{
	uint32_t m = 0;
	const char *p = list;

	for (;;) {
		size_t n = strcspn(p, ",");
		uint32_t bit = 0;

		if (n == 3 && strncmp(p, "all", 3) == 0)
			bit = FZ_CLASS_ALL;
		else if (n == 4 && strncmp(p, "user", 4) == 0)
			bit = FZ_CLASS_USER;
		for (unsigned i = 0; !bit && i < FZ_CLASS_COUNT; i++)
			if (strlen(classes[i].name) == n && strncmp(p, classes[i].name, n) == 0)
				bit = 1u << i;
		if (!bit)
			return -EINVAL;
		m |= bit;
		if (!p[n])
			break;
		p += n + 1;
	}
	*mask = m;
	return 0;
}

/* Below 64 bits the registers the code has start with their upper halves 0 (16-bit code's
 * [esp+disp] and 0x67 string operands rely on it) and the others at 0. */
static void start_state(struct gen *g, struct fz_state *in)
{
	for (int i = 0; i < FZ_NGPR; i++)
		in->gpr[i] = g->bits == 64	  ? interesting(g, 64)
			     : i < fz_gprs(g->bits) ? interesting(g, 32)
						    : 0;
	in->gpr[FZ_RSP] = fz_scratch_start(g->bits) + STACK_OFF;
	in->rflags = (rnd(g) & FZ_RFLAGS_START_MASK) | FZ_RFLAGS_FIXED;
	in->rip = fz_code_start(g->bits);
	/* 4 KiB of splitmix64 through *rng cost more than the rest of a snippet: a local Weyl
	 * sequence seeded from it, each word mixed by one multiply off the dependency chain. */
	uint64_t x = rnd(g);

	for (unsigned i = 0; i < FZ_SCRATCH_SIZE; i += 8) {
		uint64_t v = (x += 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;

		v ^= v >> 31;
		memcpy(in->scratch + i, &v, 8);
	}
	/* and edge values in some places, at any alignment */
	for (unsigned i = 0; i < SCRATCH_EDGES; i++) {
		uint64_t v = interesting(g, 64);

		memcpy(in->scratch + below(g, FZ_SCRATCH_SIZE - 7), &v, 8);
	}
}

int fz_generate(uint64_t *rng, const struct fz_gen_opts *o, struct fz_snippet *s,
		struct fz_state *in)
{
	struct gen g = { .rng = rng, .bits = o->bits ? o->bits : 64, .s = s };
	unsigned enabled[FZ_CLASS_COUNT], nenabled = 0, items;

	if (o->min_len < 1 || o->min_len > o->max_len || o->max_len > FZ_INSN_MAX ||
	    !o->classes || (o->classes & ~FZ_CLASS_ALL) ||
	    ((o->classes & FZ_CLASS_ENGINE) && !o->system) ||
	    (g.bits != 16 && g.bits != 32 && g.bits != 64))
		return -EINVAL;
	for (unsigned i = 0; i < FZ_CLASS_COUNT; i++)
		if (o->classes & (1u << i))
			enabled[nenabled++] = i;
	memset(s, 0, sizeof(*s));
	s->bits = (uint8_t)g.bits;
	fz_taint_init(&g.t, g.bits);
	items = o->min_len + below(&g, o->max_len - o->min_len + 1);
	for (unsigned item = 0; item < items && s->ninsn < FZ_INSN_MAX && !g.ended; item++) {
		struct fz_taint t = g.t;
		uint16_t len = s->len;
		uint8_t ninsn = s->ninsn;
		bool ok = false;

		for (int try = 0; try < TRIES && !ok; try++) {
			g.read_undefined = false;
			ok = classes[enabled[below(&g, nenabled)]].gen(&g) && fz_taint_can_end(&g.t) &&
			     (!g.read_undefined || try >= TRIES_CLEAN);
			if (!ok) {
				g.t = t;
				s->len = len;
				s->ninsn = ninsn;
				g.ended = false;
			}
		}
		if (!ok)
			break; /* no room left for any item */
	}
	/* What rolled-back items left past the end is cleared: snippets compare as bytes. */
	s->off[s->ninsn] = s->len;
	memset(&s->off[s->ninsn + 1], 0, sizeof(s->off) - (s->ninsn + 1u) * sizeof(s->off[0]));
	memset(s->code + s->len, 0, FZ_CODE_MAX - s->len);
	s->rflags_undefined = g.t.flags & FZ_RFLAGS_COMPARED;
	s->gpr_undefined = g.t.gpr;
	s->system = g.t.system;
	start_state(&g, in);
	return 0;
}
