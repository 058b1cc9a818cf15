/* The instruction analysis: which parts of a snippet's end state the architecture leaves
 * undefined, by taint tracking over the sequence; and the snippet as text and bucket keys.
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
 * Invalid encodings. The exceptions class ends some snippets in an instruction the CPU raises #UD
 * for in that width, which Zydis does not decode there because it knows it is invalid (the table
 * in invalid_at: the one-byte opcodes 64-bit code dropped, ARPL and the descriptor-table
 * instructions in real mode, a move to CS, a LOCK prefix on what cannot take one). Each is taken
 * as one instruction that reads and writes nothing (it never completes); its form and text name
 * it. */
#include "gen.h"
#include "taint.h"

#include <Zydis/Zydis.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FLAG_OF 0x800ull
#define FLAG_CF 0x1ull
#define FLAGS_ARITH 0x8d5ull /* CF PF AF ZF SF OF */

struct decoded {
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
};

/* Decodes one instruction of code made for bits (16, 32 or 64). */
static int decode_bits(const uint8_t *code, size_t len, unsigned bits, struct decoded *d)
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

/* An encoding #UD ends (the header comment): its length, and its name or, for a LOCK prefix, the
 * instruction after the prefix (lock_inner). */
struct invalid {
	unsigned len;
	const char *name; /* NULL: "lock " + the instruction at code + 1 */
};

#define W16 1u
#define W32 2u
#define W64 4u

static bool invalid_at(const uint8_t *code, size_t len, unsigned bits, struct invalid *v)
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
	if (len > 1 && code[0] == 0xf0 && decode_bits(code + 1, len - 1, bits, &d) == 0) {
		*v = (struct invalid){ .len = 1u + d.in.length, .name = NULL };
		return true;
	}
	return false;
}

/* enum fz_gpr of a general register of any size and any width's code (AH..BH are bits 8-15 of
 * RAX..RBX), or -1. */
static int gpr_of(ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	if (big < ZYDIS_REGISTER_RAX || big > ZYDIS_REGISTER_R15)
		return -1;
	return (int)(big - ZYDIS_REGISTER_RAX);
}

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
		g = gpr_of(o->reg.value);
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

int fz_taint_step(struct fz_taint *t, const uint8_t *code, size_t len, struct fz_step *st)
{
	struct fz_taint n = *t;
	struct decoded d;
	struct effect e = { 0 };
	ZydisMnemonic m;
	const ZydisAccessedFlags *f;
	bool rt = false, addr_rt = false, idiom, pushf, mem_written = false;

	if (decode_bits(code, len, t->bits, &d) != 0) {
		struct invalid v;

		if (!invalid_at(code, len, t->bits, &v))
			return -EINVAL;
		*st = (struct fz_step){ .len = v.len, .mnemonic = ZYDIS_MNEMONIC_INVALID };
		return 0; /* it raises #UD: nothing read, nothing written */
	}
	m = d.in.mnemonic;
	f = d.in.cpu_flags;
	st->len = d.in.length;
	st->mnemonic = m;
	st->system = is_system(&d);

	/* What it reads. */
	idiom = (m == ZYDIS_MNEMONIC_XOR || m == ZYDIS_MNEMONIC_SUB || m == ZYDIS_MNEMONIC_SBB ||
		 m == ZYDIS_MNEMONIC_CMP) && d.in.operand_count_visible == 2 &&
		d.op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		d.op[1].type == ZYDIS_OPERAND_TYPE_REGISTER && d.op[0].reg.value == d.op[1].reg.value;
	if (f && (f->tested & t->flags))
		rt = true;
	for (unsigned i = 0; i < d.in.operand_count; i++) {
		const ZydisDecodedOperand *o = &d.op[i];
		int b, x;

		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			int g = gpr_of(o->reg.value);

			if (g >= 0 && (o->actions & ZYDIS_OPERAND_ACTION_MASK_READ) && !(idiom && i < 2) &&
			    (t->gpr & (1u << g)))
				rt = true;
		} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			b = gpr_of(o->mem.base);
			x = gpr_of(o->mem.index);
			if ((b >= 0 && (t->gpr & (1u << b))) || (x >= 0 && (t->gpr & (1u << x)))) {
				if (o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
					rt = true;
				else
					addr_rt = true;
			}
			if (o->mem.type != ZYDIS_MEMOP_TYPE_AGEN &&
			    (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
				mem_written = true;
		}
	}
	st->read_undefined = rt || addr_rt;
	/* A segment or control register, or a port, has no mask either (and an undefined one
	 * may fault, or reach a device, on one side only). */
	if (addr_rt || (st->system && rt))
		return -ENOTSUP;
	n.system = t->system || st->system;

	/* A pushf's RFLAGS on the stack must be masked by the next instruction. */
	pushf = m == ZYDIS_MNEMONIC_PUSHF || m == ZYDIS_MNEMONIC_PUSHFQ ||
		m == ZYDIS_MNEMONIC_PUSHFD;
	if (t->pushf_pending) {
		const ZydisDecodedOperand *o = &d.op[0];

		/* [rsp], or [esp] below 64 bits (16-bit addressing has no [sp]; ESP's upper half is 0) */
		ZydisRegister sp = t->bits == 64 ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP;

		if (m != ZYDIS_MNEMONIC_AND || d.in.operand_count_visible != 2 ||
		    o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.base != sp ||
		    o->mem.index != ZYDIS_REGISTER_NONE || o->mem.disp.value != 0 ||
		    o->size / 8 != t->pushf_pending || d.op[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
		    (d.op[1].imm.value.u & size_mask(o->size) & ~t->pushf_allowed) != 0)
			return -ENOTSUP;
		n.pushf_pending = 0;
	}
	if (pushf) {
		n.pushf_pending = (uint16_t)(d.op[1].size / 8);
		n.pushf_allowed = FZ_RFLAGS_COMPARED & ~t->flags;
		rt = false; /* its undefined flags are pushf_allowed's business, not RSP's */
	} else if (mem_written && rt) {
		return -ENOTSUP;
	}

	/* The flags. */
	if (f) {
		uint64_t cleared = (f->set_0 | f->set_1) & FZ_RFLAGS_COMPARED;

		e.modified = f->modified & FZ_RFLAGS_COMPARED;
		e.undefined = f->undefined & FZ_RFLAGS_COMPARED;
		if (is_shift(m))
			shift_rules(&d, &e);
		if (d.in.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
				       ZYDIS_ATTRIB_HAS_REPNE))
			e.keep_old_flags = true;
		if ((m == ZYDIS_MNEMONIC_BSF || m == ZYDIS_MNEMONIC_BSR) && !known_nonzero(t, &d.op[1]))
			e.dest_undefined = true;
		if (m == ZYDIS_MNEMONIC_BSWAP && d.op[0].size == 16)
			e.dest_undefined = true;
		n.flags &= ~((e.modified & ~e.undefined) | cleared | e.undefined);
		if (e.keep_old_flags)
			n.flags |= t->flags & e.modified;
		if (rt)
			n.flags |= e.modified & ~cleared;
		n.flags |= e.undefined;
	} else if (m == ZYDIS_MNEMONIC_BSWAP && d.op[0].size == 16) {
		e.dest_undefined = true;
	}
	if (m == ZYDIS_MNEMONIC_MOV && moves_cr_or_dr(&d))
		n.flags |= FLAGS_ARITH; /* Zydis lists no flags: the table above */

	/* An undefined result written to memory cannot be masked (no mask for memory): refused,
	 * as an undefined value written there from a register is above. */
	if (e.dest_undefined && d.op[0].type == ZYDIS_OPERAND_TYPE_MEMORY)
		return -ENOTSUP;

	/* The registers. */
	for (unsigned i = 0; i < d.in.operand_count; i++) {
		const ZydisDecodedOperand *o = &d.op[i];
		int g = o->type == ZYDIS_OPERAND_TYPE_REGISTER ? gpr_of(o->reg.value) : -1;
		bool undef, partial;

		if (g < 0 || !(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		undef = rt || (i == 0 && e.dest_undefined);
		partial = o->size < 32 || (o->actions & ZYDIS_OPERAND_ACTION_CONDWRITE) ||
			  (is_shift(m) && !first_imm(&d));
		if (undef)
			n.gpr |= (uint16_t)(1u << g);
		else if (!partial)
			n.gpr &= (uint16_t)~(1u << g);
		n.ones[g] = ones_after(t, &d, o, g);
	}

	/* The one memory operand whose set bits are known. */
	if (mem_written) {
		const ZydisDecodedOperand *o = &d.op[0];

		n.mem_ones_size = 0;
		if ((m == ZYDIS_MNEMONIC_OR || m == ZYDIS_MNEMONIC_MOV) &&
		    d.in.operand_count_visible == 2 && o->type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    o->mem.base == ZYDIS_REGISTER_NONE && o->mem.index == ZYDIS_REGISTER_NONE &&
		    d.op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			uint64_t imm = d.op[1].imm.value.u & size_mask(o->size);
			bool same = t->mem_ones_size == o->size / 8 &&
				    t->mem_ones_addr == (uint64_t)o->mem.disp.value;

			n.mem_ones_size = (uint16_t)(o->size / 8);
			n.mem_ones_addr = (uint64_t)o->mem.disp.value;
			n.mem_ones = m == ZYDIS_MNEMONIC_OR && same ? t->mem_ones | imm : imm;
		}
	}
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

/* Appends to buf at *at; false once it is full. */
static bool put(char *buf, size_t n, size_t *at, const char *text)
{
	int w = snprintf(buf + *at, n - *at, "%s", text);

	if (w < 0 || (size_t)w >= n - *at) {
		*at = n ? n - 1 : 0;
		return false;
	}
	*at += (size_t)w;
	return true;
}

uint16_t fz_explicit_gprs(const uint8_t *code, size_t len, unsigned bits)
{
	uint16_t mask = 0;
	struct decoded d;

	for (size_t at = 0; at < len; at += d.in.length) {
		struct invalid v;

		if (decode_bits(code + at, len - at, bits, &d) != 0) {
			if (!invalid_at(code + at, len - at, bits, &v))
				break;
			if (!v.name) /* lock: the instruction after it names its registers */
				mask |= fz_explicit_gprs(code + at + 1, v.len - 1, bits);
			d.in.length = (ZyanU8)v.len;
			continue;
		}
		for (unsigned i = 0; i < d.in.operand_count_visible; i++) {
			int g = d.op[i].type == ZYDIS_OPERAND_TYPE_REGISTER ? gpr_of(d.op[i].reg.value)
									    : -1;

			if (g >= 0)
				mask |= (uint16_t)(1u << g);
		}
	}
	return mask;
}

int fz_insn_form(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n)
{
	struct decoded d;
	unsigned nimm = 0;
	size_t at = 0;
	bool ok = true;
	char part[32];

	if (n == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (decode_bits(code, len, bits, &d) != 0) {
		struct invalid v;
		int rc;

		if (!invalid_at(code, len, bits, &v) || v.len != len)
			return -EINVAL;
		if (v.name) {
			snprintf(part, sizeof(part), " (#UD in %u-bit code)", bits);
			return put(buf, n, &at, v.name) && put(buf, n, &at, part) ? 0 : -ENOSPC;
		}
		if (!put(buf, n, &at, "lock "))
			return -ENOSPC;
		rc = fz_insn_form(code + 1, len - 1, bits, buf + at, n - at);
		return rc == -EINVAL ? rc : rc ? -ENOSPC : 0;
	}
	if (d.in.length != len)
		return -EINVAL;
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_LOCK)
		ok = put(buf, n, &at, "lock ");
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_REP)
		ok = ok && put(buf, n, &at, "rep ");
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_REPE)
		ok = ok && put(buf, n, &at, "repe ");
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_REPNE)
		ok = ok && put(buf, n, &at, "repne ");
	ok = ok && put(buf, n, &at, ZydisMnemonicGetString(d.in.mnemonic));
	for (unsigned i = 0; ok && i < d.in.operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &d.op[i];

		switch (o->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			if (o->encoding == ZYDIS_OPERAND_ENCODING_NONE ||
			    ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_CONTROL ||
			    ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_DEBUG)
				snprintf(part, sizeof(part), "%s", ZydisRegisterGetString(o->reg.value));
			else if (ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_SEGMENT)
				snprintf(part, sizeof(part), "sreg");
			else
				snprintf(part, sizeof(part), "r%u", o->size);
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			if (o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
				snprintf(part, sizeof(part), "m");
			else
				snprintf(part, sizeof(part), "m%u", o->size);
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			if (o->visibility == ZYDIS_OPERAND_VISIBILITY_IMPLICIT)
				snprintf(part, sizeof(part), "%llu", (unsigned long long)o->imm.value.u);
			else
				snprintf(part, sizeof(part), "imm%u",
					 nimm < 2 ? d.in.raw.imm[nimm].size : o->size);
			nimm++;
			break;
		default:
			snprintf(part, sizeof(part), "ptr%u", o->size);
			break;
		}
		ok = put(buf, n, &at, i ? ", " : " ") && put(buf, n, &at, part);
	}
	return ok ? 0 : -ENOSPC;
}

int fz_disasm(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n)
{
	ZydisFormatter fmt;
	struct decoded d;
	size_t off = 0, at = 0;
	bool ok = true;
	char text[160];

	if (n == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (!ZYAN_SUCCESS(ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL)) ||
	    !ZYAN_SUCCESS(ZydisFormatterSetProperty(&fmt, ZYDIS_FORMATTER_PROP_FORCE_SIZE, 1)))
		return -EINVAL;
	while (off < len) {
		struct invalid v;
		size_t skip = 0; /* a LOCK prefix Zydis will not decode, put before the rest */

		if (decode_bits(code + off, len - off, bits, &d) != 0) {
			if (!invalid_at(code + off, len - off, bits, &v))
				return -EINVAL;
			if (v.name) {
				snprintf(text, sizeof(text), "%s (#UD)", v.name);
				if (ok)
					ok = put(buf, n, &at, off ? "; " : "") && put(buf, n, &at, text);
				off += v.len;
				continue;
			}
			skip = 1;
			if (decode_bits(code + off + 1, len - off - 1, bits, &d) != 0)
				return -EINVAL;
		}
		memcpy(text, "lock ", skip ? 5 : 0);
		if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &d.in, d.op,
				  d.in.operand_count_visible, text + 5 * skip, sizeof(text) - 5 * skip,
				  fz_code_start(bits) + off + skip, NULL)))
			return -EINVAL;
		if (ok)
			ok = put(buf, n, &at, off ? "; " : "") && put(buf, n, &at, text);
		off += skip + d.in.length;
	}
	return ok ? 0 : -ENOSPC;
}
