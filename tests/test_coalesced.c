/* Coalesced ports (tv_machine_coalesce_pio): HC_print8bit's one-byte OUTs reach the console in
 * runs on an engine that gathers them, and nothing the guest or the tools see changes: the bytes
 * and the other hypercalls' output in the guest's order, every exit counted (HC_numExits), the
 * same on both engines. */
#include <stdlib.h>
#include <string.h>

#include "run_guest.h"
#include "tv_test.h"

#define BYTES 5000 /* more than the emulator gathers at once (EMU_RING_MAX) */

/* Real mode: mov cx, BYTES; mov al, 'a'; 1: out 0xe9, al; loop 1b; in eax, 0xeb;
 * out 0xea, eax; mov eax, 7; out 0xea, eax; hlt */
static const uint8_t guest[] = {
	0xb9, BYTES & 0xff, BYTES >> 8, 0xb0, 0x61, 0xe6, 0xe9, 0xe2, 0xfc,
	0x66, 0xe5, 0xeb, 0x66, 0xe7, 0xea,
	0x66, 0xb8, 0x07, 0x00, 0x00, 0x00, 0x66, 0xe7, 0xea, 0xf4,
};

static void prints_in_order_and_counts_every_exit(const char *engine, bool gathers)
{
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	char why[256], *want;

	be = tv_test_engine(engine, TV_MODE_REAL, why, sizeof(why));
	if (!be)
		TV_SKIP("%s: %s", engine, why);
	tv_test_run(&t, be, TV_MODE_REAL, guest, sizeof(guest), NULL, 60);
	ck_assert_int_eq(t.last.reason, TV_EXIT_HLT);
	/* The emulator gathers the port's OUTs; KVM has no coalesce_pio here. */
	ck_assert_uint_eq(t.m.ncoalesced, gathers ? 1 : 0);
	want = malloc(BYTES + 16);
	ck_assert_ptr_nonnull(want);
	memset(want, 'a', BYTES);
	/* HC_numExits right after the bytes: the 5000 OUTs and this IN; then HC_print32bit. */
	strcpy(want + BYTES, "5001\n7\n");
	ck_assert_uint_eq(t.console_len, strlen(want));
	ck_assert_str_eq(t.console, want);
	ck_assert_uint_eq(t.m.stats.io_out, BYTES + 2);
	ck_assert_uint_eq(t.m.stats.io_in, 1);
	ck_assert_uint_eq(t.m.stats.total, BYTES + 4);
	free(want);
	tv_test_run_end(&t);
}

START_TEST(test_print8bit_runs_keep_order_and_count_kvm)
{
	prints_in_order_and_counts_every_exit("kvm", false);
}
END_TEST

START_TEST(test_print8bit_runs_keep_order_and_count_emu)
{
	prints_in_order_and_counts_every_exit("emu", true);
}
END_TEST

/* --max-exits stops at an exact exit, so a machine with a limit gathers nothing. */
START_TEST(test_no_coalescing_under_an_exit_limit)
{
	struct tv_machine_opts opt = { .ram_size = 2 << 20, .max_exits = 100 };
	struct tv_test_run t;
	char why[256];

	opt.backend = tv_test_engine("emu", TV_MODE_REAL, why, sizeof(why));
	ck_assert_msg(opt.backend, "emu: %s", why);
	tv_test_prepare_opts(&t, opt, TV_MODE_REAL, guest, sizeof(guest));
	ck_assert_uint_eq(t.m.ncoalesced, 0);
	tv_test_finish(&t, 60);
	ck_assert_int_eq(t.last.reason, TV_EXIT_IO);
	ck_assert_uint_eq(t.m.stats.total, 100);
	ck_assert_uint_eq(t.console_len, 100);
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("coalesced");
	TCase *tc = tcase_create("print8bit");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_print8bit_runs_keep_order_and_count_kvm);
	tcase_add_test(tc, test_print8bit_runs_keep_order_and_count_emu);
	tcase_add_test(tc, test_no_coalescing_under_an_exit_limit);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
