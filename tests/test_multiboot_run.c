/* guests/multiboot.S (TWINVM_MULTIBOOT_ELF), a multiboot kernel of twinvm's own, through the real
 * binary on both engines: it checks what it was handed and ends through isa-debug-exit;
 * --multiboot-env, --multiboot-args, the defaults (protected mode, 128M, --platform pc), the
 * refusals (one line, exit 2), and `twinvm diff` live and against a golden of it. The loader
 * itself is test_multiboot.c's. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_craft.h"
#include "elf_load.h"
#include "multiboot.h"
#include "run_binary.h"
#include "run_guest.h"
#include "tv_test.h"

static const char *const engines[] = { "emu", "kvm" };

static const char *guest_elf(void)
{
	const char *p = getenv("TWINVM_MULTIBOOT_ELF");

	ck_assert_msg(p && access(p, R_OK) == 0, "TWINVM_MULTIBOOT_ELF (%s) unreadable: run through "
		      "meson test", p ? p : "unset");
	return p;
}

/* What the guest prints with an environment of env_len bytes env, mem_upper upper and the
 * command line cmdline. */
static void expected_output(char *buf, size_t len, unsigned upper, const char *env,
			    const char *cmdline)
{
	snprintf(buf, len, "multiboot: EAX 0x2badb002\nmem_lower 640 KiB, mem_upper %u KiB\n"
		 "cmdline \"%s\"\nmodule: %zu bytes:\n%s\nmultiboot: all checks passed\n", upper,
		 cmdline, strlen(env), env);
}

static const char *write_file(const void *bytes, size_t size, char *path, size_t len)
{
	FILE *f = fopen(tv_temp_path(path, len, ""), "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, size, f), size);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* With nothing but --backend and --guest: protected mode, 128M (mem_upper 130048) and
 * --platform pc; every check passes and isa-debug-exit's code 0 makes status 1. */
START_TEST(test_guest_passes_its_checks_on_both_engines)
{
	const char *engine = engines[_i];
	char why[512], want[512];
	struct result r;

	if (!tv_test_engine(engine, TV_MODE_PROTECTED, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", engine, "--guest",
				   guest_elf(), NULL }, &r);
	expected_output(want, sizeof(want), 130048, TV_MULTIBOOT_ENV_DEFAULT, guest_elf());
	ck_assert_msg(r.status == 1, "%s: status %d: %s%s", engine, r.status, r.out, r.err);
	ck_assert_msg(!strcmp(r.out, want), "%s: stdout '%s'", engine, r.out);
	ck_assert_msg(strstr(r.err, "the guest exited through isa-debug-exit: status 1;"), "%s",
		      r.err);
}
END_TEST

/* --multiboot-args: the command line is the kernel's name, a space and the arguments, as QEMU's
 * -kernel and -append make it (kvm-unit-tests' argv[0] is the name). */
START_TEST(test_multiboot_args_follow_the_kernel_name)
{
	char want[1024], cmdline[600];
	struct result r;

	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--guest",
				   guest_elf(), "--multiboot-args", "cpuid -x 'y z'", NULL }, &r);
	snprintf(cmdline, sizeof(cmdline), "%s cpuid -x 'y z'", guest_elf());
	expected_output(want, sizeof(want), 130048, TV_MULTIBOOT_ENV_DEFAULT, cmdline);
	ck_assert_msg(r.status == 1 && !strcmp(r.out, want), "status %d, stdout '%s': %s", r.status,
		      r.out, r.err);
}
END_TEST

/* --multiboot-env: the file's bytes are the module (the guest prints them); one whose first line
 * is not NR_CPUS=1 fails the guest's check 6 (status 13), so the bytes are the file's, not the
 * default. --mem still counts: 4M makes mem_upper 3072. */
START_TEST(test_multiboot_env_file_is_the_module)
{
	static const char env[] = "NR_CPUS=1\nTESTNAME=twinvm\n", other[] = "NR_CPUS=2\n";
	char path[64], want[512];
	struct result r;

	write_file(env, strlen(env), path, sizeof(path));
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--mem", "4M",
				   "--guest", guest_elf(), "--multiboot-env", path, NULL }, &r);
	expected_output(want, sizeof(want), 3072, env, guest_elf());
	ck_assert_msg(r.status == 1 && !strcmp(r.out, want), "status %d, stdout '%s': %s", r.status,
		      r.out, r.err);
	write_file(other, strlen(other), path, sizeof(path));
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--guest",
				   guest_elf(), "--multiboot-env", path, NULL }, &r);
	unlink(path);
	ck_assert_msg(r.status == 13 && strstr(r.out, "NR_CPUS=2\n\nmultiboot: check 6 failed\n"),
		      "status %d, stdout '%s': %s", r.status, r.out, r.err);
}
END_TEST

/* An explicit --platform none is kept: no UART, no isa-debug-exit, so the guest's exit is an
 * OUT to nothing and it halts (status 0). */
START_TEST(test_explicit_platform_none_is_kept)
{
	struct result r;

	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--platform",
				   "none", "--guest", guest_elf(), NULL }, &r);
	ck_assert_msg(r.status == 0 && r.out[0] == '\0', "status %d, stdout '%s'", r.status, r.out);
	ck_assert_msg(strstr(r.err, "port 0xf4 has no device") && strstr(r.err, "guest halted"),
		      "%s", r.err);
}
END_TEST

/* Exit 2 with one line each: --multiboot-env for a guest that is no multiboot kernel (built-in,
 * or a plain ELF file), an env file that cannot be read, a mode other than protected, RAM the
 * kernel does not fit, RAM the information does not fit above it; diff's --multiboot-env and
 * --platform likewise. */
START_TEST(test_refusals_exit_2_with_one_line)
{
	uint64_t entry, end, mem;
	char elf[64], env[64], mem_arg[32], info_mem[32];
	struct craft plain;
	struct result r;
	FILE *f;
	uint8_t *file = malloc(1 << 20);
	size_t len;

	ck_assert_ptr_nonnull(file);
	f = fopen(guest_elf(), "rb");
	ck_assert_ptr_nonnull(f);
	len = fread(file, 1, 1 << 20, f);
	fclose(f);
	ck_assert_int_eq(tv_elf_extent(file, len, 1 << 30, TV_MODE_PROTECTED, &entry, &end), 0);
	free(file);
	mem = (end + 0xfff) & ~0xfffull;
	snprintf(mem_arg, sizeof(mem_arg), "%lluK", (unsigned long long)(mem - 0x1000) >> 10);
	snprintf(info_mem, sizeof(info_mem), "%lluK", (unsigned long long)(mem + 0x3000) >> 10);

	craft_elf(&plain, 32, TV_MODE_PROTECTED); /* a plain ELF guest: no multiboot header */
	write_file(plain.b, plain.len, elf, sizeof(elf));
	write_file("NR_CPUS=1\n", 10, env, sizeof(env));
	const struct {
		const char *args[10];
		const char *says;
	} cases[] = {
		{ { "--guest", "hello", "--multiboot-env", env }, "hello is not a multiboot kernel" },
		{ { "--guest", "hello", "--multiboot-args", "x" }, "--multiboot-args: hello is not" },
		{ { "--guest", elf, "--multiboot-env", env }, "is not a multiboot kernel" },
		{ { "--guest", guest_elf(), "--multiboot-env", "/nonexistent/env" },
		  "--multiboot-env /nonexistent/env: No such file or directory" },
		{ { "--guest", guest_elf(), "--multiboot-env", "/tmp" }, "a directory, not a regular" },
		{ { "--guest", guest_elf(), "--mode", "long" }, "starts in protected mode" },
		{ { "--guest", guest_elf(), "--mem", mem_arg }, "leaves guest RAM" },
		{ { "--guest", guest_elf(), "--mem", info_mem }, "raise --mem" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[16] = { "run", "--backend", "emu" };

		for (int a = 0; cases[i].args[a]; a++)
			argv[3 + a] = cases[i].args[a];
		tv_run_binary("TWINVM_BIN", argv, &r);
		ck_assert_msg(r.status == 2 && strstr(r.err, cases[i].says) &&
			      tv_count_lines(r.err) == 1, "case %zu: status %d: %s", i, r.status, r.err);
	}
	/* diff takes the same two flags, and refuses them the same way */
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "diff", "--guest", "hello",
				   "--multiboot-env", env, NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "twinvm diff: --multiboot-env: hello is not a "
		      "multiboot kernel") && tv_count_lines(r.err) == 1, "%d: %s", r.status, r.err);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "diff", "--platform", "isa", NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "--platform 'isa': give none or pc") &&
		      tv_count_lines(r.err) == 1, "%d: %s", r.status, r.err);
	unlink(elf);
	unlink(env);
}
END_TEST

/* `twinvm diff` boots it on both engines as run does (protected, 128M, pc, the environment):
 * identical, ending at isa-debug-exit. */
START_TEST(test_diff_agrees_between_engines)
{
	char why[512];
	struct result r;

	if (!tv_test_engine("kvm", TV_MODE_PROTECTED, why, sizeof(why)))
		TV_SKIP("kvm: %s", why);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "diff", "--guest", guest_elf(), NULL },
		      &r);
	ck_assert_msg(r.status == 0 && strstr(r.out, "identical: ") &&
		      strstr(r.out, "protected mode, kvm against emu); guest RAM identical"),
		      "status %d: %s%s", r.status, r.out, r.err);
}
END_TEST

/* A golden of it (run --trace) names the platform, and diff --against takes everything from its
 * header: the emulator agrees to the isa-debug-exit record, where the trace ends; a --platform
 * that disagrees with the header is one line and exit 2. */
START_TEST(test_golden_names_the_platform_and_diff_against_it_agrees)
{
	char trace[64], head[1024];
	struct result r;
	FILE *f;

	tv_temp_path(trace, sizeof(trace), ".jsonl");
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--guest",
				   guest_elf(), "--trace", trace, NULL }, &r);
	ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.err);
	f = fopen(trace, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(head, sizeof(head), f));
	fclose(f);
	ck_assert_msg(strstr(head, "\"mode\":\"protected\"") && strstr(head, "\"mem\":\"0x8000000\"")
		      && strstr(head, "\"platform\":\"pc\""), "%s", head);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "diff", "--against", trace, NULL }, &r);
	ck_assert_msg(r.status == 0 && strstr(r.out, "identical: "), "status %d: %s%s", r.status,
		      r.out, r.err);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "diff", "--against", trace, "--platform",
				   "none", NULL }, &r);
	unlink(trace);
	ck_assert_msg(r.status == 2 && strstr(r.err, "--platform none: ") &&
		      strstr(r.err, "is a trace of the pc platform") && tv_count_lines(r.err) == 1,
		      "status %d: %s", r.status, r.err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("multiboot_run");
	TCase *guest = tcase_create("guest");

	tcase_add_loop_test(guest, test_guest_passes_its_checks_on_both_engines, 0, 2);
	tcase_add_test(guest, test_multiboot_env_file_is_the_module);
	tcase_add_test(guest, test_multiboot_args_follow_the_kernel_name);
	tcase_add_test(guest, test_explicit_platform_none_is_kept);
	tcase_add_test(guest, test_refusals_exit_2_with_one_line);
	tcase_add_test(guest, test_diff_agrees_between_engines);
	tcase_add_test(guest, test_golden_names_the_platform_and_diff_against_it_agrees);
	suite_add_tcase(s, guest);
	return tv_test_main(s);
}
