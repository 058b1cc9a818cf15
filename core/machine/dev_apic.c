/* The local APIC's register page at 0xfee00000 (xAPIC, MMIO), one CPU. This file decodes the
 * accesses; the interrupts (IRR, ISR, TPR and PPR, EOI, self-IPIs, ESR) are dev_lapic_irq.c's
 * and the timer dev_lapic_timer.c's.
 *
 * The registers keep what is written, with the bits QEMU's APIC keeps: TPR (its low byte), LDR
 * (its top byte), DFR (its top nibble, the rest ones), SPIV (bits 0-8), ICR high, the six LVT
 * entries and the timer's divide configuration (bits 0, 1 and 3). ID reads 0, the version
 * 0x00050014 (an integrated APIC, six LVT entries), APR 0, TMR 0 (every interrupt is
 * edge-triggered). Clearing SPIV's enable bit masks every LVT entry, and while it is clear an
 * LVT entry cannot be unmasked. An IPI written to ICR low is sent at once: its delivery status
 * reads idle. ESR reads the errors latched by its last write.
 *
 * A register is a 4-byte access at its 16-byte aligned offset. Any other access, and any offset
 * without a register, reads 0 and drops writes. */
#include <errno.h>
#include <string.h>

#include "dev_lapic.h"
#include "devices.h"

#define APIC_PAGE_SIZE 0x1000u
#define APIC_VERSION 0x00050014u
#define ICR_BUSY (1u << 12)

enum apic_reg {
	REG_ID = 0x20, REG_VERSION = 0x30, REG_TPR = 0x80, REG_PPR = 0xa0, REG_EOI = 0xb0,
	REG_LDR = 0xd0, REG_DFR = 0xe0, REG_SPIV = 0xf0, REG_ISR = 0x100, REG_TMR = 0x180,
	REG_IRR = 0x200, REG_ESR = 0x280, REG_ICR_LOW = 0x300, REG_ICR_HIGH = 0x310,
	REG_LVT_TIMER = 0x320, /* then thermal, performance, LINT0, LINT1, error: 0x370 */
	REG_TIMER_INITIAL = 0x380, REG_TIMER_CURRENT = 0x390, REG_TIMER_DIVIDE = 0x3e0,
};

static bool is_lvt(uint32_t off)
{
	return off >= REG_LVT_TIMER && off < REG_LVT_TIMER + 0x10 * LAPIC_LVT_COUNT;
}

/* One of the eight 32-bit words of ISR (base REG_ISR) or IRR at off, or -1. */
static int bitmap_word(uint32_t off, uint32_t base)
{
	return off >= base && off < base + 0x80 ? (int)((off - base) / 0x10) : -1;
}

static uint32_t apic_read(struct lapic *a, uint32_t off)
{
	int w;

	if (is_lvt(off))
		return a->lvt[(off - REG_LVT_TIMER) / 0x10];
	if ((w = bitmap_word(off, REG_ISR)) >= 0)
		return a->isr[w];
	if ((w = bitmap_word(off, REG_IRR)) >= 0)
		return a->irr[w];
	switch (off) {
	case REG_VERSION: return APIC_VERSION;
	case REG_TPR: return a->tpr;
	case REG_PPR: return tv_lapic_ppr(a);
	case REG_LDR: return a->ldr;
	case REG_DFR: return a->dfr;
	case REG_SPIV: return a->spiv;
	case REG_ESR: return a->esr;
	case REG_ICR_LOW: return a->icr_low;
	case REG_ICR_HIGH: return a->icr_high;
	case REG_TIMER_INITIAL: return a->timer.initial;
	case REG_TIMER_CURRENT: return tv_lapic_timer_current(a);
	case REG_TIMER_DIVIDE: return a->timer.divide;
	default: return 0; /* ID, APR, TMR, and the rest */
	}
}

/* SPIV: the enable bit cleared masks every LVT entry. */
static int write_spiv(struct lapic *a, uint32_t v)
{
	a->spiv = v & 0x1ff;
	if (!(a->spiv & LAPIC_SPIV_ENABLE))
		for (int i = 0; i < LAPIC_LVT_COUNT; i++)
			a->lvt[i] |= LAPIC_LVT_MASKED;
	return tv_lapic_update(a);
}

static int apic_write(struct lapic *a, uint32_t off, uint32_t v)
{
	if (is_lvt(off)) {
		if (!(a->spiv & LAPIC_SPIV_ENABLE))
			v |= LAPIC_LVT_MASKED;
		a->lvt[(off - REG_LVT_TIMER) / 0x10] = v;
		if (off == REG_LVT_TIMER)
			tv_lapic_timer_write(a, off, v);
		return 0;
	}
	switch (off) {
	case REG_TPR: a->tpr = v & 0xff; return tv_lapic_update(a);
	case REG_EOI: return tv_lapic_eoi(a);
	case REG_LDR: a->ldr = v & 0xff000000u; return 0;
	case REG_DFR: a->dfr = (v & 0xf0000000u) | 0x0fffffffu; return 0;
	case REG_SPIV: return write_spiv(a, v);
	case REG_ESR: a->esr = a->esr_pending; a->esr_pending = 0; return 0;
	case REG_ICR_LOW: a->icr_low = v & ~ICR_BUSY; return tv_lapic_send_ipi(a);
	case REG_ICR_HIGH: a->icr_high = v; return 0;
	case REG_TIMER_INITIAL:
	case REG_TIMER_DIVIDE: tv_lapic_timer_write(a, off, v); return 0;
	default: return 0; /* ID, version, PPR, ISR, IRR, the current count: read only */
	}
}

static int apic_mmio(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct lapic *a = ctx;
	uint64_t off = e->mmio.addr - TV_APIC_PAGE; /* wraps to huge below the page */
	bool reg = e->mmio.len == 4 && off < APIC_PAGE_SIZE && (off & 0xf) == 0;
	uint32_t v;
	int rc;

	(void)m;
	/* The timer may have come due while its signal is on the way. */
	rc = tv_lapic_timer_poll(a);
	if (rc < 0)
		return rc;
	if (e->mmio.is_write) {
		if (reg) {
			memcpy(&v, e->mmio.data, sizeof(v));
			rc = apic_write(a, (uint32_t)off, v);
		}
		return rc < 0 ? rc : TV_IO_CONTINUE;
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
	struct lapic *a = tv_machine_device_alloc(m, sizeof(*a), NULL);
	int rc;

	if (!a)
		return -ENOMEM;
	memset(a, 0, sizeof(*a));
	a->m = m;
	a->dfr = 0xffffffffu;
	a->spiv = 0xff;
	for (int i = 0; i < LAPIC_LVT_COUNT; i++)
		a->lvt[i] = LAPIC_LVT_MASKED;
	rc = tv_lapic_irq_attach(a);
	if (!rc)
		rc = tv_lapic_timer_attach(a);
	if (!rc)
		rc = tv_machine_add_mmio(m, TV_APIC_PAGE, APIC_PAGE_SIZE, apic_mmio, a);
	return rc;
}
