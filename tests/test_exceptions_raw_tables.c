/* Raw guests whose interrupt tables the test writes (exc_raw.h): a fault while delivering a fault
 * (#DF), a fault while delivering #DF (SHUTDOWN), and tables that are missing, too short, or hold
 * a gate that is not present. */
#include "exc_raw.h"

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

/* ---- 5. Tables missing, too short, or with a gate not present ----
 *
 * Only an INT n reaches a gate past one that a handler has (an exception's vector is below 32),
 * so the short IDTs are hit with int 0x80, which kvm-pvm cannot run (see
 * int80_protected in test_exceptions_raw_issue.c). */

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

CASE(df_from_gp_protected)
CASE(df_from_gp_long)
CASE(df_from_pf_long)
CASE(df_absent_protected)
CASE(df_absent_long)
CASE(df_gate_faults_protected)
CASE(df_gate_faults_long)
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

int main(void)
{
	Suite *s = suite_create("exceptions_raw_tables");
	TCase *nested = tcase_create("nested");
	TCase *tables = tcase_create("tables");

	tcase_set_timeout(nested, 60);
	tcase_set_timeout(tables, 60);
	ADD(nested, df_from_gp_protected);
	ADD(nested, df_from_gp_long);
	ADD(nested, df_from_pf_long);
	ADD(nested, df_absent_protected);
	ADD(nested, df_absent_long);
	ADD(nested, df_gate_faults_protected);
	ADD(nested, df_gate_faults_long);
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
	suite_add_tcase(s, nested);
	suite_add_tcase(s, tables);
	return tv_test_main(s);
}
