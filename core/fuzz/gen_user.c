/* The user classes of the generator (gen.c's header comment gives their safety rules): alu,
 * shift, muldiv, bit, bmi, move, xchg, flags and string. Every one runs on the native oracle. */
#include "gen_parts.h"

#define STRING_MARGIN 0x100u
#define STRING_COUNT_MAX 16u

bool fzg_alu(struct gen *g)
{
	static const ZydisMnemonic two[] = {
		ZYDIS_MNEMONIC_ADD,  ZYDIS_MNEMONIC_OR,	 ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB,
		ZYDIS_MNEMONIC_AND,  ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP,
		ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_MOV,
	};
	static const ZydisMnemonic one[] = { ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_DEC,
					     ZYDIS_MNEMONIC_NEG, ZYDIS_MNEMONIC_NOT };
	unsigned bits = fzg_pick_size(g, false), form = fzg_below(g, 6);
	ZydisEncoderRequest r;
	ZydisMnemonic m;
	bool lock;

	if (form == 5) { /* one operand */
		fzg_rq(&r, one[fzg_below(g, 4)]);
		lock = fzg_chance(g, 50);
		fzg_op_rm(g, &r, bits, lock || fzg_chance(g, 40), lock);
	} else {
		m = two[fzg_below(g, 10)];
		fzg_rq(&r, m);
		lock = (form == 2 || form == 4) && m != ZYDIS_MNEMONIC_CMP &&
		       m != ZYDIS_MNEMONIC_TEST && m != ZYDIS_MNEMONIC_MOV && fzg_chance(g, 30);
		if (form == 0 || form == 1 || form == 3)
			fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		else
			fzg_op_mem(g, &r, bits / 8, lock);
		if (form == 0 || form == 2)
			fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		else if (form == 1)
			fzg_op_mem(g, &r, bits / 8, false);
		else
			fzg_op_imm_for(&r, bits, fzg_interesting(g, bits == 64 ? 32 : bits));
	}
	if (lock)
		r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
	return fzg_emit(g, &r);
}

/* A shift count worth trying at an operand size. */
static uint64_t shift_count(struct gen *g, unsigned bits)
{
	const uint64_t counts[] = { 0, 1, 2, bits - 1, bits, bits + 1, 31, 32, 63, 64 };

	return fzg_chance(g, 70) ? counts[fzg_below(g, 10)] : fzg_below(g, 256);
}

bool fzg_shift(struct gen *g)
{
	static const ZydisMnemonic shifts[] = {
		ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_RCL, ZYDIS_MNEMONIC_RCR,
		ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR,
	};
	bool dbl = fzg_chance(g, 25);
	unsigned bits = fzg_pick_size(g, dbl), count = fzg_below(g, 3);
	ZydisEncoderRequest r;

	fzg_rq(&r, dbl ? (fzg_chance(g, 50) ? ZYDIS_MNEMONIC_SHLD : ZYDIS_MNEMONIC_SHRD)
		   : shifts[fzg_below(g, 7)]);
	fzg_op_rm(g, &r, bits, fzg_chance(g, 40), false);
	if (dbl)
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
	if (count == 0)
		fzg_op_imm(&r, shift_count(g, bits) & 0xff);
	else if (count == 1)
		fzg_op_imm(&r, 1);
	else
		fzg_op_reg(&r, ZYDIS_REGISTER_CL);
	return fzg_emit(g, &r);
}

/* div/idiv behind their guards (the header comment). */
static bool gen_divide(struct gen *g, bool sign)
{
	unsigned bits = fzg_pick_size(g, false), k;
	uint16_t avoid = (1u << FZ_RAX) | (1u << FZ_RDX);
	ZydisEncoderRequest r;
	ZydisEncoderOperand div, high = { 0 };

	fzg_rq(&r, ZYDIS_MNEMONIC_DIV);
	fzg_op_rm(g, &r, bits, fzg_chance(g, 40), false);
	if (r.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER)
		r.operands[0].reg.value = fzg_pick_reg(g, bits, avoid);
	div = r.operands[0];
	if (sign) {
		k = 1 + fzg_below(g, bits == 64 ? 30 : bits - 2);
		if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_AND, &div, bits, (uint64_t)-2) ||
		    !fzg_emit_ri(g, ZYDIS_MNEMONIC_OR, &div, bits, 1ull << k) ||
		    !fzg_emit0(g, fzg_sign_extend(bits)))
			return false;
	} else {
		k = fzg_below(g, bits == 64 ? 32 : bits);
		high.type = ZYDIS_OPERAND_TYPE_REGISTER;
		high.reg.value = bits == 8 ? ZYDIS_REGISTER_AH : fzg_reg_at(bits, FZ_RDX);
		if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_AND, &high, bits, (1ull << k) - 1) ||
		    !fzg_emit_ri(g, ZYDIS_MNEMONIC_OR, &div, bits, 1ull << k))
			return false;
	}
	r.mnemonic = sign ? ZYDIS_MNEMONIC_IDIV : ZYDIS_MNEMONIC_DIV;
	return fzg_emit(g, &r);
}

bool fzg_muldiv(struct gen *g)
{
	unsigned kind = fzg_below(g, 6), bits = fzg_pick_size(g, kind == 2 || kind == 3);
	ZydisEncoderRequest r;

	if (kind >= 4)
		return gen_divide(g, kind == 5);
	fzg_rq(&r, kind == 0 ? ZYDIS_MNEMONIC_MUL : ZYDIS_MNEMONIC_IMUL);
	if (kind >= 2)
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
	fzg_op_rm(g, &r, bits, fzg_chance(g, 40), false);
	if (kind == 3)
		fzg_op_imm_for(&r, bits,
			       fzg_interesting(g, fzg_chance(g, 50) ? 8
						  : bits == 64	    ? 32
								    : bits));
	return fzg_emit(g, &r);
}

bool fzg_bit(struct gen *g)
{
	static const ZydisMnemonic bt[] = { ZYDIS_MNEMONIC_BT, ZYDIS_MNEMONIC_BTS,
					    ZYDIS_MNEMONIC_BTR, ZYDIS_MNEMONIC_BTC };
	static const ZydisMnemonic count[] = { ZYDIS_MNEMONIC_LZCNT, ZYDIS_MNEMONIC_TZCNT,
					       ZYDIS_MNEMONIC_POPCNT };
	unsigned kind = fzg_below(g, 3), bits = fzg_pick_size(g, true);
	bool mem = fzg_chance(g, 40);
	ZydisEncoderRequest r;

	if (kind == 0) { /* bt*: a register bit offset only on a register (see the header) */
		ZydisMnemonic m = bt[fzg_below(g, 4)];
		bool lock = mem && m != ZYDIS_MNEMONIC_BT && fzg_chance(g, 30);

		fzg_rq(&r, m);
		fzg_op_rm(g, &r, bits, mem, lock);
		if (!mem && fzg_chance(g, 50))
			fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		else
			fzg_op_imm(&r, fzg_below(g, 256));
		if (lock)
			r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
		return fzg_emit(g, &r);
	}
	if (kind == 1) { /* bsf/bsr, guarded to a non-zero source more often than not */
		fzg_rq(&r, fzg_chance(g, 50) ? ZYDIS_MNEMONIC_BSF : ZYDIS_MNEMONIC_BSR);
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		fzg_op_rm(g, &r, bits, mem, false);
		if (fzg_chance(g, 60)) {
			if (mem) /* the analysis knows absolute operands only */
				r.operands[1].mem.base = ZYDIS_REGISTER_NONE,
				r.operands[1].mem.displacement =
					fzg_scratch_addr(g, bits / 8, false);
			if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_OR, &r.operands[1], bits,
				     1ull << fzg_below(g, bits == 64 ? 31 : bits)))
				return false;
		}
		return fzg_emit(g, &r);
	}
	fzg_rq(&r, count[fzg_below(g, 3)]);
	fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
	fzg_op_rm(g, &r, bits, mem, false);
	return fzg_emit(g, &r);
}

bool fzg_bmi(struct gen *g)
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
	unsigned k = g->bits == 16 ? n - 2 + fzg_below(g, 2) : fzg_below(g, n);
	unsigned bits = fzg_chance(g, 50) || g->bits < 64 ? 32 : 64;
	ZydisEncoderRequest r;

	fzg_rq(&r, ops[k].m);
	for (const char *p = ops[k].shape; *p; p++) {
		if (*p == 's')
			fzg_op_rm(g, &r, bits, fzg_chance(g, 40), false);
		else if (*p == 'i')
			fzg_op_imm(&r, fzg_below(g, 256));
		else
			fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
	}
	return fzg_emit(g, &r);
}

/* lea in the code's address size, or now and then the other one (0x67): 32-bit in 64-bit code,
 * 16-bit ([bx|bp + si|di + disp16]) in 32-bit code, 32-bit in 16-bit code. */
static bool gen_lea(struct gen *g, ZydisEncoderRequest *r)
{
	bool other = fzg_chance(g, 25);
	unsigned abits = g->bits == 64 ? (other ? 32 : 64)
			 : other       ? (g->bits == 32 ? 16 : 32)
				       : g->bits;
	ZydisEncoderOperand *o;

	fzg_rq(r, ZYDIS_MNEMONIC_LEA);
	fzg_op_reg(r, fzg_pick_reg(g, fzg_pick_size(g, true), 0));
	o = &r->operands[r->operand_count++];
	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	if (abits == 16) {
		o->mem.base = fzg_chance(g, 80)
				      ? (fzg_chance(g, 50) ? ZYDIS_REGISTER_BX : ZYDIS_REGISTER_BP)
				      : ZYDIS_REGISTER_NONE;
		if (fzg_chance(g, 60)) {
			o->mem.index = fzg_chance(g, 50) ? ZYDIS_REGISTER_SI : ZYDIS_REGISTER_DI;
			o->mem.scale = 1;
		}
		o->mem.displacement =
			fzg_chance(g, 30) ? 0 : (int16_t)(uint16_t)fzg_interesting(g, 16);
	} else {
		o->mem.base = fzg_chance(g, 80)
				      ? fzg_reg_at(abits, fzg_below(g, (unsigned)fz_gprs(g->bits)))
				      : ZYDIS_REGISTER_NONE;
		if (fzg_chance(g, 60)) {
			o->mem.index = fzg_pick_reg(g, abits, 0);
			o->mem.scale = (ZyanU8)(1u << fzg_below(g, 4));
		}
		o->mem.displacement =
			fzg_chance(g, 30) ? 0 : (int32_t)(uint32_t)fzg_interesting(g, 32);
	}
	if (o->mem.base == ZYDIS_REGISTER_NONE && o->mem.index == ZYDIS_REGISTER_NONE)
		o->mem.base = fzg_reg_at(abits, FZ_RBX);
	o->mem.size = (ZyanU16)(abits / 8);
	r->address_size_hint = abits == 16   ? ZYDIS_ADDRESS_SIZE_HINT_16
			       : abits == 32 ? ZYDIS_ADDRESS_SIZE_HINT_32
					     : ZYDIS_ADDRESS_SIZE_HINT_64;
	return fzg_emit(g, r);
}

bool fzg_move(struct gen *g)
{
	static const ZydisMnemonic convert[] = { ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWDE,
						 ZYDIS_MNEMONIC_CDQE, ZYDIS_MNEMONIC_CWD,
						 ZYDIS_MNEMONIC_CDQ, ZYDIS_MNEMONIC_CQO };
	static const ZydisMnemonic convert32[] = { ZYDIS_MNEMONIC_CBW, ZYDIS_MNEMONIC_CWDE,
						   ZYDIS_MNEMONIC_CWD, ZYDIS_MNEMONIC_CDQ };
	unsigned kind = fzg_below(g, 9), bits = fzg_pick_size(g, true), from;
	bool mem = fzg_chance(g, 40);
	ZydisEncoderRequest r;

	if (kind == 1 && g->bits < 64)
		kind = 0; /* no movsxd: movzx/movsx instead */
	switch (kind) {
	case 0: /* movzx, movsx */
		from = bits == 16 || fzg_chance(g, 50) ? 8 : 16;
		fzg_rq(&r, fzg_chance(g, 50) ? ZYDIS_MNEMONIC_MOVZX : ZYDIS_MNEMONIC_MOVSX);
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		fzg_op_rm(g, &r, from, mem, false);
		break;
	case 1:
		fzg_rq(&r, ZYDIS_MNEMONIC_MOVSXD);
		fzg_op_reg(&r, fzg_pick_reg(g, 64, 0));
		fzg_op_rm(g, &r, 32, mem, false);
		break;
	case 2: /* cmovcc: the 16 conditions are consecutive mnemonics */
		fzg_rq(&r, (ZydisMnemonic)(ZYDIS_MNEMONIC_CMOVB + fzg_below(g, 16)));
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		fzg_op_rm(g, &r, bits, mem, false);
		break;
	case 3: /* setcc: consecutive too, but for SETSSBSY between SETS and SETZ */
		from = fzg_below(g, 16);
		fzg_rq(&r, from == 15 ? ZYDIS_MNEMONIC_SETZ
				      : (ZydisMnemonic)(ZYDIS_MNEMONIC_SETB + from));
		fzg_op_rm(g, &r, 8, mem, false);
		break;
	case 4:
		return gen_lea(g, &r);
	case 5:
		fzg_rq(&r, ZYDIS_MNEMONIC_BSWAP);
		fzg_op_reg(&r, fzg_pick_reg(g, fzg_chance(g, 50) || g->bits < 64 ? 32 : 64, 0));
		break;
	case 6:
		if (g->bits == 64)
			fzg_rq(&r, convert[fzg_below(g, 6)]);
		else
			fzg_rq(&r, convert32[fzg_below(g, 4)]);
		break;
	case 7: /* mov r64, imm64; mov r32, imm32 below 64 bits */
		fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
		if (g->bits == 64) {
			fzg_op_reg(&r, fzg_pick_reg(g, 64, 0));
			fzg_op_imm(&r,
				   fzg_interesting(g, 64) | (fzg_chance(g, 50) ? 1ull << 40 : 0));
		} else {
			fzg_op_reg(&r, fzg_pick_reg(g, 32, 0));
			fzg_op_imm(&r, fzg_interesting(g, 32));
		}
		break;
	default: /* push of the stack width mostly, now and then 16 (32 in 16-bit code) bits; pop
		  * into a 16-bit register whatever the push's size: RSP moves by the difference */
		fzg_rq(&r, ZYDIS_MNEMONIC_PUSH);
		fzg_op_reg(&r, fzg_pick_reg(g,
					    fzg_chance(g, 80) ? g->bits
					    : g->bits == 16   ? 32
							      : 16,
					    0));
		if (!fzg_emit(g, &r))
			return false;
		fzg_rq(&r, ZYDIS_MNEMONIC_POP);
		fzg_op_reg(&r, fzg_pick_reg(g, 16, 0));
		break;
	}
	return fzg_emit(g, &r);
}

bool fzg_xchg(struct gen *g)
{
	unsigned kind = fzg_below(g, 4), bits = fzg_pick_size(g, false);
	bool mem = fzg_chance(g, 50), lock = mem && fzg_chance(g, 50);
	ZydisEncoderRequest r;

	if (kind == 3) { /* cmpxchg8b, cmpxchg16b (64-bit code only): memory only */
		bits = fzg_chance(g, 50) || g->bits < 64 ? 64 : 128;
		fzg_rq(&r, bits == 64 ? ZYDIS_MNEMONIC_CMPXCHG8B : ZYDIS_MNEMONIC_CMPXCHG16B);
		fzg_op_mem(g, &r, bits / 8, true);
	} else {
		fzg_rq(&r, kind == 0 ? ZYDIS_MNEMONIC_XCHG
				 : kind == 1 ? ZYDIS_MNEMONIC_XADD : ZYDIS_MNEMONIC_CMPXCHG);
		/* xchg with memory locks whatever the prefix: aligned like the locked ones */
		fzg_op_rm(g, &r, bits, mem, lock || (mem && kind == 0));
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		lock = lock && kind != 0;
	}
	if (lock)
		r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
	return fzg_emit(g, &r);
}

bool fzg_flags(struct gen *g)
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
	unsigned kind = fzg_below(g, 4);
	unsigned bits = fzg_chance(g, 80) ? g->bits : g->bits == 16 ? 32 : 16;
	unsigned w = bits == 16 ? 0 : bits == 32 ? 1 : 2;
	ZydisEncoderOperand top = { .type = ZYDIS_OPERAND_TYPE_MEMORY };
	ZydisEncoderRequest r;

	top.mem.base = fzg_stack_reg(g);
	top.mem.size = (ZyanU16)(bits / 8);
	if (kind == 0) { /* pushf; and [rsp], the defined flags; maybe pop */
		uint64_t keep =
			FZ_RFLAGS_COMPARED & ~g->t.flags & (fzg_chance(g, 50) ? ~0ull : fzg_rnd(g));

		if (!fzg_emit0(g, push[w]) || !fzg_emit_ri(g, ZYDIS_MNEMONIC_AND, &top, bits, keep))
			return false;
		if (fzg_chance(g, 50))
			return true;
		fzg_rq(&r, ZYDIS_MNEMONIC_POP);
		fzg_op_reg(&r, fzg_pick_reg(g, bits, 0));
		return fzg_emit(g, &r);
	}
	if (kind == 1) /* popf of a masked value */
		return fzg_emit_ri(g, ZYDIS_MNEMONIC_AND, &top, bits,
			       FZ_RFLAGS_COMPARED & (fzg_chance(g, 50) ? ~0ull : fzg_rnd(g))) &&
		       fzg_emit0(g, pop[w]);
	return fzg_emit0(g, simple[fzg_below(g, 7)]);
}

bool fzg_string(struct gen *g)
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
	unsigned k = fzg_below(g, 5), rep = fzg_below(g, 3);
	const unsigned span = FZ_SCRATCH_SIZE - 2 * STRING_MARGIN;
	const uint64_t base = fz_scratch_start(g->bits) + STRING_MARGIN;
	/* 16-bit code: SI, DI, CX, or ESI, EDI, ECX through 0x67; otherwise a mov to the 32-bit
	 * register, which in 64-bit code clears the upper half too */
	unsigned abits = g->bits == 16 && fzg_chance(g, 50) ? 16 : 32;
	ZydisEncoderOperand reg = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;

	reg.reg.value = fzg_reg_at(abits, FZ_RSI);
	if (ops[k].rsi &&
	    !fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, abits, base + fzg_below(g, span)))
		return false;
	reg.reg.value = fzg_reg_at(abits, FZ_RDI);
	if (ops[k].rdi &&
	    !fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, abits, base + fzg_below(g, span)))
		return false;
	reg.reg.value = fzg_reg_at(abits, FZ_RCX);
	if (rep &&
	    !fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, abits, fzg_below(g, STRING_COUNT_MAX + 1)))
		return false;
	fzg_rq(&r, ops[k].m[fzg_below(g, g->bits == 64 ? 4 : 3)]);
	if (g->bits == 16)
		r.address_size_hint = abits == 16 ? ZYDIS_ADDRESS_SIZE_HINT_16
						  : ZYDIS_ADDRESS_SIZE_HINT_32;
	if (rep)
		r.prefixes = !ops[k].compares ? ZYDIS_ATTRIB_HAS_REP
			     : rep == 1	      ? ZYDIS_ATTRIB_HAS_REPE
					      : ZYDIS_ATTRIB_HAS_REPNE;
	return fzg_emit(g, &r);
}
