/* `twinvm diff --ignore`: an unknown field is refused, and a masked field hides only itself. *
 * Whether KVM (or the emulator) runs a mode is probed, never assumed: a case that cannot run here
 * checks that diff says 77 and is reported as skipped with the probe's reason. Exit codes: 0
 * identical, 1 diverged, 2 error, 77 cannot compare here. Helpers: diff_test.h. */
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "diff_test.h"
#include "tv_test.h"

/* ==== 6. --ignore ============================================================================ */

START_TEST(test_ignore_unknown_field_exits_2_with_one_line)
{
	static const char *const bad[] = { "rbxx", "rflags.xf", "regs", "" };

	for (int i = 0; i < N(bad); i++) {
		struct result r;
		struct cmd c;

		dt_diff_cmd(&c, "hello", TV_MODE_REAL);
		CMD(&c, "--ignore", bad[i]);
		dt_run(&c, &r);
		ck_assert_msg(r.status == 2, "--ignore '%s': status %d", bad[i], r.status);
		ck_assert_msg(tv_count_lines(r.err) == 1, "--ignore '%s': %d lines: %s", bad[i],
			      tv_count_lines(r.err), r.err);
		ck_assert_ptr_nonnull(strstr(r.err, "not a compared field"));
		ck_assert_str_eq(r.out, "");
	}
}
END_TEST

/* The headline's field: "DIVERGED at exit 1: rcx: kvm ..." -> "rcx". */
static const char *diverged_field(const char *out, char *buf, size_t len)
{
	const char *p = strstr(out, ": ");

	ck_assert_msg(dt_starts_with(out, "DIVERGED at ") && p, "no headline: %s", out);
	p += 2;
	snprintf(buf, len, "%.*s", (int)strcspn(p, ": \n"), p);
	return buf;
}

/* --ignore rbx on cpuid: still diverges, on another field. _i: the mode. */
START_TEST(test_ignore_rbx_still_diverges_on_another_field)
{
	struct result r;
	struct cmd c;
	char why[512], field[64];

	dt_diff_cmd(&c, "cpuid", _i);
	CMD(&c, "--ignore", "rbx");
	if (!dt_diff_can_compare(&c, &r, _i, why, sizeof(why)))
		TV_SKIP("cpuid/%s: %s", tv_mode_name(_i), why);
	dt_assert_diverged(&r);
	diverged_field(r.out, field, sizeof(field));
	ck_assert_msg(strcmp(field, "rbx") != 0, "rbx was ignored, yet reported: %s", r.out);
}
END_TEST

/* The same against the golden trace, with no KVM: rbx ignored, cpuid still diverges. */
START_TEST(test_ignore_rbx_against_golden_still_diverges)
{
	struct result r;
	struct cmd c;
	char path[4400], why[512], field[64];

	ck_assert_msg(dt_ngolden > 0, "no golden traces found in '%s'", dt_golden_dir);
	snprintf(path, sizeof(path), "%s/cpuid-long.jsonl", dt_golden_dir);
	if (access(path, R_OK) != 0)
		TV_SKIP("no %s", path);
	if (!tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	/* the golden without its own list of what cpuid makes differ */
	dt_golden_copy("cpuid-long.jsonl", dt_drop_expectations, path, sizeof(path));
	dt_diff_cmd(&c, "cpuid", TV_MODE_LONG);
	CMD(&c, "--against", path, "--ignore", "rbx");
	dt_run(&c, &r);
	unlink(path);
	dt_assert_diverged(&r);
	ck_assert_msg(strcmp(diverged_field(r.out, field, sizeof(field)), "rbx") != 0, "%s", r.out);
}
END_TEST

/* Masking every field cpuid's results reach leaves the RAM they were stored to: it diverges
 * there, and only --ignore ram makes the run identical. */
START_TEST(test_ignore_registers_leaves_ram_compared)
{
	struct result r;
	struct cmd c;
	char why[512];

	dt_diff_cmd(&c, "cpuid", TV_MODE_PROTECTED);
	CMD(&c, "--ignore", "rax", "--ignore", "rbx", "--ignore", "rcx", "--ignore", "rdx",
	    "--ignore", "rsi", "--ignore", "rdi", "--ignore", "io.data", "--ignore", "hypercall.arg",
	    "--ignore", "hypercall.text");
	if (!dt_diff_can_compare(&c, &r, TV_MODE_PROTECTED, why, sizeof(why)))
		TV_SKIP("cpuid/protected: %s", why);
	ck_assert_msg(r.status == 1 && dt_starts_with(r.out, "DIVERGED in guest RAM"),
		      "status %d: %s", r.status, r.out);
	CMD(&c, "--ignore", "ram");
	dt_run(&c, &r);
	dt_assert_identical(&r);
	ck_assert_ptr_nonnull(strstr(r.out, "RAM not compared"));
}
END_TEST

/* ==== the suite ============================================================================== */

int main(void)
{
	Suite *s = suite_create("diff_ignore");
	TCase *ignore = tcase_create("ignore");

	dt_list_golden();

	tcase_set_timeout(ignore, 120);
	tcase_add_test(ignore, test_ignore_unknown_field_exits_2_with_one_line);
	tcase_add_loop_test(ignore, test_ignore_rbx_still_diverges_on_another_field, 0,
			    TV_MODE_COUNT);
	tcase_add_test(ignore, test_ignore_rbx_against_golden_still_diverges);
	tcase_add_test(ignore, test_ignore_registers_leaves_ram_compared);
	suite_add_tcase(s, ignore);

	return tv_test_main(s);
}
