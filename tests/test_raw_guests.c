/* Raw guest images, hand-assembled, that end in each way a guest can end. Each runs on both
 * engines and must end the same way on both. */
#include <string.h>

#include "kick.h"
#include "run_guest.h"
#include "tv_test.h"

/* long mode: jmp $ -- never exits by itself. */
static const uint8_t endless_loop[] = { 0xeb, 0xfe };

/* protected mode, RAM is 2 MiB:
 *   mov dword [0x300000], 0x12345678   ; MMIO write, dropped
 *   mov eax, [0x300000]                ; MMIO read, all ones
 *   hlt */
static const uint8_t above_ram[] = {
	0xc7, 0x05, 0x00, 0x00, 0x30, 0x00, 0x78, 0x56, 0x34, 0x12,
	0xa1, 0x00, 0x00, 0x30, 0x00,
	0xf4,
};

/* ud2 -- #UD with no IDT: the CPU cannot deliver it and gives up (SHUTDOWN). Protected and
 * long mode only: in real mode this host's KVM delivers it through the interrupt vector table
 * at 0 in spite of IDTR.limit 0 (see the README's engine differences). */
static const uint8_t undefined_opcode[] = { 0x0f, 0x0b };

/* Runs image on engine, or skips. Returns false when skipped. */
static bool run_on(struct tv_test_run *t, const char *engine, enum tv_mode mode,
		   const uint8_t *image, size_t len, double timeout_s, char *why, size_t why_len)
{
	const struct tv_backend_ops *be = tv_test_engine(engine, mode, why, why_len);

	if (!be)
		return false;
	tv_test_run(t, be, mode, image, len, NULL, timeout_s);
	return true;
}

static void endless_loop_times_out(const char *engine)
{
	struct tv_test_run t;
	char why[256];

	if (!run_on(&t, engine, TV_MODE_LONG, endless_loop, sizeof(endless_loop), 0.3, why,
		    sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_int_eq(t.last.reason, TV_EXIT_INTR);
	ck_assert(tv_kick_timed_out());
	ck_assert_uint_eq(t.regs.rip, 0); /* still on the jmp */
	tv_test_run_end(&t);
}

static void above_ram_is_mmio(const char *engine)
{
	struct tv_test_run t;
	char why[256];

	if (!run_on(&t, engine, TV_MODE_PROTECTED, above_ram, sizeof(above_ram), 30, why,
		    sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_uint_eq(t.m.stats.by_reason[TV_EXIT_MMIO], 2);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 0xffffffff);
	ck_assert_uint_eq(t.regs.rip, sizeof(above_ram));
	tv_test_run_end(&t);
}

static void ud2_shuts_down(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!run_on(&t, engine, mode, undefined_opcode, sizeof(undefined_opcode), 30, why,
		    sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	ck_assert_msg(t.last.reason == TV_EXIT_SHUTDOWN, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_uint_eq(t.regs.rip, 0); /* on the faulting instruction */
	tv_test_run_end(&t);
}

START_TEST(test_endless_loop_times_out_kvm) { endless_loop_times_out("kvm"); }
END_TEST
START_TEST(test_endless_loop_times_out_emu) { endless_loop_times_out("emu"); }
END_TEST
START_TEST(test_access_above_ram_is_mmio_kvm) { above_ram_is_mmio("kvm"); }
END_TEST
START_TEST(test_access_above_ram_is_mmio_emu) { above_ram_is_mmio("emu"); }
END_TEST
START_TEST(test_ud2_protected_shuts_down_kvm) { ud2_shuts_down("kvm", TV_MODE_PROTECTED); }
END_TEST
START_TEST(test_ud2_protected_shuts_down_emu) { ud2_shuts_down("emu", TV_MODE_PROTECTED); }
END_TEST
START_TEST(test_ud2_long_shuts_down_kvm) { ud2_shuts_down("kvm", TV_MODE_LONG); }
END_TEST
START_TEST(test_ud2_long_shuts_down_emu) { ud2_shuts_down("emu", TV_MODE_LONG); }
END_TEST

int main(void)
{
	Suite *s = suite_create("raw_guests");
	TCase *tc = tcase_create("endings");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_endless_loop_times_out_kvm);
	tcase_add_test(tc, test_endless_loop_times_out_emu);
	tcase_add_test(tc, test_access_above_ram_is_mmio_kvm);
	tcase_add_test(tc, test_access_above_ram_is_mmio_emu);
	tcase_add_test(tc, test_ud2_protected_shuts_down_kvm);
	tcase_add_test(tc, test_ud2_protected_shuts_down_emu);
	tcase_add_test(tc, test_ud2_long_shuts_down_kvm);
	tcase_add_test(tc, test_ud2_long_shuts_down_emu);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
