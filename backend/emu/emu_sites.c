/* Sites: the places in guest code where the emulator does an instruction itself, because Unicorn
 * 2.1.1 cannot be trusted with it (emu_site_do.c does them; enum site_kind in emu_sites.h names
 * each kind and why). How they are found and hooked:
 *
 * - a page of guest code is scanned once (by linear page; again after the guest rewrites code,
 *   emu_smc.c, or after code_written) for the kinds' bytes; a scan happens when a block on it
 *   is translated (emu_sites_on_translate, from emu_smc.c's UC_HOOK_EDGE_GENERATED hook: no cost
 *   per block run; Unicorn calls it for every new block but an instance's first, which
 *   emu_sites_before_first_run scans), and, on a vCPU asked for IA32_APIC_BASE, also from a block
 *   hook before each block runs (emu_sites_on_block), as before the translation hook was used;
 * - each place found gets a code hook on the addresses an instruction ending there can begin at
 *   (the prefix bytes before it); the translations of the block's pages are dropped and the
 *   block starts again (a RIP write), now translated with the hook;
 * - the code hook, before the instruction runs, reads its bytes in RAM as they are now and, if
 *   they are still a site's kind, hands it to emu_site_do.
 *
 * The most important kind is MOV to and from a debug register, on every vCPU: Unicorn 2.1.1
 * crashes the process when a guest enables a breakpoint in DR7 (its breakpoint insertion flushes
 * the translations while the block that wrote DR7 still runs, which then jumps into the emptied
 * code buffer; measured: SIGSEGV in generated code, kvm-unit-tests' emulator test and a
 * three-instruction guest). A guest must not crash twinvm. At most EMU_MSR_SITES places are
 * hooked; the corrections stop SITES_FOR_DR short of it, and a DR site past the limit ends the
 * run with the reason rather than be left to Unicorn. IA32_APIC_BASE (RDMSR/WRMSR, which Unicorn
 * reads as 0, refuses hooks for and drops in uc_reg_write: measured) is looked for only on a
 * vCPU asked for it (tv_vcpu_config.apic_base_msr: --platform pc), as its block hook costs about
 * 1.7 ns per block run. */
#include "emu.h"
#include "emu_sites.h"
#include "emu_env.h"
#include "pagewalk.h"
#include "x86.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Sites of the kinds that only correct Unicorn (CR8, MOVBE, MOVAPS, MOV CR...) leave this many
 * places to the debug registers, which it must never be left to. */
#define SITES_FOR_DR 32

/* Which kinds a scan looks for, by the code it is made for: IRET is done only in real mode, MOV
 * SS only in 64-bit code (an 0xCF or 8E /2 byte is common in code that is neither: each would
 * take a site). A page is scanned once, for the code its first block is: a page whose code runs
 * both in 64-bit and in real mode keeps the first one's sites. The hook's check takes every
 * kind. */
enum scan { SCAN_ALL, SCAN_LEGACY, SCAN_64, SCAN_UNKNOWN /* not read yet: scan_of */ };

static enum site_kind site_kind(const struct emu_msr *m, const uint8_t b[4], uint8_t before,
				enum scan scan)
{
	if (b[0] == 0xcf)
		return scan != SCAN_64 ? SITE_IRET : SITE_NONE;
	if (b[0] == 0x8e && ((b[1] >> 3) & 7) == 2)
		return scan != SCAN_LEGACY ? SITE_MOV_SS : SITE_NONE;
	if ((b[0] == 0x06 || b[0] == 0x0e || b[0] == 0x16 || b[0] == 0x1e) && before == 0x66)
		return SITE_PUSH_SREG;
	if (b[0] != 0x0f)
		return SITE_NONE;
	if (b[1] == 0x01 && (b[2] & 0xf8) == 0xe0)
		return SITE_SMSW;
	if (b[1] == 0xa0 || b[1] == 0xa8)
		return SITE_PUSH_SREG;
	if (emu_site_is_dr(b[1]))
		return SITE_DR;
	if (m->apic && (b[1] == 0x30 || b[1] == 0x32))
		return SITE_MSR;
	if ((b[1] == 0x20 || b[1] == 0x22) && (before & 0xf4) == 0x44 && !((b[2] >> 3) & 7))
		return SITE_CR8;
	if (b[1] == 0x22 && (((b[2] >> 3) & 7) == 0 || ((b[2] >> 3) & 7) == 4))
		return SITE_MOV_CR;
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
	       : k == SITE_MSR || k == SITE_MOV_SS  ? 2
	       : k == SITE_MOVBE		    ? 4
						    : 3;
}

/* site_len, for the instruction whose bytes from its first opcode byte are b. */
static unsigned site_len_of(enum site_kind k, const uint8_t *b)
{
	return k == SITE_PUSH_SREG && b[0] == 0x0f ? 2 : site_len(k);
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

void emu_sites_forget_pages(struct tv_vcpu *v)
{
	if (v->msr.pages && v->msr.npages)
		memset(v->msr.pages, 0, EMU_MSR_PAGES * sizeof(v->msr.pages[0]));
	v->msr.npages = 0;
}

/* The host bytes of the page at linear page number page, or NULL (not mapped, not RAM). */
static const uint8_t *page_bytes(const struct walk *w, uint64_t page)
{
	uint64_t gpa;

	if (tv_linear_to_gpa(&w->ram, &w->s, w->maxphyaddr, page * PAGE, &gpa) != TV_WALK_OK)
		return NULL;
	return tv_ram_range(w->ram.host, w->ram.size, gpa & ~(uint64_t)(PAGE - 1), PAGE);
}

/* Whether the site at linear address site is, as its bytes read now, a MOV to or from a debug
 * register or an RDMSR/WRMSR looked for: a site never given up. */
static bool site_kept(const struct tv_vcpu *v, const struct walk *w, uint64_t site)
{
	uint8_t b[2];

	for (unsigned i = 0; i < 2; i++) {
		const uint8_t *p = page_bytes(w, (site + i) / PAGE);

		if (!p)
			return false;
		b[i] = p[(site + i) % PAGE];
	}
	return b[0] == 0x0f &&
	       (emu_site_is_dr(b[1]) || (v->msr.apic && (b[1] == 0x30 || b[1] == 0x32)));
}

/* Gives up the oldest site that only corrects Unicorn, for a new one: its hook goes, and its
 * instruction is Unicorn's again until a translation of its block finds it again (block_scan).
 * Code that moves on, as the fuzzer's snippets do (each at a new address, run once), would
 * otherwise take every place for good. false when every site is kept. */
static bool site_evict(struct tv_vcpu *v, const struct walk *w)
{
	struct emu_msr *m = &v->msr;
	unsigned i = 0, n;

	while (i < m->nsites && site_kept(v, w, m->site[i]))
		i++;
	if (i == m->nsites)
		return false;
	EMU_LOG(v->log, "  hook BLOCK: site at 0x%" PRIx64 " given up (%u places)", m->site[i],
		m->nsites);
	if (m->hook_site[i])
		uc_hook_del(v->vm->uc, m->hook_site[i]);
	n = m->nsites - i - 1;
	memmove(&m->site[i], &m->site[i + 1], n * sizeof(m->site[0]));
	memmove(&m->prefixes[i], &m->prefixes[i + 1], n * sizeof(m->prefixes[0]));
	memmove(&m->hook_site[i], &m->hook_site[i + 1], n * sizeof(m->hook_site[0]));
	m->nsites--;
	m->hook_site[m->nsites] = 0;
	return true;
}

/* A code hook on [site - prefixes, site], where site is the linear address of an instruction's
 * first opcode byte. true when one was added. */
static bool site_add(struct tv_vcpu *v, const struct walk *w, uint64_t site, unsigned prefixes,
		     enum site_kind kind)
{
	struct emu_msr *m = &v->msr;
	uc_err err;

	for (unsigned i = 0; i < m->nsites; i++) {
		if (m->site[i] == site)
			return false;
	}
	if (kind != SITE_DR && kind != SITE_MSR && m->nsites >= EMU_MSR_SITES - SITES_FOR_DR &&
	    !site_evict(v, w))
		return false; /* a correction of Unicorn's, not made here: the rest is for DRs */
	if (m->nsites == EMU_MSR_SITES) {
		EMU_LOG(v->log, "  hook BLOCK: site at 0x%" PRIx64 " not hooked: %d places are",
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
	err = uc_hook_add(v->vm->uc, &m->hook_site[m->nsites], UC_HOOK_CODE, (void *)emu_sites_on_site,
			  v, site - prefixes, site);
	EMU_LOG(v->log, "  hook BLOCK: site at 0x%" PRIx64 ": uc_hook_add(UC_HOOK_CODE, 0x%" PRIx64
		", 0x%" PRIx64 ") = %s", site, site - prefixes, site, emu_err_name(err));
	if (err)
		return false;
	m->site[m->nsites] = site;
	m->prefixes[m->nsites] = (uint8_t)prefixes;
	m->nsites++;
	return true;
}

/* The scan for the code about to run: 64-bit code or not, from QEMU's flags; every kind where
 * they cannot be read. */
static enum scan scan_of(struct tv_vcpu *v)
{
	struct emu_env env;
	uint32_t hf;

	if (emu_env_save(&env, v->vm->uc) != 0)
		return SCAN_ALL;
	hf = emu_env_hflags(&env);
	emu_env_release(&env);
	return (hf & EMU_HF_CS64) ? SCAN_64 : SCAN_LEGACY;
}

/* Every instruction of site_kind whose first opcode byte is in [from, to) of the page at linear
 * page number page gets a site; true when one was new. One across the page's end is this page's
 * (its 0F is here). *scan is read (scan_of) at the first byte that may begin one. */
static bool page_scan(struct tv_vcpu *v, const struct walk *w, uint64_t page, unsigned from,
		      unsigned to, enum scan *scan)
{
	const uint8_t *p = page_bytes(w, page), *next = page_bytes(w, page + 1);
	bool added = false;

	if (!p)
		return false;
	for (unsigned i = from; i < to; i++) {
		uint8_t b[4] = { 0, 0, 0, 0 };
		enum site_kind kind;
		unsigned k = 0;

		if (p[i] != 0x0f && p[i] != 0xcf && p[i] != 0x8e && !(i && p[i - 1] == 0x66))
			continue;
		if (*scan == SCAN_UNKNOWN)
			*scan = scan_of(v);
		for (unsigned j = 0; j < 4; j++)
			b[j] = i + j < PAGE ? p[i + j] : next ? next[i + j - PAGE] : 0;
		kind = site_kind(&v->msr, b, i ? p[i - 1] : 0, *scan);
		if (kind == SITE_NONE)
			continue;
		while (k < i && k < INSN_MAX - 4 && emu_site_is_prefix(p[i - k - 1]))
			k++;
		added |= site_add(v, w, page * PAGE + i, k, kind);
	}
	return added;
}

/* Scans the pages of the block at [addr, addr + size) not scanned yet, and, when it is being
 * translated, its own bytes on a page scanned before (code put there since without the emulator
 * seeing a store: the fuzzer's snippet slots, 8 to a page); a new site drops their translations
 * and begins the block again, translated with its hook (from the translation hook, the stop that
 * emu_drop_blocks asks for begins it again). */
static void block_scan(struct tv_vcpu *v, uint64_t addr, uint32_t size, bool translated)
{
	uint64_t first = addr / PAGE, end = addr + (size ? size : 1), last = (end - 1) / PAGE;
	enum scan scan = SCAN_UNKNOWN;
	bool added = false;
	struct walk w;

	if (!translated && page_known(&v->msr, first) &&
	    (last == first || page_known(&v->msr, last)))
		return;
	emu_site_walk_init(v, &w);
	for (uint64_t page = first; page <= last; page++) {
		if (page_known(&v->msr, page)) {
			if (translated)
				added |= page_scan(v, &w, page,
						   page == first ? (unsigned)(addr % PAGE) : 0,
						   page == last ? (unsigned)((end - 1) % PAGE) + 1 : PAGE,
						   &scan);
			continue;
		}
		added |= page_scan(v, &w, page, 0, PAGE, &scan);
		page_mark(&v->msr, page);
	}
	if (!added)
		return;
	/* The block was translated without the new hooks: drop it and begin it again. */
	for (uint64_t page = first; page <= last; page++)
		emu_drop_blocks(v, page * PAGE, page * PAGE + PAGE);
	if (!v->in_translate)
		emu_restart_block(v, addr);
	EMU_LOG(v->log, "  hook 0x%" PRIx64 ": translated again with the sites' hooks", addr);
}

void emu_drop_blocks(struct tv_vcpu *v, uint64_t begin, uint64_t end)
{
	uc_err err;

	if (begin >= end)
		return;
	if (v->in_translate) {
		if (v->stop == EMU_STOP_NONE)
			v->stop = EMU_STOP_RETRANSLATE;
		if (!v->flush_pending) {
			v->flush_pending = true;
			err = uc_emu_stop(v->vm->uc);
			EMU_LOG(v->log, "  uc_emu_stop() = %s (blocks to drop: all of them, once "
				"stopped)", emu_err_name(err));
		}
		return;
	}
	err = uc_ctl_remove_cache(v->vm->uc, begin, end);
	EMU_LOG(v->log, "  uc_ctl_remove_cache(0x%" PRIx64 ", 0x%" PRIx64 ") = %s", begin, end,
		emu_err_name(err));
}

void emu_restart_block(struct tv_vcpu *v, uint64_t addr)
{
	uint64_t pc;

	/* A kick that came meanwhile stops the engine here instead (a RIP write would clear its
	 * stop). */
	if (v->kicked)
		emu_stop_engine(v, EMU_STOP_KICK, "kick");
	else if (emu_site_block_pc(v, addr, &pc))
		emu_site_pc_write(v, pc);
}

void emu_sites_on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	(void)uc;
	block_scan(opaque, addr, size, false);
}

void emu_sites_on_translate(struct tv_vcpu *v, uint64_t addr, uint32_t size)
{
	block_scan(v, addr, size, true);
}

void emu_sites_before_first_run(struct tv_vcpu *v, uint64_t pc)
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
	block_scan(v, v->vm->mode == UC_MODE_16 ? pc : cs.base + pc, PAGE, false);
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
	emu_site_walk_init(v, &w);
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

		for (i = 0; i < n && emu_site_is_prefix(b[i]) && b[i] != 0xf2; i++)
			;
		if (i < n)
			continue;
		memcpy(from, b + n, len);
		kind = site_kind(&v->msr, from, n ? b[n - 1] : 0, SCAN_ALL);
		if (kind != SITE_NONE && kind != SITE_MOVAPS && kind != SITE_MOV_SS &&
		    site_len_of(kind, from) == len)
			return kind;
	}
	/* MOVAPS and MOV SS: prefixes, 0F 28/29 or 8E, ModRM and what follows it */
	for (uint32_t n = 0; n + 2 <= size; n++) {
		uint8_t from[4] = { 0, 0, 0, 0 };

		if (b[n] == 0x8e)
			return ((b[n + 1] >> 3) & 7) == 2 ? SITE_MOV_SS : SITE_NONE;
		if (b[n] == 0x0f && n + 3 <= size) {
			memcpy(from, b + n, 3);
			return site_kind(&v->msr, from, n ? b[n - 1] : 0, SCAN_ALL) == SITE_MOVAPS
				       ? SITE_MOVAPS
				       : SITE_NONE;
		}
		if (!emu_site_is_prefix(b[n]))
			break;
	}
	return SITE_NONE;
}

void emu_sites_on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	uint8_t b[INSN_MAX];
	enum site_kind kind;

	(void)uc;
	if (site_of(&v->msr, addr, size) < 0 || !(kind = site_insn(v, addr, size, b)))
		return; /* Unicorn's to do */
	emu_site_do(v, kind, addr, size, b);
}

int emu_sites_hooks_add(struct tv_vcpu *v)
{
	return emu_sites_readd(v); /* the block hook is emu_hooks.c's (emu_on_platform_block) */
}

/* The sites' hooks on this instance, after every other code hook (see emu.h). */
int emu_sites_readd(struct tv_vcpu *v)
{
	struct emu_msr *m = &v->msr;

	for (unsigned i = 0; i < m->nsites; i++) {
		unsigned k = m->prefixes[i];
		uc_err err;

		if (m->hook_site[i])
			uc_hook_del(v->vm->uc, m->hook_site[i]);
		err = uc_hook_add(v->vm->uc, &m->hook_site[i], UC_HOOK_CODE,
				  (void *)emu_sites_on_site, v, m->site[i] - k, m->site[i]);
		EMU_LOG(v->log, "uc_hook_add(UC_HOOK_CODE, 0x%" PRIx64 ", 0x%" PRIx64 ") = %s "
			"(a site)", m->site[i] - k, m->site[i], emu_err_name(err));
		if (err) {
			m->hook_site[i] = 0;
			tv_set_error("uc_hook_add(UC_HOOK_CODE) for a site: %s",
				     uc_strerror(err));
			return emu_errno(err);
		}
	}
	return 0;
}

void emu_sites_hooks_del(struct tv_vcpu *v)
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
		EMU_STEP(v->log, "the callbacks removed", "uc_hook_del(UC_HOOK_BLOCK and %u site "
			 "code hooks)", m->nsites);
}
