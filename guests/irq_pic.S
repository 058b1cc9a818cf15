/* irq_pic: the PICs' interrupts as --platform pc delivers them, for tests/test_irq.c. Real mode,
 * IVT at 0 (limit 0x3ff: set here, as the machine's real mode starts with no IVT; the entries
 * used lie past this image). IRQ 11 is raised through pc-testdev's line port 0x200b; each
 * handler counts and keeps the IP it interrupted. Exits through isa-debug-exit with 0 when every check holds, else the number of
 * the first that failed:
 *   1  raised and lowered with IF clear: taken at the "sti; hlt", returning past the hlt
 *   2  raised with IF set: taken right after the OUT that raised it
 *   3  masked at the slave PIC: held while masked, taken right after the OUT that unmasks it
 *   4  the slave re-initialised with vector base 0x78: IRQ 11 arrives as vector 0x7b */
#include "pc_guest_end.h"
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	lidt	ivt_desc
	movw	$handler_73, 0x73 * 4
	movw	$0, 0x73 * 4 + 2
	movw	$handler_7b, 0x7b * 4
	movw	$0, 0x7b * 4 + 2
	mov	$0x200b, %dx

	mov	$1, %bl
	cli
	mov	$1, %al
	out	%al, %dx
	mov	$0, %al
	out	%al, %dx
	sti
	hlt
after_hlt:
	cmpb	$1, count_73
	jne	fail
	cmpw	$after_hlt, interrupted_ip
	jne	fail

	mov	$2, %bl
	mov	$1, %al
	out	%al, %dx
after_raise:
	mov	$0, %al
	out	%al, %dx
	cmpb	$2, count_73
	jne	fail
	cmpw	$after_raise, interrupted_ip
	jne	fail

	mov	$3, %bl
	mov	$0x08, %al		/* slave mask: line 3 of the slave is IRQ 11 */
	out	%al, $0xa1
	mov	$1, %al
	out	%al, %dx
	mov	$0, %al
	out	%al, %dx
	cmpb	$2, count_73
	jne	fail
	mov	$0, %al
	out	%al, $0xa1
after_unmask:
	cmpb	$3, count_73
	jne	fail
	cmpw	$after_unmask, interrupted_ip
	jne	fail

	mov	$4, %bl
	mov	$0x11, %al		/* ICW1: edge, cascade, ICW4 follows */
	out	%al, $0xa0
	mov	$0x78, %al		/* ICW2: vector base 0x78 */
	out	%al, $0xa1
	mov	$0x02, %al		/* ICW3: on the master's line 2 */
	out	%al, $0xa1
	mov	$0x01, %al		/* ICW4: 8086 mode */
	out	%al, $0xa1
	mov	$1, %al
	out	%al, %dx
	mov	$0, %al
	out	%al, %dx
	cmpb	$1, count_7b
	jne	fail
	cmpb	$3, count_73
	jne	fail

	PC_GUEST_EXIT

handler_73:
	push	%bp
	mov	%sp, %bp
	mov	2(%bp), %ax
	mov	%ax, interrupted_ip
	incb	count_73
	pop	%bp
	iret
handler_7b:
	incb	count_7b
	iret

ivt_desc:
	.word	0x3ff
	.long	0
count_73:
	.byte	0
count_7b:
	.byte	0
interrupted_ip:
	.word	0
