/* The software page walk (x86/pagewalk.c), in every paging form and page size: pure tests
 * on page tables built by hand in guarded RAM (walk_tables.h). (Reserved bits:
 * test_pagewalk_reserved.c; the cross-checks with KVM_TRANSLATE: test_pagewalk_kvm.c.) */
#include <errno.h>

#include "layout.h"
#include "modes.h"
#include "pagewalk.h"
#include "tv_test.h"
#include "walk_tables.h"

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

int main(void)
{
	Suite *s = suite_create("pagewalk");
	TCase *pure = tcase_create("pure");

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
	tcase_add_loop_test(pure, test_mode_setup_tables_map_identity, 0, TV_MODE_COUNT);
	suite_add_tcase(s, pure);
	return tv_test_main(s);
}
