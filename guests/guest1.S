/* guest1: the assignment's first matrix guest. Real mode. Writes AX to port 0x10, increments AX,
 * forever: the hypervisor sees "out port: 16, data: 0", "data: 1", ... */
	.code16
	.section .text.start, "ax"
	.globl _start
_start:
	xor	%ax, %ax
1:	out	%ax, $0x10
	inc	%ax
	jmp	1b
