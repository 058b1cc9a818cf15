/* The local APIC's one state, shared by its parts: the register page (dev_apic.c), the interrupt
 * logic (dev_lapic_irq.c: IRR, ISR, TPR and PPR, EOI, self-IPIs, ESR) and the timer
 * (dev_lapic_timer.c). One CPU, xAPIC mode, ID 0. */
#ifndef TWINVM_DEV_LAPIC_H
#define TWINVM_DEV_LAPIC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "machine.h"

#define LAPIC_LVT_COUNT 6
#define LAPIC_LVT_MASKED 0x10000u
#define LAPIC_SPIV_ENABLE 0x100u

/* The LVT entries, by index in lvt[] (registers 0x320-0x370). */
enum lapic_lvt { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR };

/* ESR bits (the error status register, 0x280). */
#define LAPIC_ESR_SEND_ILLEGAL 0x20u /* an IPI sent with a vector below 16 */
#define LAPIC_ESR_RECV_ILLEGAL 0x40u /* an LVT entry that fired with a vector below 16 */

struct lapic_timer {
	timer_t host;	 /* CLOCK_MONOTONIC, its signal aimed at the vCPU's thread */
	bool host_made;	 /* host exists */
	bool running;	 /* counting: one-shot before 0, or periodic */
	uint32_t initial; /* TMICT */
	uint32_t divide;  /* TDCR as kept (bits 0, 1 and 3) */
	uint64_t start_ns;    /* CLOCK_MONOTONIC when the current period began */
	uint64_t deadline_ns; /* when the count reaches 0 */
	/* Set by the signal handler: the next INTR exit is this timer's kick. */
	volatile sig_atomic_t kicked;
	const struct tv_backend_ops *be; /* what the handler kicks; vcpu NULL: nothing */
	struct tv_vcpu *vcpu;
};

struct lapic {
	struct tv_machine *m;
	uint32_t irr[8], isr[8]; /* 256 vectors each, bit v % 32 of word v / 32 */
	uint32_t tpr, ldr, dfr, spiv, icr_low, icr_high;
	uint32_t esr;	      /* as the guest reads it: latched by its last ESR write */
	uint32_t esr_pending; /* errors since */
	uint32_t lvt[LAPIC_LVT_COUNT];
	bool nmi_warned;
	struct lapic_timer timer;
};

/* dev_lapic_irq.c */
/* The processor priority (PPR, 0xa0): TPR, or the class of the highest vector in service when
 * that is higher. */
uint32_t tv_lapic_ppr(const struct lapic *a);
/* A fixed interrupt arrives at vector: IRR, unless the APIC is software-disabled (dropped) or
 * vector < 16 (dropped, an error in ESR: LAPIC_ESR_RECV_ILLEGAL). 0 or -errno (the engine). */
int tv_lapic_accept(struct lapic *a, unsigned vector);
/* Records error bits in ESR and raises the LVT error entry's interrupt when it is unmasked. */
int tv_lapic_error(struct lapic *a, uint32_t bits);
/* Asserts the highest IRR vector above PPR at the vCPU, or none. 0 or -errno. */
int tv_lapic_update(struct lapic *a);
/* EOI: the highest vector in service ends. */
int tv_lapic_eoi(struct lapic *a);
/* ICR low was written: the IPI it describes is sent (to this CPU, or to nobody). */
int tv_lapic_send_ipi(struct lapic *a);
/* The engine delivers the local APIC's vectors through ack. 0 or -errno. */
int tv_lapic_irq_attach(struct lapic *a);

/* dev_lapic_timer.c */
/* The counter's rate: one tick per nanosecond of CLOCK_MONOTONIC before the divider (a 1 GHz
 * APIC bus, as QEMU's and KVM's APICs count). */
#define LAPIC_TIMER_HZ 1000000000ull
/* Writes to LVTT (after it is stored), TMICT and TDCR. */
void tv_lapic_timer_write(struct lapic *a, uint32_t reg, uint32_t v);
/* TMCCT: the current count, 0 when stopped. */
uint32_t tv_lapic_timer_current(struct lapic *a);
/* Fires the timer if its count has reached 0 since last looked at. 0 or -errno. */
int tv_lapic_timer_poll(struct lapic *a);
/* The host timer and the machine's device timer (tv_machine_set_timer). 0 or -errno. */
int tv_lapic_timer_attach(struct lapic *a);

#endif
