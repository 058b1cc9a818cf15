/* hello: the assignment's first guest. Prints "Hello, world!\n" on port 0xE9, stores 42 at
 * guest-physical 0x400 and halts with 42 in EAX. It ran right when the text appears and the
 * hypervisor finds 42 in both places ("42 at 0x400: ok", "42 in RAX: ok"). Built for 16, 32 and
 * 64 bits from this one source. */
#include <stdint.h>

#include "hypercall_abi.h"
#include "port_io.h"

#define CONSOLE_PORT TV_HC_PRINT8BIT
#define CHECK_ADDR 0x400
#define CHECK_VALUE 42

GUEST_ENTRY
{
	for (const char *p = "Hello, world!\n"; *p; p++)
		outb(CONSOLE_PORT, (uint8_t)*p);
	*(volatile uint32_t *)CHECK_ADDR = CHECK_VALUE;
	halt_with(CHECK_VALUE);
}
