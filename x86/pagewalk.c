/* The software page walk for every paging form a twinvm guest can set up, and the access checks
 * the CPU makes at its end. */
#include "pagewalk.h"

#include "x86.h"

#define PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51..12 of a 64-bit entry */

const char *tv_walk_result_name(enum tv_walk_result r)
{
	switch (r) {
	case TV_WALK_OK: return "ok";
	case TV_WALK_NOT_PRESENT: return "not mapped (a page-table entry is not present)";
	case TV_WALK_TABLE_OUTSIDE: return "a page table lies outside guest RAM";
	case TV_WALK_NONCANONICAL: return "not a canonical 64-bit address";
	case TV_WALK_RESERVED: return "not mapped (a page-table entry has a reserved bit set)";
	case TV_WALK_PROTECTION: return "the page's access rights forbid the access";
	case TV_WALK_UNSUPPORTED: return "5-level paging is not supported by the page walk";
	}
	return "unknown";
}

/* What a walk met on its way to the page: where the entries it used are, for their accessed
 * bits (the last one maps the page), and the rights they grant together (SDM 4.6). */
struct walk {
	uint64_t gpa;
	uint64_t at[4];
	unsigned used;
	uint64_t rights; /* TV_PTE_RW and TV_PTE_US, each kept when every entry used has it */
	bool xd;         /* some entry used has XD (legal only with EFER.NXE) */
};

/* Reads the entry of size 4 or 8 bytes at gpa, which must be present. */
static enum tv_walk_result read_entry(const struct tv_ram *ram, uint64_t gpa, unsigned size,
				      uint64_t *entry)
{
	uint32_t e32;

	*entry = 0;
	if (size == 4) {
		if (tv_ram_range_read(ram, gpa, &e32, 4))
			return TV_WALK_TABLE_OUTSIDE;
		*entry = e32;
	} else if (tv_ram_range_read(ram, gpa, entry, 8)) {
		return TV_WALK_TABLE_OUTSIDE;
	}
	return (*entry & TV_PTE_P) ? TV_WALK_OK : TV_WALK_NOT_PRESENT;
}

/* Counts the present entry at gpa into w's rights and remembers it for its accessed bit. */
static void use_entry(struct walk *w, uint64_t gpa, uint64_t entry)
{
	w->at[w->used++] = gpa;
	w->rights &= entry;
	w->xd |= (entry & TV_PTE_XD) != 0;
}

/* Bits hi..lo of a 64-bit value, hi >= lo; none when lo > hi. */
static uint64_t bit_range(unsigned hi, unsigned lo)
{
	if (lo > hi)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

/* Classic 32-bit paging: page directory, then a page table unless PDE.PS (with CR4.PSE). Only a
 * 4 MiB PDE has reserved bits: bit 21, and those of bits 20..13 (physical bits 39..32, PSE-36)
 * at or above MAXPHYADDR, which this form caps at 40. */
static enum tv_walk_result walk32(const struct tv_ram *ram, const struct tv_sregs *s,
				  unsigned maxphyaddr, uint32_t la, struct walk *w)
{
	uint64_t at = (s->cr3 & 0xfffff000u) + 4ull * (la >> 22), pde, pte;
	enum tv_walk_result r = read_entry(ram, at, 4, &pde);

	if (r)
		return r;
	use_entry(w, at, pde);
	if ((pde & TV_PTE_PS) && (s->cr4 & TV_CR4_PSE)) {
		unsigned m = maxphyaddr < 40 ? maxphyaddr : 40;
		uint64_t base;

		if (pde & ((1ull << 21) | bit_range(20, m - 19)))
			return TV_WALK_RESERVED;
		base = (pde & 0xffc00000u) | ((pde >> 13) & 0xffull) << 32;
		w->gpa = base | (la & 0x3fffff);
		return TV_WALK_OK;
	}
	at = (pde & 0xfffff000u) + 4ull * ((la >> 12) & 0x3ff);
	r = read_entry(ram, at, 4, &pte);
	if (r)
		return r;
	use_entry(w, at, pte);
	w->gpa = (pte & 0xfffff000u) | (la & 0xfff);
	return TV_WALK_OK;
}

/* The reserved bits of a present 64-bit entry at level (4: PML4E, 3: PDPTE, 2: PDE, 1: PTE) that
 * maps a page (large) or points to a table:
 * - above MAXPHYADDR: bits 51..M in long mode (62..52 are ignored or protection keys), 62..M in
 *   PAE, where the PDPTE also has 63 and R/W, U/S and bits 8..5 (PS among them) reserved;
 * - bit 63 (XD) without EFER.NXE;
 * - PS in a PML4E; bits 29..13 of a 1 GiB PDPTE and 20..13 of a 2 MiB PDE (bit 12 is PAT). */
static uint64_t reserved64(const struct tv_sregs *s, unsigned maxphyaddr, bool pae, int level,
			   bool large)
{
	uint64_t rsvd;

	if (pae && level == 3)
		return bit_range(63, maxphyaddr) | bit_range(8, 5) | bit_range(2, 1);
	rsvd = bit_range(pae ? 62 : 51, maxphyaddr);
	if (!(s->efer & TV_EFER_NXE))
		rsvd |= TV_PTE_XD;
	if (level == 4)
		rsvd |= TV_PTE_PS;
	else if (large)
		rsvd |= bit_range(level == 3 ? 29 : 20, 13);
	return rsvd;
}

/* PAE and long mode: 64-bit entries, 9 address bits a level. levels is 3 (PAE: the top level is
 * the 4-entry PDPT) or 4 (long mode). PS is honoured at the PDPT (1 GiB) and PD (2 MiB) levels.
 * A PAE PDPTE grants no rights (its R/W and U/S are reserved) and has no accessed bit: the CPU
 * loads the four of them with CR3. */
static enum tv_walk_result walk64(const struct tv_ram *ram, const struct tv_sregs *s,
				  unsigned maxphyaddr, uint64_t la, int levels, struct walk *w)
{
	bool pae = levels == 3;
	uint64_t table = pae ? (s->cr3 & 0xffffffe0u) : (s->cr3 & PTE_ADDR_MASK);

	for (int level = levels; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t index = (la >> shift) & (level == 3 && pae ? 0x3 : 0x1ff);
		uint64_t entry;
		enum tv_walk_result r = read_entry(ram, table + 8 * index, 8, &entry);
		bool large;

		if (r)
			return r;
		large = (level == 2 || (level == 3 && !pae)) && (entry & TV_PTE_PS);
		/* The CPU faults on an entry with a reserved bit set: the walk must not translate
		 * through it either. */
		if (entry & reserved64(s, maxphyaddr, pae, level, large))
			return TV_WALK_RESERVED;
		if (!(pae && level == 3))
			use_entry(w, table + 8 * index, entry);
		if (level == 1 || large) {
			uint64_t page_mask = (1ull << shift) - 1;

			w->gpa = (entry & PTE_ADDR_MASK & ~page_mask) | (la & page_mask);
			return TV_WALK_OK;
		}
		table = entry & PTE_ADDR_MASK;
	}
	return TV_WALK_NOT_PRESENT; /* not reached: level 1 always returns */
}

static bool canonical48(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

enum tv_walk_result tv_gva_to_linear(const struct tv_sregs *sregs, uint64_t gva, uint64_t *la)
{
	if ((sregs->efer & TV_EFER_LMA) && sregs->cs.l) {
		/* 64-bit code: DS's base is ignored (FS/GS aside) and the address must be canonical. */
		if (!canonical48(gva))
			return TV_WALK_NONCANONICAL;
		*la = gva;
		return TV_WALK_OK;
	}
	*la = (sregs->ds.base + (gva & 0xffffffffu)) & 0xffffffffu;
	return TV_WALK_OK;
}

/* Translates la as tv_linear_to_gpa says, into w. */
static enum tv_walk_result walk(const struct tv_ram *ram, const struct tv_sregs *sregs,
				unsigned maxphyaddr, uint64_t la, struct walk *w)
{
	bool long_mode = sregs->efer & TV_EFER_LMA;

	w->used = 0;
	w->rights = TV_PTE_RW | TV_PTE_US;
	w->xd = false;

	if (maxphyaddr < TV_MAXPHYADDR_MIN)
		maxphyaddr = TV_MAXPHYADDR_MIN;
	if (maxphyaddr > TV_MAXPHYADDR_MAX)
		maxphyaddr = TV_MAXPHYADDR_MAX;
	if (!long_mode)
		la &= 0xffffffffu;
	if (!(sregs->cr0 & TV_CR0_PG)) {
		/* Real mode reaches one byte past 1 MiB + 64 KiB at most; protected mode 4 GiB. */
		w->gpa = la;
		return TV_WALK_OK;
	}
	if (long_mode) {
		if (sregs->cr4 & TV_CR4_LA57)
			return TV_WALK_UNSUPPORTED;
		if (!canonical48(la))
			return TV_WALK_NONCANONICAL;
		return walk64(ram, sregs, maxphyaddr, la, 4, w);
	}
	if (sregs->cr4 & TV_CR4_PAE)
		return walk64(ram, sregs, maxphyaddr, la, 3, w);
	return walk32(ram, sregs, maxphyaddr, (uint32_t)la, w);
}

enum tv_walk_result tv_linear_to_gpa(const struct tv_ram *ram, const struct tv_sregs *sregs,
				     unsigned maxphyaddr, uint64_t la, uint64_t *gpa)
{
	struct walk w;
	enum tv_walk_result r = walk(ram, sregs, maxphyaddr, la, &w);

	if (r == TV_WALK_OK)
		*gpa = w.gpa;
	return r;
}

/* Whether the rights of the entries w used allow the access acc (SDM 4.6.1). A supervisor
 * access here is an implicit one, so SMAP forbids every data access to a user page whatever
 * EFLAGS.AC says. XD counts only where it is legal: with EFER.NXE, or the walk refused it. */
static bool allowed(const struct tv_sregs *s, const struct walk *w, unsigned acc)
{
	bool user_page = w->rights & TV_PTE_US, writable = w->rights & TV_PTE_RW;

	if ((acc & TV_ACC_FETCH) && w->xd)
		return false;
	if (acc & TV_ACC_USER)
		return user_page && (writable || !(acc & TV_ACC_WRITE));
	if (user_page && (s->cr4 & (acc & TV_ACC_FETCH ? TV_CR4_SMEP : TV_CR4_SMAP)))
		return false;
	return writable || !(acc & TV_ACC_WRITE) || !(s->cr0 & TV_CR0_WP);
}

/* The #PF error code for a walk that ended in r (SDM 4.7). I/D is set only where the CPU sets
 * it: with SMEP, or with NX (PAE or 4-level paging and EFER.NXE). */
static uint32_t pf_error_code(const struct tv_sregs *s, enum tv_walk_result r, unsigned acc)
{
	bool nx = (s->cr4 & TV_CR4_PAE) && (s->efer & TV_EFER_NXE);
	uint32_t e = 0;

	if (r != TV_WALK_NOT_PRESENT)
		e |= TV_PF_P;
	if (r == TV_WALK_RESERVED)
		e |= TV_PF_RSVD;
	if (acc & TV_ACC_WRITE)
		e |= TV_PF_W;
	if (acc & TV_ACC_USER)
		e |= TV_PF_U;
	if ((acc & TV_ACC_FETCH) && (nx || (s->cr4 & TV_CR4_SMEP)))
		e |= TV_PF_I;
	return e;
}

/* Sets A in every entry w used and, for a write, D in the one that maps the page, as the CPU does
 * (SDM 4.8). Both are in an entry's low byte, whatever its size. */
static enum tv_walk_result set_accessed(const struct tv_ram *ram, const struct walk *w, bool write)
{
	for (unsigned i = 0; i < w->used; i++) {
		uint8_t *low = tv_ram_range(ram->host, ram->size, w->at[i], 1);

		if (!low)
			return TV_WALK_TABLE_OUTSIDE;
		*low |= (uint8_t)(TV_PTE_A | (write && i == w->used - 1 ? TV_PTE_D : 0));
	}
	return TV_WALK_OK;
}

enum tv_walk_result tv_linear_access(const struct tv_ram *ram, const struct tv_sregs *s,
				     unsigned maxphyaddr, uint64_t la, unsigned acc, bool set_ad,
				     uint64_t *gpa, uint32_t *pf_error)
{
	struct walk w;
	enum tv_walk_result r = walk(ram, s, maxphyaddr, la, &w);

	*pf_error = 0;
	if (r == TV_WALK_OK && (s->cr0 & TV_CR0_PG) && !allowed(s, &w, acc))
		r = TV_WALK_PROTECTION;
	if (r == TV_WALK_NOT_PRESENT || r == TV_WALK_RESERVED || r == TV_WALK_PROTECTION)
		*pf_error = pf_error_code(s, r, acc);
	if (r == TV_WALK_OK && set_ad)
		r = set_accessed(ram, &w, acc & TV_ACC_WRITE);
	if (r == TV_WALK_OK)
		*gpa = w.gpa;
	return r;
}

enum tv_walk_result tv_gva_to_gpa(const struct tv_ram *ram, const struct tv_sregs *sregs,
				  unsigned maxphyaddr, uint64_t gva, uint64_t *gpa)
{
	uint64_t la;
	enum tv_walk_result r = tv_gva_to_linear(sregs, gva, &la);

	return r ? r : tv_linear_to_gpa(ram, sregs, maxphyaddr, la, gpa);
}
