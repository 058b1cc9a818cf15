/* The bus twinvm's tools give a guest: ports and MMIO nobody claimed behave as the machine's
 * empty bus, and the first access to each says so. */
#include "devices.h"

#include <errno.h>
#include <inttypes.h>

struct warning_bus {
	FILE *out;
	struct tv_device empty_pio, empty_mmio; /* what answered before: the empty bus */
	bool warned_mmio;
	uint8_t warned_port[65536 / 8];
};

static bool first_time(struct warning_bus *b, uint16_t port)
{
	uint8_t bit = (uint8_t)(1u << (port % 8));

	if (b->warned_port[port / 8] & bit)
		return false;
	b->warned_port[port / 8] |= bit;
	return true;
}

static int unclaimed_port(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct warning_bus *b = ctx;

	if (first_time(b, e->io.port))
		tv_console_note(m, b->out, "twinvm: port 0x%x has no device: writes are dropped, "
				"reads return all ones\n", e->io.port);
	return b->empty_pio.fn(b->empty_pio.ctx, m, e);
}

static int unclaimed_mmio(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct warning_bus *b = ctx;

	if (!b->warned_mmio) {
		b->warned_mmio = true;
		tv_console_note(m, b->out, "twinvm: guest %s 0x%" PRIx64 ", outside RAM (0x%" PRIx64
			" bytes): MMIO with no device, %s\n",
			e->mmio.is_write ? "wrote" : "read", e->mmio.addr, m->ram.size,
			e->mmio.is_write ? "the write is dropped" : "the read returns all ones");
	}
	return b->empty_mmio.fn(b->empty_mmio.ctx, m, e);
}

int tv_bus_warn_attach(struct tv_machine *m, FILE *out)
{
	struct warning_bus *b = tv_machine_device_alloc(m, sizeof(*b), NULL);
	int rc;

	if (!b)
		return -ENOMEM;
	b->out = out;
	b->empty_pio = m->pio[0];
	b->empty_mmio = m->mmio_unclaimed;
	rc = tv_machine_add_pio(m, 0, 0, unclaimed_port, b);
	if (!rc)
		rc = tv_machine_add_mmio(m, 0, 0, unclaimed_mmio, b);
	return rc;
}
