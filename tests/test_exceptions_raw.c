/* Exceptions and interrupts that raw guests take through their own interrupt tables (issue 11):
 * the issue's three guests, a fault while delivering a fault (#DF), a fault while delivering #DF
 * (SHUTDOWN), handlers at CPL 0 for code at CPL 3 (the TSS stack), an IST stack, tables that
 * are missing, too short or hold a gate that is not present, and the segment-limit and
 * non-canonical stack faults that the emulator's engine does not raise.
 *
 * Each case states what the SDM says the CPU does, and the emulator must end exactly so, except
 * where a case records a known gap of its engine, QEMU's TCG (.emu_gap, with the reason beside
 * it). KVM runs each case too: any KVM must end as the SDM says, except this host's kvm-pvm where
 * a case records what it does instead (.pvm, with the reason beside it). The README's engine
 * differences list both. Which KVM it is comes from the kernel's module list, not from the
 * outcome.
 *
 * The images print with PRINT8 (port 0xE9: AL as a character) and PRINT32 (0xEA: EAX in decimal,
 * then a newline). In an expected console below, each '#' stands for the next number of the
 * case's list, printed as PRINT32 prints it.
 *
 * The SDM's rules the cases rely on (Intel SDM vol. 3A, chapter 6 and the INT n pseudocode):
 * - a gate past the IDT's limit gives #GP(vector * 8 + 2 + EXT), a gate that is not present
 *   #NP(vector * 8 + 2 + EXT); EXT is 1 while delivering an exception, 0 for INT n. In real mode
 *   a vector past IDTR.limit gives #GP, with no error code.
 * - while delivering a contributory exception (#DE, #TS, #NP, #SS, #GP) or #PF, a contributory
 *   one is #DF (error code 0); so is #PF while delivering #PF. After a benign one (#UD) or INT n
 *   the second is delivered as itself. A fault while delivering #DF shuts the CPU down.
 * - a fault pushes the faulting instruction's address and sets RF in the pushed RFLAGS; a trap or
 *   INT n pushes the next instruction's. An interrupt gate clears IF, a trap gate keeps it; both
 *   clear TF, NT and RF in the handler.
 * - from CPL 3, the handler's stack is SS0:ESP0 (RSP0 with SS the null selector in long mode) of
 *   the TSS, and SS:ESP of CPL 3 are pushed; in long mode SS:RSP are pushed always, RSP is
 *   aligned down to 16 first, and a gate with IST n takes RSP from the TSS's ISTn. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "run_guest.h"
#include "tv_test.h"

/* Memory the images use, all free in twinvm's layout (core/guest/layout.h), and the hypercall ports. */
enum {
	IDT = 0x18000,     /* protected and long mode: the interrupt descriptor table */
	IDTR = 0x19000,    /* its pseudo-descriptor, for the images whose tables the test writes */
	TRIGGER = 0x19010, /* where those images jump after lidt: the fault they take */
	TSS = 0x19100,
	IVT = 0x1000,      /* real mode: the interrupt vector table (the image sits at 0) */
	RIDTR = 0x2000,
	RTRIGGER = 0x2010,
	PRINT8 = 0xe9,
	PRINT32 = 0xea,
};

/* Gate attributes: the high word of a gate's second dword. INT and TRAP are 32-bit gates in
 * protected mode and 64-bit ones in long mode. A gate without P is one that is not present. */
enum { P = 0x8000, DPL3 = 0x6000, INT = 0x0e00, TRAP = 0x0f00 };

#define SP TV_STACK_TOP
/* A register not checked: RSP after SHUTDOWN. (RIP is: on the instruction whose exception could
 * not be delivered, where KVM leaves it, as in tests/test_raw_guests.c.) */
#define ANY UINT64_MAX

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

/* ---- Images whose tables the test writes ----
 *
 * Each loads IDTR (RIDTR) from the descriptor the test wrote, prints '<' and jumps to the
 * trigger the test chose: an instruction that takes one exception. Its handlers print their
 * vector, the error code and the saved RIP, then halt; h80 (h21) prints 'H' and returns. */
/* pm_faults (73 bytes):
 * start:
 *   0000  lidt [IDTR]                           ; IDT, IDTR and TRIGGER: the test
 *   0007  mov al, '<'
 *   0009  out PRINT8, al
 *   000b  jmp dword [TRIGGER]
 * t_int80:
 *   0011  int 0x80
 *   0013  jmp done
 * t_ud:
 *   0015  ud2
 *   0017  jmp done
 * t_gp:
 *   0019  mov ax, 0x28                          ; past the GDT's limit
 * gp:
 *   001d  mov ds, ax                            ; #GP(0x28)
 * done:
 *   001f  mov al, '>'
 *   0021  out PRINT8, al
 *   0023  hlt
 * halted:
 * h80:
 *   0024  mov al, 'H'
 *   0026  out PRINT8, al
 *   0028  iretd
 * hdf:
 *   0029  mov eax, 8
 *   002e  out PRINT32, eax                      ; the vector
 *   0030  pop eax
 *   0031  out PRINT32, eax                      ; the error code (the saved EIP is undefined)
 *   0033  hlt
 * df_halted:
 * hnp:
 *   0034  mov eax, 11
 *   0039  jmp report
 * hgp:
 *   003b  mov eax, 13
 * report:
 *   0040  out PRINT32, eax                      ; the vector
 *   0042  pop eax
 *   0043  out PRINT32, eax                      ; the error code
 *   0045  pop eax
 *   0046  out PRINT32, eax                      ; the saved EIP
 *   0048  hlt
 * report_halted:
 */
static const uint8_t pm_faults[] = {
	0x0f, 0x01, 0x1d, 0x00, 0x90, 0x01, 0x00,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0xff, 0x25, 0x10, 0x90, 0x01, 0x00,
	0xcd, 0x80,
	0xeb, 0x0a,
	0x0f, 0x0b,
	0xeb, 0x06,
	0x66, 0xb8, 0x28, 0x00,
	0x8e, 0xd8,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0xb0, 0x48,
	0xe6, 0xe9,
	0xcf,
	0xb8, 0x08, 0x00, 0x00, 0x00,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0xf4,
	0xb8, 0x0b, 0x00, 0x00, 0x00,
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
	PMF_T_INT80 = 0x11, PMF_T_UD = 0x15, PMF_T_GP = 0x19, PMF_GP = 0x1d, PMF_DONE = 0x1f,
	PMF_HALTED = 0x24, PMF_H80 = 0x24, PMF_HDF = 0x29, PMF_DF_HALTED = 0x34, PMF_HNP = 0x34,
	PMF_HGP = 0x3b, PMF_REPORT = 0x40, PMF_REPORT_HALTED = 0x49,
};

/* long_faults (91 bytes):
 * start:
 *   0000  lidt [IDTR]                           ; IDT, IDTR and TRIGGER: the test
 *   0008  mov al, '<'
 *   000a  out PRINT8, al
 *   000c  jmp qword [TRIGGER]
 * t_int80:
 *   0013  int 0x80
 *   0015  jmp done
 * t_ud:
 *   0017  ud2
 *   0019  jmp done
 * t_gp:
 *   001b  mov ax, 0x28                          ; past the GDT's limit
 * gp:
 *   001f  mov ds, ax                            ; #GP(0x28)
 *   0021  jmp done
 * t_pf:
 *   0023  movabs rax, 0x123456789000            ; PML4 entry 0x24: not present
 * pf:
 *   002d  mov rbx, [rax]                        ; #PF
 * done:
 *   0030  mov al, '>'
 *   0032  out PRINT8, al
 *   0034  hlt
 * halted:
 * h80:
 *   0035  mov al, 'H'
 *   0037  out PRINT8, al
 *   0039  iretq
 * hdf:
 *   003b  mov eax, 8
 *   0040  out PRINT32, eax                      ; the vector
 *   0042  pop rax
 *   0043  out PRINT32, eax                      ; the error code (the saved RIP is undefined)
 *   0045  hlt
 * df_halted:
 * hnp:
 *   0046  mov eax, 11
 *   004b  jmp report
 * hgp:
 *   004d  mov eax, 13
 * report:
 *   0052  out PRINT32, eax                      ; the vector
 *   0054  pop rax
 *   0055  out PRINT32, eax                      ; the error code
 *   0057  pop rax
 *   0058  out PRINT32, eax                      ; the saved RIP
 *   005a  hlt
 * report_halted:
 */
static const uint8_t long_faults[] = {
	0x0f, 0x01, 0x1c, 0x25, 0x00, 0x90, 0x01, 0x00,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0xff, 0x24, 0x25, 0x10, 0x90, 0x01, 0x00,
	0xcd, 0x80,
	0xeb, 0x19,
	0x0f, 0x0b,
	0xeb, 0x15,
	0x66, 0xb8, 0x28, 0x00,
	0x8e, 0xd8,
	0xeb, 0x0d,
	0x48, 0xb8, 0x00, 0x90, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00,
	0x48, 0x8b, 0x18,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0xb0, 0x48,
	0xe6, 0xe9,
	0x48, 0xcf,
	0xb8, 0x08, 0x00, 0x00, 0x00,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0xf4,
	0xb8, 0x0b, 0x00, 0x00, 0x00,
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
	LMF_T_INT80 = 0x13, LMF_T_UD = 0x17, LMF_T_GP = 0x1b, LMF_GP = 0x1f, LMF_T_PF = 0x23,
	LMF_PF = 0x2d, LMF_DONE = 0x30, LMF_HALTED = 0x35, LMF_H80 = 0x35, LMF_HDF = 0x3b,
	LMF_DF_HALTED = 0x46, LMF_HNP = 0x46, LMF_HGP = 0x4d, LMF_REPORT = 0x52,
	LMF_REPORT_HALTED = 0x5b,
};

/* real_faults (64 bytes):
 * start:
 *   0000  lidt [RIDTR]                          ; IVT, RIDTR, RTRIGGER: the test
 *   0005  mov al, '<'
 *   0007  out PRINT8, al
 *   0009  jmp word [RTRIGGER]
 * t_int21:
 *   000d  int 0x21
 *   000f  jmp done
 * t_ud:
 *   0011  ud2
 * done:
 *   0013  mov al, '>'
 *   0015  out PRINT8, al
 *   0017  hlt
 * halted:
 * h21:
 *   0018  mov al, 'H'
 *   001a  out PRINT8, al
 *   001c  iret
 * hud:
 *   001d  mov eax, 6
 *   0023  jmp report
 * hgp:
 *   0025  mov eax, 13
 * report:
 *   002b  out PRINT32, eax                      ; the vector (no error code in real mode)
 *   002e  xor eax, eax
 *   0031  pop ax
 *   0032  out PRINT32, eax                      ; the saved IP
 *   0035  hlt
 * report_halted:
 * hdf:
 *   0036  mov eax, 8
 *   003c  out PRINT32, eax                      ; the vector
 *   003f  hlt
 * df_halted:
 */
static const uint8_t real_faults[] = {
	0x0f, 0x01, 0x1e, 0x00, 0x20,
	0xb0, 0x3c,
	0xe6, 0xe9,
	0xff, 0x26, 0x10, 0x20,
	0xcd, 0x21,
	0xeb, 0x02,
	0x0f, 0x0b,
	0xb0, 0x3e,
	0xe6, 0xe9,
	0xf4,
	0xb0, 0x48,
	0xe6, 0xe9,
	0xcf,
	0x66, 0xb8, 0x06, 0x00, 0x00, 0x00,
	0xeb, 0x06,
	0x66, 0xb8, 0x0d, 0x00, 0x00, 0x00,
	0x66, 0xe7, 0xea,
	0x66, 0x31, 0xc0,
	0x58,
	0x66, 0xe7, 0xea,
	0xf4,
	0x66, 0xb8, 0x08, 0x00, 0x00, 0x00,
	0x66, 0xe7, 0xea,
	0xf4,
};
enum {
	RMF_T_INT21 = 0xd, RMF_T_UD = 0x11, RMF_DONE = 0x13, RMF_HALTED = 0x18, RMF_H21 = 0x18,
	RMF_HUD = 0x1d, RMF_HGP = 0x25, RMF_REPORT = 0x2b, RMF_REPORT_HALTED = 0x36,
	RMF_HDF = 0x36, RMF_DF_HALTED = 0x40,
};

/* ---- CPL 3 ----
 *
 * The image builds a GDT with code and data at DPL 3 and a TSS, loads TR, and irets to CPL 3
 * with IOPL 3 (so that out works there) and IF set. At CPL 3: ud2 (#UD through a DPL-0 interrupt
 * gate: gate DPL does not apply to exceptions), whose handler prints where it runs and the frame,
 * then returns past the ud2; int 0x80 (a DPL-3 gate), whose handler prints ESP; and hlt, which is
 * #GP(0) at CPL 3, through a trap gate whose handler prints EFLAGS, the error code and the EIP,
 * and halts. */
/* pm_cpl3 (262 bytes):
 * start:
 *   0000  lgdt [gdtr]
 *   0007  mov dword [TSS+4], ESP0               ; ESP0
 *   0011  mov dword [TSS+8], 0x10               ; SS0
 *   001b  mov ax, 0x28                          ; the TSS
 *   001f  ltr ax
 *   0022  mov dword [IDT+6*8], offset hud + 0x80000 ; gate 6 (#UD): CS 0x08, hud
 *   002c  mov dword [IDT+6*8+4], 0x8e00         ; P, DPL 0, 32-bit interrupt gate
 *   0036  mov dword [IDT+13*8], offset hgp + 0x80000 ; gate 13 (#GP): CS 0x08, hgp
 *   0040  mov dword [IDT+13*8+4], 0x8f00        ; P, DPL 0, 32-bit trap gate
 *   004a  mov dword [IDT+0x80*8], offset h80 + 0x80000 ; gate 0x80: CS 0x08, h80
 *   0054  mov dword [IDT+0x80*8+4], 0xee00      ; P, DPL 3, 32-bit interrupt gate
 *   005e  lidt [idtr]
 *   0065  push 0x23                             ; SS: user data, RPL 3
 *   0067  push USER_ESP
 *   006c  push 0x3202                           ; EFLAGS: IOPL 3 (out at CPL 3), IF
 *   0071  push 0x1b                             ; CS: user code, RPL 3
 *   0073  push offset user
 * to_user:
 *   0078  iretd
 * user:
 *   0079  mov al, 'u'
 *   007b  out PRINT8, al
 * user_ud:
 *   007d  ud2                                   ; #UD at CPL 3
 *   007f  mov al, 'v'
 *   0081  out PRINT8, al
 *   0083  int 0x80
 *   0085  mov al, 'w'
 *   0087  out PRINT8, al
 * user_hlt:
 *   0089  hlt                                   ; #GP(0) at CPL 3
 * hud:
 *   008a  mov eax, esp
 *   008c  out PRINT32, eax                      ; ESP0 less the 20-byte frame
 *   008e  mov eax, ss
 *   0090  out PRINT32, eax                      ; SS0
 *   0092  pushfd
 *   0093  pop eax
 *   0094  out PRINT32, eax                      ; EFLAGS: IF clear
 *   0096  mov eax, [esp]
 *   0099  out PRINT32, eax                      ; EIP: user_ud
 *   009b  movzx eax, word [esp+4]
 *   00a0  out PRINT32, eax                      ; CS
 *   00a2  mov eax, [esp+8]
 *   00a6  out PRINT32, eax                      ; EFLAGS
 *   00a8  mov eax, [esp+12]
 *   00ac  out PRINT32, eax                      ; ESP
 *   00ae  movzx eax, word [esp+16]
 *   00b3  out PRINT32, eax                      ; SS
 *   00b5  add dword [esp], 2                    ; past the ud2
 *   00b9  iretd
 * h80:
 *   00ba  mov eax, esp
 *   00bc  out PRINT32, eax                      ; ESP0 less the frame again
 *   00be  iretd
 * hgp:
 *   00bf  pushfd
 *   00c0  pop eax
 *   00c1  out PRINT32, eax                      ; EFLAGS: IF kept by a trap gate
 *   00c3  pop eax
 *   00c4  out PRINT32, eax                      ; the error code
 *   00c6  pop eax
 *   00c7  out PRINT32, eax                      ; EIP: user_hlt
 *   00c9  hlt
 * halted:
 *   00ca  idtr: .word 0x80*8+7
 *   00cc  .long IDT
 *   00d0  gdtr: .word gdt_end - gdt - 1
 *   00d2  .long gdt
 *   00d6  gdt: .quad 0
 *   00de  .quad 0x00cf9b000000ffff              ; 0x08 code, DPL 0
 *   00e6  .quad 0x00cf93000000ffff              ; 0x10 data, DPL 0
 *   00ee  .quad 0x00cffb000000ffff              ; 0x18 code, DPL 3
 *   00f6  .quad 0x00cff3000000ffff              ; 0x20 data, DPL 3
 *   00fe  .quad 0x0000890191000067              ; 0x28 TSS at 0x19100, limit 0x67
 * gdt_end:
 */
static const uint8_t pm_cpl3[] = {
	0x0f, 0x01, 0x15, 0xd0, 0x00, 0x00, 0x00,
	0xc7, 0x05, 0x04, 0x91, 0x01, 0x00, 0x00, 0x90, 0x00, 0x00,
	0xc7, 0x05, 0x08, 0x91, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00,
	0x66, 0xb8, 0x28, 0x00,
	0x0f, 0x00, 0xd8,
	0xc7, 0x05, 0x30, 0x80, 0x01, 0x00, 0x8a, 0x00, 0x08, 0x00,
	0xc7, 0x05, 0x34, 0x80, 0x01, 0x00, 0x00, 0x8e, 0x00, 0x00,
	0xc7, 0x05, 0x68, 0x80, 0x01, 0x00, 0xbf, 0x00, 0x08, 0x00,
	0xc7, 0x05, 0x6c, 0x80, 0x01, 0x00, 0x00, 0x8f, 0x00, 0x00,
	0xc7, 0x05, 0x00, 0x84, 0x01, 0x00, 0xba, 0x00, 0x08, 0x00,
	0xc7, 0x05, 0x04, 0x84, 0x01, 0x00, 0x00, 0xee, 0x00, 0x00,
	0x0f, 0x01, 0x1d, 0xca, 0x00, 0x00, 0x00,
	0x6a, 0x23,
	0x68, 0x00, 0x70, 0x00, 0x00,
	0x68, 0x02, 0x32, 0x00, 0x00,
	0x6a, 0x1b,
	0x68, 0x79, 0x00, 0x00, 0x00,
	0xcf,
	0xb0, 0x75,
	0xe6, 0xe9,
	0x0f, 0x0b,
	0xb0, 0x76,
	0xe6, 0xe9,
	0xcd, 0x80,
	0xb0, 0x77,
	0xe6, 0xe9,
	0xf4,
	0x89, 0xe0,
	0xe7, 0xea,
	0x8c, 0xd0,
	0xe7, 0xea,
	0x9c,
	0x58,
	0xe7, 0xea,
	0x8b, 0x04, 0x24,
	0xe7, 0xea,
	0x0f, 0xb7, 0x44, 0x24, 0x04,
	0xe7, 0xea,
	0x8b, 0x44, 0x24, 0x08,
	0xe7, 0xea,
	0x8b, 0x44, 0x24, 0x0c,
	0xe7, 0xea,
	0x0f, 0xb7, 0x44, 0x24, 0x10,
	0xe7, 0xea,
	0x83, 0x04, 0x24, 0x02,
	0xcf,
	0x89, 0xe0,
	0xe7, 0xea,
	0xcf,
	0x9c,
	0x58,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0xf4,
	0x07, 0x04,
	0x00, 0x80, 0x01, 0x00,
	0x2f, 0x00,
	0xd6, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0xfb, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0xf3, 0xcf, 0x00,
	0x67, 0x00, 0x00, 0x91, 0x01, 0x89, 0x00, 0x00,
};
enum {
	PM3_TO_USER = 0x78, PM3_USER = 0x79, PM3_USER_UD = 0x7d, PM3_USER_HLT = 0x89,
	PM3_HUD = 0x8a, PM3_H80 = 0xba, PM3_HGP = 0xbf, PM3_HALTED = 0xca,
};

/* The same in long mode. The image also sets U/S in the first PML4, PDPT and PD entries, which
 * map the first 2 MiB, so that CPL 3 may run there. */
/* long_cpl3 (322 bytes):
 * start:
 *   0000  or dword [0x12000], 4                 ; U/S: CPL 3 may use the first 2 MiB
 *   0008  or dword [0x13000], 4
 *   0010  or dword [0x14000], 4
 *   0018  mov rax, cr3
 *   001b  mov cr3, rax
 *   001e  lgdt [rip+gdtr]
 *   0025  mov dword [TSS+4], RSP0               ; RSP0 (its high half is 0)
 *   0030  mov ax, 0x30                          ; the TSS
 *   0034  ltr ax
 *   0037  mov dword [IDT+6*16], offset hud + 0x180000 ; gate 6 (#UD): CS 0x18, hud
 *   0042  mov dword [IDT+6*16+4], 0x8e00        ; P, DPL 0, 64-bit interrupt gate
 *   004d  mov dword [IDT+13*16], offset hgp + 0x180000 ; gate 13 (#GP): CS 0x18, hgp
 *   0058  mov dword [IDT+13*16+4], 0x8f00       ; P, DPL 0, 64-bit trap gate
 *   0063  mov dword [IDT+0x80*16], offset h80 + 0x180000 ; gate 0x80: CS 0x18, h80
 *   006e  mov dword [IDT+0x80*16+4], 0xee00     ; P, DPL 3, 64-bit interrupt gate
 *   0079  lidt [rip+idtr]
 *   0080  push 0x23                             ; SS: user data, RPL 3
 *   0082  push USER_RSP
 *   0087  push 0x3202                           ; RFLAGS: IOPL 3 (out at CPL 3), IF
 *   008c  push 0x2b                             ; CS: user code, RPL 3
 *   008e  push offset user
 * to_user:
 *   0093  iretq
 * user:
 *   0095  mov al, 'u'
 *   0097  out PRINT8, al
 * user_ud:
 *   0099  ud2                                   ; #UD at CPL 3
 *   009b  mov al, 'v'
 *   009d  out PRINT8, al
 * user_int:
 *   009f  int 0x80
 *   00a1  mov al, 'w'
 *   00a3  out PRINT8, al
 * user_hlt:
 *   00a5  hlt                                   ; #GP(0) at CPL 3
 * hud:
 *   00a6  mov rax, rsp
 *   00a9  out PRINT32, eax                      ; RSP0 less the 40-byte frame
 *   00ab  mov eax, ss
 *   00ad  out PRINT32, eax                      ; SS: the null selector
 *   00af  pushfq
 *   00b0  pop rax
 *   00b1  out PRINT32, eax                      ; RFLAGS: IF clear
 *   00b3  mov rax, [rsp]
 *   00b7  out PRINT32, eax                      ; RIP: user_ud
 *   00b9  mov rax, [rsp+8]
 *   00be  out PRINT32, eax                      ; CS
 *   00c0  mov rax, [rsp+16]
 *   00c5  out PRINT32, eax                      ; RFLAGS
 *   00c7  mov rax, [rsp+24]
 *   00cc  out PRINT32, eax                      ; RSP (not aligned to 16)
 *   00ce  mov rax, [rsp+32]
 *   00d3  out PRINT32, eax                      ; SS
 *   00d5  add qword [rsp], 2                    ; past the ud2
 *   00da  iretq
 * h80:
 *   00dc  mov rax, rsp
 *   00df  out PRINT32, eax                      ; RSP0 less the frame again
 *   00e1  iretq
 * hgp:
 *   00e3  pushfq
 *   00e4  pop rax
 *   00e5  out PRINT32, eax                      ; RFLAGS: IF kept by a trap gate
 *   00e7  pop rax
 *   00e8  out PRINT32, eax                      ; the error code
 *   00ea  pop rax
 *   00eb  out PRINT32, eax                      ; RIP: user_hlt
 *   00ed  hlt
 * halted:
 *   00ee  idtr: .word 0x80*16+15
 *   00f0  .quad IDT
 *   00f8  gdtr: .word gdt_end - gdt - 1
 *   00fa  .quad gdt
 *   0102  gdt: .quad 0
 *   010a  .quad 0x00cf9b000000ffff              ; 0x08 code, DPL 0 (unused here)
 *   0112  .quad 0x00cf93000000ffff              ; 0x10 data, DPL 0
 *   011a  .quad 0x00af9b000000ffff              ; 0x18 64-bit code, DPL 0
 *   0122  .quad 0x00cff3000000ffff              ; 0x20 data, DPL 3
 *   012a  .quad 0x00affb000000ffff              ; 0x28 64-bit code, DPL 3
 *   0132  .quad 0x0000890191000067              ; 0x30 TSS at 0x19100, limit 0x67 (16 bytes)
 *   013a  .quad 0
 * gdt_end:
 */
static const uint8_t long_cpl3[] = {
	0x83, 0x0c, 0x25, 0x00, 0x20, 0x01, 0x00, 0x04,
	0x83, 0x0c, 0x25, 0x00, 0x30, 0x01, 0x00, 0x04,
	0x83, 0x0c, 0x25, 0x00, 0x40, 0x01, 0x00, 0x04,
	0x0f, 0x20, 0xd8,
	0x0f, 0x22, 0xd8,
	0x0f, 0x01, 0x15, 0xd3, 0x00, 0x00, 0x00,
	0xc7, 0x04, 0x25, 0x04, 0x91, 0x01, 0x00, 0x00, 0x90, 0x00, 0x00,
	0x66, 0xb8, 0x30, 0x00,
	0x0f, 0x00, 0xd8,
	0xc7, 0x04, 0x25, 0x60, 0x80, 0x01, 0x00, 0xa6, 0x00, 0x18, 0x00,
	0xc7, 0x04, 0x25, 0x64, 0x80, 0x01, 0x00, 0x00, 0x8e, 0x00, 0x00,
	0xc7, 0x04, 0x25, 0xd0, 0x80, 0x01, 0x00, 0xe3, 0x00, 0x18, 0x00,
	0xc7, 0x04, 0x25, 0xd4, 0x80, 0x01, 0x00, 0x00, 0x8f, 0x00, 0x00,
	0xc7, 0x04, 0x25, 0x00, 0x88, 0x01, 0x00, 0xdc, 0x00, 0x18, 0x00,
	0xc7, 0x04, 0x25, 0x04, 0x88, 0x01, 0x00, 0x00, 0xee, 0x00, 0x00,
	0x0f, 0x01, 0x1d, 0x6e, 0x00, 0x00, 0x00,
	0x6a, 0x23,
	0x68, 0x08, 0x70, 0x00, 0x00,
	0x68, 0x02, 0x32, 0x00, 0x00,
	0x6a, 0x2b,
	0x68, 0x95, 0x00, 0x00, 0x00,
	0x48, 0xcf,
	0xb0, 0x75,
	0xe6, 0xe9,
	0x0f, 0x0b,
	0xb0, 0x76,
	0xe6, 0xe9,
	0xcd, 0x80,
	0xb0, 0x77,
	0xe6, 0xe9,
	0xf4,
	0x48, 0x89, 0xe0,
	0xe7, 0xea,
	0x8c, 0xd0,
	0xe7, 0xea,
	0x9c,
	0x58,
	0xe7, 0xea,
	0x48, 0x8b, 0x04, 0x24,
	0xe7, 0xea,
	0x48, 0x8b, 0x44, 0x24, 0x08,
	0xe7, 0xea,
	0x48, 0x8b, 0x44, 0x24, 0x10,
	0xe7, 0xea,
	0x48, 0x8b, 0x44, 0x24, 0x18,
	0xe7, 0xea,
	0x48, 0x8b, 0x44, 0x24, 0x20,
	0xe7, 0xea,
	0x48, 0x83, 0x04, 0x24, 0x02,
	0x48, 0xcf,
	0x48, 0x89, 0xe0,
	0xe7, 0xea,
	0x48, 0xcf,
	0x9c,
	0x58,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0x58,
	0xe7, 0xea,
	0xf4,
	0x0f, 0x08,
	0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x3f, 0x00,
	0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xaf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0xf3, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0xfb, 0xaf, 0x00,
	0x67, 0x00, 0x00, 0x91, 0x01, 0x89, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
enum {
	LM3_TO_USER = 0x93, LM3_USER = 0x95, LM3_USER_UD = 0x99, LM3_USER_INT = 0x9f,
	LM3_USER_HLT = 0xa5, LM3_HUD = 0xa6, LM3_H80 = 0xdc, LM3_HGP = 0xe3, LM3_HALTED = 0xee,
};

/* Long mode, CPL 0: #UD through a gate with IST 1, whose stack top is not aligned to 16, and #DE
 * through a gate without IST, from an RSP that is not aligned either. Each handler prints RSP and
 * the frame, and returns past the faulting instruction. */
/* long_ist (236 bytes):
 * start:
 *   0000  lgdt [rip+gdtr]
 *   0007  mov dword [TSS+0x24], IST1            ; IST1, not aligned to 16 (its high half is 0)
 *   0012  mov ax, 0x30                          ; the TSS
 *   0016  ltr ax
 *   0019  mov dword [IDT+6*16], offset hud + 0x180000 ; gate 6 (#UD): CS 0x18, hud
 *   0024  mov dword [IDT+6*16+4], 0x8e01        ; P, DPL 0, 64-bit interrupt gate, IST 1
 *   002f  mov dword [IDT+0*16], offset hde + 0x180000 ; gate 0 (#DE): CS 0x18, hde
 *   003a  mov dword [IDT+0*16+4], 0x8e00        ; P, DPL 0, 64-bit interrupt gate, no IST
 *   0045  lidt [rip+idtr]
 *   004c  mov rsp, OLD_RSP                      ; not aligned to 16
 * ud:
 *   0053  ud2
 *   0055  xor ecx, ecx
 * de:
 *   0057  div ecx
 *   0059  mov rax, rsp
 *   005c  out PRINT32, eax                      ; OLD_RSP again
 *   005e  hlt
 * halted:
 * hud:
 *   005f  mov rax, rsp
 *   0062  out PRINT32, eax                      ; IST1 aligned down, less the 40-byte frame
 *   0064  mov rax, [rsp]
 *   0068  out PRINT32, eax                      ; RIP: ud
 *   006a  mov rax, [rsp+24]
 *   006f  out PRINT32, eax                      ; RSP: OLD_RSP
 *   0071  mov rax, [rsp+32]
 *   0076  out PRINT32, eax                      ; SS
 *   0078  add qword [rsp], 2                    ; past the ud2
 *   007d  iretq
 * hde:
 *   007f  mov rax, rsp
 *   0082  out PRINT32, eax                      ; OLD_RSP aligned down, less the frame
 *   0084  mov rax, [rsp]
 *   0088  out PRINT32, eax                      ; RIP: de
 *   008a  mov rax, [rsp+24]
 *   008f  out PRINT32, eax                      ; RSP: OLD_RSP
 *   0091  add qword [rsp], 2                    ; past the div
 *   0096  iretq
 *   0098  idtr: .word 6*16+15
 *   009a  .quad IDT
 *   00a2  gdtr: .word gdt_end - gdt - 1
 *   00a4  .quad gdt
 *   00ac  gdt: .quad 0
 *   00b4  .quad 0x00cf9b000000ffff              ; 0x08 code, DPL 0 (unused here)
 *   00bc  .quad 0x00cf93000000ffff              ; 0x10 data, DPL 0
 *   00c4  .quad 0x00af9b000000ffff              ; 0x18 64-bit code, DPL 0
 *   00cc  .quad 0                               ; 0x20, 0x28 unused
 *   00d4  .quad 0
 *   00dc  .quad 0x0000890191000067              ; 0x30 TSS at 0x19100, limit 0x67 (16 bytes)
 *   00e4  .quad 0
 * gdt_end:
 */
static const uint8_t long_ist[] = {
	0x0f, 0x01, 0x15, 0x9b, 0x00, 0x00, 0x00,
	0xc7, 0x04, 0x25, 0x24, 0x91, 0x01, 0x00, 0x08, 0xa0, 0x00, 0x00,
	0x66, 0xb8, 0x30, 0x00,
	0x0f, 0x00, 0xd8,
	0xc7, 0x04, 0x25, 0x60, 0x80, 0x01, 0x00, 0x5f, 0x00, 0x18, 0x00,
	0xc7, 0x04, 0x25, 0x64, 0x80, 0x01, 0x00, 0x01, 0x8e, 0x00, 0x00,
	0xc7, 0x04, 0x25, 0x00, 0x80, 0x01, 0x00, 0x7f, 0x00, 0x18, 0x00,
	0xc7, 0x04, 0x25, 0x04, 0x80, 0x01, 0x00, 0x00, 0x8e, 0x00, 0x00,
	0x0f, 0x01, 0x1d, 0x4c, 0x00, 0x00, 0x00,
	0x48, 0xc7, 0xc4, 0xf8, 0xef, 0x00, 0x00,
	0x0f, 0x0b,
	0x31, 0xc9,
	0xf7, 0xf1,
	0x48, 0x89, 0xe0,
	0xe7, 0xea,
	0xf4,
	0x48, 0x89, 0xe0,
	0xe7, 0xea,
	0x48, 0x8b, 0x04, 0x24,
	0xe7, 0xea,
	0x48, 0x8b, 0x44, 0x24, 0x18,
	0xe7, 0xea,
	0x48, 0x8b, 0x44, 0x24, 0x20,
	0xe7, 0xea,
	0x48, 0x83, 0x04, 0x24, 0x02,
	0x48, 0xcf,
	0x48, 0x89, 0xe0,
	0xe7, 0xea,
	0x48, 0x8b, 0x04, 0x24,
	0xe7, 0xea,
	0x48, 0x8b, 0x44, 0x24, 0x18,
	0xe7, 0xea,
	0x48, 0x83, 0x04, 0x24, 0x02,
	0x48, 0xcf,
	0x6f, 0x00,
	0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x3f, 0x00,
	0xac, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xaf, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x67, 0x00, 0x00, 0x91, 0x01, 0x89, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
enum {
	IST_UD = 0x53, IST_DE = 0x57, IST_HALTED = 0x5f, IST_HUD = 0x5f, IST_HDE = 0x7f,
};

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

/* How a run ends. console: what the guest printed, each '#' the next of num[] as PRINT32 prints
 * it. rip, rsp: ANY where the SDM leaves them undefined. */
struct outcome {
	int reason; /* enum tv_exit_reason; 0 in .pvm (.emu_gap): kvm-pvm (the emulator) does as the
		     * SDM says */
	const char *console;
	uint64_t num[20];
	uint64_t rip, rsp;
};

/* One IDT gate (IVT entry in real mode: attr and sel unused): vector, handler, attributes, and
 * the code selector (0: the mode's, 0x08 or 0x18). */
struct gate {
	uint8_t vector;
	uint16_t handler;
	uint16_t attr;
	uint16_t sel;
};

struct exc_case {
	const char *name;
	enum tv_mode mode;
	const uint8_t *image;
	size_t len;
	bool tables; /* the test writes the gates, IDTR (RIDTR) with limit, and TRIGGER */
	uint16_t limit;
	uint16_t trigger;
	struct gate gates[5];
	struct outcome sdm; /* required of KVM but for kvm-pvm's .pvm, and of the emulator but for
			     * .emu_gap */
	struct outcome pvm;
	/* What the emulator does instead where its engine, QEMU's TCG, has a known gap (the reason
	 * beside the case; the README's engine differences name it): the test fails when that
	 * changes, so a fixed gap is noticed and the case moves to .sdm alone. */
	struct outcome emu_gap;
};

/* Whether /dev/kvm is this host's kvm-pvm, whose differences the cases record. */
static bool kvm_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static void put(struct tv_test_run *t, uint64_t gpa, uint64_t value, size_t len)
{
	void *p = tv_ram_ptr(&t->m.ram, gpa, len);

	ck_assert_ptr_nonnull(p);
	memcpy(p, &value, len);
}

/* The IDT (IVT) gates, the descriptor and the trigger of c, in the guest's RAM. */
static void write_tables(struct tv_test_run *t, const struct exc_case *c)
{
	for (size_t i = 0; i < sizeof(c->gates) / sizeof(c->gates[0]) && c->gates[i].handler; i++) {
		const struct gate *g = &c->gates[i];
		uint64_t sel = g->sel ? g->sel : c->mode == TV_MODE_LONG ? TV_SEL_CODE64 : TV_SEL_CODE32;

		if (c->mode == TV_MODE_REAL) {
			put(t, IVT + 4ull * g->vector, g->handler, 4); /* offset, segment 0 */
			continue;
		}
		put(t, IDT + (c->mode == TV_MODE_LONG ? 16ull : 8ull) * g->vector,
		    g->handler | sel << 16 | (uint64_t)g->attr << 32, 8);
	}
	if (c->mode == TV_MODE_REAL) {
		put(t, RIDTR, c->limit | (uint64_t)IVT << 16, 8);
		put(t, RTRIGGER, c->trigger, 2);
	} else {
		put(t, IDTR, c->limit | (uint64_t)IDT << 16, 8);
		put(t, TRIGGER, c->trigger, 8);
	}
}

/* o's console with its numbers in. */
static void render(const struct outcome *o, char *buf, size_t len)
{
	size_t n = 0, k = 0;

	buf[0] = 0;
	for (const char *s = o->console; *s; s++) {
		if (*s == '#')
			n += (size_t)snprintf(buf + n, len - n, "%u\n", (unsigned)o->num[k++]);
		else
			n += (size_t)snprintf(buf + n, len - n, "%c", *s);
		ck_assert_uint_lt(n, len);
	}
}

/* s with newlines as "\n", for a message. */
static const char *escaped(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 3 < len; s++) {
		if (*s == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = 0;
	return buf;
}

static void run_case(const char *engine, const struct exc_case *c)
{
	const struct outcome *want = &c->sdm;
	const struct tv_backend_ops *be;
	char why[256], expect[512], got_s[512], want_s[512];
	struct tv_test_run t;

	be = tv_test_engine(engine, c->mode, why, sizeof(why));
	if (!be)
		TV_SKIP("%s on %s: %s", c->name, engine, why);
	if (strcmp(engine, "kvm") == 0 && c->pvm.reason && kvm_is_pvm())
		want = &c->pvm;
	if (strcmp(engine, "emu") == 0 && c->emu_gap.reason)
		want = &c->emu_gap;
	tv_test_prepare(&t, be, c->mode, c->image, c->len, NULL);
	if (c->tables)
		write_tables(&t, c);
	tv_test_finish(&t, 30);
	render(want, expect, sizeof(expect));
	ck_assert_msg(t.last.reason == want->reason && strcmp(t.console, expect) == 0 &&
			      (want->rip == ANY || t.regs.rip == want->rip) &&
			      (want->rsp == ANY || t.regs.rsp == want->rsp),
		      "%s on %s%s: ended in %s (%s) printing \"%s\" with rip 0x%" PRIx64
		      " rsp 0x%" PRIx64 "; want %s printing \"%s\" with rip 0x%" PRIx64
		      " rsp 0x%" PRIx64 " (~0: any)",
		      c->name, engine,
		      want == &c->pvm ? " (kvm-pvm)" : want == &c->emu_gap ? " (engine gap)" : "",
		      tv_exit_reason_name(t.last.reason), t.last.detail,
		      escaped(t.console, got_s, sizeof(got_s)), t.regs.rip, t.regs.rsp,
		      tv_exit_reason_name(want->reason), escaped(expect, want_s, sizeof(want_s)),
		      want->rip, want->rsp);
	tv_test_run_end(&t);
}

#define IMAGE(x) .image = x, .len = sizeof(x)

/* ---- 1. The issue's guests ---- */

/* kvm-pvm runs INT n in protected mode, and at CPL 0 in long mode, in KVM's instruction emulator,
 * which has INT n for real mode only: KVM_INTERNAL_ERROR_EMULATION on the int, here and in every
 * case below whose .pvm ends so. */
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

/* ---- 2. A fault while delivering a fault ---- */

/* #GP(0x28), whose gate is not present: the #NP raised while delivering it is #DF
 * (contributory after contributory), though a #NP handler is there. */
static const struct exc_case df_from_gp_protected = {
	"df_from_gp_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x7ff, PMF_T_GP,
	{ { 8, PMF_HDF, P | INT }, { 11, PMF_HNP, P | INT }, { 13, PMF_HGP, INT } },
	.sdm = { TV_EXIT_HLT, "<##", { 8, 0 }, PMF_DF_HALTED, SP - 12 },
};

static const struct exc_case df_from_gp_long = {
	"df_from_gp_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_GP,
	{ { 8, LMF_HDF, P | INT }, { 11, LMF_HNP, P | INT }, { 13, LMF_HGP, INT } },
	.sdm = { TV_EXIT_HLT, "<##", { 8, 0 }, LMF_DF_HALTED, SP - 40 },
};

/* #PF whose gate is not present: #NP after #PF is #DF too. */
static const struct exc_case df_from_pf_long = {
	"df_from_pf_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_PF,
	{ { 8, LMF_HDF, P | INT }, { 11, LMF_HNP, P | INT }, { 14, LMF_HGP, INT } },
	.sdm = { TV_EXIT_HLT, "<##", { 8, 0 }, LMF_DF_HALTED, SP - 40 },
};

/* ---- 3. A fault while delivering #DF: SHUTDOWN ---- */

static const struct exc_case df_absent_protected = {
	"df_absent_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x7ff, PMF_T_GP,
	{ { 8, PMF_HDF, INT }, { 11, PMF_HNP, INT }, { 13, PMF_HGP, INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, PMF_GP, ANY },
};

static const struct exc_case df_absent_long = {
	"df_absent_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_GP,
	{ { 8, LMF_HDF, INT }, { 11, LMF_HNP, INT }, { 13, LMF_HGP, INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, LMF_GP, ANY },
};

/* The #DF gate is there but names a code selector past the GDT's limit: #GP while delivering
 * #DF. */
static const struct exc_case df_gate_faults_protected = {
	"df_gate_faults_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x7ff, PMF_T_GP,
	{ { 8, PMF_HDF, P | INT, 0x28 }, { 11, PMF_HNP, INT }, { 13, PMF_HGP, INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, PMF_GP, ANY },
};

static const struct exc_case df_gate_faults_long = {
	"df_gate_faults_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_GP,
	{ { 8, LMF_HDF, P | INT, 0x28 }, { 11, LMF_HNP, INT }, { 13, LMF_HGP, INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, LMF_GP, ANY },
};

/* ---- 4. CPL 3 ---- */

#define ESP0 0x9000u
#define RSP0 0x9000u

/* kvm-pvm's instruction emulator has no iret to an outer privilege level. */
static const struct exc_case cpl3_protected = {
	"cpl3_protected", TV_MODE_PROTECTED, IMAGE(pm_cpl3),
	.sdm = { TV_EXIT_HLT, "u########v#w###",
		 { ESP0 - 20, 0x10, 0x3002, PM3_USER_UD, 0x1b, 0x13202, 0x7000, 0x23, /* #UD */
		   ESP0 - 20,                                                   /* int 0x80 */
		   0x3202, 0, PM3_USER_HLT },                                   /* #GP */
		 PM3_HALTED, ESP0 - 16 },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "", { 0 }, PM3_TO_USER, SP - 20 },
};

/* kvm-pvm turns int 0x80 at CPL 3 into #UD (KVM cannot emulate it, and injects #UD for code
 * at CPL 3), and keeps IOPL 0 in RFLAGS whatever the guest sets: the frames and the handlers see
 * IOPL 0, out at CPL 3 works all the same. */
static const struct exc_case cpl3_long = {
	"cpl3_long", TV_MODE_LONG, IMAGE(long_cpl3),
	.sdm = { TV_EXIT_HLT, "u########v#w###",
		 { RSP0 - 40, 0, 0x3002, LM3_USER_UD, 0x2b, 0x13202, 0x7008, 0x23, /* #UD */
		   RSP0 - 40,                                                   /* int 0x80 */
		   0x3202, 0, LM3_USER_HLT },                                   /* #GP */
		 LM3_HALTED, RSP0 - 32 },
	.pvm = { TV_EXIT_HLT, "u########v########w###",
		 { RSP0 - 40, 0, 0x2, LM3_USER_UD, 0x2b, 0x10202, 0x7008, 0x23,
		   RSP0 - 40, 0, 0x2, LM3_USER_INT, 0x2b, 0x10202, 0x7008, 0x23,
		   0x202, 0, LM3_USER_HLT },
		 LM3_HALTED, RSP0 - 32 },
};

static const struct exc_case ist_long = {
	"ist_long", TV_MODE_LONG, IMAGE(long_ist),
	.sdm = { TV_EXIT_HLT, "########",
		 { 0xa000 - 40, IST_UD, 0xeff8, 0x10, 0xeff0 - 40, IST_DE, 0xeff8, 0xeff8 },
		 IST_HALTED, 0xeff8 },
};

/* ---- 5. Tables missing, too short, or with a gate not present ----
 *
 * Only an INT n reaches a gate past one that a handler has (an exception's vector is below 32),
 * so the short IDTs are hit with int 0x80, which kvm-pvm cannot run (see int80_protected). */

/* IDTR.limit 0: the #UD, the #GP and the #DF all fall outside. */
static const struct exc_case idt_missing_protected = {
	"idt_missing_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0, PMF_T_UD,
	{ { 8, PMF_HDF, P | INT }, { 11, PMF_HNP, P | INT }, { 13, PMF_HGP, P | INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, PMF_T_UD, ANY },
};

static const struct exc_case idt_missing_long = {
	"idt_missing_long", TV_MODE_LONG, IMAGE(long_faults), true, 0, LMF_T_UD,
	{ { 8, LMF_HDF, P | INT }, { 11, LMF_HNP, P | INT }, { 13, LMF_HGP, P | INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, LMF_T_UD, ANY },
};

/* The IDT ends before vector 0x80: int 0x80 is #GP(0x80 * 8 + 2), a fault on the int. */
static const struct exc_case idt_short_gp_protected = {
	"idt_short_gp_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x80 * 8 - 1,
	PMF_T_INT80, { { 8, PMF_HDF, P | INT }, { 13, PMF_HGP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 13, 0x80 * 8 + 2, PMF_T_INT80 }, PMF_REPORT_HALTED, SP - 8 },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, PMF_T_INT80, SP },
};

static const struct exc_case idt_short_gp_long = {
	"idt_short_gp_long", TV_MODE_LONG, IMAGE(long_faults), true, 0x80 * 16 - 1,
	LMF_T_INT80, { { 8, LMF_HDF, P | INT }, { 13, LMF_HGP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 13, 0x80 * 8 + 2, LMF_T_INT80 }, LMF_REPORT_HALTED,
		 SP - 32 },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, LMF_T_INT80, SP },
};

/* The IDT ends before vector 13: the #GP of int 0x80 cannot be delivered either, #DF. */
static const struct exc_case idt_short_df_protected = {
	"idt_short_df_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 13 * 8 - 1,
	PMF_T_INT80, { { 8, PMF_HDF, P | INT }, { 13, PMF_HGP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<##", { 8, 0 }, PMF_DF_HALTED, SP - 12 },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, PMF_T_INT80, SP },
};

static const struct exc_case idt_short_df_long = {
	"idt_short_df_long", TV_MODE_LONG, IMAGE(long_faults), true, 13 * 16 - 1, LMF_T_INT80,
	{ { 8, LMF_HDF, P | INT }, { 13, LMF_HGP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<##", { 8, 0 }, LMF_DF_HALTED, SP - 40 },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, LMF_T_INT80, SP },
};

/* The IDT ends before vector 8: SHUTDOWN. */
static const struct exc_case idt_short_shutdown_protected = {
	"idt_short_shutdown_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 8 * 8 - 1,
	PMF_T_INT80, { { 8, PMF_HDF, P | INT }, { 13, PMF_HGP, P | INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, PMF_T_INT80, ANY },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, PMF_T_INT80, SP },
};

static const struct exc_case idt_short_shutdown_long = {
	"idt_short_shutdown_long", TV_MODE_LONG, IMAGE(long_faults), true, 8 * 16 - 1,
	LMF_T_INT80, { { 8, LMF_HDF, P | INT }, { 13, LMF_HGP, P | INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, LMF_T_INT80, ANY },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, LMF_T_INT80, SP },
};

/* Gate 0x80 not present: #NP(0x80 * 8 + 2), EXT 0 for INT n. */
static const struct exc_case int_gate_absent_protected = {
	"int_gate_absent_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x7ff, PMF_T_INT80,
	{ { 0x80, PMF_H80, INT }, { 8, PMF_HDF, P | INT }, { 11, PMF_HNP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 11, 0x80 * 8 + 2, PMF_T_INT80 }, PMF_REPORT_HALTED,
		 SP - 8 },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, PMF_T_INT80, SP },
};

static const struct exc_case int_gate_absent_long = {
	"int_gate_absent_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_INT80,
	{ { 0x80, LMF_H80, INT }, { 8, LMF_HDF, P | INT }, { 11, LMF_HNP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 11, 0x80 * 8 + 2, LMF_T_INT80 }, LMF_REPORT_HALTED,
		 SP - 32 },
	.pvm = { TV_EXIT_INTERNAL_ERROR, "<", { 0 }, LMF_T_INT80, SP },
};

/* Gate 6 not present: #NP(6 * 8 + 3) after the benign #UD, with the ud2's RIP. kvm-pvm makes
 * it #DF, as if #UD were contributory. */
static const struct exc_case ud_gate_absent_protected = {
	"ud_gate_absent_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x7ff, PMF_T_UD,
	{ { 6, PMF_H80, INT }, { 8, PMF_HDF, P | INT }, { 11, PMF_HNP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 11, 6 * 8 + 3, PMF_T_UD }, PMF_REPORT_HALTED, SP - 8 },
	.pvm = { TV_EXIT_HLT, "<##", { 8, 0 }, PMF_DF_HALTED, SP - 12 },
};

static const struct exc_case ud_gate_absent_long = {
	"ud_gate_absent_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_UD,
	{ { 6, LMF_H80, INT }, { 8, LMF_HDF, P | INT }, { 11, LMF_HNP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 11, 6 * 8 + 3, LMF_T_UD }, LMF_REPORT_HALTED, SP - 32 },
	.pvm = { TV_EXIT_HLT, "<##", { 8, 0 }, LMF_DF_HALTED, SP - 40 },
};

/* Gates 6 and 11 not present: the #NP's own #NP is #DF. */
static const struct exc_case ud_np_absent_protected = {
	"ud_np_absent_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x7ff, PMF_T_UD,
	{ { 6, PMF_H80, INT }, { 8, PMF_HDF, P | INT }, { 11, PMF_HNP, INT } },
	.sdm = { TV_EXIT_HLT, "<##", { 8, 0 }, PMF_DF_HALTED, SP - 12 },
};

static const struct exc_case ud_np_absent_long = {
	"ud_np_absent_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_UD,
	{ { 6, LMF_H80, INT }, { 8, LMF_HDF, P | INT }, { 11, LMF_HNP, INT } },
	.sdm = { TV_EXIT_HLT, "<##", { 8, 0 }, LMF_DF_HALTED, SP - 40 },
};

/* Gates 6, 11, 8 (and 13) not present: SHUTDOWN. */
static const struct exc_case ud_all_absent_protected = {
	"ud_all_absent_protected", TV_MODE_PROTECTED, IMAGE(pm_faults), true, 0x7ff, PMF_T_UD,
	{ { 6, PMF_H80, INT }, { 8, PMF_HDF, INT }, { 11, PMF_HNP, INT }, { 13, PMF_HGP, INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, PMF_T_UD, ANY },
};

static const struct exc_case ud_all_absent_long = {
	"ud_all_absent_long", TV_MODE_LONG, IMAGE(long_faults), true, 0xfff, LMF_T_UD,
	{ { 6, LMF_H80, INT }, { 8, LMF_HDF, INT }, { 11, LMF_HNP, INT }, { 13, LMF_HGP, INT } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, LMF_T_UD, ANY },
};

/* Real mode: the IVT ends before vector 0x21 (limit 0x37: vectors 0 to 13). int 0x21 is #GP,
 * with no error code and the int's IP. kvm-pvm runs real mode in KVM's instruction emulator,
 * which reads the IVT at IDTR.base whatever IDTR.limit says: int 0x21 reaches h21, here and in
 * the three cases below. */
static const struct exc_case ivt_short_gp_real = {
	"ivt_short_gp_real", TV_MODE_REAL, IMAGE(real_faults), true, 14 * 4 - 1, RMF_T_INT21,
	{ { 0x21, RMF_H21 }, { 8, RMF_HDF }, { 13, RMF_HGP } },
	.sdm = { TV_EXIT_HLT, "<##", { 13, RMF_T_INT21 }, RMF_REPORT_HALTED, SP - 4 },
	.pvm = { TV_EXIT_HLT, "<H>", { 0 }, RMF_HALTED, SP },
};

/* The IVT ends before vector 13 (limit 0x23: vectors 0 to 8): the #GP's own #GP is #DF. */
static const struct exc_case ivt_short_df_real = {
	"ivt_short_df_real", TV_MODE_REAL, IMAGE(real_faults), true, 9 * 4 - 1, RMF_T_INT21,
	{ { 0x21, RMF_H21 }, { 8, RMF_HDF }, { 13, RMF_HGP } },
	.sdm = { TV_EXIT_HLT, "<#", { 8 }, RMF_DF_HALTED, SP - 6 },
	.pvm = { TV_EXIT_HLT, "<H>", { 0 }, RMF_HALTED, SP },
};

/* IDTR.limit 0, as twinvm's real mode starts: int 0x21 shuts down. */
static const struct exc_case ivt_missing_real = {
	"ivt_missing_real", TV_MODE_REAL, IMAGE(real_faults), true, 0, RMF_T_INT21,
	{ { 0x21, RMF_H21 }, { 8, RMF_HDF }, { 13, RMF_HGP } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, RMF_T_INT21, ANY },
	.pvm = { TV_EXIT_HLT, "<H>", { 0 }, RMF_HALTED, SP },
};

/* The same for the #UD of ud2 (the README's real-mode ud2 note). */
static const struct exc_case ivt_missing_ud_real = {
	"ivt_missing_ud_real", TV_MODE_REAL, IMAGE(real_faults), true, 0, RMF_T_UD,
	{ { 6, RMF_HUD }, { 8, RMF_HDF }, { 13, RMF_HGP } },
	.sdm = { TV_EXIT_SHUTDOWN, "<", { 0 }, RMF_T_UD, ANY },
	.pvm = { TV_EXIT_HLT, "<##", { 6, RMF_T_UD }, RMF_REPORT_HALTED, SP - 4 },
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

/* TCG raises #GP(0) for every non-canonical address, a stack reference too. */
static const struct exc_case ss_noncanonical_long = {
	"ss_noncanonical_long", TV_MODE_LONG, IMAGE(long_noncanonical), true, 0xfff, LNC_T_SS,
	{ { 12, LNC_HSS, P | INT }, { 13, LNC_HGP, P | INT } },
	.sdm = { TV_EXIT_HLT, "<###", { 12, 0, LNC_SS }, LNC_REPORT_HALTED, SP - 32 },
	.emu_gap = { TV_EXIT_HLT, "<###", { 13, 0, LNC_SS }, LNC_REPORT_HALTED, SP - 32 },
};

#define CASE(c)                                                 \
	START_TEST(test_##c##_kvm) { run_case("kvm", &c); }     \
	END_TEST                                                \
	START_TEST(test_##c##_emu) { run_case("emu", &c); }     \
	END_TEST

CASE(int80_protected)
CASE(int80_paged32)
CASE(pf_long)
CASE(int21_real)
CASE(df_from_gp_protected)
CASE(df_from_gp_long)
CASE(df_from_pf_long)
CASE(df_absent_protected)
CASE(df_absent_long)
CASE(df_gate_faults_protected)
CASE(df_gate_faults_long)
CASE(cpl3_protected)
CASE(cpl3_long)
CASE(ist_long)
CASE(idt_missing_protected)
CASE(idt_missing_long)
CASE(idt_short_gp_protected)
CASE(idt_short_gp_long)
CASE(idt_short_df_protected)
CASE(idt_short_df_long)
CASE(idt_short_shutdown_protected)
CASE(idt_short_shutdown_long)
CASE(int_gate_absent_protected)
CASE(int_gate_absent_long)
CASE(ud_gate_absent_protected)
CASE(ud_gate_absent_long)
CASE(ud_np_absent_protected)
CASE(ud_np_absent_long)
CASE(ud_all_absent_protected)
CASE(ud_all_absent_long)
CASE(ivt_short_gp_real)
CASE(ivt_short_df_real)
CASE(ivt_missing_real)
CASE(ivt_missing_ud_real)
CASE(ss_limit_real)
CASE(ds_limit_real)
CASE(ss_noncanonical_long)

#define ADD(tc, c)                              \
	do {                                    \
		tcase_add_test(tc, test_##c##_kvm); \
		tcase_add_test(tc, test_##c##_emu); \
	} while (0)

int main(void)
{
	Suite *s = suite_create("exceptions_raw");
	TCase *issue = tcase_create("issue_guests"), *nested = tcase_create("nested");
	TCase *cpl3 = tcase_create("cpl3"), *tables = tcase_create("tables");
	TCase *gaps = tcase_create("engine_gaps");

	tcase_set_timeout(issue, 60);
	tcase_set_timeout(nested, 60);
	tcase_set_timeout(cpl3, 60);
	tcase_set_timeout(tables, 60);
	tcase_set_timeout(gaps, 60);
	ADD(issue, int80_protected);
	ADD(issue, int80_paged32);
	ADD(issue, pf_long);
	ADD(issue, int21_real);
	ADD(nested, df_from_gp_protected);
	ADD(nested, df_from_gp_long);
	ADD(nested, df_from_pf_long);
	ADD(nested, df_absent_protected);
	ADD(nested, df_absent_long);
	ADD(nested, df_gate_faults_protected);
	ADD(nested, df_gate_faults_long);
	ADD(cpl3, cpl3_protected);
	ADD(cpl3, cpl3_long);
	ADD(cpl3, ist_long);
	ADD(tables, idt_missing_protected);
	ADD(tables, idt_missing_long);
	ADD(tables, idt_short_gp_protected);
	ADD(tables, idt_short_gp_long);
	ADD(tables, idt_short_df_protected);
	ADD(tables, idt_short_df_long);
	ADD(tables, idt_short_shutdown_protected);
	ADD(tables, idt_short_shutdown_long);
	ADD(tables, int_gate_absent_protected);
	ADD(tables, int_gate_absent_long);
	ADD(tables, ud_gate_absent_protected);
	ADD(tables, ud_gate_absent_long);
	ADD(tables, ud_np_absent_protected);
	ADD(tables, ud_np_absent_long);
	ADD(tables, ud_all_absent_protected);
	ADD(tables, ud_all_absent_long);
	ADD(tables, ivt_short_gp_real);
	ADD(tables, ivt_short_df_real);
	ADD(tables, ivt_missing_real);
	ADD(tables, ivt_missing_ud_real);
	ADD(gaps, ss_limit_real);
	ADD(gaps, ds_limit_real);
	ADD(gaps, ss_noncanonical_long);
	suite_add_tcase(s, issue);
	suite_add_tcase(s, nested);
	suite_add_tcase(s, cpl3);
	suite_add_tcase(s, tables);
	suite_add_tcase(s, gaps);
	return tv_test_main(s);
}
