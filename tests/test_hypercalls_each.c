/* Each of the six hypercalls (core/machine/hypercalls.c) in every mode on both engines, from a
 * tiny hand-assembled guest: what it prints or returns. Helpers and guests: hc_test.h. */
#include <string.h>

#include "hc_test.h"
#include "tv_test.h"

/* --- each hypercall --------------------------------------------------------------------------- */

static void print8bit_prints_bytes(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &print8bit, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_poke(&t, DATA, "abc\n", 4);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&print8bit, mode));
	ck_assert_str_eq(t.console, "Hiabc\n");
	ck_assert_uint_eq(t.regs.rcx & 0xffff, 0);         /* rep ran to the end */
	ck_assert_uint_eq(t.regs.rsi & 0xffff, DATA + 4);
	ck_assert_str_eq(t.m.hc.name, "HC_print8bit");
	ck_assert(!t.m.hc.failed);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(print8bit_prints_each_byte_of_out_and_rep_outsb, print8bit_prints_bytes)

static void print32bit_prints_decimal(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &print32bit, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&print32bit, mode));
	ck_assert_str_eq(t.console, "1234567890\n0\n4294967295\n");
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 0xffffffff);
	ck_assert_str_eq(t.m.hc.name, "HC_print32bit");
	ck_assert(t.m.hc.has_arg);
	ck_assert_uint_eq(t.m.hc.arg, 0xffffffff);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(print32bit_prints_unsigned_decimal_lines, print32bit_prints_decimal)

static void numexits_counts_itself(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &numexits, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&numexits, mode));
	ck_assert_str_eq(t.console, "x");
	ck_assert_uint_eq(t.regs.rbx & 0xffffffff, 1); /* the first exit, itself */
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 3); /* in, out, in */
	ck_assert_uint_eq(t.m.stats.total, 4);         /* and the hlt */
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexits_counts_every_exit_including_itself, numexits_counts_itself)

static void printstr_prints_string(const char *engine, enum tv_mode mode)
{
	const char *text = "Hello from HC_printStr\n";
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &printstr_data, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_poke_str(&t, DATA, text);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&printstr_data, mode));
	ck_assert_str_eq(t.console, text);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, DATA);
	ck_assert_uint_eq(t.regs.rcx & 0xffffffff, MARKER);
	ck_assert(!t.m.hc.failed);
	ck_assert_uint_eq(t.m.hc.result, strlen(text));
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_prints_the_string, printstr_prints_string)

/* Exactly HC_STR_MAX bytes before the NUL is still allowed. */
static void printstr_prints_longest_string(const char *engine, enum tv_mode mode)
{
	static char text[HC_STR_MAX + 1];
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &printstr_long, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	memset(text, 'L', HC_STR_MAX);
	text[HC_STR_MAX] = '\0';
	hc_poke_str(&t, LONG_STR, text);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&printstr_long, mode));
	ck_assert_uint_eq(t.console_len, HC_STR_MAX);
	ck_assert_str_eq(t.console, text);
	ck_assert(!t.m.hc.failed);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_prints_a_string_of_exactly_the_limit, printstr_prints_longest_string)

static void numexitsbytype_counts_in_and_out(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256], scratch[32];

	if (!hc_prepare_guest(&t, engine, mode, &numexitsbytype, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&numexitsbytype, mode));
	/* The IN is counted in its own answer; the printStr that follows is not yet. */
	ck_assert_str_eq(t.console, "xIO in: 1\nIO out: 1\n");
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, HC_SCRATCH);
	ck_assert_int_eq(tv_ram_read(&t.m.ram, HC_SCRATCH, scratch, sizeof(scratch)), 0);
	ck_assert_str_eq(scratch, "IO in: 1\nIO out: 1\n");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexitsbytype_returns_counts_so_far_in_scratch, numexitsbytype_counts_in_and_out)

static void gvatohva_returns_host_address(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &gvatohva_last_byte, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&gvatohva_last_byte, mode));
	ck_assert_str_eq(t.console, "");
	ck_assert_uint_eq(t.regs.rdx & 0xffffffff, hva32(0x400));
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, hva32(RAM_END - 1));
	ck_assert(!t.m.hc.failed);
	ck_assert_uint_eq(t.m.hc.arg, RAM_END - 1);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_returns_low_32_bits_of_host_address, gvatohva_returns_host_address)

static void numexits_differ_by_two(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &numexits_around_printstr, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_poke_str(&t, DATA, "between\n");
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&numexits_around_printstr, mode));
	ck_assert_str_eq(t.console, "between\n");
	ck_assert_uint_eq(t.regs.rbx & 0xffffffff, 1);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 2); /* the printStr and the second numExits */
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexits_differ_by_two_around_one_printstr, numexits_differ_by_two)

int main(void)
{
	Suite *s = suite_create("hypercalls_each");
	TCase *each = tcase_create("each_hypercall");

	hc_probe_all();

	tcase_set_timeout(each, 120);
	ADD_ON_EACH_ENGINE(each, print8bit_prints_each_byte_of_out_and_rep_outsb, 0);
	ADD_ON_EACH_ENGINE(each, print32bit_prints_unsigned_decimal_lines, 0);
	ADD_ON_EACH_ENGINE(each, numexits_counts_every_exit_including_itself, 0);
	ADD_ON_EACH_ENGINE(each, printstr_prints_the_string, 0);
	ADD_ON_EACH_ENGINE(each, printstr_prints_a_string_of_exactly_the_limit, 0);
	ADD_ON_EACH_ENGINE(each, numexitsbytype_returns_counts_so_far_in_scratch, 0);
	ADD_ON_EACH_ENGINE(each, gvatohva_returns_low_32_bits_of_host_address, 0);
	ADD_ON_EACH_ENGINE(each, numexits_differ_by_two_around_one_printstr, 0);
	suite_add_tcase(s, each);
	return tv_test_main(s);
}
