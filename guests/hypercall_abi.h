/* The hypercall ABI, the one contract between a guest and twinvm: included by the guests
 * (hypercall.h) and by the host (core/machine/hypercalls.h). One VM exit per hypercall, the same
 * in 16-, 32- and 64-bit code, arguments in registers:
 *
 *   port  name               guest does  argument                     result
 *   0xE9  HC_print8bit       outb        AL                           the byte is printed
 *   0xEA  HC_print32bit      outl        EAX                          decimal, then a newline
 *   0xEB  HC_numExits        inl         -                            EAX = exits so far, this one too
 *   0xEC  HC_printStr        outl        EAX = address of a string    the string, byte for byte
 *   0xED  HC_numExitsByType  inl         -                            EAX = address of "IO in: x\nIO out: y\n"
 *   0xEE  HC_gvaToHva        inl         EBX (RBX in 64-bit code)     EAX = low 32 bits of the host
 *                                                                     address, or 0 and "Invalid GVA"
 *
 * Addresses are guest virtual, translated through the guest's own page tables. Plain #defines
 * only, so that assembly guests can include it too. */
#ifndef TWINVM_HYPERCALL_ABI_H
#define TWINVM_HYPERCALL_ABI_H

#define TV_HC_PRINT8BIT 0xE9
#define TV_HC_PRINT32BIT 0xEA
#define TV_HC_NUMEXITS 0xEB
#define TV_HC_PRINTSTR 0xEC
#define TV_HC_NUMEXITSBYTYPE 0xED
#define TV_HC_GVATOHVA 0xEE

#define TV_HC_FIRST TV_HC_PRINT8BIT /* the ports are consecutive */
#define TV_HC_COUNT 6

/* The longest string HC_printStr prints, NUL excluded: a guest cannot make the host walk all of
 * its RAM for one call. */
#define TV_HC_STR_MAX 4096

#endif
