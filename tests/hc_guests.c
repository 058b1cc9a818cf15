/* The hypercall suites' guests (hc_test.h), each written once as 32-bit code.
 *
 * O stands where 16-bit code needs the operand-size prefix 0x66 to make the same instruction 32
 * bits wide; GUEST() builds the 16-bit image with O = 0x66 and the 32-bit one with O empty. The
 * 64-bit image is the 32-bit one: these encodings mean the same in 64-bit code (in/out take EAX, a
 * 32-bit mov zero-extends into the 64-bit register). Each body takes one argument A: an address or
 * a value. */
#include "hc_test.h"

#define GUEST(name, BODY, A)                                                                  \
	static const uint8_t name##_16[] = { BODY(O16, A) };                                  \
	static const uint8_t name##_32[] = { BODY(O32, A) };                                  \
	const struct guest name = { { name##_16, name##_32 },                                 \
				    { sizeof(name##_16), sizeof(name##_32) } }

/* HC_print8bit: "Hi" with out, then the 4 bytes at A with one rep outsb (string OUT prints every
 * element; in 16-bit code it takes SI and CX, which hold the same values). */
#define PRINT8BIT(O, A)                                                                       \
	0xb0, 'H',            /* mov al, 'H' */                                               \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	0xb0, 'i',            /* mov al, 'i' */                                               \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	O 0xba, LE32(0xe9),   /* mov edx, 0xe9 */                                             \
	O 0xbe, LE32(A),      /* mov esi, A */                                                \
	O 0xb9, LE32(4),      /* mov ecx, 4 */                                                \
	0xf3, 0x6e,           /* rep outsb */                                                 \
	0xf4                  /* hlt */
GUEST(print8bit, PRINT8BIT, DATA);

/* HC_print32bit: A, 0 and the largest value. */
#define PRINT32BIT(O, A)                                                                      \
	O 0xb8, LE32(A),          /* mov eax, A */                                            \
	O 0xe7, 0xea,             /* out 0xea, eax */                                         \
	O 0xb8, LE32(0),          /* mov eax, 0 */                                            \
	O 0xe7, 0xea,             /* out 0xea, eax */                                         \
	O 0xb8, LE32(0xffffffff), /* mov eax, 0xffffffff */                                   \
	O 0xe7, 0xea,             /* out 0xea, eax */                                         \
	0xf4                      /* hlt */
GUEST(print32bit, PRINT32BIT, 1234567890);

/* HC_numExits twice with one other exit (printing the character A) between. */
#define NUMEXITS(O, A)                                                                        \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	O 0x89, 0xc3,         /* mov ebx, eax */                                              \
	0xb0, A,              /* mov al, A */                                                 \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	0xf4                  /* hlt */
GUEST(numexits, NUMEXITS, 'x');

/* HC_printStr of the string at A, then a marker that shows the guest went on. */
#define PRINTSTR(O, A)                                                                        \
	O 0xb8, LE32(A),      /* mov eax, A */                                                \
	O 0xe7, 0xec,         /* out 0xec, eax */                                             \
	O 0xb9, LE32(MARKER), /* mov ecx, MARKER */                                           \
	0xf4                  /* hlt */
GUEST(printstr_data, PRINTSTR, DATA);
GUEST(printstr_long, PRINTSTR, LONG_STR);
GUEST(printstr_at_ram_end, PRINTSTR, RAM_END - 16);
GUEST(printstr_outside_ram, PRINTSTR, OUTSIDE);
GUEST(printstr_alias, PRINTSTR, ALIAS + DATA);
GUEST(printstr_split, PRINTSTR, SPLIT_STR);

/* HC_numExitsByType after one OUT, then HC_printStr of the text it returned. */
#define NUMEXITSBYTYPE(O, A)                                                                  \
	0xb0, A,              /* mov al, A */                                                 \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	O 0xe5, 0xed,         /* in eax, 0xed */                                              \
	O 0xe7, 0xec,         /* out 0xec, eax */                                             \
	0xf4                  /* hlt */
GUEST(numexitsbytype, NUMEXITSBYTYPE, 'x');

/* HC_gvaToHva of 0x400 (result kept in EDX) and of A, then a marker. */
#define GVATOHVA(O, A)                                                                        \
	O 0xbb, LE32(0x400),  /* mov ebx, 0x400 */                                            \
	O 0xe5, 0xee,         /* in eax, 0xee */                                              \
	O 0x89, 0xc2,         /* mov edx, eax */                                              \
	O 0xbb, LE32(A),      /* mov ebx, A */                                                \
	O 0xe5, 0xee,         /* in eax, 0xee */                                              \
	O 0xb9, LE32(MARKER), /* mov ecx, MARKER */                                           \
	0xf4                  /* hlt */
GUEST(gvatohva_last_byte, GVATOHVA, RAM_END - 1);
GUEST(gvatohva_past_ram, GVATOHVA, RAM_END);
GUEST(gvatohva_alias, GVATOHVA, ALIAS + DATA);

/* HC_numExits, HC_printStr of the string at A, HC_numExits; EAX = the difference. */
#define NUMEXITS_AROUND_PRINTSTR(O, A)                                                        \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	O 0x89, 0xc3,         /* mov ebx, eax */                                              \
	O 0xb8, LE32(A),      /* mov eax, A */                                                \
	O 0xe7, 0xec,         /* out 0xec, eax */                                             \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	O 0x29, 0xd8,         /* sub eax, ebx */                                              \
	0xf4                  /* hlt */
GUEST(numexits_around_printstr, NUMEXITS_AROUND_PRINTSTR, DATA);

/* A flood: one rep outsb of A bytes to HC_print32bit's port, which takes only a 32-bit OUT. */
#define FLOOD(O, A)                                                                           \
	O 0xba, LE32(0xea),   /* mov edx, 0xea */                                             \
	O 0xbe, LE32(0),      /* mov esi, 0 */                                                \
	O 0xb9, LE32(A),      /* mov ecx, A */                                                \
	0xf3, 0x6e,           /* rep outsb */                                                 \
	0xf4                  /* hlt */
GUEST(flood, FLOOD, 1000);
