/* isa-debug-exit at port 0xf4, as QEMU has it: a guest's OUT of a value v ends the run, and
 * twinvm exits with (v << 1) | 1 (so 1 means the guest's success code 0, and no code the guest
 * can give reads as twinvm's own 0). kvm-unit-tests end this way. Reads return all ones. */
#include <errno.h>
#include <string.h>

#include "devices.h"

#define DEBUG_EXIT_PORT 0xf4

static int debug_exit_io(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	uint32_t v = 0;

	(void)ctx;
	if (e->io.direction == TV_IO_IN) {
		memset(e->io.data, 0xff, (size_t)e->io.size * e->io.count);
		return TV_IO_CONTINUE;
	}
	memcpy(&v, e->io.data, e->io.size); /* the first element: the run ends with it */
	m->guest_exit = true;
	m->guest_exit_status = (int)(((v << 1) | 1) & 0xff);
	return TV_IO_STOP;
}

int tv_debug_exit_attach(struct tv_machine *m)
{
	return tv_machine_add_pio(m, DEBUG_EXIT_PORT, 1, debug_exit_io, NULL);
}
