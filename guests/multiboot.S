/* multiboot: a multiboot v1 kernel of twinvm's own, booted as kvm-unit-tests' x86 tests are
 * (issue 15): `twinvm run --guest build/guests/multiboot.elf` (protected mode, 128M and
 * --platform pc by default). It checks what the boot loader handed it and says so on the 16550
 * UART at COM1 (0x3f8), then ends the run through isa-debug-exit (port 0xf4):
 *   1  EAX is not 0x2BADB002
 *   2  the information's flags lack MEM (bit 0)      3  ... lack CMDLINE (bit 2)
 *   4  the command line is empty (the kernel's name)   5  ... lack MODS (bit 3), or not one module
 *   6  the module does not start with "NR_CPUS=1" (the default environment's first line)
 * Each failed check prints "multiboot: check N failed" and exits with code N (twinvm's status
 * 2N + 1); all passed prints "multiboot: all checks passed" and exits with code 0, status 1.
 * On the way it prints EAX, mem_lower and mem_upper, the command line in quotes, and the module's
 * size and bytes, so the output shows what twinvm gave it. The header's flags are 2: memory
 * information required. Linked at 1 MiB (guests/meson.build), where a kernel traditionally goes.
 * Comments stay in this C style: cpp reads the file first. */
#define HEADER_MAGIC 0x1BADB002
#define HEADER_FLAGS 0x2 /* bit 1: the boot loader must give mem_lower and mem_upper */
#define BOOT_MAGIC 0x2BADB002

/* The information structure (Multiboot 0.6.96, 3.3): its flags, and the fields read here. */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MEM 0x1
#define MBI_CMD 0x4
#define MBI_MODS 0x8

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5) /* bit 5: the transmitter holding register is empty */
#define DEBUG_EXIT 0xf4

	.code32
	.text
	.align	4
	/* First in the file's first 8 KiB: the magic, the flags, and a checksum that makes the
	 * three add up to 0. */
multiboot_header:
	.long	HEADER_MAGIC, HEADER_FLAGS, -(HEADER_MAGIC + HEADER_FLAGS)

	.globl	_start
_start:
	mov	$stack_top, %esp	/* the specification leaves ESP undefined */
	mov	%eax, %ebp		/* the magic */
	mov	%ebx, %edi		/* the information: EDI from here on */
	mov	$s_eax, %esi
	call	puts
	mov	%ebp, %eax
	call	put_hex
	call	newline
	cmp	$BOOT_MAGIC, %ebp
	mov	$1, %eax
	jne	fail			/* EBX means nothing then: read no further */

	testl	$MBI_MEM, MBI_FLAGS(%edi)
	mov	$2, %eax
	jz	fail
	mov	$s_lower, %esi
	call	puts
	mov	MBI_MEM_LOWER(%edi), %eax
	call	put_dec
	mov	$s_upper, %esi
	call	puts
	mov	MBI_MEM_UPPER(%edi), %eax
	call	put_dec
	mov	$s_kib, %esi
	call	puts

	testl	$MBI_CMD, MBI_FLAGS(%edi)
	mov	$3, %eax
	jz	fail
	mov	$s_cmdline, %esi
	call	puts
	mov	MBI_CMDLINE(%edi), %esi
	movzbl	(%esi), %ebx		/* its first byte: the kernel's name begins it */
	call	puts
	mov	$s_quote, %esi
	call	puts
	test	%ebx, %ebx
	mov	$4, %eax
	jz	fail

	testl	$MBI_MODS, MBI_FLAGS(%edi)
	mov	$5, %eax
	jz	fail
	cmpl	$1, MBI_MODS_COUNT(%edi)
	jne	fail
	mov	MBI_MODS_ADDR(%edi), %esi
	mov	(%esi), %ebx		/* the module's first byte */
	mov	4(%esi), %ecx		/* one past its last */
	cmp	%ebx, %ecx
	jb	fail
	sub	%ebx, %ecx		/* its size */
	mov	$s_module, %esi
	call	puts
	mov	%ecx, %eax
	push	%ecx
	call	put_dec
	mov	$s_bytes, %esi
	call	puts
	pop	%ecx
	push	%ecx
	mov	%ebx, %esi
	jecxz	2f
1:	lodsb				/* the module's bytes, as they are */
	call	putc
	loop	1b
2:	pop	%ecx
	call	newline

	cmp	$NR_CPUS_LEN, %ecx
	mov	$6, %eax
	jb	fail
	mov	%ebx, %esi
	mov	$nr_cpus, %edi
	mov	$NR_CPUS_LEN, %ecx
	repe	cmpsb
	jne	fail

	mov	$s_passed, %esi
	call	puts
	mov	$0, %eax
	jmp	exit

/* EAX: the failed check's number, printed and given to isa-debug-exit. */
fail:
	mov	%eax, %ebx
	mov	$s_check, %esi
	call	puts
	mov	%ebx, %eax
	call	put_dec
	mov	$s_failed, %esi
	call	puts
	mov	%ebx, %eax
/* AL to isa-debug-exit: twinvm ends the run and exits with (AL << 1) | 1. */
exit:
	out	%al, $DEBUG_EXIT
1:	hlt				/* only without isa-debug-exit (--platform none) */
	jmp	1b

/* AL to COM1 once its transmitter is empty; keeps every register but EDX. */
putc:
	push	%eax
	mov	$COM1_LSR, %dx
1:	in	%dx, %al
	test	$0x20, %al
	jz	1b
	pop	%eax
	mov	$COM1, %dx
	out	%al, %dx
	ret

newline:
	push	%eax
	mov	$'\n', %al
	call	putc
	pop	%eax
	ret

/* The NUL-terminated string at ESI; ESI ends past its NUL, AL and EDX are lost. */
puts:
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	ret

/* EAX in decimal; EAX, ECX and EDX are lost. */
put_dec:
	push	%ebx
	mov	$10, %ebx
	xor	%ecx, %ecx
1:	xor	%edx, %edx
	div	%ebx
	push	%edx			/* the digits, last first */
	inc	%ecx
	test	%eax, %eax
	jnz	1b
2:	pop	%eax
	add	$'0', %al
	call	putc
	loop	2b
	pop	%ebx
	ret

/* EAX as 0x and eight hex digits; EAX, ECX, EDX and ESI are lost. */
put_hex:
	push	%ebx
	mov	%eax, %ebx
	mov	$s_0x, %esi
	call	puts
	mov	$8, %ecx
1:	rol	$4, %ebx
	mov	%ebx, %eax
	and	$0xf, %eax
	movb	hex_digits(%eax), %al
	call	putc
	loop	1b
	pop	%ebx
	ret

	.section .rodata
hex_digits:	.ascii	"0123456789abcdef"
nr_cpus:	.ascii	"NR_CPUS=1"
	NR_CPUS_LEN = . - nr_cpus
s_eax:		.asciz	"multiboot: EAX "
s_0x:		.asciz	"0x"
s_lower:	.asciz	"mem_lower "
s_upper:	.asciz	" KiB, mem_upper "
s_kib:		.asciz	" KiB\n"
s_cmdline:	.asciz	"cmdline \""
s_quote:	.asciz	"\"\n"
s_module:	.asciz	"module: "
s_bytes:	.asciz	" bytes:\n"
s_check:	.asciz	"multiboot: check "
s_failed:	.asciz	" failed\n"
s_passed:	.asciz	"multiboot: all checks passed\n"

	.bss
	.align	16
	.skip	4096
stack_top:

	/* No executable stack wanted: keeps ld from warning about it. */
	.section .note.GNU-stack, "", @progbits
