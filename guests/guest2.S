/* guest2: the assignment's second matrix guest. Real mode. Writes AX to port 0x11, decrements
 * AX, forever: "out port: 17, data: 0", "data: 65535", ... */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	xor	%ax, %ax
1:	out	%ax, $0x11
	dec	%ax
	jmp	1b
