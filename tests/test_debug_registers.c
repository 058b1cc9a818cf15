/* A guest's own debug registers. Unicorn 2.1.1 crashes the process when a guest enables a
 * breakpoint in DR7 (its breakpoint insertion empties the translation buffer under the running
 * block: measured, a SIGSEGV in generated code), so the emulator does MOV to and from DR0-DR7
 * itself (backend/emu/emu_msr.c). Each guest enables an execute breakpoint on an address it never
 * runs and reads DR0, DR7 and DR6 back; both engines must halt with what KVM's CPU gives. */
#include "run_guest.h"
#include "tv_test.h"

/* Real mode: the same as dr32 below, with the operand-size prefixes 16-bit code needs. */
static const uint8_t dr16[] = {
	0x66, 0xb8, 0x00, 0x50, 0x00, 0x00, 0x0f, 0x23, 0xc0, 0x66, 0xb8, 0x01, 0x04, 0x00,
	0x00, 0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc3, 0x0f, 0x21, 0xf9, 0x0f, 0x21, 0xf2, 0xf4,
};

/* mov eax, 0x5000; mov dr0, eax; mov eax, 0x401; mov dr7, eax;
 * mov ebx, dr0; mov ecx, dr7; mov edx, dr6; hlt */
static const uint8_t dr32[] = {
	0xb8, 0x00, 0x50, 0x00, 0x00, 0x0f, 0x23, 0xc0, 0xb8, 0x01, 0x04, 0x00, 0x00,
	0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc3, 0x0f, 0x21, 0xf9, 0x0f, 0x21, 0xf2, 0xf4,
};

/* The same in 64-bit code through REX: mov r9, 0x5000; mov dr0, r9; mov eax, 0x401;
 * mov dr7, rax; mov rbx, dr0; mov r10, dr7; mov rdx, dr6; mov rcx, r10; hlt */
static const uint8_t dr64[] = {
	0x49, 0xc7, 0xc1, 0x00, 0x50, 0x00, 0x00, 0x41, 0x0f, 0x23, 0xc1, 0xb8, 0x01, 0x04, 0x00,
	0x00, 0x0f, 0x23, 0xf8, 0x0f, 0x21, 0xc3, 0x41, 0x0f, 0x21, 0xfa, 0x0f, 0x21, 0xf2,
	0x4c, 0x89, 0xd1, 0xf4,
};

static const struct {
	enum tv_mode mode;
	const uint8_t *code;
	size_t len;
} guests[] = {
	{ TV_MODE_REAL, dr16, sizeof(dr16) },
	{ TV_MODE_PROTECTED, dr32, sizeof(dr32) },
	{ TV_MODE_LONG, dr64, sizeof(dr64) },
};
#define NGUESTS (sizeof(guests) / sizeof(guests[0]))

START_TEST(test_debug_registers_read_back_and_do_not_crash)
{
	const char *engine = _i / NGUESTS ? "kvm" : "emu";
	enum tv_mode mode = guests[_i % NGUESTS].mode;
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, mode, guests[_i % NGUESTS].code, guests[_i % NGUESTS].len);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "%s/%s: ended in %s: %s", engine,
		      tv_mode_name(mode), tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_uint_eq(t.regs.rbx, 0x5000);
	ck_assert_uint_eq(t.regs.rcx, 0x401);
	ck_assert_uint_eq(t.regs.rdx & 0xffffffffu, 0xffff0ff0u);
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("debug_registers");
	TCase *tc = tcase_create("dr");

	tcase_add_loop_test(tc, test_debug_registers_read_back_and_do_not_crash, 0, 2 * NGUESTS);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
