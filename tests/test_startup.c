/* Start-up work a run does not need: a run on a named engine makes no probe VM, and still says
 * why when the engine cannot run the mode; Unicorn is opened by the first emulator engine. */
#include <stdio.h>

#include "cli.h"
#include "probe.h"
#include "tv_test.h"

/* `twinvm run --backend engine --mode mode` (hello) in this process; the probes it made in *n. */
static int run_named(const char *engine, enum tv_mode mode, unsigned long *n)
{
	struct tv_run_options o;
	unsigned long before = tv_probe_count();
	int status;

	tv_run_options_default(&o);
	o.backend = engine;
	o.mode = mode;
	o.guest = "hello";
	o.timeout_s = 60;
	status = tv_run_guest(&o);
	*n = tv_probe_count() - before;
	return status;
}

/* _i: the mode. */
static void runs_without_a_probe(const char *engine, enum tv_mode mode)
{
	unsigned long n;
	char why[256];
	int status;

	if (!tv_test_engine(engine, mode, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	status = run_named(engine, mode, &n);
	ck_assert_msg(status == 0, "%s/%s: status %d", engine, tv_mode_name(mode), status);
	ck_assert_msg(n == 0, "%s/%s: %lu probe VMs before the run", engine, tv_mode_name(mode), n);
}

START_TEST(test_named_emu_runs_every_mode_without_a_probe)
{
	runs_without_a_probe("emu", (enum tv_mode)_i);
}
END_TEST

START_TEST(test_named_kvm_runs_every_mode_without_a_probe)
{
	runs_without_a_probe("kvm", (enum tv_mode)_i);
}
END_TEST

/* A named engine that cannot run the mode: the run fails, and only then one probe says why, with
 * the status an automatic choice's refusal has (2). Where KVM runs every mode, every mode runs
 * with no probe instead. */
START_TEST(test_named_kvm_refusing_a_mode_gives_the_probe_reason)
{
	enum tv_mode mode = (enum tv_mode)_i;
	char why[256], reason[256];
	unsigned long n;
	int status;

	if (!tv_test_engine("kvm", TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("kvm: %s", why);
	status = run_named("kvm", mode, &n);
	if (tv_probe_mode(tv_backend_find("kvm"), mode, reason, sizeof(reason)) == 0) {
		ck_assert_msg(status == 0 && n == 0, "%s: status %d after %lu probes",
			      tv_mode_name(mode), status, n);
		return;
	}
	ck_assert_msg(status == 2, "%s: status %d (%s)", tv_mode_name(mode), status, reason);
	ck_assert_msg(n == 1, "%s: %lu probes, not one after the failed run", tv_mode_name(mode),
		      n);
}
END_TEST

/* Unicorn is opened by the emulator's first engine, not at start-up: a process that runs KVM
 * never maps it (its relocations were most of a KVM run's start-up). */
START_TEST(test_unicorn_is_loaded_by_the_first_emulator_engine)
{
	const struct tv_backend_ops *emu = tv_backend_find("emu");
	struct tv_engine *e;

	ck_assert_ptr_nonnull(emu);
	ck_assert_msg(!tv_test_mapped("libunicorn"), "Unicorn is mapped before any emulator use");
	ck_assert_msg(emu->open(&e, NULL) == 0, "emu: %s", tv_last_error());
	ck_assert(tv_test_mapped("libunicorn"));
	emu->close(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("startup");
	TCase *tc = tcase_create("named engine");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_named_emu_runs_every_mode_without_a_probe, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_named_kvm_runs_every_mode_without_a_probe, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_named_kvm_refusing_a_mode_gives_the_probe_reason, 0,
			    TV_MODE_COUNT);
	tcase_add_test(tc, test_unicorn_is_loaded_by_the_first_emulator_engine);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
