/* The two 8259 PICs' ports (0x20-0x21, 0xa0-0xa1), as far as a guest that masks them sees: the
 * initialisation words are taken in their order (ICW1 on the command port, then ICW2, ICW3 and,
 * when ICW1 asks, ICW4 on the data port), after which the data port is the interrupt mask, read
 * back as written. No interrupt is ever raised; the command port reads 0 (nothing pending). */
#include <errno.h>
#include <string.h>

#include "devices.h"

struct pic {
	uint8_t mask;
	uint8_t icw_left; /* initialisation words still to come on the data port */
};

static int pic_io(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct pic *pics = ctx, *p = &pics[e->io.port >= 0xa0];
	bool data_port = e->io.port & 1;
	uint8_t *d = e->io.data;

	(void)m;
	for (uint32_t i = 0; i < e->io.count; i++) {
		uint8_t *v = &d[(size_t)i * e->io.size]; /* the low byte: the PIC's ports are 8-bit */

		if (e->io.direction == TV_IO_IN) {
			memset(v, 0, e->io.size);
			*v = data_port ? p->mask : 0;
		} else if (!data_port && (*v & 0x10)) { /* ICW1 */
			p->icw_left = (*v & 1) ? 3 : 2;
			p->mask = 0;
		} else if (data_port && p->icw_left) {
			p->icw_left--;
		} else if (data_port) {
			p->mask = *v;
		}
	}
	return TV_IO_CONTINUE;
}

int tv_pic_attach(struct tv_machine *m)
{
	struct pic *pics = tv_machine_device_alloc(m, 2 * sizeof(*pics), NULL);
	int rc;

	if (!pics)
		return -ENOMEM;
	memset(pics, 0, 2 * sizeof(*pics));
	rc = tv_machine_add_pio(m, 0x20, 2, pic_io, pics);
	return rc ? rc : tv_machine_add_pio(m, 0xa0, 2, pic_io, pics);
}
