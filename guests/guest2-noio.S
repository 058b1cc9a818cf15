/* guest2-noio: guest2 with its OUT removed (part 2b). AX counts down, with no exit. */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	xor	%ax, %ax
1:	dec	%ax
	jmp	1b
