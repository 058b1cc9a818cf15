/* Checks of generated snippets (gen_check.h). */
#include "gen_check.h"

#include <string.h>

#include "gen.h"
#include "tv_test.h"

void decode_at(const struct fz_snippet *s, unsigned i, struct insn *d)
{
	ZydisDecoder dec;
	ZydisMachineMode mode = s->bits == 16   ? ZYDIS_MACHINE_MODE_REAL_16
				: s->bits == 32 ? ZYDIS_MACHINE_MODE_LEGACY_32
						: ZYDIS_MACHINE_MODE_LONG_64;

	ZydisDecoderInit(&dec, mode, s->bits == 16   ? ZYDIS_STACK_WIDTH_16
				     : s->bits == 32 ? ZYDIS_STACK_WIDTH_32
						     : ZYDIS_STACK_WIDTH_64);
	ck_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, s->code + s->off[i],
						      s->off[i + 1] - s->off[i], &d->in, d->op)));
	ck_assert_uint_eq(d->in.length, s->off[i + 1] - s->off[i]);
}

/* enum fz_gpr of a general register of any size, or -1. */
static int gpr_of(ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	return big >= ZYDIS_REGISTER_RAX && big <= ZYDIS_REGISTER_R15 ? (int)(big - ZYDIS_REGISTER_RAX)
								       : -1;
}

void track(struct known *k, const struct insn *d, unsigned bits)
{
	for (unsigned i = 0; i < d->in.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->op[i];
		int g = o->type == ZYDIS_OPERAND_TYPE_REGISTER ? gpr_of(o->reg.value) : -1;

		if (g < 0 || !(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		if (d->in.mnemonic == ZYDIS_MNEMONIC_MOV && i == 0 &&
		    d->op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && o->size >= 16) {
			k->value[g] = d->op[1].imm.value.u;
			k->bits[g] = bits == 64 && o->size == 32 ? 64 : o->size;
		} else {
			k->bits[g] = 0;
		}
	}
}

uint64_t known_value(const struct known *k, ZydisRegister r, const char *text)
{
	int g = gpr_of(r);
	unsigned width = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r);

	ck_assert_msg(g >= 0 && k->bits[g] >= width, "'%s': %s is not set just before", text,
		      ZydisRegisterGetString(r));
	return k->value[g] & (width == 64 ? ~0ull : (1ull << width) - 1);
}

/* Instruction i of s, decoded as d: it re-encodes to the same bytes, does not branch, and below
 * 64 bits has no 64-bit operand size. */
static void check_encoding(const struct fz_snippet *s, unsigned i, const struct insn *d,
			   const char *cls, const char *text)
{
	const uint8_t *at = s->code + s->off[i];
	size_t n = s->off[i + 1] - s->off[i];
	ZydisEncoderRequest rq;
	uint8_t again[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize alen = sizeof(again);

	ck_assert(ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(
		&d->in, d->op, d->in.operand_count_visible, &rq)));
	ck_assert_msg(ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&rq, again, &alen)) &&
			      alen == n && memcmp(again, at, n) == 0,
		      "%s/%u: instruction %u of '%s' does not encode back to itself", cls,
		      s->bits, i, text);
	ck_assert_msg(d->in.meta.category != ZYDIS_CATEGORY_COND_BR &&
			      d->in.meta.category != ZYDIS_CATEGORY_UNCOND_BR &&
			      d->in.meta.category != ZYDIS_CATEGORY_CALL &&
			      d->in.meta.category != ZYDIS_CATEGORY_RET &&
			      d->in.meta.category != ZYDIS_CATEGORY_SYSCALL,
		      "%s: '%s' branches", cls, text);
	ck_assert_msg(s->bits == 64 || d->in.operand_width <= 32,
		      "%s/%u: '%s' has a 64-bit operand size", cls, s->bits, text);
}

/* A register operand o: below 64 bits one of the 8 legacy registers, never a 64-bit one; and
 * never RSP as an explicit operand. */
static void check_register(const struct fz_snippet *s, const ZydisDecodedOperand *o,
			   const char *cls, const char *text)
{
	int g = gpr_of(o->reg.value);

	ck_assert_msg(s->bits == 64 || (g < 8 && ZydisRegisterGetClass(o->reg.value) !=
							 ZYDIS_REGCLASS_GPR64),
		      "%s/%u: '%s' names %s", cls, s->bits, text,
		      ZydisRegisterGetString(o->reg.value));
	ck_assert_msg(g != FZ_RSP || o->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT,
		      "%s: '%s' has RSP as an operand", cls, text);
}

/* A memory access o of d (made from in, k the values set before it): inside the scratch area as
 * the code addresses it, absolute, [rsp+disp], or through a string pointer and count. */
static void check_access(const struct fz_snippet *s, const struct fz_state *in,
			 const struct known *k, const struct insn *d, const ZydisDecodedOperand *o,
			 const char *cls, const char *text)
{
	const int64_t lo = (int64_t)fz_scratch_start(s->bits), hi = lo + FZ_SCRATCH_SIZE;
	const int64_t moved = FZ_INSN_MAX * 8;
	int64_t disp = o->mem.disp.value, addr, span = o->size / 8;

	ck_assert_msg(o->mem.segment != ZYDIS_REGISTER_FS && o->mem.segment != ZYDIS_REGISTER_GS &&
			      o->mem.index == ZYDIS_REGISTER_NONE,
		      "%s: '%s' has an address the generator does not make", cls, text);
	if (o->mem.base == ZYDIS_REGISTER_NONE) {
		addr = disp;
	} else if (gpr_of(o->mem.base) == FZ_RSP) {
		/* the stack: [rsp], [esp] (0x67 in 16-bit code), a push's [sp] */
		ck_assert_msg(s->bits == 16 || o->mem.base == (s->bits == 64 ? ZYDIS_REGISTER_RSP
									     : ZYDIS_REGISTER_ESP),
			      "%s/%u: '%s': a stack operand off another width's stack pointer", cls,
			      s->bits, text);
		addr = (int64_t)in->gpr[FZ_RSP] + disp;
		ck_assert_msg(addr - moved >= lo && addr + span + moved <= hi,
			      "%s/%u: '%s' reaches outside the scratch area", cls, s->bits, text);
		return;
	} else {
		/* a string pointer: count elements either way from where it starts */
		int64_t count = 1;

		ck_assert_msg(gpr_of(o->mem.base) == FZ_RSI || gpr_of(o->mem.base) == FZ_RDI,
			      "%s: '%s' has an address the generator does not make", cls, text);
		addr = (int64_t)known_value(k, o->mem.base, text);
		if (d->in.attributes &
		    (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE))
			count = (int64_t)known_value(
				k, ZydisRegisterEncode(ZydisRegisterGetClass(o->mem.base), FZ_RCX),
				text);
		addr -= count * span;
		span *= 2 * count + 1;
	}
	ck_assert_msg(addr >= lo && addr + span <= hi,
		      "%s/%u: '%s' reaches outside the scratch area", cls, s->bits, text);
}

void check_instructions(const struct fz_snippet *s, const struct fz_state *in, const char *cls)
{
	struct known k = { 0 };
	char text[1024];

	fz_disasm(s->code, s->len, s->bits, text, sizeof(text));
	for (unsigned i = 0; i < s->ninsn; i++) {
		struct insn d;

		decode_at(s, i, &d);
		check_encoding(s, i, &d, cls, text);
		for (unsigned j = 0; j < d.in.operand_count; j++) {
			const ZydisDecodedOperand *o = &d.op[j];

			if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
				check_register(s, o, cls, text);
			if (o->type == ZYDIS_OPERAND_TYPE_MEMORY &&
			    o->mem.type != ZYDIS_MEMOP_TYPE_AGEN)
				check_access(s, in, &k, &d, o, cls, text);
		}
		track(&k, &d, s->bits);
	}
}
