/* Port I/O for freestanding guests, the same source for 16-, 32- and 64-bit builds. */
#ifndef TWINVM_GUEST_PORT_IO_H
#define TWINVM_GUEST_PORT_IO_H

#include <stdint.h>

/* Every guest's entry point, placed first in the image by guest.ld. */
#define GUEST_ENTRY __attribute__((section(".text.start"), noreturn)) void _start(void)

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t value;

	__asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port) : "memory");
	return value;
}

/* Halts with value in EAX, for the hypervisor to check; never returns. */
static inline __attribute__((noreturn)) void halt_with(uint32_t value)
{
	for (;;)
		__asm__ volatile("hlt" : : "a"(value) : "memory");
}

#endif
