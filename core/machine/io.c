/* Port I/O and MMIO dispatch. */
#include "io.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hypercalls.h"
#include "machine.h"

static void no_device(struct tv_machine *m, struct tv_exit *e)
{
	uint16_t port = e->io.port;

	if (e->io.direction == TV_IO_IN)
		memset(e->io.data, 0xff, (size_t)e->io.size * e->io.count);
	if (!m->opt.quiet && !(m->warned_port[port / 8] & (1u << (port % 8)))) {
		m->warned_port[port / 8] |= (uint8_t)(1u << (port % 8));
		fprintf(stderr, "twinvm: port 0x%x has no device: writes are dropped, reads return all ones\n",
			port);
	}
}

static void io_exit(struct tv_machine *m, struct tv_exit *e)
{
	if (e->io.direction == TV_IO_IN)
		m->stats.io_in++;
	else
		m->stats.io_out++;

	if (!tv_hypercall(m, e))
		no_device(m, e);
}

static void mmio_exit(struct tv_machine *m, struct tv_exit *e)
{
	/* The backend has filled read data with all ones already; there is no MMIO device. */
	if (!m->opt.quiet && !m->warned_mmio) {
		m->warned_mmio = true;
		fprintf(stderr, "twinvm: guest %s 0x%" PRIx64 ", outside RAM (0x%" PRIx64
			" bytes): MMIO with no device, %s\n",
			e->mmio.is_write ? "wrote" : "read", e->mmio.addr, m->ram.size,
			e->mmio.is_write ? "the write is dropped" : "the read returns all ones");
	}
}

int tv_io_handle(void *machine, struct tv_exit *e)
{
	struct tv_machine *m = machine;

	m->hc.name = NULL;
	m->stats.total++;
	if ((unsigned)e->reason < TV_EXIT_REASON_MAX)
		m->stats.by_reason[e->reason]++;
	if (e->reason == TV_EXIT_IO)
		io_exit(m, e);
	else if (e->reason == TV_EXIT_MMIO)
		mmio_exit(m, e);
	if (m->output_failed)
		return -EIO; /* the guest's output is being lost: stop (tv_machine_flush) */
	if (m->opt.max_exits && m->stats.total >= m->opt.max_exits)
		return TV_IO_STOP;
	return m->opt.observer ? m->opt.observer(m->opt.observer_ctx, m, e) : TV_IO_CONTINUE;
}
