/* The #GP(0) Unicorn 2.1.1 raises in 64-bit code where the CPU raises another fault, or at
 * another instruction. QEMU's page walk turns every non-canonical address into #GP(0)
 * (excp_helper.c, handle_mmu_fault), so:
 *
 * - a data access through the SS segment (a memory operand based on RSP or RBP, or the stack of
 *   PUSH, POP, CALL, RET, ENTER, LEAVE, IRET) is #SS(0) on the CPU (SDM Vol. 3A, 6.15,
 *   "Interrupt 12"); Unicorn's #GP(0) becomes that here;
 * - a near JMP, Jcc, LOOP, CALL or RET to a non-canonical address faults on the CPU at the
 *   branch, before anything is committed (SDM Vol. 2, JMP, CALL, RET: "#GP(0) If the target
 *   address is non-canonical"); QEMU commits the branch (CALL's push, RET's pop) and faults
 *   fetching from the target. The branch is the last instruction begun: the code hook's
 *   (v->insn_addr) where one is on, else the last instruction of the last block run, which
 *   the block hooks note (v->last_block_end) and which is found by decoding backwards from its
 *   end, each candidate checked by recomputing its target. The branch's state is put back (RSP,
 *   RCX for LOOP; not the bytes CALL pushed below RSP) and the #GP is reported there. A fast
 *   run with no block hook (no platform, not preemptible) notes no block, and a block hook
 *   there would cost the fast mode about 1.7 ns a block: there a CALL is still found, by the
 *   return address it pushed, but a JMP or RET is not (the fault stays at the target).
 *
 * Decided at delivery, from the instruction's bytes: nothing runs on the fast path. */
#include "emu.h"
#include "emu_decode.h"
#include "emu_fault.h"
#include "emu_sites.h"

#include <inttypes.h>
#include <string.h>

static bool read_u64(const struct walk *w, uint64_t la, uint64_t *value)
{
	uint8_t b[8];

	if (emu_site_read(w, la, b, 8) != 8)
		return false;
	memcpy(value, b, 8); /* x86 hosts only: little-endian like the guest */
	return true;
}

/* The registers in ModRM's order. */
static void gpr_of(const struct tv_regs *r, uint64_t g[16])
{
	const uint64_t v[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				 r->r8,	 r->r9,	 r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };

	memcpy(g, v, sizeof(v));
}

/* FS's or GS's base for an override, 0 for the others (and where it cannot be read). */
static uint64_t seg_base(struct tv_vcpu *v, int seg)
{
	uint64_t base;

	return emu_site_override_base(v, seg, &base) ? base : 0;
}

/* Whether br at linear address at, run from the state before it to the state r after it,
 * went to r->rip; *rsp, *rcx: RSP and RCX before it. */
static bool branch_went(struct tv_vcpu *v, const struct walk *w, const struct emu_branch *br,
			uint64_t at, const struct tv_regs *r, uint64_t *rsp, uint64_t *rcx)
{
	uint64_t next = at + br->len, target = 0, g[16], pushed;

	*rsp = br->kind == EMU_BR_RET ? r->rsp - 8 - br->pop : r->rsp + (br->call ? 8 : 0);
	*rcx = r->rcx;
	if (br->call && (!read_u64(w, r->rsp, &pushed) || pushed != next))
		return false;
	if (br->kind == EMU_BR_RET)
		return read_u64(w, *rsp, &target) && target == r->rip;
	if (br->kind == EMU_BR_REL) {
		if (br->loop)
			*rcx = br->d.a32 ? (r->rcx & ~0xffffffffull) | (uint32_t)(r->rcx + 1)
					 : r->rcx + 1;
		return next + (uint64_t)br->rel == r->rip;
	}
	gpr_of(r, g);
	g[4] = *rsp;
	if (!br->d.mem)
		target = g[(br->d.modrm & 7) | ((br->d.rex & 1) << 3)];
	else if (!read_u64(w, emu_insn_ea(&br->d, g, next) + seg_base(v, br->d.seg), &target))
		return true; /* not RAM (MMIO, whose read may act): taken as read, unchecked */
	return target == r->rip;
}

/* A near branch (a CALL if call) that ends at end and begins at lo or after, and that went to
 * r->rip: true with *at its address. */
static bool branch_ending(struct tv_vcpu *v, const struct walk *w, const struct tv_regs *r,
			  uint64_t end, uint64_t lo, bool call, uint64_t *at, uint64_t *rsp,
			  uint64_t *rcx)
{
	uint8_t b[INSN_MAX];
	struct emu_branch br;

	for (unsigned len = 1; len <= INSN_MAX && end - len >= lo && end - len < end; len++) {
		*at = end - len;
		if (emu_site_read(w, *at, b, len) == len && emu_decode_branch(b, len, &br) &&
		    br.len == len && (br.call || !call) && branch_went(v, w, &br, *at, r, rsp, rcx))
			return true;
	}
	return false;
}

/* The near branch that took the guest to the non-canonical r->rip, put back: true with r at it.
 * Without a hook's note, only a CALL can be found: by the return address it pushed. */
static bool branch_undo(struct tv_vcpu *v, const struct walk *w, struct tv_regs *r)
{
	uint8_t b[INSN_MAX];
	struct emu_branch br;
	uint64_t rsp, rcx, at = 0, pushed;
	bool found = false;

	if (emu_code_hooked(v, v->flags) && v->insns) {
		at = v->insn_addr;
		found = emu_decode_branch(b, emu_site_read(w, at, b, INSN_MAX), &br) &&
			branch_went(v, w, &br, at, r, &rsp, &rcx);
	} else if (v->last_block_end) {
		found = branch_ending(v, w, r, v->last_block_end, v->last_block, false, &at, &rsp,
				      &rcx);
	} else if (read_u64(w, r->rsp, &pushed)) {
		found = branch_ending(v, w, r, pushed, 0, true, &at, &rsp, &rcx);
	}
	if (!found) {
		EMU_LOG(v->log, "  fault: #GP(0) at 0x%" PRIx64 ": no branch found that went there",
			r->rip);
		return false;
	}
	EMU_LOG(v->log, "  fault: #GP(0) at the branch at 0x%" PRIx64 " to 0x%" PRIx64
		" (non-canonical), not at its target", at, r->rip);
	r->rip = at;
	r->rsp = rsp;
	r->rcx = rcx;
	return true;
}

/* The stack's address for the instruction d's implicit stack access (with *size its size), or
 * false when it makes none. */
static bool stack_access(const struct emu_insn *d, const struct tv_regs *r, uint64_t *la,
			 unsigned *size)
{
	uint8_t op = d->op;
	unsigned reg = emu_insn_reg(d);
	bool push, pop;

	*size = d->o16 ? 2 : 8;
	if (d->map == 1) {
		push = op == 0xa0 || op == 0xa8;
		pop = op == 0xa1 || op == 0xa9;
	} else if (d->map == 0) {
		push = (op >= 0x50 && op <= 0x57) || op == 0x68 || op == 0x6a || op == 0x9c ||
		       op == 0xe8 || op == 0xc8 || (op == 0xff && (reg == 2 || reg == 3 || reg == 6));
		pop = (op >= 0x58 && op <= 0x5f) || op == 0x9d || op == 0xc2 || op == 0xc3 ||
		      op == 0xca || op == 0xcb || op == 0xcf || (op == 0x8f && reg == 0);
		if (op == 0xc9) {
			*la = r->rbp; /* LEAVE pops from where RBP points */
			return true;
		}
	} else {
		return false;
	}
	*la = push ? r->rsp - *size : r->rsp;
	return push || pop;
}

/* Whether the access of size bytes at la reaches a non-canonical address. */
static bool noncanonical(uint64_t la, unsigned size)
{
	return !emu_canonical(la) || !emu_canonical(la + size - 1);
}

/* Whether the #GP(0) at r->rip (canonical) is an SS-segment access to a non-canonical address:
 * #SS(0) on the CPU. */
static bool stack_fault(struct tv_vcpu *v, const struct walk *w, const struct tv_regs *r)
{
	uint8_t b[INSN_MAX];
	struct emu_insn d;
	uint64_t g[16], sla = 0;
	unsigned ssize = 8;
	bool mem_nc = false, mem_ss = false, stack_nc;

	if (!emu_decode(b, emu_site_read(w, r->rip, b, INSN_MAX), &d))
		return false;
	gpr_of(r, g);
	/* LEA and the hint NOPs and prefetches (0F 0D, 0F 18-1F) access no memory */
	if (d.has_modrm && d.mem && !(d.map == 0 && d.op == 0x8d) &&
	    !(d.map == 1 && (d.op == 0x0d || (d.op >= 0x18 && d.op <= 0x1f)))) {
		/* The segment is the override's, else SS's for RSP or RBP as base. 64-bit code
		 * ignores the base of an ES, CS, SS or DS override but not which fault it gives:
		 * measured under KVM, ss: (%rax) is #SS(0) and ds: (%rsp,%rax) #GP(0). */
		mem_ss = d.seg >= 0 ? d.seg == 2 : d.base == 4 || d.base == 5;
		mem_nc = noncanonical(emu_insn_ea(&d, g, r->rip + d.end) + seg_base(v, d.seg), 8);
	}
	stack_nc = stack_access(&d, r, &sla, &ssize) && noncanonical(sla, ssize);
	if (stack_nc && d.map == 0 && d.op == 0x8f)
		return true; /* POP to memory reads the stack first */
	if (mem_nc)
		return mem_ss;
	return stack_nc;
}

unsigned emu_fault_correct(struct tv_vcpu *v, struct tv_regs *r)
{
	struct walk w;
	bool ss;

	emu_site_walk_init(v, &w);
	if (!emu_canonical(r->rip)) {
		branch_undo(v, &w, r);
		return 13;
	}
	ss = stack_fault(v, &w, r);
	if (ss)
		EMU_LOG(v->log, "  fault: #GP(0) at 0x%" PRIx64 " is a non-canonical stack access: "
			"#SS(0)", r->rip);
	return ss ? 12 : 13;
}
