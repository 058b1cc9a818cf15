/* The emulator's CPU model (--cpu): the default runs the bit-manipulation instructions a KVM guest
 * on this host runs, with the results the host's CPU gives; qemu64 (Unicorn's own default) takes
 * #UD on popcnt; the default is the largest model the host's CPU covers; the guest's CPUID is
 * the model's; the flag is checked before anything runs. */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "layout.h"
#include "run_binary.h"
#include "run_guest.h"
#include "tv_test.h"

/* Long mode. The expected results are the architectural ones for these inputs, and what this
 * host's CPU gives natively (checked with the same instructions in inline asm when written):
 *   0x00 mov eax, 0xf0f0
 *   0x05 popcnt r8d, eax          ; r8  = 8
 *   0x0a mov ecx, 0x00f00000
 *   0x0f lzcnt r9d, ecx           ; r9  = 8      (bsr, which lzcnt is without ABM: 23)
 *   0x14 tzcnt r10d, ecx          ; r10 = 20
 *   0x19 xor edx, edx
 *   0x1b mov r11d, 0x1234
 *   0x21 tzcnt r11d, edx          ; r11 = 32     (bsf of 0 leaves 0x1234)
 *   0x26 mov eax, 0xff00ff00
 *   0x2b mov ecx, 0x0ff00ff0
 *   0x30 andn r12d, eax, ecx      ; r12 = ~eax & ecx = 0x00f000f0   (BMI1)
 *   0x35 mov eax, 0xb
 *   0x3a mov ecx, 0xf0f0
 *   0x3f pdep r13d, eax, ecx      ; r13 = 0xb0 (bits 0,1,3 of eax into ecx's set bits) (BMI2)
 *   0x44 mov eax, 1
 *   0x49 mov ecx, 35
 *   0x4e shlx r14, rax, rcx       ; r14 = 1 << 35                   (BMI2)
 *   0x53 hlt */
static const uint8_t bit_insns[] = {
	0xb8, 0xf0, 0xf0, 0x00, 0x00,
	0xf3, 0x44, 0x0f, 0xb8, 0xc0,
	0xb9, 0x00, 0x00, 0xf0, 0x00,
	0xf3, 0x44, 0x0f, 0xbd, 0xc9,
	0xf3, 0x44, 0x0f, 0xbc, 0xd1,
	0x31, 0xd2,
	0x41, 0xbb, 0x34, 0x12, 0x00, 0x00,
	0xf3, 0x44, 0x0f, 0xbc, 0xda,
	0xb8, 0x00, 0xff, 0x00, 0xff,
	0xb9, 0xf0, 0x0f, 0xf0, 0x0f,
	0xc4, 0x62, 0x78, 0xf2, 0xe1,
	0xb8, 0x0b, 0x00, 0x00, 0x00,
	0xb9, 0xf0, 0xf0, 0x00, 0x00,
	0xc4, 0x62, 0x7b, 0xf5, 0xe9,
	0xb8, 0x01, 0x00, 0x00, 0x00,
	0xb9, 0x23, 0x00, 0x00, 0x00,
	0xc4, 0x62, 0xf1, 0xf7, 0xf0,
	0xf4,
};

/* Long mode:  mov eax, 5 ; mov ebx, 7 ; stc ; adcx eax, ebx (0x0b: eax = 5 + 7 + CF = 13) ; hlt */
static const uint8_t adcx_insn[] = {
	0xb8, 0x05, 0x00, 0x00, 0x00,
	0xbb, 0x07, 0x00, 0x00, 0x00,
	0xf9,
	0x66, 0x0f, 0x38, 0xf6, 0xc3,
	0xf4,
};

/* Long mode:  mov eax, 0xf0f0 ; popcnt r8d, eax (at 0x05) ; hlt */
static const uint8_t popcnt_only[] = {
	0xb8, 0xf0, 0xf0, 0x00, 0x00,
	0xf3, 0x44, 0x0f, 0xb8, 0xc0,
	0xf4,
};

/* Creates a long-mode machine on the emulator with model (NULL: the default), loads image. */
static void prepare(struct tv_test_run *t, const char *model, const uint8_t *image, size_t len)
{
	struct tv_machine_opts opt = { .ram_size = TV_RAM_DEFAULT, .cpu_model = model };
	char why[256];

	opt.backend = tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why));
	ck_assert_msg(opt.backend, "emu: %s", why);
	tv_test_prepare_opts(t, opt, TV_MODE_LONG, image, len);
}

static void run_model(struct tv_test_run *t, const char *model, const uint8_t *image, size_t len)
{
	prepare(t, model, image, len);
	tv_test_finish(t, 30);
}

START_TEST(test_bit_instructions_get_host_results_on_default_model)
{
	struct tv_test_run t;

	run_model(&t, NULL, bit_insns, sizeof(bit_insns));
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_uint_eq(t.regs.r8, 8);	    /* popcnt */
	ck_assert_uint_eq(t.regs.r9, 8);	    /* lzcnt */
	ck_assert_uint_eq(t.regs.r10, 20);	    /* tzcnt */
	ck_assert_uint_eq(t.regs.r11, 32);	    /* tzcnt of 0 */
	ck_assert_uint_eq(t.regs.r12, 0x00f000f0);  /* andn */
	ck_assert_uint_eq(t.regs.r13, 0xb0);	    /* pdep */
	ck_assert_uint_eq(t.regs.r14, 1ull << 35); /* shlx */
	tv_test_run_end(&t);
}
END_TEST

/* ADX is not in every CPU that has BMI2: the default must offer it exactly when the host does. */
START_TEST(test_adcx_runs_on_default_model_exactly_when_the_host_has_adx)
{
	unsigned a, b, c, d;
	bool host_adx = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 19));
	struct tv_test_run t;

	run_model(&t, NULL, adcx_insn, sizeof(adcx_insn));
	if (host_adx) {
		ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
			      tv_exit_reason_name(t.last.reason), t.last.detail);
		ck_assert_uint_eq(t.regs.rax, 13);
	} else {
		ck_assert_int_eq(t.last.reason, TV_EXIT_SHUTDOWN);
	}
	tv_test_run_end(&t);
}
END_TEST

START_TEST(test_popcnt_raises_ud_under_qemu64)
{
	struct tv_test_run t;

	run_model(&t, "qemu64", popcnt_only, sizeof(popcnt_only));
	ck_assert_msg(t.last.reason == TV_EXIT_SHUTDOWN, "ended in %s", tv_exit_reason_name(
		      t.last.reason));
	/* #UD, which twinvm's modes have no IDT for: #GP, #DF, then the triple fault. */
	ck_assert_msg(t.last.exception == 6, "exception %d: %s", t.last.exception, t.last.detail);
	ck_assert_uint_eq(t.regs.rip, 5); /* on the popcnt */
	tv_test_run_end(&t);
}
END_TEST

/* The rule the README states, checked on the list the engine reports: one default, a subset of
 * the host's features, with more than any other subset (a tie goes to the later model). */
START_TEST(test_default_model_is_the_largest_host_subset)
{
	const struct tv_backend_ops *be = tv_backend_find("emu");
	struct tv_cpu_model m;
	int defaults = 0, rc;
	size_t i, def = 0;
	unsigned best = 0;
	bool any_subset = false;

	ck_assert_ptr_nonnull(be);
	ck_assert_ptr_nonnull(be->cpu_model);
	for (i = 0; (rc = be->cpu_model(i, &m)) == 0; i++) {
		if (m.host_subset && m.features >= best) {
			best = m.features;
			def = i;
			any_subset = true;
		}
		if (m.is_default) {
			defaults++;
			ck_assert_msg(m.host_subset, "default %s has features the host lacks: %s",
				      m.name, m.extra);
		}
	}
	ck_assert_int_eq(rc, -ENOENT);
	ck_assert_uint_gt(i, 30);
	ck_assert_int_eq(defaults, 1);
	ck_assert(any_subset);
	ck_assert_int_eq(be->cpu_model(def, &m), 0);
	ck_assert_msg(m.is_default, "%s (%u features) should be the default", m.name, m.features);
}
END_TEST

/* Unicorn's qemu64 has no popcnt in its CPUID and haswell has; every leaf the backend answers is
 * the VM's model's, the ones measured up front and the ones run on a scratch instance (the brand
 * string, cached per model: asked of qemu64 first, it must not come back for haswell). */
START_TEST(test_guest_cpuid_is_the_models)
{
	static const char *const model[2] = { "qemu64", "haswell" };
	uint32_t leaf1[2][4], brand[2][4];

	for (int i = 0; i < 2; i++) {
		struct tv_test_run t;

		prepare(&t, model[i], popcnt_only, sizeof(popcnt_only));
		ck_assert_int_eq(t.m.be->cpuid(t.m.vcpu, 1, 0, leaf1[i]), 0);
		ck_assert_int_eq(t.m.be->cpuid(t.m.vcpu, 0x80000002u, 0, brand[i]), 0);
		tv_test_finish(&t, 30);
		/* The guest agrees with the op: popcnt runs where CPUID says it does. */
		ck_assert_int_eq(t.last.reason, (leaf1[i][2] & (1u << 23)) ? TV_EXIT_HLT
									   : TV_EXIT_SHUTDOWN);
		tv_test_run_end(&t);
	}
	ck_assert_uint_eq(leaf1[0][2] & (1u << 23), 0);
	ck_assert_uint_ne(leaf1[1][2] & (1u << 23), 0);
	ck_assert_msg(memcmp(brand[0], brand[1], sizeof(brand[0])) != 0,
		      "qemu64 and haswell report the same brand string");
}
END_TEST

START_TEST(test_parse_cpu_model)
{
	const char *out = "untouched";

	ck_assert_int_eq(tv_parse_cpu_model("epyc-rome", &out), 0);
	ck_assert_str_eq(out, "epyc-rome");
	ck_assert_int_eq(tv_parse_cpu_model("auto", &out), 0);
	ck_assert_ptr_null(out);
	out = "untouched";
	ck_assert_int_eq(tv_parse_cpu_model("host-subset", &out), 0);
	ck_assert_ptr_null(out);
	out = "untouched";
	ck_assert_int_eq(tv_parse_cpu_model("EPYC-Rome", &out), -EINVAL);
	ck_assert_int_eq(tv_parse_cpu_model("", &out), -EINVAL);
	ck_assert_int_eq(tv_parse_cpu_model("-x", &out), -EINVAL);
	ck_assert_int_eq(tv_parse_cpu_model("epyc rome", &out), -EINVAL);
	ck_assert_int_eq(tv_parse_cpu_model("a234567890123456789012345678901", &out), 0);
	ck_assert_int_eq(tv_parse_cpu_model("a2345678901234567890123456789012", &out), -ERANGE);
}
END_TEST

/* Every command with --cpu refuses an unknown model before it runs anything. */
START_TEST(test_unknown_cpu_is_one_line_and_exit_2)
{
	static const char *const cmds[] = { "run", "diff", "matrix", "bench" };
	struct result r;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args[] = { cmds[i], "--cpu", "pentium9", NULL };

		tv_run_binary("TWINVM_BIN", args, &r);
		ck_assert_msg(r.status == 2, "%s: status %d", cmds[i], r.status);
		ck_assert_msg(tv_count_lines(r.err) == 1, "%s: stderr: %s", cmds[i], r.err);
		ck_assert_msg(strstr(r.err, "unknown CPU model") && strstr(r.err, "twinvm info"),
			      "%s: stderr: %s", cmds[i], r.err);
		ck_assert_str_eq(r.out, "");
	}
}
END_TEST

/* The flag reaches the engine through the command line: the same image halts under the default
 * and shuts down under qemu64. */
START_TEST(test_run_cpu_flag_picks_the_model)
{
	char path[256];
	struct result r;
	FILE *f;

	tv_temp_path(path, sizeof(path), ".bin");
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(popcnt_only, 1, sizeof(popcnt_only), f), sizeof(popcnt_only));
	fclose(f);
	{
		const char *deflt[] = { "run", "--backend", "emu", "--guest", path, NULL };
		const char *qemu64[] = { "run", "--backend", "emu", "--cpu", "qemu64", "--guest", path,
					 NULL };
		const char *autom[] = { "run", "--backend", "emu", "--cpu", "auto", "--guest", path,
					NULL };

		tv_run_binary("TWINVM_BIN", deflt, &r);
		ck_assert_msg(r.status == 0, "default: %d: %s", r.status, r.err);
		tv_run_binary("TWINVM_BIN", autom, &r);
		ck_assert_msg(r.status == 0, "auto: %d: %s", r.status, r.err);
		tv_run_binary("TWINVM_BIN", qemu64, &r);
		ck_assert_msg(r.status == 1 && strstr(r.err, "SHUTDOWN"), "qemu64: %d: %s", r.status,
			      r.err);
	}
	unlink(path);
}
END_TEST

/* KVM's guests see the host's CPU: a model named for it is a mistake, said in one line. */
START_TEST(test_cpu_on_kvm_is_an_error)
{
	const char *args[] = { "run", "--backend", "kvm", "--cpu", "qemu64", NULL };
	char why[256];
	struct result r;

	if (!tv_test_engine("kvm", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("%s", why);
	tv_run_binary("TWINVM_BIN", args, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(tv_count_lines(r.err) == 1 && strstr(r.err, "no CPU models"), "%s", r.err);
	ck_assert_str_eq(r.out, "");
}
END_TEST

START_TEST(test_info_lists_models_and_what_the_default_lacks)
{
	const char *args[] = { "info", NULL };
	const char *p;
	struct result r;
	int defaults = 0;

	tv_run_binary("TWINVM_BIN", args, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "    qemu64 ") && strstr(r.out, "    epyc-rome "), "%s", r.out);
	for (p = r.out; (p = strstr(p, " default, subset of the host's\n")); p++)
		defaults++;
	ck_assert_int_eq(defaults, 1);
	ck_assert_msg(strstr(r.out, "lacks these host features: "), "%s", r.out);
}
END_TEST

static Suite *cpu_model_suite(void)
{
	Suite *s = suite_create("cpu_model");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_bit_instructions_get_host_results_on_default_model);
	tcase_add_test(tc, test_adcx_runs_on_default_model_exactly_when_the_host_has_adx);
	tcase_add_test(tc, test_popcnt_raises_ud_under_qemu64);
	tcase_add_test(tc, test_default_model_is_the_largest_host_subset);
	tcase_add_test(tc, test_guest_cpuid_is_the_models);
	tcase_add_test(tc, test_parse_cpu_model);
	tcase_add_test(tc, test_unknown_cpu_is_one_line_and_exit_2);
	tcase_add_test(tc, test_run_cpu_flag_picks_the_model);
	tcase_add_test(tc, test_cpu_on_kvm_is_an_error);
	tcase_add_test(tc, test_info_lists_models_and_what_the_default_lacks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tv_test_main(cpu_model_suite());
}
