/* The flag parsers the tools share. */
#include "cli.h"
#include "tv_test.h"

START_TEST(test_parse_size_suffixes)
{
	uint64_t v;

	ck_assert(tv_parse_size("4096", &v) && v == 4096);
	ck_assert(tv_parse_size("512K", &v) && v == 512 << 10);
	ck_assert(tv_parse_size("2M", &v) && v == 2 << 20);
	ck_assert(tv_parse_size("2MiB", &v) && v == 2 << 20);
	ck_assert(tv_parse_size("1G", &v) && v == 1ull << 30);
	ck_assert(tv_parse_size("0x1000", &v) && v == 0x1000);
}
END_TEST

START_TEST(test_parse_size_refuses_garbage)
{
	uint64_t v;

	ck_assert(!tv_parse_size("", &v));
	ck_assert(!tv_parse_size("-2M", &v));
	ck_assert(!tv_parse_size("2X", &v));
	ck_assert(!tv_parse_size("M", &v));
	ck_assert(!tv_parse_size("99999999999999999999", &v));
	ck_assert(!tv_parse_size("17179869184G", &v)); /* overflows 64 bits */
}
END_TEST

START_TEST(test_parse_seconds_units)
{
	double s;

	ck_assert(tv_parse_seconds("10", &s) && s == 10.0);
	ck_assert(tv_parse_seconds("2.5s", &s) && s == 2.5);
	ck_assert(tv_parse_seconds("500ms", &s) && s == 0.5);
	ck_assert(!tv_parse_seconds("-1", &s));
	ck_assert(!tv_parse_seconds("ten", &s));
	ck_assert(!tv_parse_seconds("5min", &s));
	ck_assert(!tv_parse_seconds("inf", &s));
}
END_TEST

START_TEST(test_parse_mem_range_and_alignment)
{
	uint64_t v;

	ck_assert(tv_parse_mem("2M", &v) && v == 2 << 20);
	ck_assert(tv_parse_mem("128K", &v) && v == 128 << 10);
	ck_assert(!tv_parse_mem("64K", &v));   /* below the layout's needs */
	ck_assert(!tv_parse_mem("4G", &v));    /* would cover the MMIO hole */
	ck_assert(!tv_parse_mem("130000", &v)); /* not a multiple of 4K */
}
END_TEST

START_TEST(test_parse_count_positive_decimal)
{
	uint64_t v;

	ck_assert(tv_parse_count("40", &v) && v == 40);
	ck_assert(!tv_parse_count("0", &v));
	ck_assert(!tv_parse_count("-3", &v));
	ck_assert(!tv_parse_count("+3", &v));
	ck_assert(!tv_parse_count("4x", &v));
	ck_assert(!tv_parse_count("", &v));
	ck_assert(!tv_parse_count("99999999999999999999", &v));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_size_suffixes);
	tcase_add_test(tc, test_parse_size_refuses_garbage);
	tcase_add_test(tc, test_parse_seconds_units);
	tcase_add_test(tc, test_parse_mem_range_and_alignment);
	tcase_add_test(tc, test_parse_count_positive_decimal);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
