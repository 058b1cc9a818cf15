/* The native oracle's way in and out of a snippet (see native.c). fz_native_enter loads the start
 * state from the context page and jumps to the snippet; the snippet's tail jumps to
 * fz_native_exit, which stores the end state and returns to the C caller. A fault in the snippet
 * goes to native.c's signal handler, which stores the state itself and resumes at
 * fz_native_recover. Every access to the context page is absolute, because the snippet's
 * registers are all its own. */
#include "native_ctx.h"

	.intel_syntax noprefix
	.text

/* int fz_native_enter(void): 0 when the snippet ran to its end (fz_native_recover returns 1). */
	.globl fz_native_enter
	.type fz_native_enter, @function
fz_native_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov qword ptr [FZ_CTX_HOST_RSP], rsp
	push qword ptr [FZ_CTX_IN + 16 * 8]
	popfq
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

	.globl fz_native_exit
	.type fz_native_exit, @function
fz_native_exit:
	/* mov leaves the flags alone: every register first, then RFLAGS from the host's stack. */
	mov qword ptr [FZ_CTX_OUT + 0 * 8], rax
	mov qword ptr [FZ_CTX_OUT + 1 * 8], rcx
	mov qword ptr [FZ_CTX_OUT + 2 * 8], rdx
	mov qword ptr [FZ_CTX_OUT + 3 * 8], rbx
	mov qword ptr [FZ_CTX_OUT + 4 * 8], rsp
	mov qword ptr [FZ_CTX_OUT + 5 * 8], rbp
	mov qword ptr [FZ_CTX_OUT + 6 * 8], rsi
	mov qword ptr [FZ_CTX_OUT + 7 * 8], rdi
	mov qword ptr [FZ_CTX_OUT + 8 * 8], r8
	mov qword ptr [FZ_CTX_OUT + 9 * 8], r9
	mov qword ptr [FZ_CTX_OUT + 10 * 8], r10
	mov qword ptr [FZ_CTX_OUT + 11 * 8], r11
	mov qword ptr [FZ_CTX_OUT + 12 * 8], r12
	mov qword ptr [FZ_CTX_OUT + 13 * 8], r13
	mov qword ptr [FZ_CTX_OUT + 14 * 8], r14
	mov qword ptr [FZ_CTX_OUT + 15 * 8], r15
	mov rsp, qword ptr [FZ_CTX_HOST_RSP]
	pushfq
	pop rax
	mov qword ptr [FZ_CTX_OUT + 16 * 8], rax
	cld
	xor eax, eax
	jmp 1f
	.size fz_native_exit, . - fz_native_exit

	.globl fz_native_recover
	.type fz_native_recover, @function
fz_native_recover:
	/* From the signal handler, with the state stored: the host's stack back, DF clear. */
	mov rsp, qword ptr [FZ_CTX_HOST_RSP]
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
