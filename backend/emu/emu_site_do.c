/* What the emulator does itself at a site (emu_sites.c finds them): the instructions Unicorn
 * 2.1.1 gets wrong, done or faulted here as the CPU does them. Each function says which. */
#include "emu.h"
#include "emu_decode.h"
#include "emu_env.h"
#include "emu_sites.h"
#include "pagewalk.h"
#include "x86.h"

#include <inttypes.h>
#include <string.h>

/* MOV from (0F 21) or to (0F 23) a debug register. */
bool emu_site_is_dr(uint8_t second)
{
	return second == 0x21 || second == 0x23;
}

/* Legacy and REX prefixes (REX is an INC or DEC outside 64-bit code, which Unicorn then decodes
 * as an instruction of its own, so an instruction ending at 0F 3x is never mistaken). */
bool emu_site_is_prefix(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65 ||
	       b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || (b & 0xf0) == 0x40;
}

void emu_site_walk_init(struct tv_vcpu *v, struct walk *w)
{
	int ids[3] = { UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4 };
	uint64_t cr[3] = { 0, 0, 0 };
	void *ptrs[3] = { &cr[0], &cr[1], &cr[2] };
	uc_x86_msr efer = { .rid = TV_MSR_EFER };

	memset(w, 0, sizeof(*w));
	if (uc_reg_read_batch(v->vm->uc, ids, ptrs, 3) == UC_ERR_OK) {
		w->s.cr0 = cr[0];
		w->s.cr3 = cr[1];
		w->s.cr4 = cr[2];
	}
	if (uc_reg_read(v->vm->uc, UC_X86_REG_MSR, &efer) == UC_ERR_OK)
		w->s.efer = efer.value;
	w->ram = (struct tv_ram){ v->vm->ram, v->vm->ram_size };
	w->maxphyaddr = emu_maxphyaddr(v);
}

unsigned emu_site_read(const struct walk *w, uint64_t la, uint8_t *buf, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa;
		const uint8_t *p;

		if (!emu_canonical(la + i) ||
		    tv_linear_to_gpa(&w->ram, &w->s, w->maxphyaddr, la + i, &gpa) != TV_WALK_OK ||
		    !(p = tv_ram_range(w->ram.host, w->ram.size, gpa, 1)))
			return i;
		buf[i] = *p;
	}
	return n;
}

bool emu_site_override_base(struct tv_vcpu *v, int seg, uint64_t *base)
{
	*base = 0;
	return (seg != 4 && seg != 5) ||
	       uc_reg_read(v->vm->uc, seg == 4 ? UC_X86_REG_FS_BASE : UC_X86_REG_GS_BASE, base) ==
		       UC_ERR_OK;
}

/* The vCPU's RIP (EIP, IP) and its width in this instance. */
static bool pc_read(struct tv_vcpu *v, uint64_t *pc)
{
	*pc = 0;
	return uc_reg_read(v->vm->uc, v->vm->mode == UC_MODE_64 ? UC_X86_REG_RIP : UC_X86_REG_EIP,
			   pc) == UC_ERR_OK;
}

/* A block's or an instruction's RIP: its linear address less CS's base, as QEMU forms the one
 * from the other. Unicorn does not keep RIP up to date for a block hook (unicorn-engine/unicorn
 * #1643), nor, measured, for every code hook (realmode.flat's rewritten code), so it is read only
 * where CS cannot be (another CPU state layout: see emu_env.h). */
bool emu_site_block_pc(struct tv_vcpu *v, uint64_t addr, uint64_t *pc)
{
	struct emu_env env;
	struct emu_seg cs;

	if (emu_env_save(&env, v->vm->uc) != 0)
		return pc_read(v, pc);
	emu_env_seg(&env, EMU_R_CS, &cs);
	emu_env_release(&env);
	*pc = addr - cs.base;
	return true;
}

/* Writing RIP makes Unicorn leave the block and go on at the new RIP: that is how a block starts
 * again, and how an instruction done here is left behind. */
bool emu_site_pc_write(struct tv_vcpu *v, uint64_t pc)
{
	if (v->vm->mode == UC_MODE_16)
		pc &= 0xffff;
	else if (v->vm->mode == UC_MODE_32)
		pc &= 0xffffffffu;
	return uc_reg_write(v->vm->uc, v->vm->mode == UC_MODE_64 ? UC_X86_REG_RIP : UC_X86_REG_EIP,
			    &pc) == UC_ERR_OK;
}

/* The CPL, from CR0.PE, EFLAGS.VM and CS's RPL (which is the CPL in protected and long mode). */
static unsigned cpl(struct tv_vcpu *v)
{
	int ids[3] = { UC_X86_REG_CR0, UC_X86_REG_EFLAGS, UC_X86_REG_CS };
	uint64_t r[3] = { 0, 0, 0 };
	void *ptrs[3] = { &r[0], &r[1], &r[2] };

	if (uc_reg_read_batch(v->vm->uc, ids, ptrs, 3) != UC_ERR_OK)
		return 3;
	if (!(r[0] & TV_CR0_PE))
		return 0;
	return (r[1] & TV_RFLAGS_VM) ? 3 : (unsigned)(r[2] & 3);
}


/* MOV to or from a debug register or CR8, [addr, addr + size) with its bytes in b, done on the
 * vCPU's copy (struct emu_msr's dr and cr8) and RIP moved past it. DR8-15 (REX.R) and DR4/DR5
 * under CR4.DE are #UD: left to Unicorn, which raises it without touching a breakpoint. */
static void ctl_move(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b,
		     enum site_kind kind)
{
	bool wide = v->vm->mode == UC_MODE_64;
	uint8_t rex = size >= 4 && wide && (b[size - 4] & 0xf0) == 0x40 ? b[size - 4] : 0;
	uint8_t modrm = b[size - 1];
	unsigned n = (modrm >> 3) & 7, reg = (modrm & 7) | ((rex & 1) << 3);
	bool read = b[size - 2] == 0x20 || b[size - 2] == 0x21;
	uint64_t cr4 = 0, pc, value = 0, *slot;
	int id = emu_site_gpr(wide, reg);

	if (kind == SITE_CR8 && !(rex & 4))
		return; /* CR0 (no REX.R, or not 64-bit code): Unicorn's */
	if (kind == SITE_DR &&
	    ((rex & 4) || uc_reg_read(v->vm->uc, UC_X86_REG_CR4, &cr4) != UC_ERR_OK ||
	     ((n == 4 || n == 5) && (cr4 & TV_CR4_DE))))
		return;
	if (!emu_site_block_pc(v, addr, &pc))
		return;
	if (kind == SITE_DR && (n == 4 || n == 5))
		n += 2;
	if (kind == SITE_DR && n == 6)
		return; /* DR6 is Unicorn's: it sets BS there on a single-step trap */
	slot = kind == SITE_CR8 ? &v->msr.cr8 : &v->msr.dr[n];
	if (read) {
		value = *slot;
		if (uc_reg_write(v->vm->uc, id, &value) != UC_ERR_OK)
			return;
	} else {
		if (uc_reg_read(v->vm->uc, id, &value) != UC_ERR_OK)
			return;
		if (!wide)
			value = (uint32_t)value;
		*slot = kind == SITE_CR8 ? value & 0xf
			: n == 7      ? (value | TV_DR7_RESET) & 0xffffffffull
				      : value;
	}
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": MOV %s %s%u 0x%" PRIx64 " (kept by twinvm)", addr,
		read ? "from" : "to", kind == SITE_CR8 ? "CR" : "DR", kind == SITE_CR8 ? 8 : n, *slot);
	emu_site_pc_write(v, pc + size);
}

/* The linear address of d's memory operand, d being the instruction at [addr, addr + size) in
 * 64-bit code; false where a register or a segment base cannot be read. */
static bool operand_la(struct tv_vcpu *v, uint64_t addr, uint32_t size, const struct emu_insn *d,
		       uint64_t *la)
{
	uint64_t g[16], rip = 0, base = 0;
	void *ptrs[16];
	int ids[16];

	for (int i = 0; i < 16; i++) {
		ptrs[i] = &g[i];
		ids[i] = emu_site_gpr(true, (unsigned)i);
	}
	if (uc_reg_read_batch(v->vm->uc, ids, ptrs, 16) != UC_ERR_OK ||
	    !emu_site_block_pc(v, addr, &rip) || !emu_site_override_base(v, d->seg, &base))
		return false;
	*la = emu_insn_ea(d, g, rip + size) + base;
	return true;
}

/* MOVAPS/MOVAPD's memory operand in 64-bit code, [addr, addr + size) with its bytes in b: #GP(0)
 * when its address is not 16-byte aligned; else the instruction is Unicorn's to run. */
static void movaps_check(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	struct emu_insn d;
	uint64_t la;

	if (v->vm->mode != UC_MODE_64 || !emu_decode(b, size, &d) || !d.mem ||
	    !operand_la(v, addr, size, &d, &la))
		return;
	if (la & 15) {
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": MOVAPS of 0x%" PRIx64 ", not aligned", addr,
			la);
		emu_raise(v, 13, 0, "MOVAPS/MOVAPD of an unaligned operand: #GP(0)");
	}
}

/* The CPU's code size (16, 32, 64), and the mask of the stack pointer's bits that address the
 * stack (SS's size) and SS's base, from QEMU's state. false where its layout cannot be read (the
 * caller then leaves the instruction to Unicorn). */
static bool code_stack(struct tv_vcpu *v, unsigned *code, uint64_t *sp_mask, uint64_t *ss_base)
{
	struct emu_env env;
	struct emu_seg ss;
	uint32_t hf;

	if (emu_env_save(&env, v->vm->uc) != 0)
		return false;
	hf = emu_env_hflags(&env);
	emu_env_seg(&env, EMU_R_SS, &ss);
	emu_env_release(&env);
	*code = (hf & EMU_HF_CS64) ? 64 : (hf & EMU_HF_CS32) ? 32 : 16;
	*sp_mask = *code == 64 ? UINT64_MAX : (hf & EMU_HF_SS32) ? 0xffffffffull : 0xffffull;
	*ss_base = *code == 64 ? 0 : ss.base;
	return true;
}

/* The operand size of the instruction whose prefixes are b[0..n) in code of that size. */
static unsigned operand_size(const uint8_t *b, uint32_t n, unsigned code)
{
	bool o16 = false, w = false;

	for (uint32_t i = 0; i < n; i++) {
		o16 |= b[i] == 0x66;
		w = code == 64 && (b[i] & 0xf8) == 0x48; /* REX.W, right before the opcode */
	}
	if (w)
		return 64;
	return (code == 16) != o16 ? 16 : 32;
}

/* SMSW to a register, [addr, addr + size): the whole of CR0 for a 32- or 64-bit operand. */
static void smsw_do(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	unsigned code, op;
	uint64_t ss_base, mask, cr0 = 0, pc;
	uint8_t rex = size >= 4 && (b[size - 4] & 0xf0) == 0x40 ? b[size - 4] : 0;
	unsigned reg;

	if (!code_stack(v, &code, &mask, &ss_base))
		return;
	op = operand_size(b, size - 3, code);
	reg = (b[size - 1] & 7) | (code == 64 && (rex & 1) ? 8 : 0);
	if (op == 16 || uc_reg_read(v->vm->uc, UC_X86_REG_CR0, &cr0) != UC_ERR_OK ||
	    !emu_site_block_pc(v, addr, &pc))
		return;
	if (op == 32)
		cr0 = (uint32_t)cr0;
	if (uc_reg_write(v->vm->uc, emu_site_gpr(code == 64, reg), &cr0) != UC_ERR_OK)
		return;
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": SMSW -> 0x%" PRIx64, addr, cr0);
	emu_site_pc_write(v, pc + size);
}

/* IRETD in real mode, [addr, addr + size): done here, with the RF it loads cleared at once (the
 * CPU clears it after the next instruction; Unicorn keeps it, and PUSHF then pushes it). Only
 * where no privilege, task or descriptor is involved; the frame in memory is left as it is, as
 * the CPU leaves it. Elsewhere, and for a 16-bit IRET (whose image has no RF), Unicorn's. */
static void iret_real(struct tv_vcpu *v, uint32_t size, const uint8_t *b)
{
	unsigned code;
	uint64_t ss_base, sp = 0, cr0 = 0, eflags = 0, mask, la, gpa, cs, eip, image;
	int sp_id = v->vm->mode == UC_MODE_64 ? UC_X86_REG_RSP : UC_X86_REG_ESP;
	const uint8_t *frame;
	struct walk w;

	if (!code_stack(v, &code, &mask, &ss_base) || code != 16 ||
	    operand_size(b, size - 1, code) != 32 ||
	    uc_reg_read(v->vm->uc, UC_X86_REG_CR0, &cr0) != UC_ERR_OK || (cr0 & TV_CR0_PE) ||
	    uc_reg_read(v->vm->uc, sp_id, &sp) != UC_ERR_OK ||
	    uc_reg_read(v->vm->uc, UC_X86_REG_EFLAGS, &eflags) != UC_ERR_OK)
		return;
	la = ss_base + (sp & mask);
	emu_site_walk_init(v, &w);
	if ((sp & mask) + 12 > mask + 1 ||
	    tv_linear_to_gpa(&w.ram, &w.s, w.maxphyaddr, la, &gpa) != TV_WALK_OK ||
	    (gpa & (PAGE - 1)) > PAGE - 12 || !(frame = tv_ram_range(w.ram.host, w.ram.size, gpa, 12)))
		return; /* a stack that wraps or crosses a page: Unicorn's */
	eip = frame[0] | frame[1] << 8 | (uint64_t)frame[2] << 16 | (uint64_t)frame[3] << 24;
	cs = frame[4] | frame[5] << 8;
	image = frame[8] | frame[9] << 8 | (uint64_t)frame[10] << 16 | (uint64_t)frame[11] << 24;
	/* SDM, IRET in real-address mode: EFLAGS <- (image AND 257FD5H) OR (EFLAGS AND 1A0000H) */
	eflags = (image & 0x257fd5) | (eflags & 0x1a0000) | TV_RFLAGS_FIXED;
	eflags &= ~TV_RFLAGS_RF;
	sp = (sp & ~mask) | ((sp + 12) & mask);
	if (uc_reg_write(v->vm->uc, UC_X86_REG_CS, &cs) != UC_ERR_OK ||
	    uc_reg_write(v->vm->uc, UC_X86_REG_EFLAGS, &eflags) != UC_ERR_OK ||
	    uc_reg_write(v->vm->uc, sp_id, &sp) != UC_ERR_OK)
		return;
	EMU_LOG(v->log, "  hook CODE: IRETD in real mode to 0x%" PRIx64 ":0x%" PRIx64 ", EFLAGS 0x%"
		PRIx64, cs, eip, eflags);
	emu_site_pc_write(v, eip);
}

/* PUSH of a segment register with a 32-bit operand, [addr, addr + size): the selector moved
 * into the low half of the new 4-byte slot, its upper half left as it was. */
static void push_sreg(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	static const int sreg[6] = { UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS,
				     UC_X86_REG_FS, UC_X86_REG_GS };
	unsigned code, which;
	uint64_t ss_base, sp = 0, mask, la, gpa, sel = 0, pc;
	int sp_id = v->vm->mode == UC_MODE_64 ? UC_X86_REG_RSP : UC_X86_REG_ESP;
	uint8_t *slot;
	struct walk w;

	which = b[size - 1] == 0xa0 ? 4 : b[size - 1] == 0xa8 ? 5 : b[size - 1] >> 3;
	if (!code_stack(v, &code, &mask, &ss_base) ||
	    operand_size(b, size - (b[size - 1] >= 0xa0 ? 2 : 1), code) != 32 ||
	    uc_reg_read(v->vm->uc, sp_id, &sp) != UC_ERR_OK ||
	    uc_reg_read(v->vm->uc, sreg[which], &sel) != UC_ERR_OK || !emu_site_block_pc(v, addr, &pc))
		return;
	la = ss_base + ((sp - 4) & mask);
	emu_site_walk_init(v, &w);
	if (tv_linear_to_gpa(&w.ram, &w.s, w.maxphyaddr, la, &gpa) != TV_WALK_OK ||
	    (gpa & (PAGE - 1)) > PAGE - 2 || !(slot = tv_ram_range(w.ram.host, w.ram.size, gpa, 2)))
		return; /* a fault, or a slot across pages: Unicorn's */
	sp = (sp & ~mask) | ((sp - 4) & mask);
	if (uc_reg_write(v->vm->uc, sp_id, &sp) != UC_ERR_OK)
		return;
	slot[0] = (uint8_t)sel;
	slot[1] = (uint8_t)(sel >> 8);
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": PUSH of selector 0x%" PRIx64 " as 16 bits at "
		"0x%" PRIx64, addr, sel, la);
	emu_site_pc_write(v, pc + size);
}

/* MOV SS in 64-bit code, [addr, addr + size) with its bytes in b: #GP(0) for a null selector
 * whose RPL is not the CPL. Everything else (a CPL of 3, a non-null selector) is Unicorn's, which
 * checks it as the CPU does; an operand outside RAM too (MMIO: reading it here and again in
 * Unicorn would make two reads where the CPU makes one). */
static void mov_ss(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	unsigned code, c = cpl(v);
	uint64_t ss_base, mask, sel = 0, ea;
	struct emu_insn d;
	struct walk w;
	uint8_t lo[2];

	if (!code_stack(v, &code, &mask, &ss_base) || code != 64 || c == 3 ||
	    !emu_decode(b, size, &d) || d.map != 0 || d.op != 0x8e || d.end != size)
		return;
	if (!d.mem) {
		if (uc_reg_read(v->vm->uc, emu_site_gpr(true, (d.modrm & 7) | ((d.rex & 1) << 3)),
				&sel) != UC_ERR_OK)
			return;
	} else {
		if (!operand_la(v, addr, size, &d, &ea))
			return;
		emu_site_walk_init(v, &w);
		if (emu_site_read(&w, ea, lo, 2) != 2)
			return;
		sel = lo[0] | lo[1] << 8;
	}
	if ((sel & 0xfffc) || (sel & 3) == c)
		return;
	EMU_LOG(v->log, "  hook CODE: MOV SS of null selector 0x%" PRIx64 " at CPL %u", sel, c);
	emu_raise(v, 13, 0, "MOV SS of a null selector whose RPL is not the CPL: #GP(0)");
}

/* RDMSR or WRMSR of IA32_APIC_BASE at CPL 0: done on the vCPU's copy. */
static void msr_apic_base(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	uc_engine *uc = v->vm->uc;
	bool wide = v->vm->mode == UC_MODE_64;
	int ids[3] = { UC_X86_REG_ECX, UC_X86_REG_EAX, UC_X86_REG_EDX };
	uint32_t r[3] = { 0, 0, 0 };
	void *ptrs[3] = { &r[0], &r[1], &r[2] };
	uint64_t pc, value, reserved;
	uint8_t op;

	op = b[size - 1];
	if (uc_reg_read_batch(uc, ids, ptrs, 3) != UC_ERR_OK || r[0] != TV_MSR_APIC_BASE ||
	    !emu_site_block_pc(v, addr, &pc))
		return; /* Unicorn's to do */
	if (op == 0x32) {
		uint64_t lo = (uint32_t)v->msr.apic_base, hi = v->msr.apic_base >> 32;

		if (uc_reg_write(uc, wide ? UC_X86_REG_RAX : UC_X86_REG_EAX, &lo) != UC_ERR_OK ||
		    uc_reg_write(uc, wide ? UC_X86_REG_RDX : UC_X86_REG_EDX, &hi) != UC_ERR_OK)
			return;
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": RDMSR 0x%x -> 0x%" PRIx64, addr, r[0],
			v->msr.apic_base);
	} else {
		value = (uint64_t)r[2] << 32 | r[1];
		reserved = TV_APIC_BASE_RESERVED | ~((1ull << emu_maxphyaddr(v)) - 1);
		if (!(value & reserved))
			v->msr.apic_base = value;
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": WRMSR 0x%x 0x%" PRIx64 "%s", addr, r[0],
			value, (value & reserved) ? ": a reserved bit set, dropped" : "");
	}
	emu_site_pc_write(v, pc + size);
}

void emu_site_do(struct tv_vcpu *v, enum site_kind kind, uint64_t addr, uint32_t size,
		 const uint8_t *b)
{
	if (kind == SITE_NONE)
		return;
	if (v->kicked) {
		/* Stop before the instruction, which runs when the vCPU runs on: a RIP write here
		 * would clear the kick's stop. */
		emu_stop_engine(v, EMU_STOP_KICK, "kick");
		return;
	}
	switch (kind) {
	case SITE_MOVBE:
		emu_raise(v, 6, 0, "MOVBE with a register operand: #UD");
		return;
	case SITE_SMSW:
		smsw_do(v, addr, size, b);
		return;
	case SITE_IRET:
		iret_real(v, size, b);
		return;
	case SITE_PUSH_SREG:
		push_sreg(v, addr, size, b);
		return;
	case SITE_MOVAPS:
		movaps_check(v, addr, size, b);
		return;
	case SITE_MOV_SS:
		mov_ss(v, addr, size, b);
		return;
	default:
		break;
	}
	if (cpl(v) != 0)
		return; /* Unicorn's #GP */
	if (kind == SITE_DR || kind == SITE_CR8)
		ctl_move(v, addr, size, b, kind);
	else if (kind == SITE_MOV_CR)
		emu_site_mov_cr(v, addr, size, b);
	else
		msr_apic_base(v, addr, size, b);
}
