/* The software page walk (backend/pagewalk.c). Pure tests build page tables by hand in a RAM buffer
 * that has an inaccessible page on each side, so a walk that touched host memory outside RAM would
 * crash the test instead of passing. The cross-checks compare the walk with KVM's own
 * (KVM_TRANSLATE) on a live vCPU, in every mode this host's KVM runs. */
#include <errno.h>

#include "devices.h"
#include "guarded_ram.h"
#include "layout.h"
#include "pagewalk.h"
#include "run_guest.h"
#include "tv_test.h"

#define RAM_SIZE (1ull << 20)
#define PTE (TV_PTE_P | TV_PTE_RW)

/* Where the hand-built tables go: any page-aligned RAM will do. */
#define T0 0x10000ull
#define T1 0x11000ull
#define T2 0x12000ull
#define T3 0x13000ull

static struct tv_ram ram;
/* The MAXPHYADDR the pure tests walk with; a test that needs another sets it. */
static unsigned maxphy;

static void guarded_ram_setup(void)
{
	tv_guarded_ram_alloc(&ram, RAM_SIZE);
	maxphy = TV_MAXPHYADDR_DEFAULT;
}

static void guarded_ram_teardown(void)
{
	tv_guarded_ram_free(&ram);
}

static void put32(uint64_t gpa, uint32_t value)
{
	ck_assert_int_eq(tv_ram_write(&ram, gpa, &value, sizeof(value)), 0);
}

static void put64(uint64_t gpa, uint64_t value)
{
	ck_assert_int_eq(tv_ram_write(&ram, gpa, &value, sizeof(value)), 0);
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t value;

	ck_assert_int_eq(tv_ram_read(&ram, gpa, &value, sizeof(value)), 0);
	return value;
}

/* 32-bit protected mode, no paging, data segment at ds_base. */
static struct tv_sregs flat_sregs(uint64_t ds_base)
{
	struct tv_sregs s = { .cr0 = TV_CR0_PE };

	s.cs.db = 1;
	s.ds.base = ds_base;
	return s;
}

static struct tv_sregs paged32_sregs(uint64_t cr3, bool pse)
{
	struct tv_sregs s = flat_sregs(0);

	s.cr0 |= TV_CR0_PG;
	s.cr3 = cr3;
	s.cr4 = pse ? TV_CR4_PSE : 0;
	return s;
}

static struct tv_sregs pae_sregs(uint64_t cr3)
{
	struct tv_sregs s = paged32_sregs(cr3, false);

	s.cr4 = TV_CR4_PAE;
	s.efer = TV_EFER_NXE;
	return s;
}

/* 64-bit code (CS.L) with DS.base set, which 64-bit code ignores. */
static struct tv_sregs long_sregs(uint64_t cr3)
{
	struct tv_sregs s = pae_sregs(cr3);

	s.efer = TV_EFER_LME | TV_EFER_LMA | TV_EFER_NXE;
	s.cs.l = 1;
	s.cs.db = 0;
	s.ds.base = 0x5000;
	return s;
}

static void expect_gpa(const struct tv_sregs *s, uint64_t gva, uint64_t want)
{
	uint64_t gpa = 0xdeadbeef;
	enum tv_walk_result r = tv_gva_to_gpa(&ram, s, maxphy, gva, &gpa);

	ck_assert_msg(r == TV_WALK_OK, "gva 0x%llx: %s, expected 0x%llx", (unsigned long long)gva,
		      tv_walk_result_name(r), (unsigned long long)want);
	ck_assert_msg(gpa == want, "gva 0x%llx -> 0x%llx, expected 0x%llx", (unsigned long long)gva,
		      (unsigned long long)gpa, (unsigned long long)want);
}

static void expect_fail(const struct tv_sregs *s, uint64_t gva, enum tv_walk_result want)
{
	uint64_t gpa = 0;
	enum tv_walk_result r = tv_gva_to_gpa(&ram, s, maxphy, gva, &gpa);

	ck_assert_msg(r == want, "gva 0x%llx: \"%s\", expected \"%s\" (gpa 0x%llx)",
		      (unsigned long long)gva, tv_walk_result_name(r), tv_walk_result_name(want),
		      (unsigned long long)gpa);
}

/* Clears P in the entry at entry_gpa (64-bit entries), checks gva no longer translates, and
 * restores it. */
static void expect_not_present_without_p(const struct tv_sregs *s, uint64_t entry_gpa, uint64_t gva)
{
	uint64_t entry = get64(entry_gpa);

	put64(entry_gpa, entry & ~TV_PTE_P);
	expect_fail(s, gva, TV_WALK_NOT_PRESENT);
	put64(entry_gpa, entry);
}

/* --- real and protected mode: no paging ------------------------------------------------------- */

START_TEST(test_real_mode_adds_ds_base)
{
	struct tv_sregs s = { .cr0 = TV_CR0_ET };

	s.ds.base = 0x1234 * 16; /* DS = 0x1234 */
	expect_gpa(&s, 0x0, 0x12340);
	expect_gpa(&s, 0x5678, 0x179b8);
	expect_gpa(&s, 0xffff, 0x2233f);
}
END_TEST

START_TEST(test_protected_mode_adds_ds_base_and_wraps_at_4g)
{
	struct tv_sregs s = flat_sregs(0x3000);

	expect_gpa(&s, 0x400, 0x3400);
	expect_gpa(&s, 0xfffff800, 0x2800); /* 0x3000 + 0xfffff800 wraps to 0x2800 */
}
END_TEST

START_TEST(test_unpaged_address_outside_ram_translates_for_the_caller_to_check)
{
	struct tv_sregs s = flat_sregs(0);

	expect_gpa(&s, 0x7fff0000, 0x7fff0000);
}
END_TEST

/* --- 32-bit paging ---------------------------------------------------------------------------- */

START_TEST(test_paged32_4k_page)
{
	struct tv_sregs s = paged32_sregs(T0, false);

	put32(T0 + 4 * 1, T1 | PTE);        /* PDE 1 -> page table */
	put32(T1 + 4 * 5, 0x35000 | PTE);   /* PTE 5 -> 0x35000 */
	put32(T1 + 4 * 1023, 0xfffff000 | PTE);
	expect_gpa(&s, 0x00405123, 0x35123);
	expect_gpa(&s, 0x007fffff, 0xffffffff);
}
END_TEST

START_TEST(test_paged32_4m_page_with_pse)
{
	struct tv_sregs s = paged32_sregs(T0, true);

	put32(T0 + 4 * 2, 0x00c00000 | PTE | TV_PTE_PS);
	expect_gpa(&s, 0x00812345, 0x00c12345);
}
END_TEST

START_TEST(test_paged32_4m_page_pse36_high_bits)
{
	struct tv_sregs s = paged32_sregs(T0, true);

	/* PDE bits 20..13 are physical bits 39..32: bit 13 set is 4 GiB. */
	put32(T0 + 4 * 3, 0x00400000 | (1u << 13) | PTE | TV_PTE_PS);
	expect_gpa(&s, 0x00c00010, 0x100400010ull);
}
END_TEST

START_TEST(test_paged32_ps_ignored_without_pse)
{
	struct tv_sregs s = paged32_sregs(T0, false);

	/* CR4.PSE clear: PS is ignored and the PDE points at a page table. */
	put32(T0 + 4 * 2, T1 | PTE | TV_PTE_PS);
	put32(T1 + 4 * 7, 0x44000 | PTE);
	expect_gpa(&s, 0x00807abc, 0x44abc);
}
END_TEST

START_TEST(test_paged32_not_present_at_each_level)
{
	struct tv_sregs s = paged32_sregs(T0, true);

	put32(T0 + 4 * 1, T1 | PTE);
	put32(T1 + 4 * 5, 0x35000 | PTE);
	put32(T0 + 4 * 2, 0x00c00000 | PTE | TV_PTE_PS);
	expect_gpa(&s, 0x00405000, 0x35000);

	put32(T1 + 4 * 5, 0x35000 | TV_PTE_RW); /* the PTE: address intact, P clear */
	expect_fail(&s, 0x00405000, TV_WALK_NOT_PRESENT);
	put32(T0 + 4 * 1, T1 | TV_PTE_RW); /* the PDE */
	expect_fail(&s, 0x00405000, TV_WALK_NOT_PRESENT);
	put32(T0 + 4 * 2, 0x00c00000 | TV_PTE_RW | TV_PTE_PS); /* a 4 MiB PDE */
	expect_fail(&s, 0x00812345, TV_WALK_NOT_PRESENT);
	expect_fail(&s, 0xfffff000, TV_WALK_NOT_PRESENT); /* never written: zero */
}
END_TEST

START_TEST(test_paged32_tables_outside_ram)
{
	struct tv_sregs s = paged32_sregs(RAM_SIZE, false);

	expect_fail(&s, 0x1000, TV_WALK_TABLE_OUTSIDE); /* the page directory */
	s.cr3 = T0;
	put32(T0, RAM_SIZE | PTE); /* PDE 0 -> a page table just past RAM */
	expect_fail(&s, 0x1000, TV_WALK_TABLE_OUTSIDE);
	put32(T0, 0xfffff000 | PTE);
	expect_fail(&s, 0x3ff000, TV_WALK_TABLE_OUTSIDE);
}
END_TEST

/* --- PAE -------------------------------------------------------------------------------------- */

/* PDPT at T0 + 0x20 (CR3 is 32-byte aligned in PAE), PDPTE 1 -> PD T2, PDE 3 -> PT T3,
 * PTE 4 -> 0x40000; PDE 5 is a 2 MiB page at 0x600000. */
static struct tv_sregs pae_tables(void)
{
	put64(T0 + 0x20 + 8 * 1, T2 | TV_PTE_P);
	put64(T2 + 8 * 3, T3 | PTE);
	put64(T3 + 8 * 4, 0x40000 | PTE | TV_PTE_XD);
	put64(T2 + 8 * 5, 0x600000 | PTE | TV_PTE_PS);
	return pae_sregs(T0 + 0x20);
}

#define PAE_GVA_4K ((1ull << 30) | (3ull << 21) | (4ull << 12) | 0x567)
#define PAE_GVA_2M ((1ull << 30) | (5ull << 21) | 0x12345)

START_TEST(test_pae_4k_page)
{
	struct tv_sregs s = pae_tables();

	expect_gpa(&s, PAE_GVA_4K, 0x40567); /* NX is not part of the address */
}
END_TEST

START_TEST(test_pae_2m_page)
{
	struct tv_sregs s = pae_tables();

	expect_gpa(&s, PAE_GVA_2M, 0x612345);
}
END_TEST

START_TEST(test_pae_not_present_at_each_level)
{
	struct tv_sregs s = pae_tables();

	expect_not_present_without_p(&s, T3 + 8 * 4, PAE_GVA_4K);
	expect_not_present_without_p(&s, T2 + 8 * 3, PAE_GVA_4K);
	expect_not_present_without_p(&s, T2 + 8 * 5, PAE_GVA_2M);
	expect_not_present_without_p(&s, T0 + 0x20 + 8 * 1, PAE_GVA_4K);
	expect_fail(&s, 0xc0000000, TV_WALK_NOT_PRESENT); /* PDPTE 3, never written */
	expect_gpa(&s, PAE_GVA_4K, 0x40567); /* everything restored */
}
END_TEST

START_TEST(test_pae_tables_outside_ram)
{
	struct tv_sregs s = pae_tables();

	put64(T2 + 8 * 3, RAM_SIZE | PTE);
	expect_fail(&s, PAE_GVA_4K, TV_WALK_TABLE_OUTSIDE);
	s.cr3 = RAM_SIZE;
	expect_fail(&s, PAE_GVA_4K, TV_WALK_TABLE_OUTSIDE);
}
END_TEST

/* --- long mode -------------------------------------------------------------------------------- */

/* PML4 T0: entry 1 -> PDPT T1; PDPT entry 2 -> PD T2, entry 5 a 1 GiB page at 1 GiB;
 * PD entry 3 -> PT T3, entry 6 a 2 MiB page at 4 MiB; PT entry 4 -> 0x50000.
 * PML4 entry 256 (the first of the upper half) -> the same PDPT. */
static struct tv_sregs long_tables(void)
{
	put64(T0 + 8 * 1, T1 | PTE);
	put64(T0 + 8 * 256, T1 | PTE);
	put64(T1 + 8 * 2, T2 | PTE);
	put64(T1 + 8 * 5, 0x40000000 | PTE | TV_PTE_PS);
	put64(T2 + 8 * 3, T3 | PTE);
	put64(T2 + 8 * 6, 0x400000 | PTE | TV_PTE_PS | TV_PTE_XD);
	put64(T3 + 8 * 4, 0x50000 | PTE | TV_PTE_XD);
	return long_sregs(T0);
}

#define LONG_GVA_4K ((1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0xabc)
#define LONG_GVA_2M ((1ull << 39) | (2ull << 30) | (6ull << 21) | 0x1abcd)
#define LONG_GVA_1G ((1ull << 39) | (5ull << 30) | 0x12345678)

START_TEST(test_long_4k_page_ignores_ds_base)
{
	struct tv_sregs s = long_tables();

	expect_gpa(&s, LONG_GVA_4K, 0x50abc);
}
END_TEST

START_TEST(test_long_2m_page)
{
	struct tv_sregs s = long_tables();

	expect_gpa(&s, LONG_GVA_2M, 0x41abcd);
}
END_TEST

START_TEST(test_long_1g_page)
{
	struct tv_sregs s = long_tables();

	expect_gpa(&s, LONG_GVA_1G, 0x52345678);
}
END_TEST

START_TEST(test_long_upper_half_address)
{
	struct tv_sregs s = long_tables();

	/* PML4 entry 256: bit 47 set, bits 63..48 its sign extension. */
	expect_gpa(&s, 0xffff800000000000ull | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0x10,
		   0x50010);
}
END_TEST

START_TEST(test_long_not_present_at_each_level)
{
	struct tv_sregs s = long_tables();

	expect_not_present_without_p(&s, T3 + 8 * 4, LONG_GVA_4K);   /* PTE */
	expect_not_present_without_p(&s, T2 + 8 * 3, LONG_GVA_4K);   /* PDE -> PT */
	expect_not_present_without_p(&s, T2 + 8 * 6, LONG_GVA_2M);   /* PDE, 2 MiB */
	expect_not_present_without_p(&s, T1 + 8 * 2, LONG_GVA_4K);   /* PDPTE -> PD */
	expect_not_present_without_p(&s, T1 + 8 * 5, LONG_GVA_1G);   /* PDPTE, 1 GiB */
	expect_not_present_without_p(&s, T0 + 8 * 1, LONG_GVA_4K);   /* PML4E */
	expect_gpa(&s, LONG_GVA_4K, 0x50abc);
}
END_TEST

START_TEST(test_long_tables_outside_ram)
{
	struct tv_sregs s = long_tables();

	maxphy = TV_MAXPHYADDR_MAX; /* the far addresses below are then address bits, not reserved */

	put64(T2 + 8 * 3, RAM_SIZE | PTE); /* PT just past RAM */
	expect_fail(&s, LONG_GVA_4K, TV_WALK_TABLE_OUTSIDE);
	put64(T1 + 8 * 2, 0x000ffffffffff000ull | PTE); /* PD at the top of the address space */
	expect_fail(&s, LONG_GVA_4K, TV_WALK_TABLE_OUTSIDE);
	put64(T0 + 8 * 1, 0x7fff0000000ull | PTE); /* PDPT far away */
	expect_fail(&s, LONG_GVA_4K, TV_WALK_TABLE_OUTSIDE);
	s.cr3 = RAM_SIZE; /* PML4 */
	expect_fail(&s, LONG_GVA_4K, TV_WALK_TABLE_OUTSIDE);
}
END_TEST

/* Without EFER.NXE bit 63 of an entry is reserved: the CPU raises #PF (RSVD) instead of
 * translating, so the walk must not hand out the page either. */
START_TEST(test_long_nx_bit_without_efer_nxe_does_not_translate)
{
	struct tv_sregs s = long_tables();
	uint64_t gpa = 0;
	enum tv_walk_result r;

	s.efer &= ~TV_EFER_NXE;
	r = tv_gva_to_gpa(&ram, &s, maxphy, LONG_GVA_4K, &gpa); /* the PTE has NX */
	ck_assert_msg(r != TV_WALK_OK,
		      "gva 0x%llx translated to 0x%llx through a PTE with the reserved bit 63 set",
		      (unsigned long long)LONG_GVA_4K, (unsigned long long)gpa);
}
END_TEST

START_TEST(test_long_noncanonical_address)
{
	struct tv_sregs s = long_tables();

	expect_fail(&s, 0x0000800000000000ull, TV_WALK_NONCANONICAL);
	expect_fail(&s, 0xffff7fffffffffffull, TV_WALK_NONCANONICAL);
	expect_fail(&s, 0x8000000000000000ull | LONG_GVA_4K, TV_WALK_NONCANONICAL);
	/* the last canonical address below the hole is walked (and not mapped here) */
	expect_fail(&s, 0x00007fffffffffffull, TV_WALK_NOT_PRESENT);
}
END_TEST

START_TEST(test_long_compat_code_uses_32_bit_addresses)
{
	struct tv_sregs s = long_tables();

	/* 32-bit code in long mode: DS.base is added and the address is 32 bits. */
	s.cs.l = 0;
	s.cs.db = 1;
	s.ds.base = 0;
	put64(T0, T1 | PTE); /* PML4E 0 -> the PDPT too, so the low 4 GiB has LONG_GVA_*'s layout */
	expect_gpa(&s, (2ull << 30) | (3ull << 21) | (4ull << 12) | 0x20, 0x50020);
	expect_gpa(&s, (1ull << 32) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0x20, 0x50020);
}
END_TEST

START_TEST(test_five_level_paging_is_refused)
{
	struct tv_sregs s = long_tables();

	s.cr4 |= TV_CR4_LA57;
	expect_fail(&s, LONG_GVA_4K, TV_WALK_UNSUPPORTED);
}
END_TEST

START_TEST(test_every_walk_result_has_a_name)
{
	for (int r = TV_WALK_OK; r <= TV_WALK_UNSUPPORTED; r++)
		ck_assert_str_ne(tv_walk_result_name((enum tv_walk_result)r), "unknown");
	ck_assert_str_eq(tv_walk_result_name((enum tv_walk_result)99), "unknown");
}
END_TEST

/* --- reserved bits ----------------------------------------------------------------------------
 *
 * One case per bit per entry form: the tables above, one bit set in one entry on the way to gva.
 * A reserved bit is a fault to the CPU (#PF with RSVD; #GP for a PAE PDPTE), so the walk must
 * say TV_WALK_RESERVED. An address bit is reserved only at or above MAXPHYADDR: at `wide` bits
 * the same entry is no longer refused for it. Bits the CPU ignores or reads as PAT must leave the
 * translation as it was. */

enum form { PAGED32_4M, PAE, LONG };

struct rsvd_case {
	const char *entry_name;
	enum form form;
	uint64_t entry; /* its guest-physical address */
	uint64_t gva;
	unsigned bit;
	bool nxe;          /* EFER.NXE: without it bit 63 is reserved */
	unsigned maxphy;   /* MAXPHYADDR for the walk */
	bool reserved;     /* the expected answer: refused, or translated as before */
	unsigned wide;     /* an address bit: a MAXPHYADDR at which it is not reserved; 0 if none */
};

#define PAE_PDPTE (T0 + 0x20 + 8 * 1)
#define RSVD(form, entry, gva, bit, maxphy, wide) \
	{ #entry, form, entry, gva, bit, true, maxphy, true, wide }
#define RSVD_NO_NXE(form, entry, gva) { #entry, form, entry, gva, 63, false, 36, true, 0 }
#define NOT_RSVD(form, entry, gva, bit) { #entry, form, entry, gva, bit, true, 36, false, 0 }

static const struct rsvd_case rsvd_cases[] = {
	/* 32-bit paging, a 4 MiB PDE: bit 21 always; bits 20..13 are physical bits 39..32, reserved
	 * from min(MAXPHYADDR, 40) up. A 4 KiB PDE or PTE has no reserved bits. */
	RSVD(PAGED32_4M, T0 + 4 * 2, 0x00812345, 21, 40, 0),
	RSVD(PAGED32_4M, T0 + 4 * 2, 0x00812345, 17, 36, 37),
	RSVD(PAGED32_4M, T0 + 4 * 2, 0x00812345, 20, 39, 52),
	/* PAE, the PDPTE: R/W, U/S, bits 8..5 (PS among them) and 63..MAXPHYADDR, NXE or not. */
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 1, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 2, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 5, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 6, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 7, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 8, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 36, 36, 40),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 52, 52, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 63, 36, 0),
	/* PAE, a 2 MiB PDE: bits 20..13, 62..MAXPHYADDR, 63 without NXE. */
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 13, 36, 0),
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 20, 36, 0),
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 36, 36, 40),
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 62, 52, 0),
	RSVD_NO_NXE(PAE, T2 + 8 * 5, PAE_GVA_2M),
	NOT_RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 12), /* PAT */
	/* PAE, a PDE to a page table and a PTE: 62..MAXPHYADDR, 63 without NXE. */
	RSVD(PAE, T2 + 8 * 3, PAE_GVA_4K, 36, 36, 40),
	RSVD(PAE, T2 + 8 * 3, PAE_GVA_4K, 62, 52, 0),
	RSVD_NO_NXE(PAE, T2 + 8 * 3, PAE_GVA_4K),
	RSVD(PAE, T3 + 8 * 4, PAE_GVA_4K, 36, 36, 40),
	RSVD(PAE, T3 + 8 * 4, PAE_GVA_4K, 55, 52, 0),
	RSVD_NO_NXE(PAE, T3 + 8 * 4, PAE_GVA_4K),
	/* Long mode, the PML4E: PS, 51..MAXPHYADDR, 63 without NXE; 62..52 are ignored. */
	RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 7, 36, 0),
	RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 36, 36, 40),
	RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 51, 48, 52),
	RSVD_NO_NXE(LONG, T0 + 8 * 1, LONG_GVA_4K),
	NOT_RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 52),
	NOT_RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 62),
	/* A 1 GiB PDPTE: bits 29..13 too. */
	RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 13, 36, 0),
	RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 29, 36, 0),
	RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 36, 36, 40),
	RSVD_NO_NXE(LONG, T1 + 8 * 5, LONG_GVA_1G),
	NOT_RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 12), /* PAT */
	/* A PDPTE to a page directory. */
	RSVD(LONG, T1 + 8 * 2, LONG_GVA_4K, 36, 36, 40),
	RSVD(LONG, T1 + 8 * 2, LONG_GVA_4K, 51, 36, 52),
	RSVD_NO_NXE(LONG, T1 + 8 * 2, LONG_GVA_4K),
	/* A 2 MiB PDE: bits 20..13 too. */
	RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 13, 36, 0),
	RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 20, 36, 0),
	RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 36, 36, 40),
	RSVD_NO_NXE(LONG, T2 + 8 * 6, LONG_GVA_2M),
	NOT_RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 12), /* PAT */
	/* A PDE to a page table, and a PTE. */
	RSVD(LONG, T2 + 8 * 3, LONG_GVA_4K, 36, 36, 40),
	RSVD_NO_NXE(LONG, T2 + 8 * 3, LONG_GVA_4K),
	RSVD(LONG, T3 + 8 * 4, LONG_GVA_4K, 36, 36, 40),
	RSVD(LONG, T3 + 8 * 4, LONG_GVA_4K, 51, 36, 52),
	RSVD_NO_NXE(LONG, T3 + 8 * 4, LONG_GVA_4K),
	NOT_RSVD(LONG, T3 + 8 * 4, LONG_GVA_4K, 58),
};

/* The form's tables and registers; without NXE, with bit 63 cleared in every entry that has it,
 * so that only the case's own bit can make the walk refuse. */
static struct tv_sregs rsvd_tables(const struct rsvd_case *c)
{
	static const uint64_t with_nx[] = { T3 + 8 * 4, T2 + 8 * 6 };
	struct tv_sregs s;

	if (c->form == PAGED32_4M) {
		put32(T0 + 4 * 2, 0x00c00000 | PTE | TV_PTE_PS);
		return paged32_sregs(T0, true);
	}
	s = c->form == PAE ? pae_tables() : long_tables();
	if (!c->nxe) {
		s.efer &= ~TV_EFER_NXE;
		for (size_t i = 0; i < sizeof(with_nx) / sizeof(with_nx[0]); i++)
			put64(with_nx[i], get64(with_nx[i]) & ~TV_PTE_XD);
	}
	return s;
}

static enum tv_walk_result walk_at(const struct tv_sregs *s, unsigned m, uint64_t gva,
				   uint64_t *gpa)
{
	return tv_gva_to_gpa(&ram, s, m, gva, gpa);
}

START_TEST(test_entry_with_a_reserved_bit_is_a_fault)
{
	const struct rsvd_case *c = &rsvd_cases[_i];
	const char *form = c->form == PAGED32_4M ? "paged32" : c->form == PAE ? "pae" : "long";
	struct tv_sregs s = rsvd_tables(c);
	uint64_t before = 0, gpa = 0;
	enum tv_walk_result r;

	/* Without the bit the gva translates: the verdict below is the bit's. */
	r = walk_at(&s, c->maxphy, c->gva, &before);
	ck_assert_msg(r == TV_WALK_OK, "%s %s: %s before the bit was set", form, c->entry_name,
		      tv_walk_result_name(r));
	if (c->form == PAGED32_4M)
		put32(c->entry, (uint32_t)(get64(c->entry) | 1ull << c->bit));
	else
		put64(c->entry, get64(c->entry) | 1ull << c->bit);

	r = walk_at(&s, c->maxphy, c->gva, &gpa);
	if (c->reserved)
		ck_assert_msg(r == TV_WALK_RESERVED,
			      "%s %s with bit %u (MAXPHYADDR %u, EFER.NXE %d): \"%s\", gpa 0x%llx",
			      form, c->entry_name, c->bit, c->maxphy, c->nxe,
			      tv_walk_result_name(r), (unsigned long long)gpa);
	else
		ck_assert_msg(r == TV_WALK_OK && gpa == before,
			      "%s %s with bit %u: \"%s\", gpa 0x%llx, expected 0x%llx as without it",
			      form, c->entry_name, c->bit, tv_walk_result_name(r),
			      (unsigned long long)gpa, (unsigned long long)before);
	if (c->wide) {
		r = walk_at(&s, c->wide, c->gva, &gpa);
		ck_assert_msg(r != TV_WALK_RESERVED,
			      "%s %s with bit %u is refused at MAXPHYADDR %u too: it is an address bit "
			      "there", form, c->entry_name, c->bit, c->wide);
	}
}
END_TEST

/* The walk takes any MAXPHYADDR without undefined shifts: out-of-range values are clamped. */
START_TEST(test_maxphyaddr_out_of_range_is_clamped)
{
	struct tv_sregs s = long_tables();
	uint64_t gpa;

	ck_assert_int_eq(tv_gva_to_gpa(&ram, &s, 0, LONG_GVA_4K, &gpa), TV_WALK_OK);
	ck_assert_int_eq(tv_gva_to_gpa(&ram, &s, 200, LONG_GVA_4K, &gpa), TV_WALK_OK);
	put64(T3 + 8 * 4, get64(T3 + 8 * 4) | 1ull << 51);
	ck_assert_int_eq(tv_gva_to_gpa(&ram, &s, 0, LONG_GVA_4K, &gpa), TV_WALK_RESERVED);
	ck_assert_int_ne(tv_gva_to_gpa(&ram, &s, 200, LONG_GVA_4K, &gpa), TV_WALK_RESERVED);
}
END_TEST

/* --- the tables tv_mode_setup writes ---------------------------------------------------------- */

/* Addresses in RAM, above RAM (the MMIO range) and at the top of 4 GiB. */
static const uint64_t identity_probe[] = {
	0x0, 0x400, 0xfff, 0x1000, TV_SCRATCH, TV_PD32, 0x1fffff, 0x200000, 0x3fffff, 0x400000,
	0x12345678, 0xbfffffff, 0xc0000000, 0xfffff000, 0xffffffff,
};

START_TEST(test_mode_setup_tables_map_identity)
{
	enum tv_mode mode = (enum tv_mode)_i;
	struct tv_sregs s;
	struct tv_regs r;

	ck_assert_int_eq(tv_mode_setup(mode, ram.host, ram.size, &s, &r), 0);
	for (size_t i = 0; i < sizeof(identity_probe) / sizeof(identity_probe[0]); i++)
		expect_gpa(&s, identity_probe[i], identity_probe[i]);
	if (mode == TV_MODE_LONG) /* only 4 GiB is mapped */
		expect_fail(&s, 1ull << 32, TV_WALK_NOT_PRESENT);
}
END_TEST

/* --- cross-check with KVM_TRANSLATE ----------------------------------------------------------- */

/* In long mode, gva 0x200000..0x3fffff goes through a 4 KiB page table at 0x20000 whose entries
 * point away from identity, with one hole. */
#define XPT 0x20000ull
static const struct {
	unsigned index;
	uint64_t pte;
} remap[] = {
	{ 0, 0x30000 | PTE }, { 1, 0x5000 | PTE }, { 2, 0x6000 | TV_PTE_RW /* not present */ },
	{ 3, 0x1ff000 | PTE | TV_PTE_XD }, { 511, 0x100000 | TV_PTE_P }, { 100, 0x7fff0000 | PTE },
};

static void remap_long(struct tv_machine *m)
{
	uint64_t pde = XPT | PTE;

	for (size_t i = 0; i < sizeof(remap) / sizeof(remap[0]); i++) {
		uint64_t at = XPT + 8 * remap[i].index;

		ck_assert_int_eq(tv_ram_write(&m->ram, at, &remap[i].pte, 8), 0);
	}
	ck_assert_int_eq(tv_ram_write(&m->ram, TV_PD64 + 8 * 1, &pde, 8), 0);
}

/* Mapped and unmapped, identity and remapped. No non-canonical address: KVM_TRANSLATE indexes
 * with bits 47..0 and ignores the rest (0x8000000000000400 comes back as 0x400 on this host),
 * where the CPU raises #GP; test_long_noncanonical_address covers the walk's answer. */
static const uint64_t cross_probe[] = {
	0x0, 0x400, 0x1234, TV_SCRATCH + 0x10, 0x1fffff,
	0x200000, 0x200abc, 0x201008, 0x202000, 0x203fff, 0x264010, 0x3ff123, 0x3ff000 + 0xfff,
	0x400000, 0x40000000, 0x40012345, 0x7fffffff, 0xfffff000, 0xffffffff, 0x100000000ull,
	0x7fffffff0000ull, 0xffff800000000000ull,
};

/* A machine on KVM in mode with a hlt at 0 and, in long mode, the remapped tables. nxe sets
 * EFER.NXE, which makes the NX bit in the remapped entries legal; run_once runs the hlt first. */
static const struct tv_backend_ops *kvm_machine(struct tv_machine *m, enum tv_mode mode, bool nxe,
						bool run_once, char *why, size_t len)
{
	static const uint8_t hlt[] = { 0xf4 };
	const struct tv_backend_ops *be = tv_test_engine("kvm", mode, why, len);
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT };
	struct tv_sregs s;
	struct tv_exit e;

	if (!be)
		return NULL;
	/* The KVM backend has KVM_TRANSLATE: losing it is a regression, not a host limit. */
	ck_assert_msg(be->translate != NULL, "the kvm backend has no translate hook");
	ck_assert_msg(tv_machine_boot(m, &opt, hlt, sizeof(hlt), mode) == 0, "boot: %s",
		      tv_last_error());
	if (mode == TV_MODE_LONG)
		remap_long(m);
	if (nxe) {
		ck_assert_int_eq(m->be->get_sregs(m->vcpu, &s), 0);
		s.efer |= TV_EFER_NXE;
		ck_assert_msg(m->be->set_sregs(m->vcpu, &s) == 0, "EFER.NXE: %s", tv_last_error());
	}
	if (run_once) {
		ck_assert_msg(tv_machine_run(m, 30, &e) == 0, "run: %s", tv_last_error());
		ck_assert_int_eq(e.reason, TV_EXIT_HLT);
	}
	return be;
}

/* Compares the walk with KVM_TRANSLATE at gva. */
static void compare_one(struct tv_machine *m, const struct tv_sregs *s, uint64_t gva)
{
	uint64_t ours = 0, theirs = 0;
	enum tv_walk_result r = tv_gva_to_gpa(&m->ram, s, m->maxphyaddr, gva, &ours);
	int k = m->be->translate(m->vcpu, gva, &theirs);

	if (r == TV_WALK_OK) {
		ck_assert_msg(k == 0, "gva 0x%llx: the walk says 0x%llx, KVM_TRANSLATE fails (%s)",
			      (unsigned long long)gva, (unsigned long long)ours, tv_last_error());
		ck_assert_msg(ours == theirs, "gva 0x%llx: the walk says 0x%llx, KVM 0x%llx",
			      (unsigned long long)gva, (unsigned long long)ours,
			      (unsigned long long)theirs);
	} else {
		ck_assert_msg(r == TV_WALK_NOT_PRESENT || r == TV_WALK_RESERVED,
			      "gva 0x%llx: the walk says %s",
			      (unsigned long long)gva, tv_walk_result_name(r));
		ck_assert_msg(k == -EFAULT, "gva 0x%llx: the walk says %s, KVM 0x%llx (rc %d)",
			      (unsigned long long)gva, tv_walk_result_name(r),
			      (unsigned long long)theirs, k);
	}
}

/* Compares the walk with KVM_TRANSLATE at every probe address. KVM_TRANSLATE takes a linear
 * address; DS.base is 0 in every mode twinvm sets up, so the two agree on what gva means. */
static void compare_with_kvm(struct tv_machine *m)
{
	struct tv_sregs s;

	ck_assert_int_eq(m->be->get_sregs(m->vcpu, &s), 0);
	ck_assert_uint_eq(s.ds.base, 0);
	for (size_t i = 0; i < sizeof(cross_probe) / sizeof(cross_probe[0]); i++) {
		/* Outside long mode an address has 32 bits; KVM_TRANSLATE would take more. */
		if (m->mode == TV_MODE_LONG || cross_probe[i] <= 0xffffffffu)
			compare_one(m, &s, cross_probe[i]);
	}
}

/* KVM_TRANSLATE before the vCPU has ever run answers from the registers set by KVM_SET_SREGS;
 * on this host it agrees with the answer after a run, and both tests hold it to that. */
static void walk_agrees_with_kvm(enum tv_mode mode, bool run_once)
{
	struct tv_machine m;
	char why[256];

	if (!kvm_machine(&m, mode, true, run_once, why, sizeof(why)))
		TV_SKIP("kvm/%s: %s", tv_mode_name(mode), why);
	compare_with_kvm(&m);
	tv_machine_destroy(&m);
}

START_TEST(test_walk_agrees_with_kvm_translate_before_first_run)
{
	walk_agrees_with_kvm((enum tv_mode)_i, false);
}
END_TEST

START_TEST(test_walk_agrees_with_kvm_translate_after_a_run)
{
	walk_agrees_with_kvm((enum tv_mode)_i, true);
}
END_TEST

/* CPUID 0x80000001 EDX bit 26 of a long-mode guest on be: 1 GiB pages. Without it PS in a PDPTE
 * is a reserved bit and the CPU faults. */
static bool guest_has_1g_pages(const struct tv_backend_ops *be)
{
	static const uint8_t cpuid[] = {
		0xb8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
		0x0f, 0xa2,                   /* cpuid */
		0xf4,                         /* hlt */
	};
	struct tv_test_run t;
	bool has;

	tv_test_run(&t, be, TV_MODE_LONG, cpuid, sizeof(cpuid), NULL, 30);
	ck_assert_int_eq(t.last.reason, TV_EXIT_HLT);
	has = t.regs.rdx & (1u << 26);
	tv_test_run_end(&t);
	return has;
}

/* A 1 GiB page at gva 1 GiB -> physical 0, where the guest's CPU offers them. */
static void one_gib_page_agrees_with_kvm(void)
{
	uint64_t pdpte = 0 | PTE | TV_PTE_PS;
	struct tv_machine m;
	struct tv_sregs s;
	char why[256];

	if (!kvm_machine(&m, TV_MODE_LONG, true, true, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	if (!guest_has_1g_pages(m.be)) {
		tv_machine_destroy(&m);
		ck_assert(tv_test_host_limit("kvm", TV_MODE_LONG, "the guest's CPUID has no 1 GiB "
					     "pages (CPUID 0x80000001 EDX bit 26 clear), so a PDPTE "
					     "with PS is a reserved-bit fault to KVM", why, sizeof(why)));
		TV_SKIP("kvm/long: %s", why);
	}
	ck_assert_int_eq(tv_ram_write(&m.ram, TV_PDPT + 8 * 1, &pdpte, 8), 0);
	ck_assert_int_eq(m.be->get_sregs(m.vcpu, &s), 0);
	compare_one(&m, &s, 0x40000000);
	compare_one(&m, &s, 0x4abcdef0);
	tv_machine_destroy(&m);
}

START_TEST(test_1g_page_agrees_with_kvm_translate) { one_gib_page_agrees_with_kvm(); }
END_TEST

/* twinvm's long mode leaves EFER.NXE clear, so bit 63 of an entry is reserved and the CPU faults
 * on an access through it: the walk must not translate what the guest itself cannot reach. */
START_TEST(test_walk_agrees_with_kvm_when_the_nx_bit_is_reserved)
{
	struct tv_machine m;
	struct tv_sregs s;
	char why[256];

	if (!kvm_machine(&m, TV_MODE_LONG, false, true, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	ck_assert_int_eq(m.be->get_sregs(m.vcpu, &s), 0);
	ck_assert_uint_eq(s.efer & TV_EFER_NXE, 0);
	compare_one(&m, &s, 0x203fff); /* PTE 3 has NX */
	tv_machine_destroy(&m);
}
END_TEST

/* Entries with reserved bits, in the remapped page table and next to it, on a live vCPU: the walk
 * and KVM's own walk must both refuse them, at the MAXPHYADDR the vCPU's CPUID gives. */
START_TEST(test_walk_agrees_with_kvm_on_reserved_bits)
{
	struct tv_machine m;
	struct tv_sregs s;
	char why[256];
	const struct {
		uint64_t at, entry, gva;
	} bad[] = {
		{ XPT + 8 * 4, 0x31000 | PTE | 1ull << 51, 0x204000 },      /* PTE, bit 51 */
		{ XPT + 8 * 5, 0x32000 | PTE, 0x205000 },                  /* PTE, bit MAXPHYADDR */
		{ TV_PD64 + 8 * 2, 0x400000 | PTE | TV_PTE_PS | 1ull << 13, 0x400000 }, /* 2 MiB */
		{ TV_PD64 + 8 * 3, 0x600000 | PTE | TV_PTE_PS | 1ull << 20, 0x6abcde },
	};

	if (!kvm_machine(&m, TV_MODE_LONG, true, true, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	ck_assert_uint_ge(m.maxphyaddr, TV_MAXPHYADDR_MIN);
	ck_assert_uint_le(m.maxphyaddr, 51);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t e = bad[i].entry | (i == 1 ? 1ull << m.maxphyaddr : 0);

		ck_assert_int_eq(tv_ram_write(&m.ram, bad[i].at, &e, 8), 0);
	}
	ck_assert_int_eq(m.be->get_sregs(m.vcpu, &s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t gpa;

		ck_assert_int_eq(tv_gva_to_gpa(&m.ram, &s, m.maxphyaddr, bad[i].gva, &gpa),
				 TV_WALK_RESERVED);
		compare_one(&m, &s, bad[i].gva);
	}
	tv_machine_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagewalk");
	TCase *pure = tcase_create("pure");
	TCase *kvm = tcase_create("kvm_translate");

	tcase_add_checked_fixture(pure, guarded_ram_setup, guarded_ram_teardown);
	tcase_add_test(pure, test_real_mode_adds_ds_base);
	tcase_add_test(pure, test_protected_mode_adds_ds_base_and_wraps_at_4g);
	tcase_add_test(pure, test_unpaged_address_outside_ram_translates_for_the_caller_to_check);
	tcase_add_test(pure, test_paged32_4k_page);
	tcase_add_test(pure, test_paged32_4m_page_with_pse);
	tcase_add_test(pure, test_paged32_4m_page_pse36_high_bits);
	tcase_add_test(pure, test_paged32_ps_ignored_without_pse);
	tcase_add_test(pure, test_paged32_not_present_at_each_level);
	tcase_add_test(pure, test_paged32_tables_outside_ram);
	tcase_add_test(pure, test_pae_4k_page);
	tcase_add_test(pure, test_pae_2m_page);
	tcase_add_test(pure, test_pae_not_present_at_each_level);
	tcase_add_test(pure, test_pae_tables_outside_ram);
	tcase_add_test(pure, test_long_4k_page_ignores_ds_base);
	tcase_add_test(pure, test_long_2m_page);
	tcase_add_test(pure, test_long_1g_page);
	tcase_add_test(pure, test_long_upper_half_address);
	tcase_add_test(pure, test_long_not_present_at_each_level);
	tcase_add_test(pure, test_long_tables_outside_ram);
	tcase_add_test(pure, test_long_nx_bit_without_efer_nxe_does_not_translate);
	tcase_add_test(pure, test_long_noncanonical_address);
	tcase_add_test(pure, test_long_compat_code_uses_32_bit_addresses);
	tcase_add_test(pure, test_five_level_paging_is_refused);
	tcase_add_test(pure, test_every_walk_result_has_a_name);
	tcase_add_loop_test(pure, test_entry_with_a_reserved_bit_is_a_fault, 0,
			    sizeof(rsvd_cases) / sizeof(rsvd_cases[0]));
	tcase_add_test(pure, test_maxphyaddr_out_of_range_is_clamped);
	tcase_add_loop_test(pure, test_mode_setup_tables_map_identity, 0, TV_MODE_COUNT);
	suite_add_tcase(s, pure);

	tcase_set_timeout(kvm, 60);
	tcase_add_loop_test(kvm, test_walk_agrees_with_kvm_translate_before_first_run, 0,
			    TV_MODE_COUNT);
	tcase_add_loop_test(kvm, test_walk_agrees_with_kvm_translate_after_a_run, 0, TV_MODE_COUNT);
	tcase_add_test(kvm, test_1g_page_agrees_with_kvm_translate);
	tcase_add_test(kvm, test_walk_agrees_with_kvm_when_the_nx_bit_is_reserved);
	tcase_add_test(kvm, test_walk_agrees_with_kvm_on_reserved_bits);
	suite_add_tcase(s, kvm);
	return tv_test_main(s);
}
