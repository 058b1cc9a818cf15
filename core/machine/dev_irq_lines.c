/* QEMU pc-testdev's IRQ lines, ports 0x2000-0x2017: an OUT of a non-zero value to 0x2000 + n
 * raises ISA IRQ line n, zero lowers it. kvm-unit-tests' realmode test raises IRQ 11 this way.
 * Lines 0-15 go to the PICs (dev_pic.c); 16-23 reach only an IO-APIC, which twinvm does not
 * have: they are dropped, and the first such write is said on the warnings. Reads return all
 * ones, as from QEMU's write-only ports. */
#include <errno.h>
#include <string.h>

#include "devices.h"

#define IRQ_LINES_PORT 0x2000
#define IRQ_LINES 24
#define PIC_LINES 16

struct irq_lines {
	bool warned;
};

static int irq_lines_io(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct irq_lines *l = ctx;
	unsigned line = e->io.port - IRQ_LINES_PORT;
	const uint8_t *d = e->io.data;

	if (e->io.direction == TV_IO_IN) {
		memset(e->io.data, 0xff, (size_t)e->io.size * e->io.count);
		return TV_IO_CONTINUE;
	}
	if (line >= PIC_LINES) {
		if (!l->warned && m->opt.warnings)
			tv_console_note(m, m->opt.warnings, "twinvm: IRQ line %u goes to an IO-APIC, "
					"which this machine does not have: dropped\n", line);
		l->warned = true;
		return TV_IO_CONTINUE;
	}
	for (uint32_t i = 0; i < e->io.count; i++) {
		const uint8_t *v = &d[(size_t)i * e->io.size];
		bool level = false;

		for (unsigned b = 0; b < e->io.size; b++)
			level = level || v[b];
		int rc = tv_machine_irq_line(m, line, level);

		if (rc < 0)
			return rc;
	}
	return TV_IO_CONTINUE;
}

int tv_irq_lines_attach(struct tv_machine *m)
{
	struct irq_lines *l = tv_machine_device_alloc(m, sizeof(*l), NULL);

	if (!l)
		return -ENOMEM;
	return tv_machine_add_pio(m, IRQ_LINES_PORT, IRQ_LINES, irq_lines_io, l);
}
