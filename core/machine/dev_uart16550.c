/* A 16550 UART at COM1 (0x3f8), transmit only: what kvm-unit-tests and firmware print through.
 * The line is always ready (LSR: transmitter empty), bytes written to THR go to the console, and
 * the divisor latch (DLAB in LCR) is kept apart so that setting the baud rate prints nothing.
 * Nothing is ever received: RBR reads 0 and no interrupt is raised. */
#include <errno.h>
#include <string.h>

#include "devices.h"

#define COM1 0x3f8
#define LCR_DLAB 0x80
#define LSR_THRE_TEMT 0x60 /* transmitter holding register and transmitter empty */

struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
};

/* One register written: reg 0-7 from COM1. */
static void uart_write(struct uart *u, struct tv_machine *m, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case 0:
		if (dlab)
			u->dll = v;
		else
			tv_console_write(m, &v, 1);
		break;
	case 1:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		break;
	case 3: u->lcr = v; break;
	case 4: u->mcr = v; break;
	case 7: u->scr = v; break;
	default: break; /* FCR (2), LSR and MSR (5, 6: read only) */
	}
}

static uint8_t uart_read(const struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case 0: return dlab ? u->dll : 0;
	case 1: return dlab ? u->dlm : u->ier;
	case 2: return 0x01; /* IIR: no interrupt pending */
	case 3: return u->lcr;
	case 4: return u->mcr;
	case 5: return LSR_THRE_TEMT;
	case 6: return 0xb0; /* MSR: carrier, data set ready, clear to send */
	default: return u->scr;
	}
}

/* Each byte of each element is one register access, at its own port (a 16-bit OUT to 0x3f8
 * writes THR and IER), as the bus would split it; bytes past COM1 + 7 are dropped. */
static int uart_io(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct uart *u = ctx;
	uint8_t *data = e->io.data;

	for (uint32_t i = 0; i < e->io.count; i++) {
		for (unsigned b = 0; b < e->io.size; b++) {
			unsigned reg = e->io.port - COM1 + b;
			uint8_t *d = &data[(size_t)i * e->io.size + b];

			if (reg > 7)
				*d = e->io.direction == TV_IO_IN ? 0xff : *d;
			else if (e->io.direction == TV_IO_OUT)
				uart_write(u, m, reg, *d);
			else
				*d = uart_read(u, reg);
		}
	}
	return TV_IO_CONTINUE;
}

int tv_uart16550_attach(struct tv_machine *m)
{
	struct uart *u = tv_machine_device_alloc(m, sizeof(*u), NULL);

	if (!u)
		return -ENOMEM;
	memset(u, 0, sizeof(*u));
	return tv_machine_add_pio(m, COM1, 8, uart_io, u);
}
