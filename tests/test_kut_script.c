/* scripts/kvm-unit-tests.sh on a stand-in for a built kvm-unit-tests tree (the suite itself is
 * never in this repository): an x86/unittests.cfg naming guests/multiboot.S's kernel as a .flat,
 * beside entries with arguments, that need more CPUs, a shell to expand their arguments or a
 * file not built, and a raw image that does not end with its own success. The emulator runs them (it is always there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_binary.h"
#include "tv_test.h"

static char dir[64];

static void write_file(const char *name, const void *bytes, size_t len)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/x86/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* The tree: x86/mb.flat (the multiboot guest), x86/raw.flat (a HLT), and the cfg. */
static void make_tree(void)
{
	static const char cfg[] = "[mb]\nfile = mb.flat\n\n"
				  "[mb_smp]\nfile = mb.flat\nsmp = 2\n\n"
				  "[mb_args]\nfile = mb.flat\ntest_args = 'x y'\n\n"
				  "[mb_shell]\nfile = mb.flat\ntest_args = \"`date +%s`\"\n\n"
				  "[missing]\nfile = nothere.flat\n\n"
				  "[raw]\nfile = raw.flat\n";
	const char *elf = getenv("TWINVM_MULTIBOOT_ELF");
	char path[160];
	FILE *f;
	static char buf[1 << 20];
	size_t n;

	ck_assert_ptr_nonnull(elf);
	snprintf(dir, sizeof(dir), "/tmp/twinvm-kut-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x86", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	f = fopen(elf, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	write_file("mb.flat", buf, n);
	write_file("raw.flat", "\xf4", 1);
	write_file("unittests.cfg", cfg, sizeof(cfg) - 1);
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The script's path, through the environment tv_run_binary reads it from. */
static void script_env(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/scripts/kvm-unit-tests.sh", getenv("TWINVM_SRC"));
	ck_assert_int_eq(setenv("KUT_SCRIPT", path, 1), 0);
}

/* The line for test on the emulator, or NULL. */
static const char *line_of(const char *out, const char *test)
{
	char want[64];

	snprintf(want, sizeof(want), "\n%-26s emu ", test);
	return strstr(out, want);
}

START_TEST(test_table_lists_runs_and_needs)
{
	struct result r;
	const char *l;

	make_tree();
	script_env();
	tv_run_binary("KUT_SCRIPT", (const char *const[]){ "--engine", "emu", "--twinvm",
				   getenv("TWINVM_BIN"), dir, "mb", "mb_smp", "mb_args", "mb_shell",
				   "missing", NULL }, &r);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg((l = line_of(r.out, "mb")) && strstr(l, "success (status 1)"), "%s", r.out);
	ck_assert_msg((l = line_of(r.out, "mb_smp")) && strstr(l, "needs 2 CPUs"), "%s", r.out);
	/* test_args reach the kernel (--multiboot-args: the multiboot suite checks them there) */
	ck_assert_msg((l = line_of(r.out, "mb_args")) && strstr(l, "success (status 1)"), "%s",
		      r.out);
	ck_assert_msg((l = line_of(r.out, "mb_shell")) && strstr(l, "needs a shell to expand"), "%s",
		      r.out);
	ck_assert_msg((l = line_of(r.out, "missing")) && strstr(l, "not built: x86/nothere.flat"),
		      "%s", r.out);
	ck_assert_msg(!line_of(r.out, "raw"), "a test not asked for ran: %s", r.out);
	remove_tree();
}
END_TEST

/* A test that does not end with its own success makes the exit status 1. */
START_TEST(test_a_test_without_success_is_status_1)
{
	struct result r;
	const char *l;

	make_tree();
	script_env();
	tv_run_binary("KUT_SCRIPT", (const char *const[]){ "--engine", "emu", "--timeout", "5",
				   "--twinvm", getenv("TWINVM_BIN"), dir, "raw", NULL }, &r);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_msg((l = line_of(r.out, "raw")) && strstr(l, "halted"), "%s", r.out);
	remove_tree();
}
END_TEST

START_TEST(test_bad_usage_is_status_2)
{
	struct result r;

	script_env();
	tv_run_binary("KUT_SCRIPT", (const char *const[]){ NULL }, &r);
	ck_assert_int_eq(r.status, 2);
	tv_run_binary("KUT_SCRIPT", (const char *const[]){ "--engine", "qemu", "/tmp", NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "--engine 'qemu'"), "%s", r.err);
	tv_run_binary("KUT_SCRIPT", (const char *const[]){ "/nonexistent", NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "unittests.cfg: not found"), "%s", r.err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kut_script");
	TCase *tc = tcase_create("script");

	tcase_add_test(tc, test_table_lists_runs_and_needs);
	tcase_add_test(tc, test_a_test_without_success_is_status_1);
	tcase_add_test(tc, test_bad_usage_is_status_2);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
