/* The guest side of twinvm's hypercalls: one VM exit each, arguments in registers, the same in
 * 16-, 32- and 64-bit code (core/machine/hypercalls.h has the host side and the table of ports). */
#ifndef TWINVM_GUEST_HYPERCALL_H
#define TWINVM_GUEST_HYPERCALL_H

#include <stdint.h>

#include "port_io.h"

/* Prints one byte. */
static inline void HC_print8bit(uint8_t c)
{
	outb(0xE9, c);
}

/* Prints value in decimal and a newline. */
static inline void HC_print32bit(uint32_t value)
{
	outl(0xEA, value);
}

/* The number of VM exits so far, this one included. */
static inline uint32_t HC_numExits(void)
{
	return inl(0xEB);
}

/* Prints a NUL-terminated string; the hypervisor reads it through the guest's page tables. */
static inline void HC_printStr(const char *s)
{
	outl(0xEC, (uint32_t)(uintptr_t)s);
}

/* A string "IO in: x\nIO out: y\n" the hypervisor wrote into guest memory. */
static inline const char *HC_numExitsByType(void)
{
	return (const char *)(uintptr_t)inl(0xED);
}

/* The low 32 bits of the host virtual address behind gva, or 0 (and "Invalid GVA" printed). */
static inline uint32_t HC_gvaToHva(const void *gva)
{
	uint32_t hva;

	__asm__ volatile("inl %1, %0" : "=a"(hva) : "Nd"((uint16_t)0xEE), "b"(gva) : "memory");
	return hva;
}

#endif
