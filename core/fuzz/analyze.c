/* The instruction analysis: which parts of a snippet's end state the architecture leaves
 * undefined, by taint tracking over the sequence. (The snippet as text and bucket keys:
 * insn_text.c.)
 *
 * Code of each width (16, 32, 64) is decoded in its own machine mode, and a register of any size
 * counts as the enum fz_gpr it is part of (AX, EAX: RAX; AH..BH: bits 8-15 of RAX..RBX).
 *
 * Taint rules. Everything is defined at the start. For each instruction, in order:
 *  - it reads undefined input if a flag it tests, a general register it reads (a memory
 *    operand's base and index included) or a register lea uses is undefined; the zero idioms
 *    (xor/sub/sbb/cmp of a register with itself) do not read the register's value;
 *  - every flag it modifies and every register it writes is then undefined if it read undefined
 *    input, defined otherwise; a write of 8 or 16 bits, or a conditional one (cmovcc, a count
 *    that may be 0), keeps the register's earlier taint as well;
 *  - the flags Zydis reports as undefined (ZydisAccessedFlags.undefined) become undefined, the
 *    ones it sets or clears become defined; the table below corrects Zydis where it is silent
 *    or coarser than the manuals;
 *  - an undefined value written to memory, or an address built from an undefined register, is
 *    an error (-ENOTSUP): struct fz_snippet has no mask for memory, and an undefined address
 *    may fault on one side only. pushf stores RFLAGS with bits (IF, IOPL, AC) that differ
 *    between user mode and the guest's CPL0 by design, so it must be followed at once by
 *    `and [rsp], imm` (`and [esp], imm` below 64 bits) keeping only defined bits of
 *    FZ_RFLAGS_COMPARED. An undefined value reaching a segment or control register or a port
 *    (or naming the port) is an error as well: the fuzzer masks none of them;
 *  - the system instructions (segment register moves, control register moves, in/out) define
 *    what they write; s->system says the snippet holds one.
 * What is undefined at the end and not defined again by a later instruction is masked.
 *
 * Cases Zydis 4.0's flag tables do not cover (they list one flag set per opcode, whatever the
 * count, and say nothing of destinations):
 *  - SHL/SHR/SAR/ROL/ROR/RCL/RCR/SHLD/SHRD with a masked count of 0 leave the flags alone (SDM
 *    Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR" and "SHLD"/"SHRD", Flags Affected); with a
 *    count in CL that may be 0 each flag they modify keeps its earlier taint too.
 *  - The same with a count of 1 define OF (same sections: "The OF flag is affected only for
 *    1-bit shifts" / "defined only for the 1-bit rotates"); Zydis lists OF undefined always.
 *  - SHL/SHR on 8 and 16 bits leave CF undefined when the count is at least the operand size
 *    (SDM Vol. 2B "SAL/SAR/SHL/SHR": "undefined for SHL and SHR instructions where the count is
 *    greater than or equal to the size"); a count in CL may be.
 *  - SHLD/SHRD on 16 bits with a count over 16 leave the destination and all flags undefined
 *    (SDM Vol. 2B "SHLD", "SHRD": "If the count is greater than the operand size, the result is
 *    undefined", and the flags likewise); a count in CL may be.
 *  - BSF/BSR with a zero source: the destination is undefined (SDM Vol. 2A "BSF", "BSR");
 *    AMD documents it unchanged (APM Vol. 3 "BSF", "BSR"). Masked unless the source is known
 *    not to be zero: a register or absolute memory operand that an earlier `or r/m, imm` or
 *    `mov r, imm` gave a set bit within the operand size (the generator's guard).
 *  - BSWAP of a 16-bit register: the result is undefined (SDM Vol. 2A "BSWAP").
 *  - MOV to or from a control or debug register leaves OF, SF, ZF, AF, PF and CF undefined
 *    (SDM Vol. 2B "MOV-Move to/from Control Registers", "MOV-Move to/from Debug Registers",
 *    Flags Affected); Zydis lists no flags for them. (AMD documents them unaffected.)
 *  - A REP/REPE/REPNE string instruction with a count of 0 runs no iteration and leaves the
 *    flags alone (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ": the count is tested before the first
 *    iteration), so each flag it modifies keeps its earlier taint too, as a shift by CL does.
 *    (Found by the fuzzer itself: AF left undefined by a shift came through `mov ecx, 0;
 *    repe scasb` and was reported.)
 *
 * The invalid encodings the exceptions class ends some snippets in (decode.c) are each taken as
 * one instruction that reads and writes nothing (it never completes). */
#include "gen.h"
#include "taint.h"
#include "decode.h"

#include <errno.h>
#include <string.h>

#define FLAG_OF 0x800ull
#define FLAG_CF 0x1ull
#define FLAGS_ARITH 0x8d5ull /* CF PF AF ZF SF OF */

static uint64_t size_mask(unsigned bits)
{
	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

void fz_taint_init(struct fz_taint *t, unsigned bits)
{
	memset(t, 0, sizeof(*t));
	t->bits = (uint8_t)bits;
}

bool fz_taint_can_end(const struct fz_taint *t)
{
	return t->pushf_pending == 0;
}

static bool is_shift(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_SHL: case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SAR:
	case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR: case ZYDIS_MNEMONIC_RCL:
	case ZYDIS_MNEMONIC_RCR: case ZYDIS_MNEMONIC_SHLD: case ZYDIS_MNEMONIC_SHRD:
		return true;
	default:
		return false;
	}
}

/* The first visible immediate operand: a known count. */
static const ZydisDecodedOperand *first_imm(const struct decoded *d)
{
	for (unsigned i = 0; i < d->in.operand_count_visible; i++)
		if (d->op[i].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			return &d->op[i];
	return NULL;
}

/* The table's corrections for one instruction. */
struct effect {
	uint64_t modified, undefined; /* flags */
	bool keep_old_flags;          /* modified flags may keep their earlier value */
	bool dest_undefined;          /* explicit operand 0 */
};

static void shift_rules(const struct decoded *d, struct effect *e)
{
	ZydisMnemonic m = d->in.mnemonic;
	unsigned size = d->op[0].size;
	const ZydisDecodedOperand *imm = first_imm(d);
	bool known = imm != NULL;
	uint64_t c = known ? imm->imm.value.u & (size == 64 ? 63 : 31) : 0;
	bool wide16 = size == 16 && (m == ZYDIS_MNEMONIC_SHLD || m == ZYDIS_MNEMONIC_SHRD);

	if (known && c == 0) {
		e->modified = e->undefined = 0;
		return;
	}
	if (known && c == 1) {
		e->undefined &= ~FLAG_OF;
		e->modified |= FLAG_OF;
	}
	if (!known)
		e->keep_old_flags = true;
	if ((m == ZYDIS_MNEMONIC_SHL || m == ZYDIS_MNEMONIC_SHR) && size < 32 && (!known || c >= size))
		e->undefined |= FLAG_CF;
	if (wide16 && (!known || c > 16)) {
		e->undefined |= FLAGS_ARITH;
		e->dest_undefined = true;
	}
}

/* Whether operand o (bsf/bsr's source) is known not to be zero. */
static bool known_nonzero(const struct fz_taint *t, const ZydisDecodedOperand *o)
{
	uint64_t mask = size_mask(o->size);
	int g;

	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		g = fz_gpr_of(o->reg.value);
		if (g < 0 || o->reg.value == ZYDIS_REGISTER_AH || o->reg.value == ZYDIS_REGISTER_CH ||
		    o->reg.value == ZYDIS_REGISTER_DH || o->reg.value == ZYDIS_REGISTER_BH)
			return false;
		return (t->ones[g] & mask) != 0;
	}
	if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.base == ZYDIS_REGISTER_NONE &&
	    o->mem.index == ZYDIS_REGISTER_NONE && o->mem.segment != ZYDIS_REGISTER_FS &&
	    o->mem.segment != ZYDIS_REGISTER_GS)
		return t->mem_ones_size == o->size / 8 &&
		       t->mem_ones_addr == (uint64_t)o->mem.disp.value && (t->mem_ones & mask) != 0;
	return false;
}

static bool is_high8(ZydisRegister r)
{
	return r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH || r == ZYDIS_REGISTER_DH ||
	       r == ZYDIS_REGISTER_BH;
}

/* Bits known set after instruction d writes register operand o (the bsf/bsr guard's record). */
static uint64_t ones_after(const struct fz_taint *t, const struct decoded *d,
			   const ZydisDecodedOperand *o, int g)
{
	const ZydisDecodedOperand *src = &d->op[1];
	ZydisMnemonic m = d->in.mnemonic;
	uint64_t mask = size_mask(o->size), imm;

	if (o != &d->op[0] || is_high8(o->reg.value) || d->in.operand_count_visible != 2 ||
	    src->type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
	    (m != ZYDIS_MNEMONIC_OR && m != ZYDIS_MNEMONIC_MOV))
		return 0;
	imm = src->imm.value.u & mask;
	if (m == ZYDIS_MNEMONIC_MOV)
		return o->size >= 32 ? imm : (t->ones[g] & ~mask) | imm;
	if (o->size == 32)
		return (t->ones[g] | imm) & 0xffffffffull;
	return t->ones[g] | imm;
}

/* Whether d is of FZ_CLASS_SYSTEM's kind: a segment, control or debug register operand, port
 * I/O, or a privileged instruction. */
static bool is_system(const struct decoded *d)
{
	if ((d->in.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) || d->in.meta.category == ZYDIS_CATEGORY_IO ||
	    d->in.meta.category == ZYDIS_CATEGORY_IOSTRINGOP)
		return true;
	for (unsigned i = 0; i < d->in.operand_count; i++) {
		ZydisRegisterClass c = d->op[i].type == ZYDIS_OPERAND_TYPE_REGISTER
					       ? ZydisRegisterGetClass(d->op[i].reg.value)
					       : ZYDIS_REGCLASS_INVALID;

		if (c == ZYDIS_REGCLASS_SEGMENT || c == ZYDIS_REGCLASS_CONTROL ||
		    c == ZYDIS_REGCLASS_DEBUG)
			return true;
	}
	return false;
}

/* Whether d (a mov) has a control or debug register operand. */
static bool moves_cr_or_dr(const struct decoded *d)
{
	for (unsigned i = 0; i < d->in.operand_count_visible; i++) {
		ZydisRegisterClass c = d->op[i].type == ZYDIS_OPERAND_TYPE_REGISTER
					       ? ZydisRegisterGetClass(d->op[i].reg.value)
					       : ZYDIS_REGCLASS_INVALID;

		if (c == ZYDIS_REGCLASS_CONTROL || c == ZYDIS_REGCLASS_DEBUG)
			return true;
	}
	return false;
}

/* What an instruction reads, by the first taint rule. */
struct reads {
	bool value;       /* an undefined flag it tests or register it reads as a value */
	bool address;     /* an undefined register in a memory operand's address */
	bool mem_written; /* it writes a memory operand */
};

/* xor/sub/sbb/cmp of a register with itself: the result does not depend on its value. */
static bool zero_idiom(const struct decoded *d)
{
	ZydisMnemonic m = d->in.mnemonic;

	return (m == ZYDIS_MNEMONIC_XOR || m == ZYDIS_MNEMONIC_SUB || m == ZYDIS_MNEMONIC_SBB ||
		m == ZYDIS_MNEMONIC_CMP) && d->in.operand_count_visible == 2 &&
	       d->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       d->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER && d->op[0].reg.value == d->op[1].reg.value;
}

static void reads_of(const struct fz_taint *t, const struct decoded *d, struct reads *r)
{
	const ZydisAccessedFlags *f = d->in.cpu_flags;
	bool idiom = zero_idiom(d);

	*r = (struct reads){ .value = f && (f->tested & t->flags) };
	for (unsigned i = 0; i < d->in.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->op[i];
		int b, x;

		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			int g = fz_gpr_of(o->reg.value);

			if (g >= 0 && (o->actions & ZYDIS_OPERAND_ACTION_MASK_READ) && !(idiom && i < 2) &&
			    (t->gpr & (1u << g)))
				r->value = true;
		} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			b = fz_gpr_of(o->mem.base);
			x = fz_gpr_of(o->mem.index);
			if ((b >= 0 && (t->gpr & (1u << b))) || (x >= 0 && (t->gpr & (1u << x)))) {
				if (o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
					r->value = true;
				else
					r->address = true;
			}
			if (o->mem.type != ZYDIS_MEMOP_TYPE_AGEN &&
			    (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
				r->mem_written = true;
		}
	}
}

static bool is_pushf(ZydisMnemonic m)
{
	return m == ZYDIS_MNEMONIC_PUSHF || m == ZYDIS_MNEMONIC_PUSHFQ || m == ZYDIS_MNEMONIC_PUSHFD;
}

/* A pushf's RFLAGS on the stack must be masked by the next instruction, an `and` of [rsp] ([esp]
 * below 64 bits: 16-bit addressing has no [sp], and ESP's upper half is 0) of the pushf's size
 * keeping only bits it allows. -ENOTSUP when d should be that and is not. */
static int pushf_rules(const struct fz_taint *t, const struct decoded *d, struct fz_taint *n)
{
	const ZydisDecodedOperand *o = &d->op[0];
	ZydisRegister sp = t->bits == 64 ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP;

	if (t->pushf_pending) {
		if (d->in.mnemonic != ZYDIS_MNEMONIC_AND || d->in.operand_count_visible != 2 ||
		    o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.base != sp ||
		    o->mem.index != ZYDIS_REGISTER_NONE || o->mem.disp.value != 0 ||
		    o->size / 8 != t->pushf_pending || d->op[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
		    (d->op[1].imm.value.u & size_mask(o->size) & ~t->pushf_allowed) != 0)
			return -ENOTSUP;
		n->pushf_pending = 0;
	}
	if (is_pushf(d->in.mnemonic)) {
		n->pushf_pending = (uint16_t)(d->op[1].size / 8);
		n->pushf_allowed = FZ_RFLAGS_COMPARED & ~t->flags;
	}
	return 0;
}

/* The flags d leaves in n, by Zydis's tables and the corrections above, and what e says of its
 * destination; rt: it read undefined input. */
static void flag_rules(const struct fz_taint *t, const struct decoded *d, bool rt,
		       struct fz_taint *n, struct effect *e)
{
	const ZydisAccessedFlags *f = d->in.cpu_flags;
	ZydisMnemonic m = d->in.mnemonic;

	if (f) {
		uint64_t cleared = (f->set_0 | f->set_1) & FZ_RFLAGS_COMPARED;

		e->modified = f->modified & FZ_RFLAGS_COMPARED;
		e->undefined = f->undefined & FZ_RFLAGS_COMPARED;
		if (is_shift(m))
			shift_rules(d, e);
		if (d->in.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
					ZYDIS_ATTRIB_HAS_REPNE))
			e->keep_old_flags = true;
		if ((m == ZYDIS_MNEMONIC_BSF || m == ZYDIS_MNEMONIC_BSR) && !known_nonzero(t, &d->op[1]))
			e->dest_undefined = true;
		if (m == ZYDIS_MNEMONIC_BSWAP && d->op[0].size == 16)
			e->dest_undefined = true;
		n->flags &= ~((e->modified & ~e->undefined) | cleared | e->undefined);
		if (e->keep_old_flags)
			n->flags |= t->flags & e->modified;
		if (rt)
			n->flags |= e->modified & ~cleared;
		n->flags |= e->undefined;
	} else if (m == ZYDIS_MNEMONIC_BSWAP && d->op[0].size == 16) {
		e->dest_undefined = true;
	}
	if (m == ZYDIS_MNEMONIC_MOV && moves_cr_or_dr(d))
		n->flags |= FLAGS_ARITH; /* Zydis lists no flags: the table above */
}

/* The general registers d writes, in n. */
static void register_rules(const struct fz_taint *t, const struct decoded *d,
			   const struct effect *e, bool rt, struct fz_taint *n)
{
	for (unsigned i = 0; i < d->in.operand_count; i++) {
		const ZydisDecodedOperand *o = &d->op[i];
		int g = o->type == ZYDIS_OPERAND_TYPE_REGISTER ? fz_gpr_of(o->reg.value) : -1;
		bool undef, partial;

		if (g < 0 || !(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		undef = rt || (i == 0 && e->dest_undefined);
		partial = o->size < 32 || (o->actions & ZYDIS_OPERAND_ACTION_CONDWRITE) ||
			  (is_shift(d->in.mnemonic) && !first_imm(d));
		if (undef)
			n->gpr |= (uint16_t)(1u << g);
		else if (!partial)
			n->gpr &= (uint16_t)~(1u << g);
		n->ones[g] = ones_after(t, d, o, g);
	}
}

/* The one memory operand whose set bits are known, after d wrote memory. */
static void memory_ones(const struct fz_taint *t, const struct decoded *d, struct fz_taint *n)
{
	const ZydisDecodedOperand *o = &d->op[0];
	ZydisMnemonic m = d->in.mnemonic;

	n->mem_ones_size = 0;
	if ((m == ZYDIS_MNEMONIC_OR || m == ZYDIS_MNEMONIC_MOV) && d->in.operand_count_visible == 2 &&
	    o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.base == ZYDIS_REGISTER_NONE &&
	    o->mem.index == ZYDIS_REGISTER_NONE && d->op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		uint64_t imm = d->op[1].imm.value.u & size_mask(o->size);
		bool same = t->mem_ones_size == o->size / 8 &&
			    t->mem_ones_addr == (uint64_t)o->mem.disp.value;

		n->mem_ones_size = (uint16_t)(o->size / 8);
		n->mem_ones_addr = (uint64_t)o->mem.disp.value;
		n->mem_ones = m == ZYDIS_MNEMONIC_OR && same ? t->mem_ones | imm : imm;
	}
}

int fz_taint_step(struct fz_taint *t, const uint8_t *code, size_t len, struct fz_step *st)
{
	struct fz_taint n = *t;
	struct decoded d;
	struct effect e = { 0 };
	struct reads r;

	if (fz_decode(code, len, t->bits, &d) != 0) {
		struct invalid v;

		if (!fz_invalid_at(code, len, t->bits, &v))
			return -EINVAL;
		*st = (struct fz_step){ .len = v.len, .mnemonic = ZYDIS_MNEMONIC_INVALID };
		return 0; /* it raises #UD: nothing read, nothing written */
	}
	st->len = d.in.length;
	st->mnemonic = d.in.mnemonic;
	st->system = is_system(&d);
	reads_of(t, &d, &r);
	st->read_undefined = r.value || r.address;
	/* A segment or control register, or a port, has no mask either (and an undefined one
	 * may fault, or reach a device, on one side only). */
	if (r.address || (st->system && r.value))
		return -ENOTSUP;
	n.system = t->system || st->system;
	if (pushf_rules(t, &d, &n) != 0)
		return -ENOTSUP;
	if (is_pushf(d.in.mnemonic))
		r.value = false; /* its undefined flags are pushf_allowed's business, not RSP's */
	else if (r.mem_written && r.value)
		return -ENOTSUP;
	flag_rules(t, &d, r.value, &n, &e);
	/* An undefined result written to memory cannot be masked (no mask for memory): refused,
	 * as an undefined value written there from a register is above. */
	if (e.dest_undefined && d.op[0].type == ZYDIS_OPERAND_TYPE_MEMORY)
		return -ENOTSUP;
	register_rules(t, &d, &e, r.value, &n);
	if (r.mem_written)
		memory_ones(t, &d, &n);
	*t = n;
	return 0;
}

int fz_analyze(const uint8_t *code, size_t len, unsigned bits, struct fz_snippet *s)
{
	struct fz_taint t;
	struct fz_step st;
	size_t at = 0;
	int rc = 0;

	if (len > FZ_CODE_MAX || (bits != 16 && bits != 32 && bits != 64))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s->code, code, len);
	s->len = (uint16_t)len;
	s->bits = (uint8_t)bits;
	fz_taint_init(&t, bits);
	while (at < len) {
		int r;

		if (s->ninsn >= FZ_INSN_MAX)
			return -EINVAL;
		r = fz_taint_step(&t, code + at, len - at, &st);
		if (r == -EINVAL)
			return r;
		if (r == -ENOTSUP)
			rc = r; /* keep going, to fill s: st still says what the instruction was */
		s->system |= st.system;
		s->off[s->ninsn++] = (uint16_t)at;
		at += st.len;
	}
	s->off[s->ninsn] = (uint16_t)at;
	if (!fz_taint_can_end(&t))
		rc = -ENOTSUP;
	s->rflags_undefined = t.flags & FZ_RFLAGS_COMPARED;
	s->gpr_undefined = t.gpr;
	return rc;
}
