/* The native oracle's way in and out of a snippet (see native.c). fz_native_enter loads the start
 * state from the context page and jumps to the snippet; the snippet's tail jumps to
 * fz_native_exit, which stores the end state and returns to the C caller. A fault in the snippet
 * goes to native.c's signal handler, which stores the state itself and resumes at
 * fz_native_recover. Every access to the context page is absolute, because the snippet's
 * registers are all its own.
 *
 * 32- and 16-bit code has its own pair: fz_native_enter_compat loads the data segments for the
 * width and far-jumps into its code segment (a far jmp, not a far return: a return would pop its
 * frame from the stack the snippet starts with, in the snippet's scratch); the tail far-jumps
 * back to the 64-bit code segment at the trampoline's copy below 4 GiB, which goes on to
 * fz_native_exit_compat. */
#include "native_ctx.h"

	.intel_syntax noprefix
	.text

/* Both ways in: the C caller's callee-saved registers and stack kept, the start RFLAGS loaded. */
.macro ENTER_FROM_C
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov qword ptr [FZ_CTX_HOST_RSP], rsp
	push qword ptr [FZ_CTX_IN + 16 * 8]
	popfq
.endm

/* Both ways out: the eight legacy registers stored (mov leaves the flags alone). */
.macro STORE_LEGACY_GPRS
	mov qword ptr [FZ_CTX_OUT + 0 * 8], rax
	mov qword ptr [FZ_CTX_OUT + 1 * 8], rcx
	mov qword ptr [FZ_CTX_OUT + 2 * 8], rdx
	mov qword ptr [FZ_CTX_OUT + 3 * 8], rbx
	mov qword ptr [FZ_CTX_OUT + 4 * 8], rsp
	mov qword ptr [FZ_CTX_OUT + 5 * 8], rbp
	mov qword ptr [FZ_CTX_OUT + 6 * 8], rsi
	mov qword ptr [FZ_CTX_OUT + 7 * 8], rdi
.endm

/* Then, on the host's stack again, RFLAGS as the snippet left it. */
.macro STORE_RFLAGS
	mov rsp, qword ptr [FZ_CTX_HOST_RSP]
	pushfq
	pop rax
	mov qword ptr [FZ_CTX_OUT + 16 * 8], rax
.endm


/* int fz_native_enter(void): 0 when the snippet ran to its end (fz_native_recover returns 1). */
	.globl fz_native_enter
	.type fz_native_enter, @function
fz_native_enter:
	ENTER_FROM_C
	mov rax, qword ptr [FZ_CTX_IN + 0 * 8]
	mov rcx, qword ptr [FZ_CTX_IN + 1 * 8]
	mov rdx, qword ptr [FZ_CTX_IN + 2 * 8]
	mov rbx, qword ptr [FZ_CTX_IN + 3 * 8]
	mov rbp, qword ptr [FZ_CTX_IN + 5 * 8]
	mov rsi, qword ptr [FZ_CTX_IN + 6 * 8]
	mov rdi, qword ptr [FZ_CTX_IN + 7 * 8]
	mov r8, qword ptr [FZ_CTX_IN + 8 * 8]
	mov r9, qword ptr [FZ_CTX_IN + 9 * 8]
	mov r10, qword ptr [FZ_CTX_IN + 10 * 8]
	mov r11, qword ptr [FZ_CTX_IN + 11 * 8]
	mov r12, qword ptr [FZ_CTX_IN + 12 * 8]
	mov r13, qword ptr [FZ_CTX_IN + 13 * 8]
	mov r14, qword ptr [FZ_CTX_IN + 14 * 8]
	mov r15, qword ptr [FZ_CTX_IN + 15 * 8]
	mov rsp, qword ptr [FZ_CTX_IN + 4 * 8]
	jmp qword ptr [FZ_CTX_CODE]
	.size fz_native_enter, . - fz_native_enter

/* int fz_native_enter_compat(void): the same for 32- and 16-bit code. Everything between it and
 * fz_native_enter_compat_end runs with the snippet's segments or state: a fault there is the way
 * in failing (no compatibility mode on this host, a bad LDT entry), which native.c tells apart
 * from the snippet's own. */
	.globl fz_native_enter_compat
	.globl fz_native_enter_compat_end
	.type fz_native_enter_compat, @function
fz_native_enter_compat:
	ENTER_FROM_C
	/* Segment loads leave the flags alone; 64-bit mode ignores these segments' bases. */
	movzx eax, word ptr [FZ_CTX_DATA_SEL]
	mov ds, eax
	mov es, eax
	mov ss, eax
	/* The low 32 bits, which is all the code below 64 bits has. */
	mov eax, dword ptr [FZ_CTX_IN + 0 * 8]
	mov ecx, dword ptr [FZ_CTX_IN + 1 * 8]
	mov edx, dword ptr [FZ_CTX_IN + 2 * 8]
	mov ebx, dword ptr [FZ_CTX_IN + 3 * 8]
	mov ebp, dword ptr [FZ_CTX_IN + 5 * 8]
	mov esi, dword ptr [FZ_CTX_IN + 6 * 8]
	mov edi, dword ptr [FZ_CTX_IN + 7 * 8]
	mov esp, dword ptr [FZ_CTX_IN + 4 * 8]
	jmp fword ptr [FZ_CTX_FAR]
fz_native_enter_compat_end:
	.size fz_native_enter_compat, . - fz_native_enter_compat

/* What the 32- and 16-bit tails far-jump to, copied to FZ_STUB_ADDR: the 64-bit code segment's
 * way on to fz_native_exit_compat, which is above 4 GiB. It touches neither a register nor a
 * flag. */
	.section .rodata
	.globl fz_native_trampoline
	.globl fz_native_trampoline_end
fz_native_trampoline:
	jmp qword ptr [FZ_CTX_EXIT]
fz_native_trampoline_end:
	.text

	.globl fz_native_exit
	.type fz_native_exit, @function
fz_native_exit:
	/* mov leaves the flags alone: every register first, then RFLAGS from the host's stack. */
	STORE_LEGACY_GPRS
	mov qword ptr [FZ_CTX_OUT + 8 * 8], r8
	mov qword ptr [FZ_CTX_OUT + 9 * 8], r9
	mov qword ptr [FZ_CTX_OUT + 10 * 8], r10
	mov qword ptr [FZ_CTX_OUT + 11 * 8], r11
	mov qword ptr [FZ_CTX_OUT + 12 * 8], r12
	mov qword ptr [FZ_CTX_OUT + 13 * 8], r13
	mov qword ptr [FZ_CTX_OUT + 14 * 8], r14
	mov qword ptr [FZ_CTX_OUT + 15 * 8], r15
	STORE_RFLAGS
	cld
	xor eax, eax
	jmp 1f
	.size fz_native_exit, . - fz_native_exit

	.globl fz_native_exit_compat
	.type fz_native_exit_compat, @function
fz_native_exit_compat:
	/* Back in 64-bit mode; the upper halves and r8-r15 are not the snippet's (native.c drops
	 * them). */
	STORE_LEGACY_GPRS
	STORE_RFLAGS
	movzx eax, word ptr [FZ_CTX_HOST_SS]
	mov ss, eax
	movzx eax, word ptr [FZ_CTX_HOST_DS]
	mov ds, eax
	movzx eax, word ptr [FZ_CTX_HOST_ES]
	mov es, eax
	cld
	xor eax, eax
	jmp 1f
	.size fz_native_exit_compat, . - fz_native_exit_compat

	.globl fz_native_recover
	.type fz_native_recover, @function
fz_native_recover:
	/* From the signal handler, with the state stored and CS and SS the process's again: the
	 * host's stack back, and its DS and ES (a 32- or 16-bit snippet's are the LDT's or flat),
	 * DF clear. */
	mov rsp, qword ptr [FZ_CTX_HOST_RSP]
	movzx eax, word ptr [FZ_CTX_HOST_DS]
	mov ds, eax
	movzx eax, word ptr [FZ_CTX_HOST_ES]
	mov es, eax
	cld
	mov eax, 1
1:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
	.size fz_native_recover, . - fz_native_recover

	.section .note.GNU-stack, "", @progbits
