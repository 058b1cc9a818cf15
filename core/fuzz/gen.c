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
 *    touches the fuzzer's tables (traps.h) where the fault does not come.
 *
 * The parts: gen_emit.c encodes (gen_parts.h), gen_user.c, gen_system.c and gen_exc.c hold the
 * classes, and this file names them and makes the snippet and its start state. */
#include "gen_parts.h"

#include <errno.h>
#include <string.h>

#define STACK_OFF 0x800u /* RSP's start, from FZ_SCRATCH_ADDR */
#define SCRATCH_EDGES 16
#define TRIES 16
#define TRIES_CLEAN 8 /* of which the first look for an item reading nothing undefined */

/* Each class's function says what it generates. Below 64 bits: bmi in 16-bit code is adcx/adox
 * only (real mode does not recognise VEX: C4/C5 are LES/LDS there, SDM Vol. 2, 2.3; lzcnt, tzcnt
 * and popcnt are bit's), move has no movsxd, cdqe or cqo, xchg no cmpxchg16b. */
static const struct {
	const char *name;
	bool (*gen)(struct gen *g);
} classes[FZ_CLASS_COUNT] = {
	{ "alu", fzg_alu },	{ "shift", fzg_shift },	  { "muldiv", fzg_muldiv },
	{ "bit", fzg_bit },	{ "bmi", fzg_bmi },	  { "move", fzg_move },
	{ "xchg", fzg_xchg },	{ "flags", fzg_flags },	  { "string", fzg_string },
	{ "system", fzg_system }, { "exceptions", fzg_exceptions },
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
		in->gpr[i] = g->bits == 64	  ? fzg_interesting(g, 64)
			     : i < fz_gprs(g->bits) ? fzg_interesting(g, 32)
						    : 0;
	in->gpr[FZ_RSP] = fz_scratch_start(g->bits) + STACK_OFF;
	in->rflags = (fzg_rnd(g) & FZ_RFLAGS_START_MASK) | FZ_RFLAGS_FIXED;
	in->rip = fz_code_start(g->bits);
	/* 4 KiB of splitmix64 through *rng cost more than the rest of a snippet: a local Weyl
	 * sequence seeded from it, each word mixed by one multiply off the dependency chain. */
	uint64_t x = fzg_rnd(g);

	for (unsigned i = 0; i < FZ_SCRATCH_SIZE; i += 8) {
		uint64_t v = (x += 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;

		v ^= v >> 31;
		memcpy(in->scratch + i, &v, 8);
	}
	/* and edge values in some places, at any alignment */
	for (unsigned i = 0; i < SCRATCH_EDGES; i++) {
		uint64_t v = fzg_interesting(g, 64);

		memcpy(in->scratch + fzg_below(g, FZ_SCRATCH_SIZE - 7), &v, 8);
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
	items = o->min_len + fzg_below(&g, o->max_len - o->min_len + 1);
	for (unsigned item = 0; item < items && s->ninsn < FZ_INSN_MAX && !g.ended; item++) {
		struct fz_taint t = g.t;
		uint16_t len = s->len;
		uint8_t ninsn = s->ninsn;
		bool ok = false;

		for (int try = 0; try < TRIES && !ok; try++) {
			g.read_undefined = false;
			ok = classes[enabled[fzg_below(&g, nenabled)]].gen(&g) &&
			     fz_taint_can_end(&g.t) && (!g.read_undefined || try >= TRIES_CLEAN);
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
