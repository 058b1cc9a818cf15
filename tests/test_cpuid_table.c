/* A CPUID table shared between engines (backend/cpuid_table.h): KVM's rules for leaves a table
 * does not list; the emulator's guest reading a given table in 64-bit and 16-bit code; KVM
 * refusing one; and `twinvm diff`, whose emulator reads KVM's table with --cpuid shared,
 * agreeing on a guest that stores its CPUID answers where its own model (--cpuid own, the
 * default) does not. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cpuid_table.h"
#include "diff_test.h"
#include "layout.h"
#include "run_guest.h"
#include "tv_test.h"

#define GENUINE_INTEL { 0x756e6547, 0x6c65746e, 0x49656e69 } /* EBX, ECX, EDX of leaf 0 */

/* An Intel table: basic leaves up to 0xb, extended up to 0x80000008, leaf 4 by subleaf. */
static struct tv_cpuid_entry intel[] = {
	{ 0, 0, false, { 0xb, 0x756e6547, 0x6c65746e, 0x49656e69 } },
	{ 1, 0, false, { 0x906ea, 0x800, 0x7ffafbff, 0xbfebfbff } },
	{ 4, 0, true, { 0x1c004121, 0x1c0003f, 0x3f, 0 } },
	{ 4, 1, true, { 0x1c004122, 0x1c0003f, 0x3f, 0 } },
	{ 7, 0, true, { 0, 0x29c67af, 0x10, 0 } }, /* OSPKE set, as a table read with CR4.PKE on */
	{ 0xb, 0, true, { 1, 1, 0x100, 0 } },
	{ 0xb, 1, true, { 4, 4, 0x201, 0 } },
	{ 0x80000000u, 0, false, { 0x80000008u, 0, 0, 0 } },
	{ 0x80000008u, 0, false, { 0x3027, 0, 0, 0 } },
};

static const struct tv_cpuid_table intel_table = { sizeof(intel) / sizeof(intel[0]), intel };

static void answer(const struct tv_cpuid_table *t, uint32_t leaf, uint32_t subleaf, uint64_t cr4,
		   uint32_t out[4])
{
	memset(out, 0xa5, 4 * sizeof(out[0])); /* nothing left from before */
	tv_cpuid_table_answer(t, leaf, subleaf, cr4, out);
}

static void assert_out(const uint32_t out[4], uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	ck_assert_uint_eq(out[0], a);
	ck_assert_uint_eq(out[1], b);
	ck_assert_uint_eq(out[2], c);
	ck_assert_uint_eq(out[3], d);
}

START_TEST(test_listed_leaf_and_subleaf_are_the_tables)
{
	uint32_t out[4];

	answer(&intel_table, 4, 1, 0, out);
	assert_out(out, 0x1c004122, 0x1c0003f, 0x3f, 0);
	answer(&intel_table, 0x80000008u, 7, 0, out); /* not by subleaf: any subleaf */
	assert_out(out, 0x3027, 0, 0, 0);
}
END_TEST

/* Intel's CPUs, and KVM with an Intel table, answer a leaf above its range's maximum as the
 * highest basic leaf, with the subleaf asked: 0x1234 and 0x8000ffff here give leaf 0xb's. */
START_TEST(test_leaf_above_range_answers_as_highest_basic_leaf)
{
	uint32_t out[4];

	answer(&intel_table, 0x1234, 1, 0, out);
	assert_out(out, 4, 4, 0x201, 0);
	answer(&intel_table, 0x8000ffffu, 0, 0, out);
	assert_out(out, 1, 1, 0x100, 0);
}
END_TEST

START_TEST(test_unlisted_leaf_in_range_is_zero)
{
	uint32_t out[4];

	answer(&intel_table, 3, 0, 0, out);
	assert_out(out, 0, 0, 0, 0);
	answer(&intel_table, 4, 9, 0, out); /* leaf 4 is by subleaf: 9 is not listed */
	assert_out(out, 0, 0, 0, 0);
}
END_TEST

/* AMD's answer to a leaf it does not have is zeros, in range or not. */
START_TEST(test_amd_answers_zero_above_range)
{
	struct tv_cpuid_entry amd[] = {
		{ 0, 0, false, { 0xd, 0x68747541, 0x444d4163, 0x69746e65 } }, /* AuthenticAMD */
		{ 0xd, 0, true, { 7, 0x340, 0x380, 0 } },
	};
	const struct tv_cpuid_table t = { 2, amd };
	uint32_t out[4];

	answer(&t, 0x1234, 0, 0, out);
	assert_out(out, 0, 0, 0, 0);
	amd[0].r[1] = 0x756e6547; /* GenuineIntel's EBX makes it another vendor */
	answer(&t, 0x1234, 0, 0, out);
	assert_out(out, 7, 0x340, 0x380, 0);
}
END_TEST

/* A topology leaf's subleaf that is not listed still gives CL back and the x2APIC ID in EDX. */
START_TEST(test_topology_leaf_gives_subleaf_and_apic_id)
{
	uint32_t out[4];

	intel[6].r[3] = 5; /* leaf 0xb.1's EDX: the x2APIC ID */
	answer(&intel_table, 0xb, 0x1a3, 0, out);
	intel[6].r[3] = 0;
	assert_out(out, 0, 0, 0xa3, 5);
}
END_TEST

/* KVM sets OSXSAVE and OSPKE from CR4 whenever the guest writes it; the table's own bits do not
 * count. */
START_TEST(test_osxsave_and_ospke_follow_cr4)
{
	uint32_t out[4];

	answer(&intel_table, 1, 0, 0, out);
	ck_assert_uint_eq(out[2] & TV_CPUID1_ECX_OSXSAVE, 0);
	answer(&intel_table, 1, 0, TV_CR4_OSXSAVE, out);
	ck_assert_uint_eq(out[2], 0x7ffafbff | TV_CPUID1_ECX_OSXSAVE);
	answer(&intel_table, 7, 0, 0, out);
	ck_assert_uint_eq(out[2], 0);
	answer(&intel_table, 7, 0, TV_CR4_PKE, out);
	ck_assert_uint_eq(out[2], TV_CPUID7_ECX_OSPKE);
}
END_TEST

START_TEST(test_copy_is_independent)
{
	struct tv_cpuid_table copy;
	uint32_t out[4];

	ck_assert_int_eq(tv_cpuid_table_copy(&copy, &intel_table), 0);
	ck_assert_uint_eq(copy.n, intel_table.n);
	copy.e[0].r[0] = 4; /* the copy's maximum basic leaf only */
	answer(&copy, 0x1234, 0, 0, out);
	assert_out(out, 0x1c004121, 0x1c0003f, 0x3f, 0);
	answer(&intel_table, 0x1234, 0, 0, out);
	assert_out(out, 1, 1, 0x100, 0);
	tv_cpuid_table_free(&copy);
	ck_assert_ptr_null(copy.e);
}
END_TEST

/* ---- the emulator's guest ------------------------------------------------------------------- */

/* mov eax, 0x1234 ; mov ecx, 1 ; cpuid ; hlt: 64-bit code, and the same in 16-bit code. */
static const uint8_t cpuid64[] = {
	0xb8, 0x34, 0x12, 0x00, 0x00, 0xb9, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xf4,
};
static const uint8_t cpuid16[] = {
	0x66, 0xb8, 0x34, 0x12, 0x00, 0x00, 0x66, 0xb9, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0xf4,
};

static void run_with_table(enum tv_mode mode, const uint8_t *image, size_t len)
{
	struct tv_machine_opts opt = { .ram_size = TV_RAM_DEFAULT, .cpuid = &intel_table };
	struct tv_test_run t;
	uint32_t out[4];
	char why[256];

	opt.backend = tv_test_engine("emu", mode, why, sizeof(why));
	ck_assert_msg(opt.backend, "emu: %s", why);
	tv_test_prepare_opts(&t, opt, mode, image, len);
	tv_test_finish(&t, 30);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	/* leaf 0xb.1 by the out-of-range rule, each register zero-extended */
	ck_assert_uint_eq(t.regs.rax, 4);
	ck_assert_uint_eq(t.regs.rbx, 4);
	ck_assert_uint_eq(t.regs.rcx, 0x201);
	ck_assert_uint_eq(t.regs.rdx, 0);
	/* the backend's own cpuid op answers from the table too (core's MAXPHYADDR) */
	ck_assert_int_eq(t.m.be->cpuid(t.m.vcpu, 0x80000008u, 0, out), 0);
	ck_assert_uint_eq(out[0], 0x3027);
	ck_assert_uint_eq(t.m.maxphyaddr, 0x27);
	tv_test_run_end(&t);
}

START_TEST(test_emulator_guest_reads_given_table_in_64_bit_code)
{
	run_with_table(TV_MODE_LONG, cpuid64, sizeof(cpuid64));
}
END_TEST

START_TEST(test_emulator_guest_reads_given_table_in_16_bit_code)
{
	run_with_table(TV_MODE_REAL, cpuid16, sizeof(cpuid16));
}
END_TEST

START_TEST(test_kvm_refuses_a_given_table)
{
	const struct tv_backend_ops *be = tv_backend_find("kvm");
	struct tv_vcpu_config cfg = { .cpuid = &intel_table };
	static uint8_t ram[1 << 20] __attribute__((aligned(4096)));
	struct tv_engine *e = NULL;
	struct tv_vm *vm = NULL;
	struct tv_vcpu *v = NULL;
	char why[256];

	if (!tv_test_engine("kvm", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("kvm: %s", why);
	ck_assert_int_eq(be->open(&e, NULL), 0);
	ck_assert_int_eq(be->vm_create(e, ram, sizeof(ram), &vm), 0);
	cfg.on_io = (tv_io_fn)1; /* never called: the vCPU is refused first */
	ck_assert_int_eq(be->vcpu_create(vm, &cfg, &v), -ENOTSUP);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(tv_last_error(), "CPUID"));
	be->vm_destroy(vm);
	be->close(e);
}
END_TEST

/* ---- twinvm diff ---------------------------------------------------------------------------- */

/* Long mode: CPUID for each (leaf, subleaf) below, its four answers stored from 0x1000 on, then
 * hlt. The brand string (0x80000002) alone tells KVM's host CPU from any emulator model. */
static size_t cpuid_store_guest(uint8_t *code, size_t cap)
{
	static const uint32_t asks[][2] = {
		{ 0, 0 }, { 1, 0 }, { 7, 0 }, { 0xd, 0 }, { 0xd, 1 }, { 0xb, 3 }, { 0x1234, 0 },
		{ 0x80000000u, 0 }, { 0x80000001u, 0 }, { 0x80000002u, 0 }, { 0x80000008u, 0 },
		{ 0x8000ffffu, 0 }, { 0x40000000u, 0 },
	};
	static const uint8_t store[] = {
		0x0f, 0xa2,             /* cpuid */
		0x89, 0x07,             /* mov [rdi], eax */
		0x89, 0x5f, 0x04,       /* mov [rdi + 4], ebx */
		0x89, 0x4f, 0x08,       /* mov [rdi + 8], ecx */
		0x89, 0x57, 0x0c,       /* mov [rdi + 12], edx */
		0x83, 0xc7, 0x10,       /* add edi, 16 */
	};
	size_t n = 0;

	ck_assert_uint_ge(cap, 5 + N(asks) * (10 + sizeof(store)) + 1);
	code[n++] = 0xbf; /* mov edi, 0x1000 */
	memcpy(code + n, (uint32_t[]){ 0x1000 }, 4);
	n += 4;
	for (int i = 0; i < N(asks); i++) {
		code[n++] = 0xb8; /* mov eax, leaf */
		memcpy(code + n, &asks[i][0], 4);
		n += 4;
		code[n++] = 0xb9; /* mov ecx, subleaf */
		memcpy(code + n, &asks[i][1], 4);
		n += 4;
		memcpy(code + n, store, sizeof(store));
		n += sizeof(store);
	}
	code[n++] = 0xf4; /* hlt */
	return n;
}

static void diff_cpuid_guest(const char *cpuid, struct result *r, bool *ran, char *why,
			     size_t len)
{
	uint8_t code[512];
	size_t n = cpuid_store_guest(code, sizeof(code));
	char path[64];
	struct cmd c = { .argc = 0 };

	dt_temp_guest(code, n, path, sizeof(path));
	dt_diff_cmd(&c, path, TV_MODE_LONG);
	if (cpuid)
		CMD(&c, "--cpuid", cpuid);
	*ran = dt_diff_can_compare(&c, r, TV_MODE_LONG, why, len);
	unlink(path);
}

START_TEST(test_diff_agrees_on_cpuid_answers_with_shared_table)
{
	struct result r;
	char why[512];
	bool ran;

	diff_cpuid_guest("shared", &r, &ran, why, sizeof(why));
	if (!ran)
		TV_SKIP("%s", why);
	dt_assert_identical(&r);
	ck_assert_msg(strstr(r.out, "guest RAM identical") != NULL, "%s", r.out);
}
END_TEST

START_TEST(test_diff_finds_cpuid_answers_differ_by_default)
{
	struct result r;
	char why[512];
	bool ran;

	diff_cpuid_guest(NULL, &r, &ran, why, sizeof(why)); /* own, the default */
	if (!ran)
		TV_SKIP("%s", why);
	dt_assert_diverged(&r);
}
END_TEST

START_TEST(test_diff_rejects_unknown_cpuid_choice)
{
	struct cmd c = { .argc = 0 };
	struct result r;

	CMD(&c, "diff", "--cpuid", "kvm");
	dt_run(&c, &r);
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_eq(tv_count_lines(r.err), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "--cpuid takes own or shared"));
}
END_TEST

int main(void)
{
	TCase *rules = tcase_create("kvm_rules");
	TCase *engines = tcase_create("engines");
	TCase *diff = tcase_create("diff");
	Suite *s = suite_create("cpuid_table");

	tcase_add_test(rules, test_listed_leaf_and_subleaf_are_the_tables);
	tcase_add_test(rules, test_leaf_above_range_answers_as_highest_basic_leaf);
	tcase_add_test(rules, test_unlisted_leaf_in_range_is_zero);
	tcase_add_test(rules, test_amd_answers_zero_above_range);
	tcase_add_test(rules, test_topology_leaf_gives_subleaf_and_apic_id);
	tcase_add_test(rules, test_osxsave_and_ospke_follow_cr4);
	tcase_add_test(rules, test_copy_is_independent);
	tcase_add_test(engines, test_emulator_guest_reads_given_table_in_64_bit_code);
	tcase_add_test(engines, test_emulator_guest_reads_given_table_in_16_bit_code);
	tcase_add_test(engines, test_kvm_refuses_a_given_table);
	tcase_set_timeout(engines, 120);
	tcase_add_test(diff, test_diff_agrees_on_cpuid_answers_with_shared_table);
	tcase_add_test(diff, test_diff_finds_cpuid_answers_differ_by_default);
	tcase_add_test(diff, test_diff_rejects_unknown_cpuid_choice);
	tcase_set_timeout(diff, 300);
	suite_add_tcase(s, rules);
	suite_add_tcase(s, engines);
	suite_add_tcase(s, diff);
	return tv_test_main(s);
}
