/* IA32_APIC_BASE on the emulator. Unicorn 2.1.1 reads that MSR as 0 and drops its writes (its
 * APIC is compiled out), refuses RDMSR and WRMSR instruction hooks (uc_hook_add: UC_ERR_HOOK)
 * and drops the MSR in uc_reg_write too (all measured), so a guest such as kvm-unit-tests would
 * find no APIC where KVM has one. The vCPU keeps the value here as KVM does without an in-kernel
 * irqchip: a CPU out of reset's 0xfee00900, then what the guest writes. The instructions that
 * name it are found and done here:
 *
 * - a block hook, before each translated block runs, scans the guest pages the block lies in
 *   (once per page, by linear address) for the bytes 0F 32 (RDMSR) and 0F 30 (WRMSR);
 * - each place found gets a code hook on the addresses an instruction ending there can begin at
 *   (the prefix bytes before it), the translations of the block's pages are dropped, and the
 *   block starts again (a RIP write), now translated with the hook;
 * - the code hook, before the instruction runs, checks that it is RDMSR or WRMSR (its bytes in
 *   RAM, as they are now) of IA32_APIC_BASE at CPL 0, does it and moves RIP past it.
 *
 * Everything else (other MSRs, CPL 3's #GP) is left to Unicorn. The cost is the block hook's call
 * per block run, under 2 ns (a loop of two instructions takes twice as long), so only a vCPU
 * asked for it (tv_vcpu_config.apic_base_msr: --platform pc) gets the hooks; the others keep
 * Unicorn's MSR, read as 0. Limits: a page is scanned once for the vCPU's life (again after
 * code_written), so an RDMSR the guest writes into a page already scanned is Unicorn's (it reads
 * 0); a WRMSR with a reserved bit set is dropped where KVM raises #GP; at most EMU_MSR_SITES
 * places are hooked.
 *
 * MOV to and from a debug register (0F 23, 0F 21) is done here the same way on every vCPU, found
 * when a block is translated (emu_msr_on_translate, from emu_smc.c's translation hook: no cost per
 * block run; Unicorn calls it for every new block but an instance's first, which
 * emu_msr_before_first_run scans). Unicorn 2.1.1 crashes the process when a guest enables a
 * breakpoint in DR7: its breakpoint insertion flushes the translations while the block that wrote
 * DR7 still runs, which then jumps into the emptied code buffer (measured: SIGSEGV in generated
 * code, kvm-unit-tests' emulator test and a three-instruction guest). A guest must not crash
 * twinvm, so the emulator keeps DR0-DR3 and DR7 itself: they read back what was written (DR7
 * with its fixed bit; DR5 is DR7 while CR4.DE is clear) and raise no #DB, which the README says.
 * DR6 (and DR4) stay Unicorn's, which sets BS there on a single-step trap. A DR site past
 * EMU_MSR_SITES ends the run with the reason rather than be left to Unicorn.
 *
 * The same sites correct Unicorn where it is not the CPU (enum site_kind says each). */
#include "emu.h"
#include "emu_env.h"
#include "pagewalk.h"
#include "x86.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define PAGE 4096u
#define INSN_MAX 15 /* the longest x86 instruction: at most 12 prefix bytes before 0F 2x /r */

/* MOV from (0F 21) or to (0F 23) a debug register. */
static bool is_dr(uint8_t second)
{
	return second == 0x21 || second == 0x23;
}

/* The instructions done here, told by their bytes from the 0F on (b[0..3]) and the byte before
 * the 0F (a REX prefix, or 0). */
enum site_kind {
	SITE_NONE,
	SITE_MSR,   /* RDMSR, WRMSR (0F 32, 0F 30): IA32_APIC_BASE, where asked for */
	SITE_DR,    /* MOV from or to a debug register (0F 21 /r, 0F 23 /r): on every vCPU */
	SITE_CR8,   /* MOV from or to CR8 (REX.R 0F 20 /0, REX.R 0F 22 /0): the TPR, which Unicorn
		     * without an APIC reads as 0 */
	SITE_MOVBE, /* MOVBE with a register operand (0F 38 F0/F1, ModRM mod 3): #UD on the CPU,
		     * which Unicorn runs as a move */
	SITE_MOVAPS, /* MOVAPS/MOVAPD (0F 28/29, 66 0F 28/29) from or to memory: #GP(0) when the
		      * operand is not 16-byte aligned, which Unicorn does not check; in 64-bit
		      * code only (elsewhere a segment base would have to be read as well) */
	SITE_SMSW,   /* SMSW to a register with a 32- or 64-bit operand (0F 01 /4, mod 3): all of
		      * CR0, where Unicorn gives its low 16 bits */
	SITE_IRET,   /* IRET with a 32- or 64-bit operand (CF): the RF it loads is cleared in the
		      * image first. Unicorn keeps RF set (the CPU clears it after the next
		      * instruction) and PUSHF then pushes it; RF only holds off instruction
		      * breakpoints, which the emulator does not raise, so clearing it is exact */
	SITE_PUSH_SREG, /* PUSH of a segment register with a 32-bit operand (66 06/0E/16/1E in
			 * 16-bit code, 0F A0/A8): a 16-bit move into the 4-byte slot, the upper
			 * half left as it was, as Intel's CPUs do (SDM, PUSH); Unicorn writes the
			 * selector zero-extended. Bare 06/0E/16/1E in 32-bit code are too common a
			 * byte to look for: those stay Unicorn's */
};

/* Sites of the kinds that only correct Unicorn (CR8, MOVBE, MOVAPS) leave this many places to
 * the debug registers, which it must never be left to. */
#define SITES_FOR_DR 32

static enum site_kind site_kind(const struct emu_msr *m, const uint8_t b[4], uint8_t before)
{
	if (b[0] == 0xcf)
		return SITE_IRET;
	if ((b[0] == 0x06 || b[0] == 0x0e || b[0] == 0x16 || b[0] == 0x1e) && before == 0x66)
		return SITE_PUSH_SREG;
	if (b[0] != 0x0f)
		return SITE_NONE;
	if (b[1] == 0x01 && (b[2] & 0xf8) == 0xe0)
		return SITE_SMSW;
	if (b[1] == 0xa0 || b[1] == 0xa8)
		return SITE_PUSH_SREG;
	if (is_dr(b[1]))
		return SITE_DR;
	if (m->apic && (b[1] == 0x30 || b[1] == 0x32))
		return SITE_MSR;
	if ((b[1] == 0x20 || b[1] == 0x22) && (before & 0xf4) == 0x44 && !((b[2] >> 3) & 7))
		return SITE_CR8;
	if (b[1] == 0x38 && (b[2] == 0xf0 || b[2] == 0xf1) && b[3] >= 0xc0)
		return SITE_MOVBE;
	if ((b[1] == 0x28 || b[1] == 0x29) && b[2] < 0xc0)
		return SITE_MOVAPS;
	return SITE_NONE;
}

/* The instruction's length from its 0F or one-byte opcode (MOVAPS: its ModRM byte's, at
 * least). */
static unsigned site_len(enum site_kind k)
{
	return k == SITE_IRET || k == SITE_PUSH_SREG ? 1
	       : k == SITE_MSR			    ? 2
	       : k == SITE_MOVBE		    ? 4
						    : 3;
}

/* site_len, for the instruction whose bytes from its first opcode byte are b. */
static unsigned site_len_of(enum site_kind k, const uint8_t *b)
{
	return k == SITE_PUSH_SREG && b[0] == 0x0f ? 2 : site_len(k);
}

/* Legacy and REX prefixes (REX is an INC or DEC outside 64-bit code, which Unicorn then decodes
 * as an instruction of its own, so an instruction ending at 0F 3x is never mistaken). */
static bool is_prefix(uint8_t b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65 ||
	       b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || (b & 0xf0) == 0x40;
}

/* The pages scanned: an open-addressed set of linear page numbers + 1, cleared when it fills. */
static unsigned page_slot(uint64_t page)
{
	return (unsigned)((page * 0x9e3779b97f4a7c15ull) >> 52) % EMU_MSR_PAGES;
}

static inline bool page_known(const struct emu_msr *m, uint64_t page)
{
	for (unsigned i = page_slot(page), n = 0; n < EMU_MSR_PAGES; i = (i + 1) % EMU_MSR_PAGES, n++) {
		if (m->pages[i] == page + 1)
			return true;
		if (!m->pages[i])
			return false;
	}
	return false;
}

static void page_mark(struct emu_msr *m, uint64_t page)
{
	unsigned i = page_slot(page);

	if (m->npages >= EMU_MSR_PAGES * 3 / 4) {
		memset(m->pages, 0, EMU_MSR_PAGES * sizeof(m->pages[0]));
		m->npages = 0;
	}
	while (m->pages[i])
		i = (i + 1) % EMU_MSR_PAGES;
	m->pages[i] = page + 1;
	m->npages++;
}

void emu_msr_forget_pages(struct tv_vcpu *v)
{
	if (v->msr.pages && v->msr.npages)
		memset(v->msr.pages, 0, EMU_MSR_PAGES * sizeof(v->msr.pages[0]));
	v->msr.npages = 0;
}

/* The paging state and RAM, for walks from inside a hook. */
struct walk {
	struct tv_sregs s;
	struct tv_ram ram;
	unsigned maxphyaddr;
};

static void walk_init(struct tv_vcpu *v, struct walk *w)
{
	int ids[3] = { UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4 };
	uint64_t cr[3] = { 0, 0, 0 };
	void *ptrs[3] = { &cr[0], &cr[1], &cr[2] };
	uc_x86_msr efer = { .rid = TV_MSR_EFER };
	uint32_t out[4];

	memset(w, 0, sizeof(*w));
	if (uc_reg_read_batch(v->vm->uc, ids, ptrs, 3) == UC_ERR_OK) {
		w->s.cr0 = cr[0];
		w->s.cr3 = cr[1];
		w->s.cr4 = cr[2];
	}
	if (uc_reg_read(v->vm->uc, UC_X86_REG_MSR, &efer) == UC_ERR_OK)
		w->s.efer = efer.value;
	w->ram = (struct tv_ram){ v->vm->ram, v->vm->ram_size };
	w->maxphyaddr = emu_cpuid(v, 0x80000008u, 0, out) == 0 ? out[0] & 0xff : 0;
	if (w->maxphyaddr < TV_MAXPHYADDR_MIN || w->maxphyaddr > TV_MAXPHYADDR_MAX)
		w->maxphyaddr = TV_MAXPHYADDR_DEFAULT;
}

/* The host bytes of the page at linear page number page, or NULL (not mapped, not RAM). */
static const uint8_t *page_bytes(const struct walk *w, uint64_t page)
{
	uint64_t gpa;

	if (tv_linear_to_gpa(&w->ram, &w->s, w->maxphyaddr, page * PAGE, &gpa) != TV_WALK_OK)
		return NULL;
	return tv_ram_range(w->ram.host, w->ram.size, gpa & ~(uint64_t)(PAGE - 1), PAGE);
}

/* A code hook on [site - prefixes, site], where site is the linear address of a 0F 3x pair.
 * true when one was added. */
static bool site_add(struct tv_vcpu *v, uint64_t site, unsigned prefixes, enum site_kind kind,
		     const uint8_t *opcode)
{
	struct emu_msr *m = &v->msr;
	uc_err err;

	for (unsigned i = 0; i < m->nsites; i++) {
		if (m->site[i] == site)
			return false;
	}
	if (kind != SITE_DR && kind != SITE_MSR && m->nsites >= EMU_MSR_SITES - SITES_FOR_DR)
		return false; /* a correction of Unicorn's, not made here: the rest is for DRs */
	if (m->nsites == EMU_MSR_SITES) {
		EMU_LOG(v->log, "  hook BLOCK: 0F xx at 0x%" PRIx64 " not hooked: %d places are",
			site, EMU_MSR_SITES);
		if (kind == SITE_DR && !v->io_error) {
			/* Left to Unicorn it may crash the process: end the guest's run instead. */
			tv_set_error("emulator: the guest moves to or from debug registers at more "
				     "than %d places, which the emulator cannot follow (at 0x%" PRIx64
				     ")", EMU_MSR_SITES, site);
			v->io_error = -ENOTSUP;
			emu_stop_engine(v, EMU_STOP_NONE, "too many sites");
		}
		return false;
	}
	prefixes = site < prefixes ? (unsigned)site : prefixes;
	err = uc_hook_add(v->vm->uc, &m->hook_site[m->nsites], UC_HOOK_CODE, (void *)emu_msr_on_site,
			  v, site - prefixes, site);
	EMU_LOG(v->log, "  hook BLOCK: 0F 3x at 0x%" PRIx64 ": uc_hook_add(UC_HOOK_CODE, 0x%" PRIx64
		", 0x%" PRIx64 ") = %s", site, site - prefixes, site, emu_err_name(err));
	if (err)
		return false;
	m->site[m->nsites] = site;
	m->prefixes[m->nsites] = (uint8_t)prefixes;
	m->len[m->nsites] = (uint8_t)site_len_of(kind, opcode);
	m->nsites++;
	return true;
}

/* Every instruction of site_kind in the page at linear page number page gets a site; true when
 * one was new. One across the page's end is this page's (its 0F is here). */
static bool page_scan(struct tv_vcpu *v, const struct walk *w, uint64_t page)
{
	const uint8_t *p = page_bytes(w, page), *next = page_bytes(w, page + 1);
	bool added = false;

	if (!p)
		return false;
	for (unsigned i = 0; i < PAGE; i++) {
		uint8_t b[4] = { 0, 0, 0, 0 };
		enum site_kind kind;
		unsigned k = 0;

		if (p[i] != 0x0f && p[i] != 0xcf && !(i && p[i - 1] == 0x66))
			continue;
		for (unsigned j = 0; j < 4; j++)
			b[j] = i + j < PAGE ? p[i + j] : next ? next[i + j - PAGE] : 0;
		kind = site_kind(&v->msr, b, i ? p[i - 1] : 0);
		if (kind == SITE_NONE)
			continue;
		while (k < i && k < INSN_MAX - 4 && is_prefix(p[i - k - 1]))
			k++;
		added |= site_add(v, page * PAGE + i, k, kind, b);
	}
	return added;
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
static bool block_pc(struct tv_vcpu *v, uint64_t addr, uint64_t *pc)
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
static bool pc_write(struct tv_vcpu *v, uint64_t pc)
{
	if (v->vm->mode == UC_MODE_16)
		pc &= 0xffff;
	else if (v->vm->mode == UC_MODE_32)
		pc &= 0xffffffffu;
	return uc_reg_write(v->vm->uc, v->vm->mode == UC_MODE_64 ? UC_X86_REG_RIP : UC_X86_REG_EIP,
			    &pc) == UC_ERR_OK;
}

/* Scans the pages of the block at [addr, addr + size) not scanned yet; a new site drops their
 * translations and begins the block again, translated with its hook. */
static void block_scan(struct tv_vcpu *v, uint64_t addr, uint32_t size)
{
	uint64_t first = addr / PAGE, last = (addr + (size ? size - 1 : 0)) / PAGE;
	bool added = false;
	struct walk w;

	if (page_known(&v->msr, first) && (last == first || page_known(&v->msr, last)))
		return;
	walk_init(v, &w);
	for (uint64_t page = first; page <= last; page++) {
		if (page_known(&v->msr, page))
			continue;
		added |= page_scan(v, &w, page);
		page_mark(&v->msr, page);
	}
	if (!added)
		return;
	/* The block was translated without the new hooks: drop it and begin it again. */
	for (uint64_t page = first; page <= last; page++)
		uc_ctl_remove_cache(v->vm->uc, page * PAGE, page * PAGE + PAGE);
	emu_restart_block(v, addr);
	EMU_LOG(v->log, "  hook 0x%" PRIx64 ": translated again with the sites' hooks", addr);
}

void emu_restart_block(struct tv_vcpu *v, uint64_t addr)
{
	uint64_t pc;

	/* A kick that came meanwhile stops the engine here instead (a RIP write would clear its
	 * stop). */
	if (v->kicked)
		emu_stop_engine(v, EMU_STOP_KICK, "kick");
	else if (block_pc(v, addr, &pc))
		pc_write(v, pc);
}

void emu_msr_on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	(void)uc;
	block_scan(opaque, addr, size);
}

void emu_msr_on_translate(struct tv_vcpu *v, uint64_t addr, uint32_t size)
{
	block_scan(v, addr, size);
}

void emu_msr_before_first_run(struct tv_vcpu *v, uint64_t pc)
{
	struct emu_env env;
	struct emu_seg cs = { 0 };

	v->msr.started = true;
	if (emu_env_save(&env, v->vm->uc) == 0) {
		emu_env_seg(&env, EMU_R_CS, &cs);
		emu_env_release(&env);
	}
	/* pc is already linear in UC_MODE_16 (emu_begin_address). A block is at most a page and a
	 * bit: its two pages. */
	block_scan(v, v->vm->mode == UC_MODE_16 ? pc : cs.base + pc, PAGE);
}

/* The site whose instruction [addr, addr + size) is, or -1. */
static int site_of(const struct emu_msr *m, uint64_t addr, uint32_t size)
{
	for (unsigned i = 0; i < m->nsites; i++) {
		if (addr <= m->site[i] && m->site[i] < addr + size)
			return (int)i; /* its bytes now, not its kind then, decide: site_insn */
	}
	return -1;
}

/* The kind of the site instruction at [addr, addr + size) as it reads in RAM now (prefixes,
 * then the instruction from its 0F), with its bytes in b; SITE_NONE for anything else, and for
 * F2 0F 38 F0/F1 (CRC32, not MOVBE). */
static enum site_kind site_insn(struct tv_vcpu *v, uint64_t addr, uint32_t size,
				uint8_t b[INSN_MAX])
{
	struct walk w;

	if (size < 2 || size > INSN_MAX)
		return SITE_NONE;
	walk_init(v, &w);
	for (uint32_t i = 0; i < size; i++) {
		uint64_t la = addr + i, gpa;
		const uint8_t *p;

		if (tv_linear_to_gpa(&w.ram, &w.s, w.maxphyaddr, la, &gpa) != TV_WALK_OK ||
		    !(p = tv_ram_range(w.ram.host, w.ram.size, gpa, 1)))
			return SITE_NONE;
		b[i] = *p;
	}
	for (unsigned len = 1; len <= 4 && len <= size; len++) {
		uint32_t n = size - len, i;
		uint8_t from[4] = { 0, 0, 0, 0 };
		enum site_kind kind;

		for (i = 0; i < n && is_prefix(b[i]) && b[i] != 0xf2; i++)
			;
		if (i < n)
			continue;
		memcpy(from, b + n, len);
		kind = site_kind(&v->msr, from, n ? b[n - 1] : 0);
		if (kind != SITE_NONE && kind != SITE_MOVAPS && site_len_of(kind, from) == len)
			return kind;
	}
	/* MOVAPS: prefixes, 0F 28/29, ModRM and what follows it */
	for (uint32_t n = 0; n + 3 <= size; n++) {
		uint8_t from[4] = { 0, 0, 0, 0 };

		if (b[n] == 0x0f) {
			memcpy(from, b + n, 3);
			return site_kind(&v->msr, from, n ? b[n - 1] : 0) == SITE_MOVAPS ? SITE_MOVAPS
											 : SITE_NONE;
		}
		if (!is_prefix(b[n]))
			break;
	}
	return SITE_NONE;
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

/* The general registers by ModRM number, in 64-bit and in 32-bit code (where R8-R15 do not
 * exist). */
static const int gpr64[16] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
			       UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
			       UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
			       UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15 };
static const int gpr32[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
			      UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI };

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
	int id = wide ? gpr64[reg] : gpr32[reg & 7];

	if (kind == SITE_CR8 && !(rex & 4))
		return; /* CR0 (no REX.R, or not 64-bit code): Unicorn's */
	if (kind == SITE_DR &&
	    ((rex & 4) || uc_reg_read(v->vm->uc, UC_X86_REG_CR4, &cr4) != UC_ERR_OK ||
	     ((n == 4 || n == 5) && (cr4 & TV_CR4_DE))))
		return;
	if (!block_pc(v, addr, &pc))
		return;
	if (v->kicked) {
		emu_stop_engine(v, EMU_STOP_KICK, "kick"); /* done when the vCPU runs on */
		return;
	}
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
			: n == 6      ? value | TV_DR6_RESET
			: n == 7      ? (value | TV_DR7_RESET) & 0xffffffffull
				      : value;
	}
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": MOV %s %s%u 0x%" PRIx64 " (kept by twinvm)", addr,
		read ? "from" : "to", kind == SITE_CR8 ? "CR" : "DR", kind == SITE_CR8 ? 8 : n, *slot);
	pc_write(v, pc + size);
}

/* MOVAPS/MOVAPD's memory operand in 64-bit code, [addr, addr + size) with its bytes in b: #GP(0)
 * when its address is not 16-byte aligned; else the instruction is Unicorn's to run. */
static void movaps_check(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	static int ids[17] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
				     UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
				     UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
				     UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
				     UC_X86_REG_RIP };
	uint64_t r[17], ea = 0, seg = 0;
	void *ptrs[17];
	uint8_t rex = 0, modrm, mod, rm;
	bool addr32 = false;
	int seg_reg = 0;
	uint32_t i = 0;

	if (v->vm->mode != UC_MODE_64)
		return;
	for (; i < size && b[i] != 0x0f; i++) {
		if (b[i] == 0x67)
			addr32 = true;
		else if (b[i] == 0x64)
			seg_reg = UC_X86_REG_FS_BASE;
		else if (b[i] == 0x65)
			seg_reg = UC_X86_REG_GS_BASE;
		rex = (b[i] & 0xf0) == 0x40 ? b[i] : 0; /* REX counts only right before 0F */
	}
	if (i + 3 > size)
		return;
	for (int k = 0; k < 17; k++)
		ptrs[k] = &r[k];
	if (uc_reg_read_batch(v->vm->uc, ids, ptrs, 17) != UC_ERR_OK ||
	    (seg_reg && uc_reg_read(v->vm->uc, seg_reg, &seg) != UC_ERR_OK))
		return;
	modrm = b[i + 2];
	mod = modrm >> 6;
	rm = modrm & 7;
	i += 3;
	if (rm == 4) { /* SIB */
		uint8_t sib;
		unsigned idx, base;

		if (i >= size)
			return;
		sib = b[i++];
		idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
		base = (sib & 7) | ((rex & 1) << 3);
		ea = idx == 4 ? 0 : r[idx] << (sib >> 6);
		if ((sib & 7) == 5 && mod == 0)
			mod = 2; /* disp32, no base */
		else
			ea += r[base];
	} else if (rm == 5 && mod == 0) {
		ea = r[16] + size; /* RIP-relative: from the next instruction */
		mod = 2;
	} else {
		ea = r[rm | ((rex & 1) << 3)];
	}
	if (mod == 1 && i + 1 <= size)
		ea += (uint64_t)(int64_t)(int8_t)b[i];
	else if (mod == 2 && i + 4 <= size)
		ea += (uint64_t)(int64_t)(int32_t)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 |
						   (uint32_t)b[i + 3] << 24);
	if (addr32)
		ea = (uint32_t)ea;
	if ((ea + seg) & 15) {
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": MOVAPS of 0x%" PRIx64 ", not aligned", addr,
			ea + seg);
		emu_raise(v, 13, 0, "MOVAPS/MOVAPD of an unaligned operand: #GP(0)");
	}
}

/* The CPU's code size (16, 32, 64) and SS's stack size and base, from QEMU's state. false where
 * its layout cannot be read (the caller then leaves the instruction to Unicorn). */
static bool code_stack(struct tv_vcpu *v, unsigned *code, unsigned *stack, uint64_t *ss_base)
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
	*stack = *code == 64 ? 64 : (hf & EMU_HF_SS32) ? 32 : 16;
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
	unsigned code, stack, op;
	uint64_t ss_base, cr0 = 0, pc;
	uint8_t rex = size >= 4 && (b[size - 4] & 0xf0) == 0x40 ? b[size - 4] : 0;
	unsigned reg;

	if (!code_stack(v, &code, &stack, &ss_base))
		return;
	op = operand_size(b, size - 3, code);
	reg = (b[size - 1] & 7) | (code == 64 && (rex & 1) ? 8 : 0);
	if (op == 16 || uc_reg_read(v->vm->uc, UC_X86_REG_CR0, &cr0) != UC_ERR_OK ||
	    !block_pc(v, addr, &pc))
		return;
	if (v->kicked) {
		emu_stop_engine(v, EMU_STOP_KICK, "kick");
		return;
	}
	if (op == 32)
		cr0 = (uint32_t)cr0;
	if (uc_reg_write(v->vm->uc, code == 64 ? gpr64[reg] : gpr32[reg & 7], &cr0) != UC_ERR_OK)
		return;
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": SMSW -> 0x%" PRIx64, addr, cr0);
	pc_write(v, pc + size);
}

/* IRET with a 32- or 64-bit operand, [addr, addr + size): RF cleared in the RFLAGS image it is
 * about to pop (after RIP and CS), which Unicorn then runs. */
static void iret_clear_rf(struct tv_vcpu *v, uint32_t size, const uint8_t *b)
{
	unsigned code, stack, op;
	uint64_t ss_base, sp = 0, mask, la, gpa;
	struct walk w;
	uint8_t *image;

	if (!code_stack(v, &code, &stack, &ss_base))
		return;
	op = operand_size(b, size - 1, code);
	/* RSP exists in a UC_MODE_64 instance only */
	if (op == 16 || uc_reg_read(v->vm->uc, v->vm->mode == UC_MODE_64 ? UC_X86_REG_RSP
									 : UC_X86_REG_ESP,
				    &sp) != UC_ERR_OK)
		return;
	mask = stack == 64 ? UINT64_MAX : stack == 32 ? 0xffffffffull : 0xffffull;
	la = ss_base + ((sp + 2 * (op / 8)) & mask);
	walk_init(v, &w);
	if (tv_linear_to_gpa(&w.ram, &w.s, w.maxphyaddr, la + 2, &gpa) != TV_WALK_OK ||
	    !(image = tv_ram_range(w.ram.host, w.ram.size, gpa, 1)))
		return;
	EMU_LOG(v->log, "  hook CODE: IRET pops RFLAGS at 0x%" PRIx64 "%s", la,
		(*image & 1) ? ": RF cleared in it" : "");
	*image &= (uint8_t)~1u; /* bit 16 of the image: bit 0 of its third byte */
}

/* PUSH of a segment register with a 32-bit operand, [addr, addr + size): the selector moved
 * into the low half of the new 4-byte slot, its upper half left as it was. */
static void push_sreg(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	static const int sreg[6] = { UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS,
				     UC_X86_REG_FS, UC_X86_REG_GS };
	unsigned code, stack, which;
	uint64_t ss_base, sp = 0, mask, la, gpa, sel = 0, pc;
	int sp_id = v->vm->mode == UC_MODE_64 ? UC_X86_REG_RSP : UC_X86_REG_ESP;
	uint8_t *slot;
	struct walk w;

	which = b[size - 1] == 0xa0 ? 4 : b[size - 1] == 0xa8 ? 5 : b[size - 1] >> 3;
	if (!code_stack(v, &code, &stack, &ss_base) ||
	    operand_size(b, size - (b[size - 1] >= 0xa0 ? 2 : 1), code) != 32 ||
	    uc_reg_read(v->vm->uc, sp_id, &sp) != UC_ERR_OK ||
	    uc_reg_read(v->vm->uc, sreg[which], &sel) != UC_ERR_OK || !block_pc(v, addr, &pc))
		return;
	mask = stack == 32 ? 0xffffffffull : 0xffffull;
	la = ss_base + ((sp - 4) & mask);
	walk_init(v, &w);
	if (tv_linear_to_gpa(&w.ram, &w.s, w.maxphyaddr, la, &gpa) != TV_WALK_OK ||
	    (gpa & (PAGE - 1)) > PAGE - 2 || !(slot = tv_ram_range(w.ram.host, w.ram.size, gpa, 2)))
		return; /* a fault, or a slot across pages: Unicorn's */
	if (v->kicked) {
		emu_stop_engine(v, EMU_STOP_KICK, "kick");
		return;
	}
	sp = (sp & ~mask) | ((sp - 4) & mask);
	if (uc_reg_write(v->vm->uc, sp_id, &sp) != UC_ERR_OK)
		return;
	slot[0] = (uint8_t)sel;
	slot[1] = (uint8_t)(sel >> 8);
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": PUSH of selector 0x%" PRIx64 " as 16 bits at "
		"0x%" PRIx64, addr, sel, la);
	pc_write(v, pc + size);
}

void emu_msr_on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	bool wide = v->vm->mode == UC_MODE_64;
	int ids[3] = { UC_X86_REG_ECX, UC_X86_REG_EAX, UC_X86_REG_EDX };
	uint32_t r[3] = { 0, 0, 0 };
	void *ptrs[3] = { &r[0], &r[1], &r[2] };
	uint64_t pc, value, reserved;
	uint8_t op, b[INSN_MAX];
	enum site_kind kind;

	if (site_of(&v->msr, addr, size) < 0 || !(kind = site_insn(v, addr, size, b)))
		return; /* Unicorn's to do */
	if (kind == SITE_MOVBE) {
		emu_raise(v, 6, 0, "MOVBE with a register operand: #UD");
		return;
	}
	if (kind == SITE_SMSW) {
		smsw_do(v, addr, size, b);
		return;
	}
	if (kind == SITE_IRET) {
		iret_clear_rf(v, size, b);
		return;
	}
	if (kind == SITE_PUSH_SREG) {
		push_sreg(v, addr, size, b);
		return;
	}
	if (kind == SITE_MOVAPS) {
		movaps_check(v, addr, size, b);
		return;
	}
	if (cpl(v) != 0)
		return; /* Unicorn's #GP */
	if (kind == SITE_DR || kind == SITE_CR8) {
		ctl_move(v, addr, size, b, kind);
		return;
	}
	op = b[size - 1];
	if (uc_reg_read_batch(uc, ids, ptrs, 3) != UC_ERR_OK || r[0] != TV_MSR_APIC_BASE ||
	    !block_pc(v, addr, &pc))
		return; /* Unicorn's to do */
	if (v->kicked) {
		/* Not done, and done again when the vCPU runs on: a RIP write would clear the
		 * kick's stop. */
		emu_stop_engine(v, EMU_STOP_KICK, "kick");
		return;
	}
	if (op == 0x32) {
		uint64_t lo = (uint32_t)v->msr.apic_base, hi = v->msr.apic_base >> 32;

		if (uc_reg_write(uc, wide ? UC_X86_REG_RAX : UC_X86_REG_EAX, &lo) != UC_ERR_OK ||
		    uc_reg_write(uc, wide ? UC_X86_REG_RDX : UC_X86_REG_EDX, &hi) != UC_ERR_OK)
			return;
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": RDMSR 0x%x -> 0x%" PRIx64, addr, r[0],
			v->msr.apic_base);
	} else {
		unsigned width;
		uint32_t out[4];

		value = (uint64_t)r[2] << 32 | r[1];
		width = emu_cpuid(v, 0x80000008u, 0, out) == 0 ? out[0] & 0xff : 0;
		if (width < TV_MAXPHYADDR_MIN || width > TV_MAXPHYADDR_MAX)
			width = TV_MAXPHYADDR_DEFAULT;
		reserved = TV_APIC_BASE_RESERVED | ~((1ull << width) - 1);
		if (!(value & reserved))
			v->msr.apic_base = value;
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": WRMSR 0x%x 0x%" PRIx64 "%s", addr, r[0],
			value, (value & reserved) ? ": a reserved bit set, dropped" : "");
	}
	pc_write(v, pc + size);
}

int emu_msr_hooks_add(struct tv_vcpu *v)
{
	struct emu_msr *m = &v->msr;
	uc_err err;

	if (!m->apic)
		return emu_msr_sites_readd(v); /* no RDMSR/WRMSR: the DR sites only */
	err = uc_hook_add(v->vm->uc, &m->hook_block, UC_HOOK_BLOCK, (void *)emu_msr_on_block, v, 1,
			  0);
	EMU_STEP(v->log, "a callback into twinvm: finds RDMSR and WRMSR, which Unicorn cannot hook",
		 "uc_hook_add(UC_HOOK_BLOCK, begin 1, end 0) = %s", emu_err_name(err));
	if (err) {
		m->hook_block = 0;
		tv_set_error("uc_hook_add(UC_HOOK_BLOCK): %s", uc_strerror(err));
		return emu_errno(err);
	}
	return emu_msr_sites_readd(v);
}

/* The sites' hooks on this instance, after every other code hook (see emu.h). */
int emu_msr_sites_readd(struct tv_vcpu *v)
{
	struct emu_msr *m = &v->msr;

	for (unsigned i = 0; i < m->nsites; i++) {
		unsigned k = m->prefixes[i];
		uc_err err;

		if (m->hook_site[i])
			uc_hook_del(v->vm->uc, m->hook_site[i]);
		err = uc_hook_add(v->vm->uc, &m->hook_site[i], UC_HOOK_CODE,
				  (void *)emu_msr_on_site, v, m->site[i] - k, m->site[i]);
		EMU_LOG(v->log, "uc_hook_add(UC_HOOK_CODE, 0x%" PRIx64 ", 0x%" PRIx64 ") = %s "
			"(RDMSR/WRMSR)", m->site[i] - k, m->site[i], emu_err_name(err));
		if (err) {
			m->hook_site[i] = 0;
			tv_set_error("uc_hook_add(UC_HOOK_CODE) for an RDMSR/WRMSR: %s",
				     uc_strerror(err));
			return emu_errno(err);
		}
	}
	return 0;
}

void emu_msr_hooks_del(struct tv_vcpu *v)
{
	struct emu_msr *m = &v->msr;
	bool any = m->hook_block != 0;

	if (m->hook_block)
		uc_hook_del(v->vm->uc, m->hook_block);
	m->hook_block = 0;
	for (unsigned i = 0; i < m->nsites; i++) {
		if (m->hook_site[i])
			uc_hook_del(v->vm->uc, m->hook_site[i]);
		m->hook_site[i] = 0;
	}
	if (any)
		EMU_STEP(v->log, "the callbacks removed", "uc_hook_del(UC_HOOK_BLOCK and %u RDMSR/WRMSR "
			 "code hooks)", m->nsites);
}
