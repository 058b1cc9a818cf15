/* The local APIC's register page at 0xfee00000 (xAPIC, MMIO), as far as kvm-unit-tests'
 * lib/x86/apic.c and smp.c use it on one CPU. The registers keep what is written, with the bits
 * QEMU's APIC keeps: TPR (its low byte), LDR (its top byte), DFR (its top nibble, the rest ones),
 * SPIV (bits 0-8), ICR high, the six LVT entries and the timer's initial count and divide
 * configuration (bits 0, 1 and 3). ID reads 0, the version 0x00050014 (an integrated APIC, six
 * LVT entries); the timer never counts (its current count reads 0). No interrupt is ever sent
 * or raised: an IPI written to ICR low is dropped (there is one CPU, and no interrupt injection
 * yet) and its delivery status reads idle; EOI is ignored, and ISR, TMR and IRR read 0.
 *
 * A register is a 4-byte access at its 16-byte aligned offset. Any other access, and any offset
 * without a register, reads 0 and drops writes. */
#include <errno.h>
#include <string.h>

#include "devices.h"

#define APIC_PAGE_SIZE 0x1000u
#define APIC_VERSION 0x00050014u
#define LVT_COUNT 6
#define LVT_MASKED 0x10000u
#define ICR_BUSY (1u << 12)

enum apic_reg {
	REG_ID = 0x20, REG_VERSION = 0x30, REG_TPR = 0x80, REG_EOI = 0xb0, REG_LDR = 0xd0,
	REG_DFR = 0xe0, REG_SPIV = 0xf0, REG_ICR_LOW = 0x300, REG_ICR_HIGH = 0x310,
	REG_LVT_TIMER = 0x320, /* then thermal, performance, LINT0, LINT1, error: 0x370 */
	REG_TIMER_INITIAL = 0x380, REG_TIMER_CURRENT = 0x390, REG_TIMER_DIVIDE = 0x3e0,
};

struct apic {
	uint32_t tpr, ldr, dfr, spiv, icr_low, icr_high, timer_initial, timer_divide;
	uint32_t lvt[LVT_COUNT];
};

static bool is_lvt(uint32_t off)
{
	return off >= REG_LVT_TIMER && off < REG_LVT_TIMER + 0x10 * LVT_COUNT;
}

static uint32_t apic_read(const struct apic *a, uint32_t off)
{
	if (is_lvt(off))
		return a->lvt[(off - REG_LVT_TIMER) / 0x10];
	switch (off) {
	case REG_VERSION: return APIC_VERSION;
	case REG_TPR: return a->tpr;
	case REG_LDR: return a->ldr;
	case REG_DFR: return a->dfr;
	case REG_SPIV: return a->spiv;
	case REG_ICR_LOW: return a->icr_low;
	case REG_ICR_HIGH: return a->icr_high;
	case REG_TIMER_INITIAL: return a->timer_initial;
	case REG_TIMER_DIVIDE: return a->timer_divide;
	default: return 0; /* ID, the timer's current count, ISR/TMR/IRR, and the rest */
	}
}

static void apic_write(struct apic *a, uint32_t off, uint32_t v)
{
	if (is_lvt(off)) {
		a->lvt[(off - REG_LVT_TIMER) / 0x10] = v;
		return;
	}
	switch (off) {
	case REG_TPR: a->tpr = v & 0xff; break;
	case REG_LDR: a->ldr = v & 0xff000000u; break;
	case REG_DFR: a->dfr = (v & 0xf0000000u) | 0x0fffffffu; break;
	case REG_SPIV: a->spiv = v & 0x1ff; break;
	case REG_ICR_LOW: a->icr_low = v & ~ICR_BUSY; break; /* sent at once: to nobody */
	case REG_ICR_HIGH: a->icr_high = v; break;
	case REG_TIMER_INITIAL: a->timer_initial = v; break;
	case REG_TIMER_DIVIDE: a->timer_divide = v & 0xb; break;
	default: break; /* ID, version, EOI, the counters: read only or ignored */
	}
}

static int apic_mmio(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct apic *a = ctx;
	uint64_t off = e->mmio.addr - TV_APIC_PAGE; /* wraps to huge below the page */
	bool reg = e->mmio.len == 4 && off < APIC_PAGE_SIZE && (off & 0xf) == 0;
	uint32_t v;

	(void)m;
	if (e->mmio.is_write) {
		if (reg) {
			memcpy(&v, e->mmio.data, sizeof(v));
			apic_write(a, (uint32_t)off, v);
		}
		return TV_IO_CONTINUE;
	}
	memset(e->mmio.data, 0, sizeof(e->mmio.data));
	if (reg) {
		v = apic_read(a, (uint32_t)off);
		memcpy(e->mmio.data, &v, sizeof(v));
	}
	return TV_IO_CONTINUE;
}

int tv_apic_attach(struct tv_machine *m)
{
	struct apic *a = tv_machine_device_alloc(m, sizeof(*a), NULL);

	if (!a)
		return -ENOMEM;
	memset(a, 0, sizeof(*a));
	a->dfr = 0xffffffffu;
	a->spiv = 0xff;
	for (int i = 0; i < LVT_COUNT; i++)
		a->lvt[i] = LVT_MASKED;
	return tv_machine_add_mmio(m, TV_APIC_PAGE, APIC_PAGE_SIZE, apic_mmio, a);
}
