/* `twinvm diff` on the built-in guests: they agree on KVM and the emulator, at exits and step by
 * step, and the cpuid guest does not (the report names the instruction). *
 * Whether KVM (or the emulator) runs a mode is probed, never assumed: a case that cannot run here
 * checks that diff says 77 and is reported as skipped with the probe's reason. Exit codes: 0
 * identical, 1 diverged, 2 error, 77 cannot compare here. Helpers: diff_test.h. */
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "diff_test.h"
#include "tv_test.h"

/* ==== 1. built-in guests agree =============================================================== */

/* diff of a built-in guest in mode; in a mode an engine cannot run, checks the 77 and skips. */
static void builtin_identical(const char *guest, enum tv_mode mode, bool step, const char *max)
{
	struct result r;
	struct cmd c;
	char why[512], head[512];

	dt_diff_cmd(&c, guest, mode);
	if (step)
		CMD(&c, "--step");
	if (max)
		CMD(&c, "--max-exits", max);
	if (!dt_diff_can_compare(&c, &r, mode, why, sizeof(why)))
		TV_SKIP("%s/%s%s: %s", guest, tv_mode_name(mode),
			step ? " --step" : "", why);
	ck_assert_msg(r.status == 0, "%s/%s%s: %s", guest, tv_mode_name(mode), step ? " --step" : "",
		      dt_first_line(r.out, head, sizeof(head)));
	dt_assert_identical(&r);
}

/* Loop tests over all four modes (_i is the mode). */
START_TEST(test_hello_identical_at_exits) { builtin_identical("hello", _i, false, NULL); }
END_TEST
START_TEST(test_hello_identical_step) { builtin_identical("hello", _i, true, NULL); }
END_TEST
START_TEST(test_hypercalls_identical_at_exits) { builtin_identical("hypercalls", _i, false, NULL); }
END_TEST
START_TEST(test_hypercalls_identical_step) { builtin_identical("hypercalls", _i, true, NULL); }
END_TEST
/* Through the guest's own handlers: delivery is no exit on either engine, and a step over a
 * faulting instruction or an iret may run one more instruction on KVM (diff catches up). */
START_TEST(test_exceptions_identical_at_exits) { builtin_identical("exceptions", _i, false, NULL); }
END_TEST
START_TEST(test_exceptions_identical_step) { builtin_identical("exceptions", _i, true, NULL); }
END_TEST

START_TEST(test_guest1_identical_30_exits)
{
	builtin_identical("guest1", TV_MODE_REAL, false, "30");
}
END_TEST
START_TEST(test_guest1_identical_200_steps)
{
	builtin_identical("guest1", TV_MODE_REAL, true, "200");
}
END_TEST
START_TEST(test_guest2_identical_30_exits)
{
	builtin_identical("guest2", TV_MODE_REAL, false, "30");
}
END_TEST
START_TEST(test_guest2_identical_200_steps)
{
	builtin_identical("guest2", TV_MODE_REAL, true, "200");
}
END_TEST

/* The guests with no I/O never exit: only --step compares them. */
static const char *const no_io_guests[] = { "guest1-noio", "guest2-noio", "counter" };

START_TEST(test_no_io_guests_identical_200_steps)
{
	builtin_identical(no_io_guests[_i], TV_MODE_REAL, true, "200");
}
END_TEST

/* paged32: 77 exactly when an engine's probe fails here, 0 when both run it. */
START_TEST(test_paged32_exits_77_exactly_when_a_probe_fails)
{
	struct result r;
	struct cmd c;
	char kvm_why[512] = "", emu_why[512] = "";
	bool kvm, emu;

	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	kvm = tv_test_engine("kvm", TV_MODE_PAGED32, kvm_why, sizeof(kvm_why)) != NULL;
	emu = tv_test_engine("emu", TV_MODE_PAGED32, emu_why, sizeof(emu_why)) != NULL;
	dt_diff_cmd(&c, "hello", TV_MODE_PAGED32);
	dt_run(&c, &r);
	if (kvm && emu) {
		dt_assert_identical(&r);
		return;
	}
	ck_assert_msg(r.status == 77, "paged32: probe says '%s', diff exited %d: %s%s",
		      kvm ? emu_why : kvm_why, r.status, r.out, r.err);
	ck_assert_int_eq(tv_count_lines(r.err), 1);
	ck_assert_str_eq(r.out, "");
	/* The probe's own reason, when the engine is built in and its probe said no (kvm_why
	 * starts with the host-limit tag, which is the test's, not diff's). */
	if (!kvm && tv_backend_find("kvm")) {
		const char *probe_why = strstr(kvm_why, "] ") ? strstr(kvm_why, "] ") + 2 : kvm_why;

		ck_assert_msg(strstr(r.err, probe_why) != NULL,
			      "stderr lacks the probe's reason '%s': %s", probe_why, r.err);
	}
	printf("NOTE: %s: twinvm diff --mode paged32 exits 77 here: %s", __func__, r.err);
	fflush(stdout);
}
END_TEST

/* ==== 2. diff catches a real difference ====================================================== */

static void cpuid_diverges(enum tv_mode mode, bool step)
{
	struct result r;
	struct cmd c;
	char why[512], line[512];

	dt_diff_cmd(&c, "cpuid", mode);
	if (step)
		CMD(&c, "--step");
	if (!dt_diff_can_compare(&c, &r, mode, why, sizeof(why)))
		TV_SKIP("cpuid/%s%s: %s", tv_mode_name(mode),
			step ? " --step" : "", why);
	dt_assert_diverged(&r);
	/* At exit level the second, stepping pass names it; with --step the first pass does. */
	ck_assert_msg(dt_line_with(r.out, "the instruction that differs", line, sizeof(line)) != NULL,
		      "the report names no instruction:\n%s", r.out);
	ck_assert_msg(strstr(line, "0f a2") != NULL, "not the cpuid bytes: %s", line);
	if (!dt_have_capstone()) {
		printf("NOTE: %s: Capstone is not built in: \"cpuid\" by name not checked\n", __func__);
		fflush(stdout);
		return;
	}
	ck_assert_msg(strstr(line, "0f a2  cpuid") != NULL, "not disassembled as cpuid: %s", line);
}

START_TEST(test_cpuid_diverges_at_exits_naming_cpuid) { cpuid_diverges(_i, false); }
END_TEST
START_TEST(test_cpuid_diverges_step_naming_cpuid) { cpuid_diverges(_i, true); }
END_TEST

/* ==== the suite ============================================================================== */

int main(void)
{
	Suite *s = suite_create("diff_builtin");
	TCase *builtin = tcase_create("builtin");

	tcase_set_timeout(builtin, 120);
	tcase_add_loop_test(builtin, test_hello_identical_at_exits, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_hello_identical_step, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_hypercalls_identical_at_exits, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_hypercalls_identical_step, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_exceptions_identical_at_exits, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_exceptions_identical_step, 0, TV_MODE_COUNT);
	tcase_add_test(builtin, test_guest1_identical_30_exits);
	tcase_add_test(builtin, test_guest1_identical_200_steps);
	tcase_add_test(builtin, test_guest2_identical_30_exits);
	tcase_add_test(builtin, test_guest2_identical_200_steps);
	tcase_add_loop_test(builtin, test_no_io_guests_identical_200_steps, 0, N(no_io_guests));
	tcase_add_test(builtin, test_paged32_exits_77_exactly_when_a_probe_fails);
	tcase_add_loop_test(builtin, test_cpuid_diverges_at_exits_naming_cpuid, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_cpuid_diverges_step_naming_cpuid, 0, TV_MODE_COUNT);
	suite_add_tcase(s, builtin);

	return tv_test_main(s);
}
