/* The hello guest in every mode on every engine: the foundation's promise. */
#include <string.h>

#include "builtin.h"
#include "run_guest.h"
#include "tv_test.h"

static void hello_on(const char *engine, enum tv_mode mode)
{
	const struct tv_builtin *hello = tv_builtin_find("hello");
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	const uint8_t *image;
	char why[256];
	size_t len;
	FILE *sink;

	be = tv_test_engine(engine, mode, why, sizeof(why));
	if (!be)
		TV_SKIP("%s in %s mode: %s", engine, tv_mode_name(mode), why);
	ck_assert_ptr_nonnull(hello);
	ck_assert(tv_builtin_image(hello, mode, &image, &len));
	tv_test_run(&t, be, mode, image, len, NULL, 30);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "%s/%s ended in %s: %s", engine,
		      tv_mode_name(mode), tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_str_eq(t.console, "Hello, world!\n");
	ck_assert_uint_eq(t.regs.rax, 42);
	sink = fopen("/dev/null", "w");
	ck_assert_int_eq(hello->check(&t.m, sink), 0);
	fclose(sink);
	/* 14 characters, one OUT exit each, then the HLT. */
	ck_assert_uint_eq(t.m.stats.io_out, 14);
	ck_assert_uint_eq(t.m.stats.by_reason[TV_EXIT_HLT], 1);
	ck_assert_uint_eq(t.m.stats.total, 15);
	tv_test_run_end(&t);
}

START_TEST(test_hello_every_mode_kvm)
{
	hello_on("kvm", (enum tv_mode)_i);
}
END_TEST

START_TEST(test_hello_every_mode_emu)
{
	hello_on("emu", (enum tv_mode)_i);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engines");
	TCase *tc = tcase_create("hello");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_hello_every_mode_kvm, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_hello_every_mode_emu, 0, TV_MODE_COUNT);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
