/* The software page walk for every paging form a twinvm guest can set up. */
#include "pagewalk.h"

#include "modes.h"

#define CR4_LA57 (1ull << 12)
#define PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51..12 of a 64-bit entry */
#define PTE_NX (1ull << 63)
#define EFER_NXE (1ull << 11)

const char *tv_walk_result_name(enum tv_walk_result r)
{
	switch (r) {
	case TV_WALK_OK: return "ok";
	case TV_WALK_NOT_PRESENT: return "not mapped (a page-table entry is not present)";
	case TV_WALK_TABLE_OUTSIDE: return "a page table lies outside guest RAM";
	case TV_WALK_NONCANONICAL: return "not a canonical 64-bit address";
	case TV_WALK_RESERVED: return "not mapped (a page-table entry has a reserved bit set)";
	case TV_WALK_UNSUPPORTED: return "5-level paging is not supported by the page walk";
	}
	return "unknown";
}

static enum tv_walk_result read_entry(const struct tv_ram *ram, uint64_t gpa, unsigned size,
				      uint64_t *entry)
{
	uint32_t e32;

	*entry = 0;
	if (size == 4) {
		if (tv_ram_read(ram, gpa, &e32, 4))
			return TV_WALK_TABLE_OUTSIDE;
		*entry = e32;
		return TV_WALK_OK;
	}
	return tv_ram_read(ram, gpa, entry, 8) ? TV_WALK_TABLE_OUTSIDE : TV_WALK_OK;
}

/* Classic 32-bit paging: page directory, then a page table unless PDE.PS (with CR4.PSE). */
static enum tv_walk_result walk32(const struct tv_ram *ram, const struct tv_sregs *s, uint32_t la,
				  uint64_t *gpa)
{
	uint64_t pde, pte;
	enum tv_walk_result r;

	r = read_entry(ram, (s->cr3 & 0xfffff000u) + 4ull * (la >> 22), 4, &pde);
	if (r)
		return r;
	if (!(pde & TV_PTE_P))
		return TV_WALK_NOT_PRESENT;
	if ((pde & TV_PTE_PS) && (s->cr4 & TV_CR4_PSE)) {
		/* PSE-36: bits 20..13 of the PDE are physical bits 39..32. */
		uint64_t base = (pde & 0xffc00000u) | ((pde >> 13) & 0xffull) << 32;

		*gpa = base | (la & 0x3fffff);
		return TV_WALK_OK;
	}
	r = read_entry(ram, (pde & 0xfffff000u) + 4ull * ((la >> 12) & 0x3ff), 4, &pte);
	if (r)
		return r;
	if (!(pte & TV_PTE_P))
		return TV_WALK_NOT_PRESENT;
	*gpa = (pte & 0xfffff000u) | (la & 0xfff);
	return TV_WALK_OK;
}

/* PAE and long mode: 64-bit entries, 9 address bits a level. levels is 3 (PAE: the top level is
 * the 4-entry PDPT) or 4 (long mode). PS is honoured at the PDPT (1 GiB) and PD (2 MiB) levels. */
static enum tv_walk_result walk64(const struct tv_ram *ram, const struct tv_sregs *s, uint64_t la,
				  int levels, uint64_t *gpa)
{
	uint64_t table = levels == 3 ? (s->cr3 & 0xffffffe0u) : (s->cr3 & PTE_ADDR_MASK);

	for (int level = levels; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t index = (la >> shift) & (level == 3 && levels == 3 ? 0x3 : 0x1ff);
		uint64_t entry;
		enum tv_walk_result r = read_entry(ram, table + 8 * index, 8, &entry);

		if (r)
			return r;
		if (!(entry & TV_PTE_P))
			return TV_WALK_NOT_PRESENT;
		/* Without EFER.NXE bit 63 is reserved, and PS is reserved in a PML4 entry: the CPU
		 * faults on either, so the walk must not translate through them. */
		if (((entry & PTE_NX) && !(s->efer & EFER_NXE)) ||
		    (level == 4 && (entry & TV_PTE_PS)))
			return TV_WALK_RESERVED;
		if (level == 1 || ((level == 2 || (level == 3 && levels == 4)) && (entry & TV_PTE_PS))) {
			uint64_t page_mask = (1ull << shift) - 1;

			*gpa = (entry & PTE_ADDR_MASK & ~page_mask) | (la & page_mask);
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

enum tv_walk_result tv_linear_to_gpa(const struct tv_ram *ram, const struct tv_sregs *sregs,
				     uint64_t la, uint64_t *gpa)
{
	bool long_mode = sregs->efer & TV_EFER_LMA;

	if (!long_mode)
		la &= 0xffffffffu;
	if (!(sregs->cr0 & TV_CR0_PG)) {
		/* Real mode reaches one byte past 1 MiB + 64 KiB at most; protected mode 4 GiB. */
		*gpa = la;
		return TV_WALK_OK;
	}
	if (long_mode) {
		if (sregs->cr4 & CR4_LA57)
			return TV_WALK_UNSUPPORTED;
		if (!canonical48(la))
			return TV_WALK_NONCANONICAL;
		return walk64(ram, sregs, la, 4, gpa);
	}
	if (sregs->cr4 & TV_CR4_PAE)
		return walk64(ram, sregs, la, 3, gpa);
	return walk32(ram, sregs, (uint32_t)la, gpa);
}

enum tv_walk_result tv_gva_to_gpa(const struct tv_ram *ram, const struct tv_sregs *sregs,
				  uint64_t gva, uint64_t *gpa)
{
	uint64_t la;
	enum tv_walk_result r = tv_gva_to_linear(sregs, gva, &la);

	return r ? r : tv_linear_to_gpa(ram, sregs, la, gpa);
}
