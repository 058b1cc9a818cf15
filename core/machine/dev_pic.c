/* The two 8259 PICs (ports 0x20-0x21 and 0xa0-0xa1), the slave on the master's line 2: the
 * machine's interrupt controller (tv_irq_chip) with --platform pc.
 *
 * The initialisation words are taken in their order (ICW1 on the command port, then ICW2, the
 * vector of line 0, ICW3 and, when ICW1 asks, ICW4 on the data port), after which the data port
 * is the interrupt mask, read back as written. Lines are edge-triggered: a rising line sets its
 * bit in IRR; the unmasked bit of the lowest line (the slave's through line 2) is asserted at the
 * vCPU, and the engine's acknowledge clears it. There is no in-service register (every interrupt
 * ends as if in automatic-EOI mode: EOIs are taken and ignored), no priority rotation and no
 * special mask mode. The command port reads IRR, or 0 for ISR after OCW3 asks for it.
 *
 * Before any initialisation the vectors are a PC BIOS's (0x08 and 0x70) and nothing is masked,
 * since twinvm runs no BIOS: kvm-unit-tests' realmode test raises IRQ 11 and waits for vector
 * 0x73 without touching the PICs. */
#include <errno.h>
#include <string.h>

#include "devices.h"

#define CASCADE_LINE 2

struct pic {
	uint8_t mask;  /* IMR */
	uint8_t irr;   /* lines that rose and wait for delivery */
	uint8_t level; /* each line as its device drives it, for the edges */
	uint8_t base;  /* ICW2: the vector of line 0 */
	uint8_t icw;   /* the initialisation word the data port expects next: 2-4, 0 when done */
	bool icw4;     /* ICW1 asked for ICW4 */
	bool read_isr; /* OCW3 chose ISR for command-port reads */
};

struct pics {
	struct pic chip[2]; /* master, slave */
	int asserted;	    /* the vector asserted at the vCPU, -1: none */
	unsigned asserted_line; /* its line, 0-15 */
};

/* The lowest unmasked line with IRR set on p, or -1. */
static int lowest(const struct pic *p, uint8_t also)
{
	uint8_t pending = (uint8_t)((p->irr | also) & ~p->mask);

	for (int line = 0; line < 8; line++)
		if (pending & (1u << line))
			return line;
	return -1;
}

/* Asserts the vector of the highest-priority pending line, or none, when that changed. */
static int update(struct pics *s, struct tv_machine *m)
{
	int slave = lowest(&s->chip[1], 0);
	int line = lowest(&s->chip[0], slave >= 0 ? 1u << CASCADE_LINE : 0);
	int vector = -1;

	if (line == CASCADE_LINE && slave >= 0) {
		vector = (s->chip[1].base & 0xf8) + slave;
		s->asserted_line = 8u + (unsigned)slave;
	} else if (line >= 0) {
		vector = (s->chip[0].base & 0xf8) + line;
		s->asserted_line = (unsigned)line;
	}
	if (vector == s->asserted)
		return 0;
	s->asserted = vector;
	return tv_machine_assert_irq(m, vector);
}

static int pic_set_line(void *ctx, struct tv_machine *m, unsigned line, bool level)
{
	struct pics *s = ctx;
	struct pic *p;
	uint8_t bit;

	if (line >= 16)
		return -EINVAL;
	p = &s->chip[line / 8];
	bit = (uint8_t)(1u << (line % 8));
	if (level && !(p->level & bit))
		p->irr |= bit;
	p->level = (uint8_t)(level ? p->level | bit : p->level & ~bit);
	return update(s, m);
}

static void pic_ack(void *ctx, struct tv_machine *m, unsigned vector)
{
	struct pics *s = ctx;
	unsigned line = s->asserted_line;

	if ((int)vector != s->asserted)
		return; /* not ours (cannot happen: only the PICs assert) */
	s->chip[line / 8].irr &= (uint8_t)~(1u << (line % 8));
	s->asserted = -1;
	update(s, m);
}

static void pic_write(struct pic *p, bool data_port, uint8_t v)
{
	if (!data_port && (v & 0x10)) { /* ICW1 */
		p->icw = 2;
		p->icw4 = v & 1;
		p->mask = 0;
		p->irr = 0;
		p->read_isr = false;
	} else if (!data_port) {
		if ((v & 0x18) == 0x08 && (v & 2)) /* OCW3 with "read register" */
			p->read_isr = v & 1;
		/* OCW2 (EOI and rotation): nothing is in service */
	} else if (p->icw == 2) {
		p->base = v;
		p->icw = 3;
	} else if (p->icw == 3) {
		p->icw = p->icw4 ? 4 : 0;
	} else if (p->icw == 4) {
		p->icw = 0;
	} else {
		p->mask = v;
	}
}

static int pic_io(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct pics *s = ctx;
	struct pic *p = &s->chip[e->io.port >= 0xa0];
	bool data_port = e->io.port & 1;
	uint8_t *d = e->io.data;

	for (uint32_t i = 0; i < e->io.count; i++) {
		uint8_t *v = &d[(size_t)i * e->io.size]; /* the low byte: the PIC's ports are 8-bit */

		if (e->io.direction == TV_IO_IN) {
			memset(v, 0, e->io.size);
			*v = data_port ? p->mask : p->read_isr ? 0 : p->irr;
		} else {
			pic_write(p, data_port, *v);
		}
	}
	return e->io.direction == TV_IO_OUT ? update(s, m) : TV_IO_CONTINUE;
}

int tv_pic_attach(struct tv_machine *m)
{
	struct pics *s = tv_machine_device_alloc(m, sizeof(*s), NULL);
	int rc;

	if (!s)
		return -ENOMEM;
	s->chip[0].base = 0x08;
	s->chip[1].base = 0x70;
	s->asserted = -1;
	rc = tv_machine_add_pio(m, 0x20, 2, pic_io, s);
	if (!rc)
		rc = tv_machine_add_pio(m, 0xa0, 2, pic_io, s);
	if (!rc)
		rc = tv_machine_set_irq_chip(m, &(struct tv_irq_chip){ .set_line = pic_set_line,
								  .ack = pic_ack, .ctx = s });
	return rc;
}
