/* QEMU's fw_cfg, as much as kvm-unit-tests reads of it: the selector at 0x510 (a 16-bit key) and
 * the data port at 0x511 (the selected item, a byte a read). The signature "QEMU", the interface
 * id, the RAM size and the CPU count (1: the suite otherwise reads 0xffff and waits for CPUs that
 * never come). Any other key reads as zeros, as QEMU's does. */
#include <errno.h>
#include <string.h>

#include "devices.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511

enum { KEY_SIGNATURE = 0x00, KEY_ID = 0x01, KEY_RAM_SIZE = 0x03, KEY_NB_CPUS = 0x05 };

struct fw_cfg {
	uint16_t key;
	uint32_t offset; /* into the selected item */
};

/* The selected item's byte at offset, little endian as QEMU stores them. */
static uint8_t item_byte(const struct fw_cfg *f, const struct tv_machine *m)
{
	uint64_t v = 0;
	size_t size = 0;

	switch (f->key) {
	case KEY_SIGNATURE: return f->offset < 4 ? (uint8_t)"QEMU"[f->offset] : 0;
	case KEY_ID: v = 1, size = 4; break;
	case KEY_RAM_SIZE: v = m->ram.size, size = 8; break;
	case KEY_NB_CPUS: v = 1, size = 2; break;
	default: return 0;
	}
	return f->offset < size ? (uint8_t)(v >> (8 * f->offset)) : 0;
}

static int fw_cfg_io(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct fw_cfg *f = ctx;
	uint8_t *d = e->io.data;
	size_t n = (size_t)e->io.size * e->io.count;

	if (e->io.port == FW_CFG_SELECTOR) {
		if (e->io.direction == TV_IO_OUT) {
			f->key = (uint16_t)(d[0] | (e->io.size > 1 ? d[1] << 8 : 0));
			f->offset = 0;
		} else {
			memset(d, 0, n);
		}
		return TV_IO_CONTINUE;
	}
	for (size_t i = 0; e->io.direction == TV_IO_IN && i < n; i++) {
		d[i] = item_byte(f, m);
		if (f->offset < UINT32_MAX)
			f->offset++;
	}
	return TV_IO_CONTINUE;
}

int tv_fw_cfg_attach(struct tv_machine *m)
{
	struct fw_cfg *f = tv_machine_device_alloc(m, sizeof(*f), NULL);

	if (!f)
		return -ENOMEM;
	memset(f, 0, sizeof(*f));
	return tv_machine_add_pio(m, FW_CFG_SELECTOR, 2, fw_cfg_io, f);
}
