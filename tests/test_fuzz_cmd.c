/* twinvm fuzz as a user runs it: exit statuses, what --out holds, --replay and --known. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_binary.h"
#include "tv_test.h"

#define RUN(r, ...) tv_run_binary("TWINVM_BIN", (const char *const[]){ __VA_ARGS__, NULL }, (r))

/* Files in dir ending in suffix. */
static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(suffix);

		n += len > sl && strcmp(e->d_name + len - sl, suffix) == 0;
	}
	closedir(d);
	return n;
}

static void remove_dir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_fuzz_finds_writes_replays_and_knows_its_divergences)
{
	char out[] = "/tmp/twinvm-fuzz-XXXXXX";
	struct result r;
	int records;

	ck_assert_ptr_nonnull(mkdtemp(out));
	/* Unicorn 2.1.1 has divergences the native oracle shows within a few thousand snippets. */
	RUN(&r, "fuzz", "--oracle", "native", "--seed", "7", "--count", "20000", "--out", out);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "new: "));
	ck_assert_ptr_nonnull(strstr(r.err, "20000 snippets"));
	records = count_files(out, ".json");
	ck_assert_int_gt(records, 0);
	ck_assert_int_eq(count_files(out, ".bin"), records);
	ck_assert_int_eq(tv_count_lines(r.out), records);

	/* Every record still diverges when replayed. */
	RUN(&r, "fuzz", "--oracle", "native", "--replay", out);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_int_eq(tv_count_lines(r.out), records);
	ck_assert_ptr_null(strstr(r.out, "no longer diverges"));

	/* The same run again, with them known: nothing new. */
	RUN(&r, "fuzz", "--oracle", "native", "--seed", "7", "--count", "20000", "--known", out);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, " 0 new buckets"));
	remove_dir(out);
}
END_TEST

START_TEST(test_fuzz_kvm_oracle_absent_exits_77_with_the_reason)
{
	struct result r;

	setenv("TWINVM_NO_KVM", "1", 1);
	RUN(&r, "fuzz", "--oracle", "kvm", "--count", "10");
	unsetenv("TWINVM_NO_KVM");
	ck_assert_int_eq(r.status, 77);
	ck_assert_int_eq(tv_count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "the kvm oracle cannot run long mode here: /dev/kvm: not used here"));
}
END_TEST

START_TEST(test_fuzz_bad_usage_exits_2)
{
	static const char *const bad[][4] = {
		{ "--oracle", "qemu", NULL },   { "--length", "3-2", NULL },
		{ "--length", "1-17", NULL },   { "--classes", "alu,nope", NULL },
		{ "--count", "0", NULL },       { "--duration", "forever", NULL },
		{ "--mode", "virtual8086", NULL }, { "--cpu", "nope", NULL },
		{ "--replay", "/nonexistent", NULL },
		/* faults compare only as a guest takes them: the kvm oracle's class */
		{ "--classes", "exceptions", NULL },
	};
	struct result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RUN(&r, "fuzz", "--oracle", "native", bad[i][0], bad[i][1]);
		ck_assert_msg(r.status == 2, "%s %s: status %d: %s", bad[i][0], bad[i][1], r.status,
			      r.err);
		ck_assert_msg(tv_count_lines(r.err) == 1, "%s %s: %s", bad[i][0], bad[i][1], r.err);
	}
	RUN(&r, "fuzz", "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Classes: alu, shift, muldiv"));
}
END_TEST

/* tests/divergences: one reproducer per genuine Unicorn bug the fuzzer found. Each must still
 * diverge from the host CPU and from the result recorded when it was found: a Unicorn that fixes
 * one makes this fail, and the record is retired. */
START_TEST(test_known_divergences_still_diverge)
{
	const char *src = getenv("TWINVM_SRC");
	char dir[4096], want[64];
	struct result r;
	int n;

	ck_assert_msg(src != NULL, "TWINVM_SRC is not set (run through meson test)");
	snprintf(dir, sizeof(dir), "%s/tests/divergences", src);
	n = count_files(dir, ".json");
	ck_assert_int_ge(n, 5);
	RUN(&r, "fuzz", "--oracle", "native", "--replay", dir);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	snprintf(want, sizeof(want), "%d of %d records still diverge", n, n);
	ck_assert_msg(strstr(r.err, want) != NULL, "%s", r.err);
}
END_TEST

/* On a KVM host, `twinvm diff` on each reproducer diverges and names the instruction: the step
 * pass reaches the snippet at FZ_CODE_ADDR through the reproducer's rep movsb, which kvm-pvm runs
 * several iterations per step. */
START_TEST(test_known_divergences_diverge_under_diff_on_kvm)
{
	const char *src = getenv("TWINVM_SRC");
	char dir[4096], why[512];
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (!tv_test_engine("kvm", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	ck_assert_ptr_nonnull(src);
	snprintf(dir, sizeof(dir), "%s/tests/divergences", src);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char path[4400];
		struct result r;
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".bin") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		RUN(&r, "diff", "--guest", path, "--mode", "long");
		ck_assert_msg(r.status == 1, "%s: status %d: %s%s", e->d_name, r.status, r.out, r.err);
		ck_assert_msg(strstr(r.out, "DIVERGED") &&
				      strstr(r.out, "the instruction that differs at rip 0x50000: "),
			      "%s: %s", e->d_name, r.out);
		/* And the same with --step from the start, which compares every record. */
		RUN(&r, "diff", "--step", "--guest", path, "--mode", "long");
		ck_assert_msg(r.status == 1 &&
				      strstr(r.out, "the instruction that differs at rip 0x50000: "),
			      "%s --step: status %d: %s", e->d_name, r.status, r.out);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 5);
}
END_TEST

/* The exceptions class against KVM used to find #SS(0) raised as #GP(0) in long mode at once
 * (seed 1); the emulator corrects it now (emu_fault.c, tests/test_cpu_corrections.c), so those
 * snippets agree. Other buckets remain (README: the exceptions class against KVM). */
START_TEST(test_exceptions_class_no_longer_finds_ss_as_gp)
{
	char why[512];
	struct result r;

	if (!tv_test_engine("kvm", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	RUN(&r, "fuzz", "--oracle", "kvm", "--classes", "exceptions", "--seed", "1", "--count",
	    "2000");
	ck_assert_msg(r.status == 0 || r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg(strstr(r.err, "2000 snippets"), "%s", r.err);
	ck_assert_msg(!strstr(r.out, "#SS(0) raised as #GP(0)"), "%s", r.out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_cmd");
	TCase *tc = tcase_create("command");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_fuzz_finds_writes_replays_and_knows_its_divergences);
	tcase_add_test(tc, test_fuzz_kvm_oracle_absent_exits_77_with_the_reason);
	tcase_add_test(tc, test_fuzz_bad_usage_exits_2);
	tcase_add_test(tc, test_known_divergences_still_diverge);
	tcase_add_test(tc, test_known_divergences_diverge_under_diff_on_kvm);
	tcase_add_test(tc, test_exceptions_class_no_longer_finds_ss_as_gp);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
