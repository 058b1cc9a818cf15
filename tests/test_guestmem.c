/* The checked accessor: no guest address or length reaches past guest RAM. */
#include <stdint.h>

#include "guestmem.h"
#include "tv_test.h"

static struct tv_ram ram;

static void setup(void)
{
	ck_assert_int_eq(tv_ram_alloc(&ram, 64 * 1024), 0);
}

static void teardown(void)
{
	tv_ram_free(&ram);
}

START_TEST(test_ram_ptr_inside_ram)
{
	ck_assert_ptr_eq(tv_ram_ptr(&ram, 0, 1), ram.host);
	ck_assert_ptr_eq(tv_ram_ptr(&ram, ram.size - 4, 4), ram.host + ram.size - 4);
	ck_assert_ptr_eq(tv_ram_ptr(&ram, 0, ram.size), ram.host);
}
END_TEST

START_TEST(test_ram_ptr_refuses_range_past_end)
{
	ck_assert_ptr_null(tv_ram_ptr(&ram, ram.size, 1));
	ck_assert_ptr_null(tv_ram_ptr(&ram, ram.size - 4, 5));
	ck_assert_ptr_null(tv_ram_ptr(&ram, 0, ram.size + 1));
}
END_TEST

START_TEST(test_ram_ptr_refuses_wraparound)
{
	ck_assert_ptr_null(tv_ram_ptr(&ram, 16, UINT64_MAX));
	ck_assert_ptr_null(tv_ram_ptr(&ram, UINT64_MAX, 2));
	ck_assert_ptr_null(tv_ram_ptr(&ram, UINT64_MAX - 3, 8));
}
END_TEST

START_TEST(test_ram_ptr_refuses_empty_range)
{
	ck_assert_ptr_null(tv_ram_ptr(&ram, 0, 0));
}
END_TEST

START_TEST(test_ram_read_write_roundtrip_and_fault)
{
	uint32_t v = 0xdeadbeef, back = 0;

	ck_assert_int_eq(tv_ram_write(&ram, 0x100, &v, sizeof(v)), 0);
	ck_assert_int_eq(tv_ram_read(&ram, 0x100, &back, sizeof(back)), 0);
	ck_assert_uint_eq(back, v);
	ck_assert_int_lt(tv_ram_write(&ram, ram.size - 2, &v, sizeof(v)), 0);
	ck_assert_int_lt(tv_ram_read(&ram, ram.size - 2, &back, sizeof(back)), 0);
}
END_TEST

START_TEST(test_ram_alloc_refuses_unaligned_size)
{
	struct tv_ram r;

	ck_assert_int_lt(tv_ram_alloc(&r, 4095), 0);
	ck_assert_int_lt(tv_ram_alloc(&r, 0), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guestmem");
	TCase *tc = tcase_create("accessor");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ram_ptr_inside_ram);
	tcase_add_test(tc, test_ram_ptr_refuses_range_past_end);
	tcase_add_test(tc, test_ram_ptr_refuses_wraparound);
	tcase_add_test(tc, test_ram_ptr_refuses_empty_range);
	tcase_add_test(tc, test_ram_read_write_roundtrip_and_fault);
	tcase_add_test(tc, test_ram_alloc_refuses_unaligned_size);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
