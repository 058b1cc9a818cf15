/* The segment-limit and non-canonical stack faults that the emulator's engine does not raise:
 * known gaps, each case holding what the SDM requires and what the emulator does instead
 * (exc_raw.h). */
#include "exc_raw.h"

/* ---- Segment limits and a non-canonical stack reference ----
 *
 * Real mode: an offset past the 64 KiB limit of SS (through EBP, whose default segment is SS) is
 * #SS, and one past the limit of DS is #GP, neither with an error code. The test writes the IVT,
 * RIDTR and RTRIGGER (t_ss or t_ds); each handler prints its vector and the saved IP and halts. */
/* real_limits (66 bytes):
 * start:
 *   0000  lidt [RIDTR]                          ; IVT, RIDTR, RTRIGGER: the test
 *   0005  mov al, '<'
 *   0007  out PRINT8, al
 *   0009  jmp word [RTRIGGER]
 * t_ss:
 *   000d  mov ebp, 0x10000
 * ss:
 *   0013  mov eax, [ebp]                        ; SS:0x10000, past the limit 0xffff: #SS
 *   0018  jmp done
 * t_ds:
 *   001a  mov ebx, 0x10000
 * ds:
 *   0020  mov eax, [ebx]                        ; DS:0x10000, past the limit 0xffff: #GP
 * done:
 *   0024  mov al, '>'
 *   0026  out PRINT8, al
 *   0028  hlt
 * halted:
 * hss:
 *   0029  mov eax, 12
 *   002f  jmp report
 * hgp:
 *   0031  mov eax, 13
 * report:
 *   0037  out PRINT32, eax                      ; the vector (no error code in real mode)
 *   003a  xor eax, eax
 *   003d  pop ax
 *   003e  out PRINT32, eax                      ; the saved IP
 *   0041  hlt
 * report_halted:
 */
static const uint8_t real_limits[] = {
	0x0f, 0x01, 0x1e, 0x00, 0x20,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0xff, 0x26, 0x10, 0x20,
	0x66, 0xbd, 0x00, 0x00, 0x01, 0x00,
	0x67, 0x66, 0x8b, 0x45, 0x00,
	0xeb, 0x0a,
	0x66, 0xbb, 0x00, 0x00, 0x01, 0x00,
	0x67, 0x66, 0x8b, 0x03,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0x66, 0xb8, 0x0c, 0x00, 0x00, 0x00,
	0xeb, 0x06,
	0x66, 0xb8, 0x0d, 0x00, 0x00, 0x00,
	0x66, 0xe7, 0xea,
	0x66, 0x31, 0xc0,
	0x58,
	0x66, 0xe7, 0xea,
	0xf4,
};
enum {
	RL_T_SS = 0xd, RL_SS = 0x13, RL_T_DS = 0x1a, RL_DS = 0x20, RL_HALTED = 0x29, RL_HSS = 0x29,
	RL_HGP = 0x31, RL_REPORT_HALTED = 0x42,
};

/* Long mode: a non-canonical address through RBP is a stack reference, #SS(0). The test writes
 * the IDT, IDTR and TRIGGER (t_ss); each handler prints its vector, the error code and the saved
 * RIP, and halts. */
/* long_noncanonical (58 bytes):
 * start:
 *   0000  lidt [IDTR]                           ; IDT, IDTR, TRIGGER: the test
 *   0008  mov al, '<'
 *   000a  out PRINT8, al
 *   000c  jmp qword [TRIGGER]
 * t_ss:
 *   0013  mov rbp, 0x8000000000000000           ; not canonical
 * ss:
 *   001d  mov eax, [rbp]                        ; #SS(0)
 *   0020  mov al, '>'
 *   0022  out PRINT8, al
 *   0024  hlt
 * halted:
 * hss:
 *   0025  mov eax, 12
 *   002a  jmp report
 * hgp:
 *   002c  mov eax, 13
 * report:
 *   0031  out PRINT32, eax                      ; the vector
 *   0033  pop rax
 *   0034  out PRINT32, eax                      ; the error code
 *   0036  pop rax
 *   0037  out PRINT32, eax                      ; the saved RIP
 *   0039  hlt
 * report_halted:
 */
static const uint8_t long_noncanonical[] = {
	0x0f, 0x01, 0x1c, 0x25, 0x00, 0x90, 0x01, 0x00,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0xff, 0x24, 0x25, 0x10, 0x90, 0x01, 0x00,
	0x48, 0xbd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
	0x8b, 0x45, 0x00,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0xb8, 0x0c, 0x00, 0x00, 0x00,
	0xeb, 0x05,
	0xb8, 0x0d, 0x00, 0x00, 0x00,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0xf4,
};
enum {
	LNC_T_SS = 0x13, LNC_SS = 0x1d, LNC_HALTED = 0x25, LNC_HSS = 0x25, LNC_HGP = 0x2c,
	LNC_REPORT_HALTED = 0x3a,
};

/* ---- 6. Segment limits and non-canonical stack references: known gaps of the emulator ----
 *
 * KVM (kvm-pvm too) ends these as the SDM says; the emulator's engine, QEMU's TCG, does not. */

/* TCG checks no segment limit: the read at SS:0x10000 just happens and the image runs on. */
static const struct exc_case ss_limit_real = {
	"ss_limit_real", TV_MODE_REAL, IMAGE(real_limits), true, 0x3ff, RL_T_SS,
	{ { 12, RL_HSS }, { 13, RL_HGP } },
	.sdm = { TV_EXIT_HLT, "<##", { 12, RL_SS }, RL_REPORT_HALTED, SP - 4 },
	.emu_gap = { TV_EXIT_HLT, "<>", { 0 }, RL_HALTED, SP },
};

/* The same for DS: no #GP. */
static const struct exc_case ds_limit_real = {
	"ds_limit_real", TV_MODE_REAL, IMAGE(real_limits), true, 0x3ff, RL_T_DS,
	{ { 12, RL_HSS }, { 13, RL_HGP } },
	.sdm = { TV_EXIT_HLT, "<##", { 13, RL_DS }, RL_REPORT_HALTED, SP - 4 },
	.emu_gap = { TV_EXIT_HLT, "<>", { 0 }, RL_HALTED, SP },
};

/* TCG raises #GP(0) for every non-canonical address, a stack reference too; the emulator
 * makes it #SS(0) (backend/emu/emu_fault.c), so this one is no gap any more: both engines as
 * the SDM says. */
static const struct exc_case ss_noncanonical_long = {
	"ss_noncanonical_long", TV_MODE_LONG, IMAGE(long_noncanonical), true, 0xfff, LNC_T_SS,
	{ { 12, LNC_HSS, P | INT }, { 13, LNC_HGP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 12, 0, LNC_SS }, LNC_REPORT_HALTED, SP - 32 },
};

CASE(ss_limit_real)
CASE(ds_limit_real)
CASE(ss_noncanonical_long)

int main(void)
{
	Suite *s = suite_create("exceptions_raw_gaps");
	TCase *gaps = tcase_create("engine_gaps");

	tcase_set_timeout(gaps, 60);
	ADD(gaps, ss_limit_real);
	ADD(gaps, ds_limit_real);
	ADD(gaps, ss_noncanonical_long);
	suite_add_tcase(s, gaps);
	return tv_test_main(s);
}
