/* What the --platform pc test guests (irq_pic.S, lapic_ipi.S, lapic_timer.S) end with, as
 * assembler macros for their .S files. */
#ifndef TWINVM_PC_GUEST_END_H
#define TWINVM_PC_GUEST_END_H

/* Passed: isa-debug-exit with code 0 (twinvm's status 1). fail: the failed check's number, in BL,
 * to isa-debug-exit (status 2 * BL + 1). In 16-bit code and 64-bit code alike. */
.macro PC_GUEST_EXIT
	mov	$0, %al
	out	%al, $0xf4
	hlt
fail:
	mov	%bl, %al
	out	%al, $0xf4
	hlt
.endm

/* 64-bit code: set_gate makes gate ECX a present interrupt gate to EAX (below 64 KiB) in this
 * code segment, in the 16-byte gates at idt; all_unexpected points all 256 at unexpected, a
 * handler for any vector not set since, which exits with code 99. */
.macro PC_GUEST_IDT64
all_unexpected:
	xor	%ecx, %ecx
1:	mov	$unexpected, %eax
	call	set_gate
	inc	%ecx
	cmp	$256, %ecx
	jne	1b
	ret

set_gate:
	lea	idt(, %rcx, 8), %rdx	/* idt + 16 * rcx, without a shift's undefined AF, */
	lea	(%rdx, %rcx, 8), %rdx	/* which differs between the engines */
	mov	%ax, (%rdx)
	movw	%cs, 2(%rdx)
	movw	$0x8e00, 4(%rdx)
	movw	$0, 6(%rdx)
	movq	$0, 8(%rdx)
	ret

unexpected:
	mov	$99, %al
	out	%al, $0xf4
	hlt
.endm

#endif
