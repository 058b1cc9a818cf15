/* The guest side of twinvm's hypercalls: one VM exit each, arguments in registers, the same in
 * 16-, 32- and 64-bit code (hypercall_abi.h has the ports and the table; core/machine/hypercalls.c
 * the host side). */
#ifndef TWINVM_GUEST_HYPERCALL_H
#define TWINVM_GUEST_HYPERCALL_H

#include <stdint.h>

#include "hypercall_abi.h"
#include "port_io.h"

/* Prints one byte. */
static inline void HC_print8bit(uint8_t c)
{
	outb(TV_HC_PRINT8BIT, c);
}

/* Prints value in decimal and a newline. */
static inline void HC_print32bit(uint32_t value)
{
	outl(TV_HC_PRINT32BIT, value);
}

/* The number of VM exits so far, this one included. */
static inline uint32_t HC_numExits(void)
{
	return inl(TV_HC_NUMEXITS);
}

/* Prints a NUL-terminated string; the hypervisor reads it through the guest's page tables. */
static inline void HC_printStr(const char *s)
{
	outl(TV_HC_PRINTSTR, (uint32_t)(uintptr_t)s);
}

/* A string "IO in: x\nIO out: y\n" the hypervisor wrote into guest memory. */
static inline const char *HC_numExitsByType(void)
{
	return (const char *)(uintptr_t)inl(TV_HC_NUMEXITSBYTYPE);
}

/* The low 32 bits of the host virtual address behind gva, or 0 (and "Invalid GVA" printed). */
static inline uint32_t HC_gvaToHva(const void *gva)
{
	uint32_t hva;

	__asm__ volatile("inl %1, %0" : "=a"(hva) : "Nd"((uint16_t)TV_HC_GVATOHVA), "b"(gva) : "memory");
	return hva;
}

#endif
