/* scripts/test-summary.py, the judge of every CI run, judged: it must refuse a skip that no known
 * host limit explains, and any skip of the emulator, by counting it as a failure. Each case feeds
 * it one made-up meson test log. */
#include <stdio.h>
#include <string.h>

#include "run_binary.h"
#include "tv_test.h"

/* Runs the summary over a test log whose one suite printed stdout_text (a Check summary of
 * checks cases, the given SKIP lines among them). */
static void summarize(const char *skip_lines, int checks, struct result *r)
{
	char path[256], out[4096];
	FILE *f;

	tv_temp_path(path, sizeof(path), ".json");
	snprintf(out, sizeof(out), "Running suite(s): x\\n%s100%%: Checks: %d, Failures: 0, "
		 "Errors: 0\\n", skip_lines, checks);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"name\": \"made-up\", \"result\": \"OK\", \"stdout\": \"%s\"}\n", out);
	fclose(f);
	tv_run_binary("TWINVM_SUMMARY", (const char *const[]){ path, NULL }, r);
	remove(path);
}

START_TEST(test_summary_counts_a_known_host_limit_as_skipped)
{
	struct result r;

	summarize("SKIP: t: kvm/paged32: [host limit: kvm-no-paged32] paged32 mode is not "
		  "supported\\n", 3, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "2 passed, 0 failed, 1 skipped"));
	ck_assert_ptr_nonnull(strstr(r.out, "kvm-no-paged32: paged32 mode is not supported"));
}
END_TEST

START_TEST(test_summary_fails_a_skip_with_no_host_limit)
{
	struct result r;

	summarize("SKIP: t: kvm/long: the probe guest ended in SHUTDOWN\\n", 3, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "2 passed, 1 failed, 0 skipped"));
	ck_assert_ptr_nonnull(strstr(r.out, "no known host limit"));
}
END_TEST

START_TEST(test_summary_fails_an_unknown_host_limit)
{
	struct result r;

	summarize("SKIP: t: kvm/long: [host limit: tuesday] not today\\n", 2, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "unknown host limit 'tuesday'"));
}
END_TEST

START_TEST(test_summary_fails_any_emulator_skip)
{
	struct result r;

	summarize("SKIP: t: emu/long: [host limit: kvm-absent] /dev/kvm: No such file\\n", 2, &r);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "the emulator skipped"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("summary");
	TCase *tc = tcase_create("skips");

	tcase_add_test(tc, test_summary_counts_a_known_host_limit_as_skipped);
	tcase_add_test(tc, test_summary_fails_a_skip_with_no_host_limit);
	tcase_add_test(tc, test_summary_fails_an_unknown_host_limit);
	tcase_add_test(tc, test_summary_fails_any_emulator_skip);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
