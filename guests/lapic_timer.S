/* lapic_timer: the local APIC's timer as --platform pc runs it, for tests/test_lapic.c. Long mode,
 * an IDT of its own: vector 0x40 counts, keeps the RIP it interrupted and EOIs; every other
 * vector exits with 99. Timings are the host's (1 tick a nanosecond before the divider), so the
 * checks ask only what holds at any speed. Exits through isa-debug-exit with 0 when every check
 * holds, else the number of the first that failed:
 *   1  armed (one-shot, masked, divide by 1, 100 ms): TMCCT reads at most TMICT, not 0, and
 *      goes down; TDCR and TMICT read back
 *   2  TMICT 0 stops it: TMCCT reads 0
 *   3  one-shot, 1 ms: wakes "sti; hlt" once, returning past the hlt; then TMCCT reads 0
 *   4  one-shot, 1 ms, while the guest spins on the count with IF set and no exit: taken
 *   5  masked: it reaches 0 and nothing is raised (IRR clear, nothing taken)
 *   6  periodic, 1 ms: wakes three hlts in a row, then TMICT 0 stops it
 *   7  vector 5 in LVTT is illegal: nothing is taken, ESR reads "receive illegal vector"
 *      (0x40) after a write */
#include "pc_guest_end.h"
#define TPR 0x80(%rdi)
#define EOI 0xb0(%rdi)
#define SPIV 0xf0(%rdi)
#define IRR_0x40 0x220(%rdi) /* IRR bits 0x40-0x5f: 0x40 is bit 0 */
#define ESR 0x280(%rdi)
#define LVTT 0x320(%rdi)
#define TMICT 0x380(%rdi)
#define TMCCT 0x390(%rdi)
#define TDCR 0x3e0(%rdi)
#define ONESHOT 0
#define PERIODIC 0x20000
#define MASKED 0x10000

	.code64
	.section .text.start, "ax"
	.globl _start
_start:
	call	all_unexpected
	mov	$0x40, %ecx
	mov	$vec_40, %eax
	call	set_gate
	lidt	idt_desc
	mov	$0xfee00000, %edi
	movl	$0x1ff, SPIV
	movl	$0, TPR

	mov	$1, %bl
	movl	$(MASKED | ONESHOT | 0x40), LVTT
	movl	$0xb, TDCR
	movl	$100000000, TMICT
	mov	TMCCT, %eax
	cmp	$0, %eax
	je	fail
	cmp	$100000000, %eax
	ja	fail
	mov	$1000, %ecx		/* a microsecond or so, on any engine */
2:	mov	TMCCT, %edx
	loop	2b
	cmp	%eax, %edx
	jae	fail
	cmpl	$0xb, TDCR
	jne	fail
	cmpl	$100000000, TMICT
	jne	fail

	mov	$2, %bl
	movl	$0, TMICT
	cmpl	$0, TMCCT
	jne	fail

	mov	$3, %bl
	movl	$0, count
	movl	$(ONESHOT | 0x40), LVTT
	movl	$1000000, TMICT
	sti
	hlt
after_hlt:
	cli
	cmpl	$1, count
	jne	fail
	cmpq	$after_hlt, last_rip
	jne	fail
	cmpl	$0, TMCCT
	jne	fail

	mov	$4, %bl
	movl	$0, count
	movl	$1000000, TMICT
	sti
3:	cmpl	$0, count
	je	3b
	cli

	mov	$5, %bl
	movl	$0, count
	movl	$(MASKED | ONESHOT | 0x40), LVTT
	movl	$1000, TMICT
	sti
4:	cmpl	$0, TMCCT
	jne	4b
	nop
	cli
	testl	$1, IRR_0x40
	jnz	fail
	cmpl	$0, count
	jne	fail

	mov	$6, %bl
	movl	$0, count
	movl	$(PERIODIC | 0x40), LVTT
	movl	$1000000, TMICT
	sti
	hlt
	hlt
	hlt
	cli
	movl	$0, TMICT
	cmpl	$3, count
	jne	fail

	mov	$7, %bl
	movl	$0, count
	movl	$(ONESHOT | 5), LVTT
	movl	$1000, TMICT
	sti
5:	cmpl	$0, TMCCT
	jne	5b
	nop
	cli
	movl	$0, ESR
	cmpl	$0x40, ESR
	jne	fail

	PC_GUEST_EXIT

	PC_GUEST_IDT64

/* The stack: RIP, CS, RFLAGS, RSP, SS. */
vec_40:
	push	%rax
	mov	8(%rsp), %rax
	mov	%rax, last_rip
	incl	count
	movl	$0, EOI
	pop	%rax
	iretq

	.data
idt_desc:
	.word	256 * 16 - 1
	.quad	idt
count:	.long	0
last_rip: .quad	0
	.bss
	.balign	16
idt:	.skip	256 * 16
