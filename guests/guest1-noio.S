/* guest1-noio: guest1 with its OUT removed (the assignment's part 2b). It never exits by itself,
 * so only a timer can take the CPU from it. AX counts up. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	xor	%ax, %ax
1:	inc	%ax
	jmp	1b
