/* cpuid: prints what the CPU says about itself, so its output depends on the engine: the vendor
 * string (CPUID leaf 0) through HC_printStr and the family/model/stepping word (leaf 1, EAX)
 * through HC_print32bit. A real CPU under KVM and Unicorn's emulated one differ, so `twinvm diff`
 * must report this guest, naming the cpuid instruction. The leaf-1 signature is also stored in
 * RAM: the vendor alone can match (Unicorn's qemu64 model says AuthenticAMD, as an AMD host
 * does), and the diff tests need a difference that reaches guest RAM on every host. */
#include "hypercall.h"

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

GUEST_ENTRY
{
	uint32_t a, b, c, d, vendor[4];
	volatile uint32_t signature __attribute__((unused)); /* stored for RAM to show, never read */

	cpuid(0, &a, &b, &c, &d);
	vendor[0] = b;
	vendor[1] = d;
	vendor[2] = c;
	vendor[3] = 0;
	HC_printStr("CPU vendor: ");
	HC_printStr((const char *)vendor);
	HC_printStr("\nCPUID(1).EAX: ");
	cpuid(1, &a, &b, &c, &d);
	signature = a;
	HC_print32bit(a);
	halt_with(0);
}
