/* The issue's three raw guests (issue 11), each with an interrupt table of its own: int 0x80 in
 * protected mode (and paged32), a page fault in long mode, int 0x21 in real mode. exc_raw.h
 * says how a case is written and run. */
#include "exc_raw.h"

/* ---- The issue's three guests ---- */

/* 1. Protected mode: an IDT with an int 0x80 handler that prints and irets. It runs in paged32
 * as it is (paged32 identity-maps all it touches). */
/* pm_int80 (49 bytes):
 * start:
 *   0000  mov dword [IDT+0x80*8], offset handler + 0x80000 ; gate 0x80: CS 0x08, handler
 *   000a  mov dword [IDT+0x80*8+4], 0xef00      ; P, DPL 3, 32-bit trap gate
 *   0014  lidt [idtr]
 *   001b  mov al, '<'
 *   001d  out PRINT8, al
 * int80:
 *   001f  int 0x80
 *   0021  mov al, '>'
 *   0023  out PRINT8, al
 *   0025  hlt
 * halted:
 * handler:
 *   0026  mov al, 'H'
 *   0028  out PRINT8, al
 *   002a  iretd
 *   002b  idtr: .word 0x80*8+7                  ; limit: vectors 0 to 0x80
 *   002d  .long IDT
 */
static const uint8_t pm_int80[] = {
	0xc7, 0x05, 0x00, 0x84, 0x01, 0x00, 0x26, 0x00, 0x08, 0x00,
	0xc7, 0x05, 0x04, 0x84, 0x01, 0x00, 0x00, 0xef, 0x00, 0x00,
	0x0f, 0x01, 0x1d, 0x2b, 0x00, 0x00, 0x00,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0xcd, 0x80,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0xb0, 0x48,
	0xe6, 0xe9,
	0xcf,
	0x07, 0x04,
	0x00, 0x80, 0x01, 0x00,
};
enum {
	I80_INT80 = 0x1f, I80_HALTED = 0x26, I80_HANDLER = 0x26,
};

/* 2. Long mode: a #PF handler prints CR2 (low half, high half), the error code and 'Y' if the
 * saved RIP is the faulting instruction, then resumes after it. */
/* long_pf (101 bytes):
 * start:
 *   0000  mov dword [IDT+14*16], offset pf + 0x180000 ; gate 14: CS 0x18, pf
 *   000b  mov dword [IDT+14*16+4], 0x8e00       ; P, DPL 0, 64-bit interrupt gate
 *   0016  lidt [rip+idtr]
 *   001d  mov al, '<'
 *   001f  out PRINT8, al
 *   0021  movabs rax, 0x123456789000            ; PML4 entry 0x24: not present
 * fault:
 *   002b  mov rbx, [rax]                        ; #PF
 *   002e  mov al, '>'
 *   0030  out PRINT8, al
 *   0032  hlt
 * halted:
 * pf:
 *   0033  mov rax, cr2
 *   0036  out PRINT32, eax                      ; CR2, low half
 *   0038  shr rax, 32
 *   003c  out PRINT32, eax                      ; CR2, high half
 *   003e  pop rax                               ; the error code
 *   003f  out PRINT32, eax
 *   0041  lea rcx, [rip+fault]
 *   0048  cmp [rsp], rcx                        ; the saved RIP: the faulting instruction?
 *   004c  mov al, 'N'
 *   004e  jne 1f
 *   0050  mov al, 'Y'
 *   0052  1: out PRINT8, al
 *   0054  add qword [rsp], 3                    ; resume past the 3-byte mov
 *   0059  iretq
 *   005b  idtr: .word 14*16+15
 *   005d  .quad IDT
 */
static const uint8_t long_pf[] = {
	0xc7, 0x04, 0x25, 0xe0, 0x80, 0x01, 0x00, 0x33, 0x00, 0x18, 0x00,
	0xc7, 0x04, 0x25, 0xe4, 0x80, 0x01, 0x00, 0x00, 0x8e, 0x00, 0x00,
	0x0f, 0x01, 0x1d, 0x3e, 0x00, 0x00, 0x00,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0x48, 0xb8, 0x00, 0x90, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00,
	0x48, 0x8b, 0x18,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0x0f, 0x20, 0xd0,
	0xe7, 0xea,
	0x48, 0xc1, 0xe8, 0x20,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0x48, 0x8d, 0x0d, 0xe3, 0xff, 0xff, 0xff,
	0x48, 0x39, 0x0c, 0x24,
	0xb0, 0x4e,
	0x75, 0x02,
	0xb0, 0x59,
	0xe6, 0xe9,
	0x48, 0x83, 0x04, 0x24, 0x03,
	0x48, 0xcf,
	0xef, 0x00,
	0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
};
enum {
	PF_FAULT = 0x2b, PF_HALTED = 0x33, PF_PF = 0x33,
};

/* 3. Real mode: the guest installs its own int 0x21 in its IVT; the handler prints FLAGS as it
 * finds them and the frame (IP, CS, FLAGS), then irets. IF is set before the int. */
/* real_int21 (68 bytes):
 * start:
 *   0000  mov word [IVT+0x21*4], offset handler ; vector 0x21: offset
 *   0006  mov word [IVT+0x21*4+2], 0            ; and segment
 *   000c  lidt [idtr]
 *   0011  sti
 *   0012  mov al, '<'
 *   0014  out PRINT8, al
 *   0016  int 0x21
 * after:
 *   0018  mov al, '>'
 *   001a  out PRINT8, al
 *   001c  hlt
 * halted:
 * handler:
 *   001d  pushf                                 ; FLAGS in the handler: IF and TF clear
 *   001e  mov al, 'H'
 *   0020  out PRINT8, al
 *   0022  xor eax, eax
 *   0025  pop ax
 *   0026  out PRINT32, eax
 *   0029  mov bp, sp
 *   002b  mov ax, [bp]
 *   002e  out PRINT32, eax                      ; saved IP
 *   0031  mov ax, [bp+2]
 *   0034  out PRINT32, eax                      ; saved CS
 *   0037  mov ax, [bp+4]
 *   003a  out PRINT32, eax                      ; saved FLAGS
 *   003d  iret
 *   003e  idtr: .word 0x3ff
 *   0040  .long IVT
 */
static const uint8_t real_int21[] = {
	0xc7, 0x06, 0x84, 0x10, 0x1d, 0x00,
	0xc7, 0x06, 0x86, 0x10, 0x00, 0x00,
	0x0f, 0x01, 0x1e, 0x3e, 0x00,
	0xfb,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0xcd, 0x21,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0x9c,
	0xb0, 0x48,
	0xe6, 0xe9,
	0x66, 0x31, 0xc0,
	0x58,
	0x66, 0xe7, 0xea,
	0x89, 0xe5,
	0x8b, 0x46, 0x00,
	0x66, 0xe7, 0xea,
	0x8b, 0x46, 0x02,
	0x66, 0xe7, 0xea,
	0x8b, 0x46, 0x04,
	0x66, 0xe7, 0xea,
	0xcf,
	0xff, 0x03,
	0x00, 0x10, 0x00, 0x00,
};
enum {
	R21_AFTER = 0x18, R21_HALTED = 0x1d, R21_HANDLER = 0x1d,
};

/* ---- 1. The issue's guests ---- */

/* kvm-pvm runs INT n in protected mode, and at CPL 0 in long mode, in KVM's instruction emulator,
 * which has INT n for real mode only: KVM_INTERNAL_ERROR_EMULATION on the int, here and in every
 * case of the other test_exceptions_raw_*.c files whose .pvm ends so. */
static const struct exc_case int80_protected = {
	"int80_protected", TV_MODE_PROTECTED, IMAGE(pm_int80),
	.sdm = { TV_EXIT_HLT, "<H>", { 0 }, I80_HALTED, SP },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, I80_INT80, SP },
};

/* kvm-pvm refuses paged32 (its probe says so): the KVM case skips. */
static const struct exc_case int80_paged32 = {
	"int80_paged32", TV_MODE_PAGED32, IMAGE(pm_int80),
	.sdm = { TV_EXIT_HLT, "<H>", { 0 }, I80_HALTED, SP },
};

static const struct exc_case pf_long = {
	"pf_long", TV_MODE_LONG, IMAGE(long_pf),
	.sdm = { TV_EXIT_HLT, "<###Y>", { 0x56789000, 0x1234, 0 }, PF_HALTED, SP },
};

static const struct exc_case int21_real = {
	"int21_real", TV_MODE_REAL, IMAGE(real_int21),
	.sdm = { TV_EXIT_HLT, "<H####>", { 0x2, R21_AFTER, 0, 0x202 }, R21_HALTED, SP },
};

CASE(int80_protected)
CASE(int80_paged32)
CASE(pf_long)
CASE(int21_real)

int main(void)
{
	Suite *s = suite_create("exceptions_raw_issue");
	TCase *issue = tcase_create("issue_guests");

	tcase_set_timeout(issue, 60);
	ADD(issue, int80_protected);
	ADD(issue, int80_paged32);
	ADD(issue, pf_long);
	ADD(issue, int21_real);
	suite_add_tcase(s, issue);
	return tv_test_main(s);
}
