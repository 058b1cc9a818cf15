/* The local APIC as an interrupt source (one CPU, xAPIC): IRR and ISR for the 256 vectors, TPR
 * and PPR, EOI, IPIs to itself through ICR, and ESR.
 *
 * A fixed interrupt (a self-IPI, the timer, the LVT error entry) sets its vector in IRR. The
 * highest IRR vector whose priority class (vector / 16) is above PPR's is asserted at the vCPU
 * (tv_machine_assert_irq_from, TV_IRQ_LAPIC: after the PICs' ExtINT); when the engine delivers
 * it, it moves from IRR to ISR. EOI ends the highest vector in service. PPR is TPR, or the
 * class of the highest vector in service when that is higher. While SPIV's enable bit is clear
 * (software-disabled, as at reset) fixed interrupts are dropped and nothing is asserted; what
 * IRR and ISR hold stays. Every interrupt is edge-triggered (TMR reads 0): EOI broadcasts
 * nothing.
 *
 * ICR: an IPI reaches this CPU with the shorthand self or all-including-self, or with none and
 * destination 0 (its ID) or 0xff in physical mode, or a logical destination that matches LDR in
 * the flat model. Fixed and lowest-priority IPIs with a vector below 16 are not sent: ESR's
 * "send illegal vector". NMI (delivery mode 4) is not modelled yet: dropped, said once on the
 * warnings. INIT, start-up and SMI are dropped: there is no other CPU and no SMM. */
#include <errno.h>

#include "dev_lapic.h"
#include "devices.h"

#define ICR_VECTOR 0xffu
#define ICR_MODE(v) (((v) >> 8) & 7u)
#define ICR_LOGICAL (1u << 11)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3u)
#define MODE_FIXED 0u
#define MODE_LOWEST 1u
#define MODE_NMI 4u

enum { SHORT_NONE, SHORT_SELF, SHORT_ALL, SHORT_OTHERS };

static bool test(const uint32_t *bits, unsigned v)
{
	return bits[v / 32] & (1u << (v % 32));
}

static void set(uint32_t *bits, unsigned v, bool on)
{
	if (on)
		bits[v / 32] |= 1u << (v % 32);
	else
		bits[v / 32] &= ~(1u << (v % 32));
}

/* The highest vector set in bits, or -1. */
static int highest(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--)
		if (bits[w])
			return w * 32 + 31 - __builtin_clz(bits[w]);
	return -1;
}

uint32_t tv_lapic_ppr(const struct lapic *a)
{
	int isrv = highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0u;

	return (a->tpr & 0xf0u) >= isr_class ? a->tpr & 0xffu : isr_class;
}

int tv_lapic_update(struct lapic *a)
{
	int v = highest(a->irr);

	if (!(a->spiv & LAPIC_SPIV_ENABLE) || v < 0 || ((uint32_t)v & 0xf0u) <= (tv_lapic_ppr(a) & 0xf0u))
		v = -1;
	return tv_machine_assert_irq_from(a->m, TV_IRQ_LAPIC, v);
}

int tv_lapic_accept(struct lapic *a, unsigned vector)
{
	if (vector > 255)
		return -EINVAL;
	if (!(a->spiv & LAPIC_SPIV_ENABLE))
		return 0;
	if (vector < 16)
		return tv_lapic_error(a, LAPIC_ESR_RECV_ILLEGAL);
	set(a->irr, vector, true);
	return tv_lapic_update(a);
}

int tv_lapic_error(struct lapic *a, uint32_t bits)
{
	uint32_t lvt = a->lvt[LVT_ERROR];
	unsigned vector = lvt & 0xffu;

	a->esr_pending |= bits;
	if ((lvt & LAPIC_LVT_MASKED) || !(a->spiv & LAPIC_SPIV_ENABLE))
		return 0;
	if (vector < 16) { /* the error entry's own vector is illegal: said, not raised again */
		a->esr_pending |= LAPIC_ESR_RECV_ILLEGAL;
		return 0;
	}
	return tv_lapic_accept(a, vector);
}

int tv_lapic_eoi(struct lapic *a)
{
	int v = highest(a->isr);

	if (v < 0)
		return 0;
	set(a->isr, (unsigned)v, false);
	return tv_lapic_update(a);
}

/* Whether the IPI in ICR reaches this CPU. */
static bool to_self(const struct lapic *a)
{
	uint32_t dest = a->icr_high >> 24;

	switch (ICR_SHORTHAND(a->icr_low)) {
	case SHORT_SELF:
	case SHORT_ALL:
		return true;
	case SHORT_OTHERS:
		return false;
	default:
		break;
	}
	if (!(a->icr_low & ICR_LOGICAL))
		return dest == 0 || dest == 0xff;
	/* Logical: the flat model (DFR's model nibble 0xf) matches any common bit; cluster mode
	 * would need a cluster of CPUs. */
	return (a->dfr >> 28) == 0xf && (dest & (a->ldr >> 24)) != 0;
}

int tv_lapic_send_ipi(struct lapic *a)
{
	unsigned mode = ICR_MODE(a->icr_low);
	unsigned vector = a->icr_low & ICR_VECTOR;

	if (mode == MODE_FIXED || mode == MODE_LOWEST) {
		if (vector < 16)
			return tv_lapic_error(a, LAPIC_ESR_SEND_ILLEGAL);
		return to_self(a) ? tv_lapic_accept(a, vector) : 0;
	}
	if (mode == MODE_NMI && to_self(a) && !a->nmi_warned && a->m->opt.warnings) {
		tv_console_note(a->m, a->m->opt.warnings,
				"twinvm: an NMI sent through the local APIC is not modelled: dropped\n");
		a->nmi_warned = true;
	}
	return 0;
}

/* The engine delivered vector, the one tv_lapic_update asserted: now in service. */
static void lapic_ack(void *ctx, struct tv_machine *m, unsigned vector)
{
	struct lapic *a = ctx;

	(void)m;
	if (vector > 255 || !test(a->irr, vector))
		return; /* not ours (cannot happen: the machine acks the source that asserted it) */
	set(a->irr, vector, false);
	set(a->isr, vector, true);
	tv_lapic_update(a);
}

int tv_lapic_irq_attach(struct lapic *a)
{
	return tv_machine_set_irq_ack(a->m, TV_IRQ_LAPIC, lapic_ack, a);
}
