/* The flag parsers the tools share. */
#include <errno.h>

#include "cli.h"
#include "options.h"
#include "tv_test.h"

START_TEST(test_parse_size_suffixes)
{
	uint64_t v;

	ck_assert(tv_parse_size("4096", &v) == 0 && v == 4096);
	ck_assert(tv_parse_size("512K", &v) == 0 && v == 512 << 10);
	ck_assert(tv_parse_size("2M", &v) == 0 && v == 2 << 20);
	ck_assert(tv_parse_size("2MiB", &v) == 0 && v == 2 << 20);
	ck_assert(tv_parse_size("1G", &v) == 0 && v == 1ull << 30);
	ck_assert(tv_parse_size("0x1000", &v) == 0 && v == 0x1000);
}
END_TEST

START_TEST(test_parse_size_refuses_garbage)
{
	uint64_t v;

	ck_assert_int_eq(tv_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_size("-2M", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_size("2X", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_size("M", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_size("99999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(tv_parse_size("17179869184G", &v), -ERANGE); /* overflows 64 bits */
}
END_TEST

START_TEST(test_parse_seconds_units)
{
	double s;

	ck_assert(tv_parse_seconds("10", &s) == 0 && s == 10.0);
	ck_assert(tv_parse_seconds("2.5s", &s) == 0 && s == 2.5);
	ck_assert(tv_parse_seconds("500ms", &s) == 0 && s == 0.5);
	ck_assert(tv_parse_seconds("10m", &s) == 0 && s == 600.0);
	ck_assert(tv_parse_seconds("1.5h", &s) == 0 && s == 5400.0);
	ck_assert_int_eq(tv_parse_seconds("10min", &s), -EINVAL);
	ck_assert_int_eq(tv_parse_seconds("-1", &s), -EINVAL);
	ck_assert_int_eq(tv_parse_seconds("ten", &s), -EINVAL);
	ck_assert_int_eq(tv_parse_seconds("5min", &s), -EINVAL);
	ck_assert_int_eq(tv_parse_seconds("inf", &s), -EINVAL);
}
END_TEST

/* A time no timer can take once became a time_t by undefined behaviour (1e300), or silently no
 * limit at all (9.3e18): every time is now at most a year. */
START_TEST(test_parse_seconds_at_most_a_year)
{
	double s = -1;

	ck_assert(tv_parse_seconds("31536000", &s) == 0 && s == TV_TIME_MAX_S);
	ck_assert(tv_parse_seconds("31536000000ms", &s) == 0 && s == TV_TIME_MAX_S);
	ck_assert(tv_parse_seconds("0", &s) == 0 && s == 0);
	s = -1;
	ck_assert_int_eq(tv_parse_seconds("31536001", &s), -ERANGE);
	ck_assert_int_eq(tv_parse_seconds("9.3e18", &s), -ERANGE);
	ck_assert_int_eq(tv_parse_seconds("1e300", &s), -ERANGE);
	ck_assert_int_eq(tv_parse_seconds("1e400", &s), -ERANGE);
	ck_assert_int_eq(tv_parse_seconds("1e-400", &s), -ERANGE);
	ck_assert_int_eq(tv_parse_seconds("nan", &s), -EINVAL);
	ck_assert_int_eq(tv_parse_seconds(" 5", &s), -EINVAL);
	ck_assert_int_eq(tv_parse_seconds("", &s), -EINVAL);
	ck_assert(s == -1); /* untouched by every refusal */
}
END_TEST

START_TEST(test_parse_mem_range_and_alignment)
{
	uint64_t v;

	ck_assert(tv_parse_mem("2M", &v) == 0 && v == 2 << 20);
	ck_assert(tv_parse_mem("128K", &v) == 0 && v == 128 << 10);
	ck_assert_int_eq(tv_parse_mem("64K", &v), -ERANGE);   /* below the layout's needs */
	ck_assert_int_eq(tv_parse_mem("4G", &v), -ERANGE);    /* would cover the MMIO hole */
	ck_assert_int_eq(tv_parse_mem("130000", &v), -EINVAL); /* not a multiple of 4K */
}
END_TEST

START_TEST(test_parse_count_positive_decimal)
{
	uint64_t v;

	ck_assert(tv_parse_count("40", &v) == 0 && v == 40);
	ck_assert_int_eq(tv_parse_count("0", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_count("-3", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_count("+3", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_count("4x", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_count("", &v), -EINVAL);
	ck_assert_int_eq(tv_parse_count("99999999999999999999", &v), -ERANGE);
}
END_TEST

/* A tool's table as the tools write theirs, and its values. */
struct toy {
	enum tv_mode mode;
	uint64_t count;
	double wait;
	bool flag;
	const char *name;
};

static int toy_parse(struct toy *t, int argc, char **argv)
{
	const struct tv_opt opts[] = {
		TV_OPT("mode", 'm', MODE, &t->mode),
		TV_OPT("count", 0, COUNT, &t->count, .hint = "give a positive count"),
		TV_OPT("wait", 'w', SECONDS, &t->wait, .min = TV_OPT_ABOVE_ZERO, .hint = "above 0"),
		TV_OPT("flag", 0, FLAG, &t->flag),
		TV_OPT("name", 0, TEXT, &t->name),
		TV_OPT("help", 'h', HELP, (void *)""),
	};

	*t = (struct toy){ .mode = TV_MODE_LONG };
	return tv_options_parse("toy", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
}

#define ARGV(...) ((char *[]){ "toy", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "toy", __VA_ARGS__ }) / sizeof(char *)))
#define TOY(t, ...) toy_parse(t, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

START_TEST(test_options_table_fills_each_kind)
{
	struct toy t;

	ck_assert_int_eq(TOY(&t, "-m", "protected", "--count", "3", "-w", "500ms", "--flag",
			     "--name=abc"), TV_OPTS_GO);
	ck_assert_int_eq(t.mode, TV_MODE_PROTECTED);
	ck_assert(t.count == 3);
	ck_assert_double_eq(t.wait, 0.5);
	ck_assert(t.flag);
	ck_assert_str_eq(t.name, "abc");
	ck_assert_int_eq(TOY(&t, "--flag"), TV_OPTS_GO);
	ck_assert_int_eq(t.mode, TV_MODE_LONG);
}
END_TEST

START_TEST(test_options_table_ends_as_the_tools_do)
{
	struct toy t;

	ck_assert_int_eq(TOY(&t, "-h"), TV_EXIT_STATUS_OK);
	ck_assert_int_eq(TOY(&t, "--wait", "0"), TV_EXIT_STATUS_USAGE);
	ck_assert(t.wait == 0); /* a refused value is not stored */
	ck_assert_int_eq(TOY(&t, "--count", "0"), TV_EXIT_STATUS_USAGE);
	ck_assert_int_eq(TOY(&t, "-m", "bogus"), TV_EXIT_STATUS_USAGE);
	ck_assert_int_eq(TOY(&t, "--count"), TV_EXIT_STATUS_USAGE);
	ck_assert_int_eq(TOY(&t, "-x"), TV_EXIT_STATUS_USAGE);
	ck_assert_int_eq(TOY(&t, "--bogus"), TV_EXIT_STATUS_USAGE);
	ck_assert_int_eq(TOY(&t, "--flag", "extra"), TV_EXIT_STATUS_USAGE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_parse");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_size_suffixes);
	tcase_add_test(tc, test_parse_size_refuses_garbage);
	tcase_add_test(tc, test_parse_seconds_units);
	tcase_add_test(tc, test_parse_seconds_at_most_a_year);
	tcase_add_test(tc, test_parse_mem_range_and_alignment);
	tcase_add_test(tc, test_parse_count_positive_decimal);
	tcase_add_test(tc, test_options_table_fills_each_kind);
	tcase_add_test(tc, test_options_table_ends_as_the_tools_do);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
