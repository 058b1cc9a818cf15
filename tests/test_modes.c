/* Mode setup as pure functions: no engine involved. */
#include <string.h>
#include <sys/mman.h>

#include "layout.h"
#include "tv_test.h"

static uint8_t *ram;
static const uint64_t ram_size = TV_RAM_DEFAULT;

static void setup(void)
{
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ram, MAP_FAILED);
}

static void teardown(void)
{
	munmap(ram, ram_size);
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram + gpa, sizeof(v));
	return v;
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, ram + gpa, sizeof(v));
	return v;
}

START_TEST(test_real_mode_segments_at_zero)
{
	struct tv_sregs s;
	struct tv_regs r;

	ck_assert_int_eq(tv_mode_setup(TV_MODE_REAL, ram, ram_size, &s, &r), 0);
	ck_assert_uint_eq(s.cs.base, 0);
	ck_assert_uint_eq(s.cs.selector, 0);
	ck_assert_uint_eq(s.cs.limit, 0xffff);
	ck_assert_uint_eq(s.ss.base, 0);
	ck_assert_uint_eq(s.cr0 & TV_CR0_PE, 0);
	ck_assert_uint_eq(r.rip, TV_ENTRY);
	ck_assert_uint_eq(r.rsp, TV_STACK_TOP);
	ck_assert_uint_eq(r.rflags, 0x2);
	/* Real mode reaches only 64 KiB with segments at 0: stack and scratch must be there. */
	ck_assert_uint_le(TV_STACK_TOP, 0x10000);
	ck_assert_uint_le(TV_SCRATCH + TV_SCRATCH_SIZE, 0x10000);
}
END_TEST

START_TEST(test_protected_mode_gdt_matches_segments)
{
	struct tv_sregs s;
	struct tv_regs r;

	ck_assert_int_eq(tv_mode_setup(TV_MODE_PROTECTED, ram, ram_size, &s, &r), 0);
	ck_assert_uint_eq(s.cr0 & (TV_CR0_PE | TV_CR0_PG), TV_CR0_PE);
	ck_assert_uint_eq(s.gdt.base, TV_GDT);
	ck_assert_uint_eq(s.cs.selector, TV_SEL_CODE32);
	ck_assert_uint_eq(s.ds.selector, TV_SEL_DATA);
	/* Flat 32-bit code and data descriptors, as the architecture manual spells them. */
	ck_assert_uint_eq(get64(TV_GDT + TV_SEL_CODE32), 0x00cf9b000000ffffull);
	ck_assert_uint_eq(get64(TV_GDT + TV_SEL_DATA), 0x00cf93000000ffffull);
	ck_assert_uint_eq(get64(TV_GDT), 0);
	ck_assert_uint_eq(s.cs.db, 1);
	ck_assert_uint_eq(s.cs.limit, 0xffffffffu);
}
END_TEST

START_TEST(test_paged32_maps_4gib_with_4mib_pages)
{
	struct tv_sregs s;
	struct tv_regs r;

	ck_assert_int_eq(tv_mode_setup(TV_MODE_PAGED32, ram, ram_size, &s, &r), 0);
	ck_assert_uint_eq(s.cr3, TV_PD32);
	ck_assert(s.cr0 & TV_CR0_PG);
	ck_assert(s.cr4 & TV_CR4_PSE);
	ck_assert_uint_eq(s.efer, 0);
	ck_assert_uint_eq(get32(TV_PD32), TV_PTE_P | TV_PTE_RW | TV_PTE_PS);
	ck_assert_uint_eq(get32(TV_PD32 + 4 * 1023), 0xffc00000u | TV_PTE_P | TV_PTE_RW | TV_PTE_PS);
}
END_TEST

START_TEST(test_long_mode_tables_identity_map_4gib)
{
	struct tv_sregs s;
	struct tv_regs r;

	ck_assert_int_eq(tv_mode_setup(TV_MODE_LONG, ram, ram_size, &s, &r), 0);
	ck_assert_uint_eq(s.cr3, TV_PML4);
	ck_assert_uint_eq(s.efer, TV_EFER_LME | TV_EFER_LMA);
	ck_assert(s.cr4 & TV_CR4_PAE);
	ck_assert_uint_eq(s.cs.l, 1);
	ck_assert_uint_eq(s.cs.db, 0);
	ck_assert_uint_eq(get64(TV_GDT + TV_SEL_CODE64), 0x00af9b000000ffffull);
	ck_assert_uint_eq(get64(TV_PML4), TV_PDPT | TV_PTE_P | TV_PTE_RW);
	ck_assert_uint_eq(get64(TV_PML4 + 8), 0);
	for (uint64_t g = 0; g < 4; g++)
		ck_assert_uint_eq(get64(TV_PDPT + 8 * g),
				  (TV_PD64 + g * TV_PAGE_SIZE) | TV_PTE_P | TV_PTE_RW);
	/* The 2 MiB page holding 0x40200000 (GiB 1, entry 1). */
	ck_assert_uint_eq(get64(TV_PD64 + TV_PAGE_SIZE + 8),
			  0x40200000ull | TV_PTE_P | TV_PTE_RW | TV_PTE_PS);
}
END_TEST

START_TEST(test_mode_setup_leaves_guest_image_alone)
{
	struct tv_sregs s;
	struct tv_regs r;

	memset(ram, 0xab, TV_STACK_BOTTOM);
	for (int m = 0; m < TV_MODE_COUNT; m++) {
		ck_assert_int_eq(tv_mode_setup((enum tv_mode)m, ram, ram_size, &s, &r), 0);
		for (uint64_t i = 0; i < TV_STACK_BOTTOM; i++)
			ck_assert_uint_eq(ram[i], 0xab);
	}
}
END_TEST

START_TEST(test_mode_setup_refuses_ram_too_small_for_tables)
{
	struct tv_sregs s;
	struct tv_regs r;

	ck_assert_int_lt(tv_mode_setup(TV_MODE_LONG, ram, TV_LAYOUT_END - 1, &s, &r), 0);
}
END_TEST

START_TEST(test_mode_names_parse_back)
{
	enum tv_mode m;

	for (int i = 0; i < TV_MODE_COUNT; i++) {
		ck_assert(tv_mode_parse(tv_mode_name((enum tv_mode)i), &m));
		ck_assert_int_eq(m, i);
	}
	ck_assert(!tv_mode_parse("paged64", &m));
	ck_assert_int_eq(tv_mode_bits(TV_MODE_REAL), 16);
	ck_assert_int_eq(tv_mode_bits(TV_MODE_PAGED32), 32);
	ck_assert_int_eq(tv_mode_bits(TV_MODE_LONG), 64);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("modes");
	TCase *tc = tcase_create("setup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_real_mode_segments_at_zero);
	tcase_add_test(tc, test_protected_mode_gdt_matches_segments);
	tcase_add_test(tc, test_paged32_maps_4gib_with_4mib_pages);
	tcase_add_test(tc, test_long_mode_tables_identity_map_4gib);
	tcase_add_test(tc, test_mode_setup_leaves_guest_image_alone);
	tcase_add_test(tc, test_mode_setup_refuses_ram_too_small_for_tables);
	tcase_add_test(tc, test_mode_names_parse_back);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
