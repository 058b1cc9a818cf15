/* QEMU's pc-testdev (hw/misc/pc-testdev.c), the parts kvm-unit-tests' emulator tests use:
 *
 * - ports 0xe0-0xe3, one 32-bit register: an OUT of any width at any of the four ports writes
 *   its bytes there (port 0xe0 + k is byte k), and an IN reads them back, as QEMU's ioport does.
 *   String I/O is done element by element, in order. Bytes past 0xe3 go to no device (reads are
 *   all ones);
 * - 64 KiB at guest-physical 0xff000000 that behave as RAM, kept here: an MMIO window the tests
 *   run instructions against, so that every access is an exit the hypervisor must complete.
 *   Bytes past its end go to no device.
 *
 * QEMU's page-flush port (0xe4) and IRQ lines (0x2000-0x2017) are not here. */
#include <errno.h>
#include <string.h>

#include "devices.h"

#define TESTDEV_PORT 0xe0
#define TESTDEV_PORTS 4
#define TESTDEV_MEM 0xff000000ull
#define TESTDEV_MEM_SIZE 0x10000u

struct testdev {
	uint8_t reg[TESTDEV_PORTS];
	uint8_t mem[TESTDEV_MEM_SIZE];
};

static int testdev_io(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct testdev *t = ctx;
	uint8_t *data = e->io.data;

	(void)m;
	for (uint32_t i = 0; i < e->io.count; i++) {
		for (unsigned b = 0; b < e->io.size; b++) {
			unsigned byte = (unsigned)e->io.port - TESTDEV_PORT + b; /* huge below 0xe0 */
			uint8_t *d = &data[(size_t)i * e->io.size + b];

			if (byte >= TESTDEV_PORTS)
				*d = e->io.direction == TV_IO_IN ? 0xff : *d;
			else if (e->io.direction == TV_IO_OUT)
				t->reg[byte] = *d;
			else
				*d = t->reg[byte];
		}
	}
	return TV_IO_CONTINUE;
}

static int testdev_mmio(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct testdev *t = ctx;
	uint64_t off = e->mmio.addr - TESTDEV_MEM; /* huge below the window */
	uint32_t len = e->mmio.len < sizeof(e->mmio.data) ? e->mmio.len : sizeof(e->mmio.data);

	(void)m;
	for (uint32_t i = 0; i < len; i++) {
		bool inside = off < TESTDEV_MEM_SIZE && i < TESTDEV_MEM_SIZE - off;

		if (e->mmio.is_write && inside)
			t->mem[off + i] = e->mmio.data[i];
		else if (!e->mmio.is_write)
			e->mmio.data[i] = inside ? t->mem[off + i] : 0xff;
	}
	return TV_IO_CONTINUE;
}

int tv_testdev_attach(struct tv_machine *m)
{
	struct testdev *t = tv_machine_device_alloc(m, sizeof(*t), NULL);
	int rc;

	if (!t)
		return -ENOMEM;
	rc = tv_machine_add_pio(m, TESTDEV_PORT, TESTDEV_PORTS, testdev_io, t);
	return rc ? rc : tv_machine_add_mmio(m, TESTDEV_MEM, TESTDEV_MEM_SIZE, testdev_mmio, t);
}
