/* Where Unicorn 2.1.1 does not behave as the CPU and the emulator corrects it (backend/emu/
 * emu_msr.c's sites; kvm-unit-tests' emulator test found each): MOV to and from CR8 keeps the
 * value (Unicorn without an APIC reads 0), MOVAPS of an unaligned operand is #GP(0) (Unicorn
 * does not check), MOVBE with a register operand is #UD (Unicorn runs it as a move), SMSW with a
 * 32-bit operand gives all of CR0 (Unicorn: its low 16 bits), and RF loaded by IRET does not
 * stay set (Unicorn keeps it, and PUSHF then pushes it). */
#include "run_guest.h"
#include "tv_test.h"

/* Long mode: mov eax, 3; mov cr8, rax; mov rbx, cr8; lea rcx, [rip + buf]; movaps xmm0, [rcx];
 * movaps [rcx + 16], xmm0 (both aligned); mov edx, 0x11; movaps xmm1, [rcx + 1] (#GP(0));
 * mov edx, 0x22; hlt; buf: 48 bytes at a 16-byte boundary. No IDT: the #GP shuts down. */
static const uint8_t cr8_movaps[96] = {
	0xb8, 0x03, 0x00, 0x00, 0x00, 0x44, 0x0f, 0x22, 0xc0, 0x44, 0x0f, 0x20,
	0xc3, 0x48, 0x8d, 0x0d, 0x1c, 0x00, 0x00, 0x00, 0x0f, 0x28, 0x01, 0x0f,
	0x29, 0x41, 0x10, 0xba, 0x11, 0x00, 0x00, 0x00, 0x0f, 0x28, 0x49, 0x01,
	0xba, 0x22, 0x00, 0x00, 0x00, 0xf4, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,
};

/* Long mode: mov edx, 0x11; movbe eax, eax (0F 38 F0 C0: #UD); mov edx, 0x22; hlt */
static const uint8_t movbe_reg[] = {
	0xba, 0x11, 0x00, 0x00, 0x00, 0x0f, 0x38, 0xf0, 0xc0, 0xba, 0x22, 0x00, 0x00, 0x00, 0xf4,
};

/* Real mode: mov ebx, cr0; mov ecx, ebx; or ebx, 0x40000000 (CD); mov cr0, ebx; smsw eax;
 * mov edx, cr0; mov cr0, ecx; hlt */
static const uint8_t smsw32[] = {
	0x0f, 0x20, 0xc3, 0x66, 0x89, 0xd9, 0x66, 0x81, 0xcb, 0x00, 0x00, 0x00, 0x40, 0x0f,
	0x22, 0xc3, 0x66, 0x0f, 0x01, 0xe0, 0x0f, 0x20, 0xc2, 0x0f, 0x22, 0xc1, 0xf4,
};

/* Real mode, realmode.flat's "rflags.rf": pushfd; pop eax; and eax, ~2; or eax, 0xffc18028
 * (RF among them); push eax; push cs; call 1f; jmp 2f; 1: iretd; 2: pushfd; pop ebx; hlt */
static const uint8_t iret_rf[] = {
	0x66, 0x9c, 0x66, 0x58, 0x66, 0x83, 0xe0, 0xfd, 0x66, 0x0d, 0x28, 0x80, 0xc1, 0xff,
	0x66, 0x50, 0x66, 0x0e, 0x66, 0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x02, 0x66, 0xcf,
	0x66, 0x9c, 0x66, 0x5b, 0xf4,
};

/* The real-mode guests end at their HLT. */
static void expect_hlt(const struct tv_test_run *t, const char *engine)
{
	ck_assert_msg(t->last.reason == TV_EXIT_HLT, "%s: ended in %s: %s", engine,
		      tv_exit_reason_name(t->last.reason), t->last.detail);
}

START_TEST(test_smsw_gives_all_of_cr0)
{
	const char *engine = _i ? "kvm" : "emu";
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, TV_MODE_REAL, smsw32, sizeof(smsw32));
	expect_hlt(&t, engine);
	ck_assert_uint_eq(t.regs.rdx & 0xffffffffu, 0x40000010u);
	ck_assert_msg((t.regs.rax & 0xffffffffu) == 0x40000010u, "%s: SMSW gave %#llx", engine,
		      (unsigned long long)t.regs.rax);
	tv_test_run_end(&t);
}
END_TEST

START_TEST(test_rf_loaded_by_iret_is_not_pushed)
{
	const char *engine = _i ? "kvm" : "emu";
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, TV_MODE_REAL, iret_rf, sizeof(iret_rf));
	expect_hlt(&t, engine);
	ck_assert_msg(!(t.regs.rbx & (1u << 16)), "%s: PUSHFD after IRET pushed RF (%#llx)",
		      engine, (unsigned long long)t.regs.rbx);
	tv_test_run_end(&t);
}
END_TEST

/* Both engines: CR8 reads back 3, the aligned MOVAPS run, the unaligned one faults. */
START_TEST(test_cr8_keeps_its_value_and_unaligned_movaps_faults)
{
	const char *engine = _i ? "kvm" : "emu";
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, TV_MODE_LONG, cr8_movaps, sizeof(cr8_movaps));
	ck_assert_msg(t.last.reason == TV_EXIT_SHUTDOWN, "%s: ended in %s", engine,
		      tv_exit_reason_name(t.last.reason));
	ck_assert_uint_eq(t.regs.rbx, 3);
	ck_assert_msg(t.regs.rdx == 0x11, "%s: RDX %#llx: the unaligned MOVAPS %s", engine,
		      (unsigned long long)t.regs.rdx, t.regs.rdx == 0x22 ? "ran" : "was not reached");
	if (t.last.exception >= 0) /* the emulator says which; KVM does not */
		ck_assert_int_eq(t.last.exception, 13);
	tv_test_run_end(&t);
}
END_TEST

/* The emulator only: this host's KVM (kvm-pvm) cannot emulate the instruction at all and ends in
 * KVM_INTERNAL_ERROR_EMULATION, a CPU gives #UD. */
START_TEST(test_movbe_with_a_register_is_ud_on_the_emulator)
{
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, "emu", TV_MODE_LONG, movbe_reg, sizeof(movbe_reg));
	ck_assert_msg(t.last.reason == TV_EXIT_SHUTDOWN && t.last.exception == 6,
		      "ended in %s, exception %d: %s", tv_exit_reason_name(t.last.reason),
		      t.last.exception, t.last.detail);
	ck_assert_uint_eq(t.regs.rdx, 0x11);
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpu_corrections");
	TCase *tc = tcase_create("corrections");

	tcase_add_loop_test(tc, test_cr8_keeps_its_value_and_unaligned_movaps_faults, 0, 2);
	tcase_add_test(tc, test_movbe_with_a_register_is_ud_on_the_emulator);
	tcase_add_loop_test(tc, test_smsw_gives_all_of_cr0, 0, 2);
	tcase_add_loop_test(tc, test_rf_loaded_by_iret_is_not_pushed, 0, 2);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
