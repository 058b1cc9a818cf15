/* template: a guest of your own, to copy and change. It prints "Hello from my guest" through
 * HC_print8bit (one OUT of a byte to port 0xE9 per character) and halts; that line on stdout
 * and "twinvm: guest halted" on stderr prove it ran right.
 *
 * One source for every mode: BITS (16, 32 or 64, given to cpp) picks the code width. 16-bit code
 * runs in real mode, 32-bit in protected and paged32 mode, 64-bit in long mode. Link it anywhere
 * twinvm leaves free (README "Guest memory layout"): below 0xE000, or from 0x18000 on; the
 * README's "Write your own guest" links it at 0x1000. twinvm starts it at _start with:
 *   - real mode: CS = DS = ES = SS = 0, so an address is its offset (the first 64 KiB);
 *   - protected and paged32: flat 4 GiB segments, paging (paged32) identity-mapped;
 *   - long mode: identity-mapped, flat;
 *   - the stack pointer at 0xF000, no IDT (an exception ends the run in SHUTDOWN).
 * Build and run (README "Write your own guest"):
 *   cpp -P -x assembler-with-cpp -I guests -DBITS=16 guests/template.S -o my16.s
 *   as --32 -o my16.o my16.s && ld -m elf_i386 -n -Ttext=0x1000 -o my16.elf my16.o
 *   build/twinvm run --guest my16.elf --mode real
 * ld's -n keeps the code in one segment and leaves the file's headers out of the image: without
 * it ld also loads them, a page below -Ttext, which may be a page twinvm keeps for itself.
 * Comments stay in this C style: cpp reads the file first, and would take a '#' comment for a
 * directive. */
#include "hypercall_abi.h" /* the ports: TV_HC_PRINT8BIT is 0xE9 */

#ifndef BITS
#error "give the code width: cpp -DBITS=16, 32 or 64"
#endif
#if BITS == 16
	.code16
#elif BITS == 32
	.code32
#elif BITS == 64
	.code64
#else
#error "BITS must be 16, 32 or 64"
#endif

	.text
	.globl _start
_start:
	/* The same three instructions in every width: mov zero-extends into (R)ESI, lodsb reads
	 * DS:SI, ESI or RSI and steps it, and the string sits below 64 KiB. */
	mov	$message, %esi
1:	lodsb				/* AL = the next byte */
	test	%al, %al
	jz	2f			/* the NUL: done */
	outb	%al, $TV_HC_PRINT8BIT	/* HC_print8bit: the byte to stdout */
	jmp	1b
2:	hlt				/* the run ends here: "twinvm: guest halted" */
	jmp	2b			/* in case anything wakes it */

	.section .rodata
message:
	.asciz	"Hello from my guest\n"

	/* No executable stack wanted: keeps ld from warning about it. */
	.section .note.GNU-stack, "", @progbits
