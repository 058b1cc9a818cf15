/* The fuzzer's oracles (core/fuzz/): the native one runs 64-bit snippets on the host CPU in user
 * mode, the engine ones as a long-mode guest. Each must give the architecture's results, written
 * out here, and report a fault as an outcome with the process going on. (The native oracle's 32-
 * and 16-bit code: test_fuzz_native_widths.c.) */
#include <errno.h>
#include <string.h>

#include "fz.h"
#include "native_oracle.h"
#include "tv_test.h"

START_TEST(test_native_runs_a_snippet_to_its_end)
{
	static const uint8_t add[] = { 0x48, 0x01, 0xd8 }; /* add rax, rbx */
	struct fz_oracle *o = open_native();
	struct fz_state in = { 0 };
	struct fz_result r;
	struct fz_snippet s;

	snippet(&s, add, sizeof(add));
	in.gpr[FZ_RAX] = 0xffffffffffffffffull;
	in.gpr[FZ_RBX] = 2;
	in.gpr[FZ_RSP] = FZ_SCRATCH_ADDR + 0x800;
	in.gpr[FZ_R15] = 0x1515;
	in.scratch[7] = 0x77;
	ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 1);
	/* CF and AF (0xf + 0x2 carries out of the low nibble) set; PF (one bit), ZF, SF, OF clear */
	ck_assert_uint_eq(r.st.rflags & 0x8d5, 0x11);
	ck_assert_uint_eq(r.st.gpr[FZ_R15], 0x1515);
	ck_assert_uint_eq(r.st.gpr[FZ_RSP], FZ_SCRATCH_ADDR + 0x800);
	ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR + sizeof(add));
	ck_assert_uint_eq(r.st.scratch[7], 0x77);
	o->close(o);
}
END_TEST

START_TEST(test_native_fault_is_an_outcome_and_the_process_survives)
{
	static const uint8_t div0[] = { 0x48, 0xf7, 0xf1 };         /* div rcx */
	static const uint8_t load0[] = { 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0 }; /* mov rax, [0] */
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	struct fz_oracle *o = open_native();
	struct fz_state in = { 0 };
	struct fz_result r;
	struct fz_snippet s;

	in.gpr[FZ_RSP] = FZ_SCRATCH_ADDR + 0x800;
	in.gpr[FZ_RAX] = 5;
	snippet(&s, div0, sizeof(div0));
	ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
	ck_assert_int_eq(r.vector, 0); /* #DE */
	ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 5);
	snippet(&s, load0, sizeof(load0));
	ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
	ck_assert_int_eq(r.vector, 14); /* #PF */
	snippet(&s, ud2, sizeof(ud2));
	ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
	ck_assert_int_eq(r.vector, 6); /* #UD */
	/* And the oracle still runs snippets after its faults. */
	in.gpr[FZ_RCX] = 2;
	in.gpr[FZ_RAX] = 9;
	snippet(&s, div0, sizeof(div0));
	ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 4);
	ck_assert_uint_eq(r.st.gpr[FZ_RDX], 1);
	o->close(o);
}
END_TEST

START_TEST(test_native_refuses_a_system_call)
{
	static const uint8_t sys[] = { 0x0f, 0x05 }; /* syscall */
	struct fz_oracle *o = open_native();
	struct fz_state in = { 0 };
	struct fz_result r;
	struct fz_snippet s;

	snippet(&s, sys, sizeof(sys));
	ck_assert_int_eq(o->run(o, &s, &in, &r), -EPERM);
	o->close(o);
}
END_TEST

START_TEST(test_native_second_open_is_refused_and_the_first_still_runs)
{
	static const uint8_t inc[] = { 0x48, 0xff, 0xc0 }; /* inc rax */
	struct fz_oracle *o = open_native(), *second = NULL;
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	char why[512];

	ck_assert_int_eq(fz_native_open(32, &second, why, sizeof(why)), -ENODEV);
	ck_assert_ptr_null(second);
	ck_assert_msg(strstr(why, "another native oracle"), "%s", why);
	ck_assert_int_eq(fz_native_open(64, &second, why, sizeof(why)), -ENODEV);
	start_state(&in, 64);
	snippet(&s, inc, sizeof(inc));
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 1);
	o->close(o);
}
END_TEST

/* The same snippets through an engine: the results the native oracle gave above. */
static void engine_agrees(const char *engine)
{
	static const uint8_t add[] = { 0x48, 0x01, 0xd8 };           /* add rax, rbx */
	static const uint8_t div0[] = { 0x48, 0xf7, 0xf1 };          /* div rcx */
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	static const uint8_t store[] = { 0x48, 0x89, 0x04, 0x25, 0x10, 0x00, 0x04, 0x00 }; /* mov [0x40010], rax */
	const struct tv_backend_ops *be;
	struct fz_oracle *o = NULL;
	struct fz_state in = { 0 };
	struct fz_result r;
	struct fz_snippet s;
	char why[512];

	be = tv_test_engine(engine, TV_MODE_LONG, why, sizeof(why));
	if (!be)
		TV_SKIP("%s/long: %s", engine, why);
	ck_assert_msg(fz_engine_open(be, TV_MODE_LONG, NULL, &o, why, sizeof(why)) == 0, "%s", why);
	in.gpr[FZ_RSP] = FZ_SCRATCH_ADDR + 0x800;
	in.gpr[FZ_RAX] = 0xffffffffffffffffull;
	in.gpr[FZ_RBX] = 2;
	in.gpr[FZ_R15] = 0x1515;
	snippet(&s, add, sizeof(add));
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 1);
	ck_assert_uint_eq(r.st.rflags & 0x8d5, 0x11);
	ck_assert_uint_eq(r.st.gpr[FZ_R15], 0x1515);
	ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR + sizeof(add));

	/* A new snippet at the same address: the engine must not run the old translation. */
	in.gpr[FZ_RAX] = 0x1122334455667788ull;
	snippet(&s, store, sizeof(store));
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 0x1122334455667788ull);
	ck_assert_uint_eq(r.st.scratch[0x10], 0x88);
	ck_assert_uint_eq(r.st.scratch[0x17], 0x11);

	in.gpr[FZ_RAX] = 5;
	snippet(&s, div0, sizeof(div0));
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	if (strcmp(engine, "emu") == 0) { /* KVM's SHUTDOWN does not name the vector */
		ck_assert_int_eq(r.vector, 0);
		ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR);
		snippet(&s, ud2, sizeof(ud2));
		ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
		ck_assert_int_eq(r.vector, 6);
	}
	o->close(o);
}

START_TEST(test_emu_oracle_gives_the_architectures_results) { engine_agrees("emu"); }
END_TEST

/* 5000 snippets through one engine oracle: past the point where it reuses its code slots, and
 * each run must be the new snippet, never a translation kept from the old one. */
START_TEST(test_emu_oracle_runs_each_new_snippet_not_an_old_translation)
{
	const struct tv_backend_ops *be;
	struct fz_oracle *o = NULL;
	struct fz_state in = { 0 };
	struct fz_result r;
	struct fz_snippet s;
	char why[512];

	be = tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why));
	ck_assert(be != NULL);
	ck_assert_msg(fz_engine_open(be, TV_MODE_LONG, NULL, &o, why, sizeof(why)) == 0, "%s", why);
	in.gpr[FZ_RSP] = FZ_SCRATCH_ADDR + 0x800;
	for (uint32_t i = 0; i < 5000; i++) {
		const uint8_t add[] = { 0x48, 0x05, (uint8_t)i, (uint8_t)(i >> 8), 0, 0 }; /* add rax, i */

		snippet(&s, add, sizeof(add));
		ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
		ck_assert_uint_eq(r.st.gpr[FZ_RAX], i);
		ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR + sizeof(add));
	}
	o->close(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_oracles");
	TCase *tc = tcase_create("oracles");

	tcase_add_test(tc, test_native_runs_a_snippet_to_its_end);
	tcase_add_test(tc, test_native_fault_is_an_outcome_and_the_process_survives);
	tcase_add_test(tc, test_native_refuses_a_system_call);
	tcase_add_test(tc, test_native_second_open_is_refused_and_the_first_still_runs);
	tcase_add_test(tc, test_emu_oracle_gives_the_architectures_results);
	tcase_add_test(tc, test_emu_oracle_runs_each_new_snippet_not_an_old_translation);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
