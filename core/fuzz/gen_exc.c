/* The exceptions class of the generator (engine oracles only).
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
#include "gen_parts.h"

#include <string.h>

#include "layout.h"
#include "traps.h"

#define CR0_NW (1u << 29)

/* mov reg, v with v as it is (a 64-bit register takes an imm64). */
static bool emit_mov_imm(struct gen *g, ZydisRegister reg, uint64_t v)
{
	ZydisEncoderRequest r;

	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, reg);
	fzg_op_imm(&r, v);
	return fzg_emit(g, &r);
}

/* Bytes the encoder does not make (an invalid encoding, decode.c's fz_invalid_at) onto the
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
	unsigned bits = fzg_pick_size(g, false), kind = fzg_below(g, 3);
	uint16_t avoid = (1u << FZ_RAX) | (1u << FZ_RDX);
	bool mem = fzg_chance(g, 40);
	ZydisEncoderOperand div = { 0 }, high = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	uint64_t d, h;

	fzg_rq(&r, kind == 1 || (kind == 0 && fzg_chance(g, 50)) ? ZYDIS_MNEMONIC_IDIV
								 : ZYDIS_MNEMONIC_DIV);
	if (mem)
		fzg_op_mem_at(&r, ZYDIS_REGISTER_NONE, fzg_scratch_addr(g, bits / 8, false),
			      bits / 8);
	else
		fzg_op_reg(&r, fzg_pick_reg(g, bits, avoid));
	div = r.operands[0];
	if (kind == 0) { /* a zero divisor */
		d = 0;
	} else if (kind == 1) { /* the smallest signed dividend, sign-extended, by -1 */
		d = ~0ull;
		if (!emit_mov_imm(g, fzg_reg_at(bits, FZ_RAX), int_min(bits)) ||
		    !fzg_emit0(g, fzg_sign_extend(bits)))
			return false;
	} else { /* div with a high half at or above the divisor: the quotient does not fit */
		const unsigned limit = bits == 8 ? 0xff : 0xffff;

		d = 1 + fzg_below(g, limit);
		h = d + (fzg_chance(g, 50) ? 0 : fzg_below(g, limit + 1 - (unsigned)d));
		high.reg.value = bits == 8 ? ZYDIS_REGISTER_AH : fzg_reg_at(bits, FZ_RDX);
		if (!emit_mov_imm(g, high.reg.value, h))
			return false;
	}
	d &= bits == 64 ? ~0ull : (1ull << bits) - 1;
	if (mem ? !fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &div, bits, d)
		: !emit_mov_imm(g, div.reg.value, d))
		return false;
	return fzg_emit(g, &r);
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
	unsigned kind = fzg_below(g, 6), bits;
	ZydisEncoderRequest r;
	size_t n;

	switch (kind) {
	case 0:
		return fzg_emit0(g, ZYDIS_MNEMONIC_UD2);
	case 1:
		fzg_rq(&r, ZYDIS_MNEMONIC_UD1);
		fzg_op_reg(&r, fzg_pick_reg(g, 32, 0));
		fzg_op_reg(&r, fzg_pick_reg(g, 32, 0));
		return fzg_emit(g, &r);
	case 2:
		return fzg_emit0(g, ZYDIS_MNEMONIC_SYSCALL);
	case 3: /* mov cs, r16 */
		b[0] = 0x8e;
		b[1] = (uint8_t)(0xc8 | fzg_below(g, 8));
		return emit_raw(g, b, 2);
	case 4: /* lock on a register destination, or on mov */
		bits = fzg_pick_size(g, false);
		fzg_rq(&r, alu[fzg_below(g, 8)]);
		fzg_op_rm(g, &r, bits, r.mnemonic == ZYDIS_MNEMONIC_MOV, false);
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		b[0] = 0xf0;
		n = encode(g, &r, b + 1);
		return n && emit_raw(g, b, n + 1);
	default:
		if (g->bits == 64) {
			b[0] = dropped64[fzg_below(g, sizeof(dropped64))];
			b[1] = (uint8_t)fzg_below(g, 256);
			return emit_raw(g, b, b[0] == 0xd4 || b[0] == 0xd5 ? 2 : 1);
		}
		if (g->bits == 16) { /* arpl, sldt, str, lar: register forms */
			static const uint8_t ops[4][2] = { { 0x63, 0 }, { 0x0f, 0x00 },
							   { 0x0f, 0x00 }, { 0x0f, 0x02 } };
			unsigned k = fzg_below(g, 4);

			b[0] = ops[k][0];
			b[1] = ops[k][1];
			n = k == 0 ? 1 : 2;
			b[n] = (uint8_t)(0xc0 |
					 (k == 2   ? 0x08
					  : k == 1 ? 0
						   : fzg_below(g, 8) << 3) |
					 fzg_below(g, 8));
			return emit_raw(g, b, n + 1);
		}
		return fzg_emit0(g, ZYDIS_MNEMONIC_UD2);
	}
}

/* #BP, #DB and #OF: traps, RIP after the instruction. */
static bool exc_trap(struct gen *g)
{
	ZydisEncoderOperand o = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;

	switch (fzg_below(g, g->bits == 64 ? 3 : 4)) {
	case 0:
		return fzg_emit0(g, ZYDIS_MNEMONIC_INT3);
	case 1:
		fzg_rq(&r, ZYDIS_MNEMONIC_INT);
		fzg_op_imm(&r, 3);
		return fzg_emit(g, &r);
	case 2:
		return fzg_emit0(g, ZYDIS_MNEMONIC_INT1);
	default: /* into after an add or sub that overflows a byte */
		o.reg.value = fzg_pick_reg(g, 8, 0);
		if (fzg_chance(g, 50))
			return emit_mov_imm(g, o.reg.value, 0x7f) &&
			       fzg_emit_ri(g, ZYDIS_MNEMONIC_ADD, &o, 8, 1 + fzg_below(g, 0x80)) &&
			       fzg_emit0(g, ZYDIS_MNEMONIC_INTO);
		return emit_mov_imm(g, o.reg.value, 0x80) &&
		       fzg_emit_ri(g, ZYDIS_MNEMONIC_SUB, &o, 8, 1 + fzg_below(g, 0x7f)) &&
		       fzg_emit0(g, ZYDIS_MNEMONIC_INTO);
	}
}

/* #BR (16- and 32-bit code): bounds stored in the scratch area that leave the value out. */
static bool exc_bound(struct gen *g)
{
	unsigned bits = fzg_chance(g, 50) ? 16 : 32;
	uint64_t mask = (1ull << bits) - 1, v = fzg_interesting(g, bits), lo, hi;
	int64_t at = fzg_scratch_addr(g, bits / 4, true);
	ZydisEncoderOperand m = { .type = ZYDIS_OPERAND_TYPE_MEMORY };
	ZydisEncoderRequest r;
	ZydisRegister reg = fzg_pick_reg(g, bits, 0);

	if (v != (int_min(bits) - 1)) { /* not the largest signed: bounds above it */
		lo = (v + 1) & mask;
		hi = (lo + fzg_below(g, 0x100)) & mask;
		if ((int64_t)(hi << (64 - bits)) < (int64_t)(lo << (64 - bits)))
			hi = int_min(bits) - 1;
	} else { /* bounds below it */
		hi = (v - 1 - fzg_below(g, 0x100)) & mask;
		lo = int_min(bits);
	}
	m.mem.displacement = at;
	m.mem.size = (ZyanU16)(bits / 8);
	if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &m, bits, lo))
		return false;
	m.mem.displacement = at + bits / 8;
	if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &m, bits, hi) || !emit_mov_imm(g, reg, v))
		return false;
	fzg_rq(&r, ZYDIS_MNEMONIC_BOUND);
	fzg_op_reg(&r, reg);
	fzg_op_mem_at(&r, ZYDIS_REGISTER_NONE, at, bits / 4);
	return fzg_emit(g, &r);
}

/* #GP(0) from a control register write: CR0.NW without CD, or a reserved CR4 bit (in 64-bit
 * code also CR0's and CR4's upper halves). */
static bool exc_cr_write(struct gen *g)
{
	const unsigned bits = g->bits == 64 ? 64 : 32;
	bool cr0 = fzg_chance(g, 50);
	ZydisRegister reg = fzg_pick_reg(g, bits, 0), tmp;
	ZydisEncoderOperand o = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	uint64_t bit;

	if (cr0)
		bit = g->bits == 64 && fzg_chance(g, 40)
			      ? 1ull << (32 + fzg_below(g, 32)) /* reserved */
			      : CR0_NW; /* with CD clear, as twinvm has it */
	else /* reserved: 29-31, and from 40 (32 is FRED's, on hosts that have it) */
		bit = g->bits == 64 && fzg_chance(g, 50) ? 1ull << (40 + fzg_below(g, 24))
						     : 1ull << (29 + fzg_below(g, 3));
	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, reg);
	fzg_op_reg(&r, cr0 ? ZYDIS_REGISTER_CR0 : ZYDIS_REGISTER_CR4);
	if (!fzg_emit(g, &r))
		return false;
	o.reg.value = reg;
	if (bits == 64 && bit >> 31) { /* no imm32 for it: through a second register */
		tmp = fzg_pick_reg(g, bits, (uint16_t)(1u << gpr_id(reg)));
		if (!emit_mov_imm(g, tmp, bit))
			return false;
		fzg_rq(&r, ZYDIS_MNEMONIC_OR);
		fzg_op_reg(&r, reg);
		fzg_op_reg(&r, tmp);
		if (!fzg_emit(g, &r))
			return false;
	} else if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_OR, &o, bits, bit)) {
		return false;
	}
	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, cr0 ? ZYDIS_REGISTER_CR0 : ZYDIS_REGISTER_CR4);
	fzg_op_reg(&r, reg);
	return fzg_emit(g, &r);
}

/* A non-canonical address of 64-bit code (bits 63:47 not all equal). */
static uint64_t noncanonical(struct gen *g)
{
	switch (fzg_below(g, 4)) {
	case 0: return 1ull << 47;            /* the first */
	case 1: return 0xffff7fffffffffffull; /* the last */
	case 2: return 1ull << 63;
	default:
		for (;;) {
			uint64_t v = fzg_rnd(g), top = v >> 47;

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

	switch (fzg_below(g, 4)) {
	case 0: v = 1ull << 32; break;
	case 1: v = (1ull << 32) + (fzg_rnd(g) & ((1ull << 47) - (1ull << 32) - 1)); break;
	case 2: v = 0xffff800000000000ull | fzg_rnd(g); break;
	default: v = fzg_chance(g, 50) ? 0x00007ffffffffff8ull : 0xfffffffffffffff8ull; break;
	}
	return v & ~7ull;
}

/* A memory access through base (holding an address set just before): a read, a write or a
 * read-modify-write of size bits. */
static bool access_through(struct gen *g, ZydisRegister base, unsigned bits, uint16_t avoid)
{
	static const ZydisMnemonic rmw[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_XOR,
					     ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_NOT };
	unsigned kind = fzg_below(g, 3);
	ZydisEncoderRequest r;
	ZydisMnemonic m = kind == 2 ? rmw[fzg_below(g, 4)] : ZYDIS_MNEMONIC_MOV;

	fzg_rq(&r, m);
	if (kind == 0)
		fzg_op_reg(&r, fzg_pick_reg(g, bits, avoid));
	fzg_op_mem_at(&r, base, 0, bits / 8);
	if (kind != 0 && m != ZYDIS_MNEMONIC_INC && m != ZYDIS_MNEMONIC_NOT)
		fzg_op_reg(&r, fzg_pick_reg(g, bits, avoid));
	return fzg_emit(g, &r);
}

/* #GP(0), #SS(0) and #PF from addresses (64-bit code). */
static bool exc_address64(struct gen *g)
{
	unsigned bits = fzg_pick_size(g, false), kind = fzg_below(g, 7);
	ZydisRegister base = fzg_pick_reg(g, 64, 1u << FZ_RBP);
	ZydisEncoderRequest r;
	uint64_t a;

	switch (kind) {
	case 0: /* non-canonical through a register other than RBP and RSP: #GP(0) */
		return emit_mov_imm(g, base, noncanonical(g)) &&
		       access_through(g, base, bits, 1u << gpr_id(base));
	case 1: /* non-canonical as an absolute address (moffs): #GP(0) */
		fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
		if (fzg_chance(g, 50))
			fzg_op_reg(&r, fzg_reg_at(bits, FZ_RAX));
		fzg_op_mem_at(&r, ZYDIS_REGISTER_NONE, (int64_t)noncanonical(g), bits / 8);
		if (r.operand_count == 1)
			fzg_op_reg(&r, fzg_reg_at(bits, FZ_RAX));
		return fzg_emit(g, &r);
	case 2: /* crossing from canonical into non-canonical */
		bits = fzg_chance(g, 50) ? 64 : 32;
		a = (1ull << 47) - 1 - fzg_below(g, bits / 8 - 1);
		return emit_mov_imm(g, base, a) &&
		       access_through(g, base, bits, 1u << gpr_id(base));
	case 3: /* non-canonical through RBP: #SS(0) */
		return emit_mov_imm(g, ZYDIS_REGISTER_RBP, noncanonical(g)) &&
		       access_through(g, ZYDIS_REGISTER_RBP, bits, 1u << FZ_RBP);
	case 4: /* non-canonical RSP: push, pop, [rsp]: #SS(0) */
		if (!emit_mov_imm(g, ZYDIS_REGISTER_RSP, noncanonical(g)))
			return false;
		if (fzg_chance(g, 40))
			return access_through(g, ZYDIS_REGISTER_RSP, bits, 0);
		fzg_rq(&r, fzg_chance(g, 50) ? ZYDIS_MNEMONIC_PUSH : ZYDIS_MNEMONIC_POP);
		fzg_op_reg(&r, fzg_pick_reg(g, fzg_chance(g, 80) ? 64 : 16, 0));
		return fzg_emit(g, &r);
	case 5: /* not mapped: #PF, CR2 the address */
		return emit_mov_imm(g, base, unmapped(g)) &&
		       access_through(g, base, bits, 1u << gpr_id(base));
	default: /* a push where nothing is mapped: #PF (a write) */
		if (!emit_mov_imm(g, ZYDIS_REGISTER_RSP, unmapped(g) + 8))
			return false;
		fzg_rq(&r, ZYDIS_MNEMONIC_PUSH);
		fzg_op_reg(&r, fzg_pick_reg(g, 64, 0));
		return fzg_emit(g, &r);
	}
}

/* #GP(0) and #SS(0) past real mode's 64 KiB segment limits, reads only: a word or dword at the
 * last offsets, or a 32-bit address (0x67) above 0xffff through DS or through SS (EBP). */
static bool exc_limit16(struct gen *g)
{
	unsigned bits = fzg_chance(g, 50) ? 16 : 32;
	ZydisRegister base =
		fzg_chance(g, 30) ? ZYDIS_REGISTER_EBP : fzg_pick_reg(g, 32, 1u << FZ_RBP);
	ZydisEncoderRequest r;

	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
	if (fzg_chance(g, 40)) {
		fzg_op_mem_at(&r, ZYDIS_REGISTER_NONE,
			      (int64_t)(0x10000 - 1 - fzg_below(g, bits / 8 - 1)), bits / 8);
		return fzg_emit(g, &r);
	}
	/* DS and SS are based at the scratch area: past 0xffff, still in guest RAM below 2 MiB */
	if (!emit_mov_imm(g, base, 0x10000 + fzg_below(g, 0x10000)))
		return false;
	fzg_op_mem_at(&r, base, 0, bits / 8);
	r.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
	return fzg_emit(g, &r);
}

/* mov sreg, r16 of sel, from a mov r32, imm just before. */
static bool load_sreg(struct gen *g, ZydisRegister sreg, uint64_t sel)
{
	ZydisRegister reg = fzg_pick_reg(g, 32, 0);
	ZydisEncoderRequest r;

	if (!emit_mov_imm(g, reg, sel))
		return false;
	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, sreg);
	fzg_op_reg(&r, fzg_reg_at(16, gpr_id(reg)));
	return fzg_emit(g, &r);
}

/* #GP, #NP and #SS from segment loads (32- and 64-bit code; the comment above), and in 32-bit
 * code from the use of a null data segment. */
static bool exc_segment(struct gen *g)
{
	static const ZydisRegister data[] = { ZYDIS_REGISTER_DS, ZYDIS_REGISTER_ES,
					      ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS };
	static const ZydisInstructionAttributes override[] = {0, ZYDIS_ATTRIB_HAS_SEGMENT_ES,
							      ZYDIS_ATTRIB_HAS_SEGMENT_FS,
							      ZYDIS_ATTRIB_HAS_SEGMENT_GS};
	const unsigned rpl = fzg_below(g, 4);
	unsigned k = fzg_below(g, 4), bits;
	ZydisRegister ds = data[k];
	ZydisEncoderRequest r;

	switch (fzg_below(g, g->bits == 64 ? 8 : 9)) {
	case 0: return load_sreg(g, ds, FZ_SEL_NOT_PRESENT | rpl);                /* #NP */
	case 1: return load_sreg(g, ZYDIS_REGISTER_SS, FZ_SEL_NOT_PRESENT);       /* #SS */
	case 2: return load_sreg(g, ZYDIS_REGISTER_SS, FZ_SEL_READ_ONLY);         /* #GP */
	case 3:
		return load_sreg(g, fzg_chance(g, 20) ? ZYDIS_REGISTER_SS : ds,
				 FZ_SEL_EXEC_ONLY | rpl);
	case 4: return load_sreg(g, ZYDIS_REGISTER_SS, FZ_SEL_DATA_DPL3 | (rpl & 2));
	case 5: /* a code segment into SS */
		return load_sreg(g, ZYDIS_REGISTER_SS,
				 fzg_chance(g, 50) ? TV_SEL_CODE32 : TV_SEL_CODE64);
	case 6: /* past the GDT's limit, into any */
		return load_sreg(g, fzg_chance(g, 20) ? ZYDIS_REGISTER_SS : ds,
				 (FZ_GDT_ENTRIES + fzg_below(g, 0x2000 - FZ_GDT_ENTRIES)) << 3 |
					 rpl);
	case 7: /* null into SS: RPL 3 in 64-bit code (RPL != CPL), any below it; or a data
		 * segment with RPL 3 above its DPL 0 */
		if (fzg_chance(g, 50))
			return load_sreg(g, ZYDIS_REGISTER_SS, g->bits == 64 ? 3 : rpl);
		return load_sreg(g, ds, TV_SEL_DATA | 3);
	default: /* 32-bit code: a read through a null data segment (absolute: [esp] is SS's) */
		if (!load_sreg(g, ds, rpl))
			return false;
		bits = fzg_pick_size(g, false);
		fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		fzg_op_mem_at(&r, ZYDIS_REGISTER_NONE, fzg_scratch_addr(g, bits / 8, false),
			      bits / 8);
		r.prefixes = override[k];
		return fzg_emit(g, &r);
	}
}

bool fzg_exceptions(struct gen *g)
{
	bool ok;

	g->engine = true; /* refused bytes are the native oracle's business, not the engines' */
	switch (fzg_below(g, g->bits == 16 ? 6 : 7)) {
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
