/* counter: proves that preemption neither loses nor repeats an instruction. Real mode. Four
 * counters (EAX, EBX, ECX and the dword at 0x500) go up by one each, one instruction apiece, and
 * are compared at the top of every round. An instruction run twice or skipped by a preemption
 * makes them differ: the guest then stores 0xbad at 0x504 and halts. Left alone it never halts;
 * the four counters are equal at the top of each round. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	xor	%eax, %eax
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	movl	$0, 0x500
	movl	$0, 0x504
1:	cmp	%eax, %ebx
	jne	2f
	cmp	%eax, %ecx
	jne	2f
	cmp	0x500, %eax
	jne	2f
	inc	%eax
	inc	%ebx
	inc	%ecx
	incl	0x500
	jmp	1b
2:	movl	$0xbad, 0x504
	hlt
	jmp	2b
