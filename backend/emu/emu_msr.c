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
 * places are hooked. */
#include "emu.h"
#include "emu_env.h"
#include "pagewalk.h"
#include "x86.h"

#include <inttypes.h>
#include <string.h>

#define PAGE 4096u
#define INSN_MAX 15 /* the longest x86 instruction: at most 13 prefix bytes before 0F 3x */

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
static bool site_add(struct tv_vcpu *v, uint64_t site, unsigned prefixes)
{
	struct emu_msr *m = &v->msr;
	uc_err err;

	for (unsigned i = 0; i < m->nsites; i++) {
		if (m->site[i] == site)
			return false;
	}
	if (m->nsites == EMU_MSR_SITES) {
		EMU_LOG(v->log, "  hook BLOCK: RDMSR/WRMSR at 0x%" PRIx64 " not hooked: %d places are",
			site, EMU_MSR_SITES);
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
	m->nsites++;
	return true;
}

/* Every 0F 30 and 0F 32 in the page at linear page number page gets a site; true when one was
 * new. A pair across the page's end is this page's (its 0F is here). */
static bool page_scan(struct tv_vcpu *v, const struct walk *w, uint64_t page)
{
	const uint8_t *p = page_bytes(w, page), *next = NULL;
	bool added = false;

	if (!p)
		return false;
	for (unsigned i = 0; i < PAGE; i++) {
		unsigned k = 0;
		uint8_t second;

		if (p[i] != 0x0f)
			continue;
		if (i + 1 < PAGE)
			second = p[i + 1];
		else if ((next = page_bytes(w, page + 1)) != NULL)
			second = next[0];
		else
			break;
		if (second != 0x30 && second != 0x32)
			continue;
		while (k < i && k < INSN_MAX - 2 && is_prefix(p[i - k - 1]))
			k++;
		added |= site_add(v, page * PAGE + i, k);
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

/* A block's RIP: its linear address less CS's base, as QEMU forms the one from the other.
 * Unicorn does not keep RIP up to date for a block hook (unicorn-engine/unicorn#1643), so it is
 * read only where CS cannot be (another CPU state layout: see emu_env.h). */
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

void emu_msr_on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	uint64_t first = addr / PAGE, last = (addr + (size ? size - 1 : 0)) / PAGE, pc;
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
	/* The block was translated without the new hooks: drop it and begin it again. A kick that
	 * came meanwhile stops the engine here instead (a RIP write would clear its stop). */
	for (uint64_t page = first; page <= last; page++)
		uc_ctl_remove_cache(uc, page * PAGE, page * PAGE + PAGE);
	if (v->kicked)
		emu_stop_engine(v, EMU_STOP_KICK, "kick");
	else if (block_pc(v, addr, &pc))
		pc_write(v, pc);
	EMU_LOG(v->log, "  hook BLOCK 0x%" PRIx64 ": translated again with the MSR hooks", addr);
}

/* The site whose instruction [addr, addr + size) is, or -1. */
static int site_of(const struct emu_msr *m, uint64_t addr, uint32_t size)
{
	for (unsigned i = 0; i < m->nsites; i++) {
		if (addr <= m->site[i] && m->site[i] - addr <= m->prefixes[i] &&
		    addr + size == m->site[i] + 2)
			return (int)i;
	}
	return -1;
}

/* 0x32 for RDMSR, 0x30 for WRMSR, as the instruction at [addr, addr + size) reads in RAM now
 * (prefixes, then 0F 3x); 0 for anything else. */
static uint8_t msr_insn(struct tv_vcpu *v, uint64_t addr, uint32_t size)
{
	uint8_t b[INSN_MAX];
	struct walk w;

	if (size < 2 || size > INSN_MAX)
		return 0;
	walk_init(v, &w);
	for (uint32_t i = 0; i < size; i++) {
		uint64_t la = addr + i, gpa;
		const uint8_t *p;

		if (tv_linear_to_gpa(&w.ram, &w.s, w.maxphyaddr, la, &gpa) != TV_WALK_OK ||
		    !(p = tv_ram_range(w.ram.host, w.ram.size, gpa, 1)))
			return 0;
		b[i] = *p;
	}
	for (uint32_t i = 0; i + 2 < size; i++) {
		if (!is_prefix(b[i]))
			return 0;
	}
	return b[size - 2] == 0x0f && (b[size - 1] == 0x30 || b[size - 1] == 0x32) ? b[size - 1] : 0;
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

void emu_msr_on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	bool wide = v->vm->mode == UC_MODE_64;
	int ids[3] = { UC_X86_REG_ECX, UC_X86_REG_EAX, UC_X86_REG_EDX };
	uint32_t r[3] = { 0, 0, 0 };
	void *ptrs[3] = { &r[0], &r[1], &r[2] };
	uint64_t pc, value, reserved;
	uint8_t op;

	if (site_of(&v->msr, addr, size) < 0 || !(op = msr_insn(v, addr, size)) || cpl(v) != 0 ||
	    uc_reg_read_batch(uc, ids, ptrs, 3) != UC_ERR_OK || r[0] != TV_MSR_APIC_BASE ||
	    !pc_read(v, &pc))
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

	if (!m->pages)
		return 0; /* not asked for: Unicorn's MSR, read as 0 */
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
