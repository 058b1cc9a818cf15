/* lapic_ipi: the local APIC's self-IPIs as --platform pc delivers them, for tests/test_lapic.c.
 * Long mode (kvm-pvm cannot IRET in protected mode), an IDT of its own: vectors 0x31, 0x50,
 * 0x60, 0x61 and 0x70 log their vector, the RIP they interrupted and PPR as the handler sees
 * it, and EOI (0x70 does not, nor any while handler_eoi is 0); every other vector exits with 99. Exits through isa-debug-exit with 0 when every check holds, else
 * the number of the first that failed:
 *   1  the first IPI, sent with IF set: taken before the jump after the ICR write (the
 *      emulator's fast mode takes the first interrupt of a run at the end of the block that
 *      raised it), and the instruction before it in its block ran once (the emulator once
 *      stopped inside the MMIO callback, which left RIP at the block's start and ran it again)
 *   2  sent with IF clear: held in IRR, nothing taken
 *   3  taken at the "sti; hlt", returning past the hlt (the interrupt window an STI opens
 *      without an exit is tests/test_lapic.c's own case: kvm-pvm does not open it); PPR in
 *      the handler is its class; IRR and ISR are clear after its EOI
 *   4  three held with IF clear are taken highest first: 0x60 at the "sti; hlt", then, their
 *      handlers leaving EOI to the main code, 0x50 and 0x31 each right after an EOI (one
 *      interrupt per exit: kvm-pvm opens no interrupt window after an IRET either)
 *   5  TPR 0x50 holds 0x50 and lets 0x61 through at once; lowering TPR to 0x40 lets 0x50 in
 *      right after the write; PPR reads TPR
 *   6  a vector in service (0x70, no EOI) holds a lower one (PPR reads 0x70); the EOI lets it in
 *      right after the write
 *   7  vector 5 is illegal: not sent, ESR reads "send illegal vector" (0x20) after a write, then 0
 *   8  physical destination 1 and "all but self" do not reach this CPU; destination 0 does
 *   9  software-disabled (SPIV 0xff): an IPI is dropped, and nothing comes when enabled again */
#include "pc_guest_end.h"
/* Registers, as offsets from RDI, which holds the APIC's base: an absolute 32-bit address
 * would be sign-extended in 64-bit code. */
#define TPR 0x80(%rdi)
#define PPR 0xa0(%rdi)
#define EOI 0xb0(%rdi)
#define SPIV 0xf0(%rdi)
#define ISR_0x40 0x120(%rdi) /* ISR bits 0x40-0x5f */
#define IRR_0x40 0x220(%rdi) /* IRR bits 0x40-0x5f: 0x50 is bit 16 */
#define ESR 0x280(%rdi)
#define ICR 0x300(%rdi)
#define ICR_HIGH 0x310(%rdi)
#define SELF 0x44000 /* shorthand self, level assert, fixed */
#define BIT_0x50 (1 << 16)

	.code64
	.section .text.start, "ax"
	.globl _start
_start:
	/* Every gate to "unexpected", then the five vectors' own. */
	call	all_unexpected
	mov	$0x31, %ecx; mov $vec_31, %eax; call set_gate
	mov	$0x50, %ecx; mov $vec_50, %eax; call set_gate
	mov	$0x60, %ecx; mov $vec_60, %eax; call set_gate
	mov	$0x61, %ecx; mov $vec_61, %eax; call set_gate
	mov	$0x70, %ecx; mov $vec_70, %eax; call set_gate
	lidt	idt_desc
	mov	$0xfee00000, %edi
	movl	$0x1ff, SPIV
	movl	$0, TPR
	mov	$1, %bl
	sti
	nop
	incl	ran
	movl	$(SELF | 0x50), ICR
	jmp	1f
1:	cli
	cmpl	$1, ran
	jne	fail
	cmpl	$1, nlog
	jne	fail
	movl	$0, nlog

	mov	$2, %bl
	movl	$(SELF | 0x50), ICR
	cmpl	$0, nlog
	jne	fail
	testl	$BIT_0x50, IRR_0x40
	jz	fail

	mov	$3, %bl
	sti
	hlt
after_sti:
	cli
	cmpl	$1, nlog
	jne	fail
	cmpq	$after_sti, last_rip
	jne	fail
	cmpl	$0x50, last_ppr
	jne	fail
	testl	$BIT_0x50, IRR_0x40
	jnz	fail
	cmpl	$0, ISR_0x40
	jne	fail

	mov	$4, %bl
	movl	$0, nlog
	movb	$0, handler_eoi
	movl	$(SELF | 0x31), ICR
	movl	$(SELF | 0x60), ICR
	movl	$(SELF | 0x50), ICR
	sti
	hlt
	movl	$0, EOI
after_eoi1:
	movl	$0, EOI
after_eoi2:
	movl	$0, EOI
	cli
	movb	$1, handler_eoi
	cmpl	$3, nlog
	jne	fail
	cmpl	$0x00315060, log
	jne	fail
	cmpq	$after_eoi2, last_rip
	jne	fail

	mov	$5, %bl
	movl	$0, nlog
	movl	$0x50, TPR
	cmpl	$0x50, PPR
	jne	fail
	sti
	movl	$(SELF | 0x50), ICR
	movl	$(SELF | 0x61), ICR
after_61:
	cmpl	$1, nlog
	jne	fail
	cmpb	$0x61, log
	jne	fail
	cmpq	$after_61, last_rip
	jne	fail
	movl	$0x40, TPR
after_tpr:
	cli
	cmpl	$2, nlog
	jne	fail
	cmpb	$0x50, log + 1
	jne	fail
	cmpq	$after_tpr, last_rip
	jne	fail
	movl	$0, TPR

	mov	$6, %bl
	movl	$0, nlog
	sti
	movl	$(SELF | 0x70), ICR
	movl	$(SELF | 0x60), ICR
	cmpl	$1, nlog
	jne	fail
	cmpl	$0x70, PPR
	jne	fail
	movl	$0, EOI
after_eoi:
	cli
	cmpl	$2, nlog
	jne	fail
	cmpb	$0x60, log + 1
	jne	fail
	cmpq	$after_eoi, last_rip
	jne	fail
	cmpl	$0, PPR
	jne	fail

	mov	$7, %bl
	movl	$0, nlog
	sti
	movl	$(SELF | 5), ICR
	nop
	cli
	movl	$0, ESR
	cmpl	$0x20, ESR
	jne	fail
	movl	$0, ESR
	cmpl	$0, ESR
	jne	fail

	mov	$8, %bl
	movl	$0x01000000, ICR_HIGH
	movl	$0x4050, ICR		/* physical destination 1 */
	movl	$0xc4050, ICR		/* all but self */
	testl	$BIT_0x50, IRR_0x40
	jnz	fail
	movl	$0, ICR_HIGH
	movl	$0x4050, ICR		/* physical destination 0: this CPU */
	testl	$BIT_0x50, IRR_0x40
	jz	fail
	sti
	hlt
	cli
	cmpl	$1, nlog
	jne	fail

	mov	$9, %bl
	movl	$0, nlog
	movl	$0xff, SPIV
	sti
	movl	$(SELF | 0x50), ICR
	nop
	cli
	testl	$BIT_0x50, IRR_0x40
	jnz	fail
	movl	$0x1ff, SPIV
	sti
	nop
	cli
	cmpl	$0, nlog
	jne	fail

	PC_GUEST_EXIT

	PC_GUEST_IDT64

vec_31:	push	$0x31
	jmp	common
vec_50:	push	$0x50
	jmp	common
vec_60:	push	$0x60
	jmp	common
vec_61:	push	$0x61
	jmp	common
vec_70:	push	$0x70
	jmp	common

/* The stack: vector, RIP, CS, RFLAGS, RSP, SS. */
common:
	push	%rax
	push	%rcx
	mov	16(%rsp), %rax
	mov	nlog, %ecx
	mov	%al, log(%rcx)
	incl	nlog
	mov	24(%rsp), %rcx
	mov	%rcx, last_rip
	mov	PPR, %ecx
	mov	%ecx, last_ppr
	cmp	$0x70, %eax
	je	1f
	cmpb	$0, handler_eoi
	je	1f
	movl	$0, EOI
1:	pop	%rcx
	pop	%rax
	add	$8, %rsp
	iretq

	.data
idt_desc:
	.word	256 * 16 - 1
	.quad	idt
nlog:	.long	0
log:	.long	0, 0
last_rip: .quad	0
last_ppr: .long	0
ran:	.long	0
handler_eoi: .byte 1
	.bss
	.balign	8
idt:	.skip	256 * 16
