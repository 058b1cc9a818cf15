/* The local APIC's timer: LVTT (vector, mask, one-shot or periodic), TDCR (divide by 1 to 128),
 * TMICT (the initial count: writing it starts the count, 0 stops it) and TMCCT (the current
 * count, read back).
 *
 * The count goes down by one every TDCR-divide nanoseconds of CLOCK_MONOTONIC: a 1 GHz APIC bus,
 * which is what QEMU's and KVM's APICs count at, so that guests calibrated there see the same
 * timings (kvm-unit-tests' debug test arms 1000000 at divide 1: one millisecond). The time is
 * the host's, not the guest's: on the emulator, which runs the guest slower, fewer guest
 * instructions run before it fires. When the count reaches 0 the LVTT vector is raised as a
 * fixed interrupt (dev_lapic_irq.c) unless LVTT is masked; a one-shot timer then stops, a
 * periodic one starts again from TMICT (periods the host missed are not raised twice). The
 * TSC-deadline mode (LVTT mode 2, and 3, reserved) is not modelled: the timer does not count.
 *
 * Firing while the guest runs: a POSIX timer on CLOCK_MONOTONIC sends a real-time signal to the
 * vCPU's thread at the deadline, whose handler kicks the engine (backend.h); the INTR exit that
 * follows is this timer's (tv_machine_step asks it through tv_machine_set_timer), which raises
 * the interrupt and lets the run go on. The signal repeats every millisecond until the machine
 * has seen it, since the emulator's fast mode can miss a kick that lands just before it runs.
 * A HLT with IF set while the timer will raise an interrupt waits (clock_nanosleep, no busy
 * loop) for its deadline, and the run goes on with the interrupt asserted; a HLT with IF clear,
 * or with nothing to wait for, ends the run as before. A timeout or Ctrl-C during that wait ends
 * it too, as an INTR exit (which also ends the HLT, were the run continued). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dev_lapic.h"
#include "kick.h"

#define LAPIC_TIMER_SIGNAL (SIGRTMIN + 3) /* kick.c has +1, the scheduler +2 */
#define REPEAT_NS 1000000L		   /* the signal again until the machine saw it */
#define REG_LVTT 0x320
#define REG_TMICT 0x380
#define REG_TDCR 0x3e0
#define LVTT_MODE(v) (((v) >> 17) & 3u)
#define MODE_ONESHOT 0u
#define MODE_PERIODIC 1u
#define RFLAGS_IF 0x200u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* TDCR's divide: bits 0, 1 and 3 as a 3-bit value, 0b111 dividing by 1 and n by 2^(n+1). */
static uint64_t divisor(uint32_t tdcr)
{
	unsigned n = (tdcr & 3u) | ((tdcr >> 1) & 4u);

	return 1ull << ((n + 1) & 7u);
}

static bool counting_mode(const struct lapic *a)
{
	unsigned mode = LVTT_MODE(a->lvt[LVT_TIMER]);

	return mode == MODE_ONESHOT || mode == MODE_PERIODIC;
}

static void on_signal(int sig, siginfo_t *si, void *uctx)
{
	struct lapic_timer *t = si->si_value.sival_ptr;

	(void)sig, (void)uctx;
	if (si->si_code != SI_TIMER || !t)
		return;
	t->kicked = 1;
	if (t->be && t->vcpu)
		t->be->kick(t->vcpu);
}

/* Aims the host timer at the deadline (then every REPEAT_NS), or stops it. */
static void host_arm(struct lapic *a)
{
	struct lapic_timer *t = &a->timer;
	struct itimerspec its = { 0 };

	if (!t->host_made)
		return;
	if (t->running) {
		its.it_value.tv_sec = (time_t)(t->deadline_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(t->deadline_ns % 1000000000ull);
		its.it_interval.tv_nsec = REPEAT_NS;
	}
	timer_settime(t->host, TIMER_ABSTIME, &its, NULL);
}

/* Starts a period at start (TMICT written, or the last period ended). */
static void start_period(struct lapic *a, uint64_t start)
{
	struct lapic_timer *t = &a->timer;

	t->start_ns = start;
	t->deadline_ns = start + (uint64_t)t->initial * divisor(t->divide);
	t->running = true;
}

int tv_lapic_timer_poll(struct lapic *a)
{
	struct lapic_timer *t = &a->timer;
	uint64_t now, period;
	uint32_t lvt = a->lvt[LVT_TIMER];

	if (!t->running)
		return 0;
	now = now_ns();
	if (now < t->deadline_ns)
		return 0;
	if (LVTT_MODE(lvt) == MODE_PERIODIC) {
		period = t->deadline_ns - t->start_ns;
		start_period(a, t->deadline_ns + (now - t->deadline_ns) / period * period);
	} else {
		t->running = false;
	}
	host_arm(a);
	if (lvt & LAPIC_LVT_MASKED)
		return 0;
	if ((lvt & 0xffu) < 16)
		return tv_lapic_error(a, LAPIC_ESR_RECV_ILLEGAL);
	return tv_lapic_accept(a, lvt & 0xffu);
}

uint32_t tv_lapic_timer_current(struct lapic *a)
{
	struct lapic_timer *t = &a->timer;
	uint64_t ticks;

	tv_lapic_timer_poll(a);
	if (!t->running)
		return 0;
	ticks = (now_ns() - t->start_ns) / divisor(t->divide);
	return ticks >= t->initial ? 0 : t->initial - (uint32_t)ticks;
}

void tv_lapic_timer_write(struct lapic *a, uint32_t reg, uint32_t v)
{
	struct lapic_timer *t = &a->timer;
	uint64_t now = now_ns(), ticks;

	tv_lapic_timer_poll(a);
	switch (reg) {
	case REG_TMICT:
		t->initial = v;
		t->running = false;
		if (v && counting_mode(a))
			start_period(a, now);
		break;
	case REG_TDCR:
		/* The count goes on from where it is, at the new rate. */
		ticks = t->running ? (now - t->start_ns) / divisor(t->divide) : 0;
		t->divide = v & 0xbu;
		if (t->running) {
			t->start_ns = now - ticks * divisor(t->divide);
			t->deadline_ns = t->start_ns + (uint64_t)t->initial * divisor(t->divide);
		}
		break;
	case REG_LVTT:
		if (!counting_mode(a))
			t->running = false;
		break;
	default:
		return;
	}
	host_arm(a);
}

/* Whether the timer will raise an interrupt the APIC takes in. */
static bool will_fire(const struct lapic *a)
{
	uint32_t lvt = a->lvt[LVT_TIMER];

	return a->timer.running && !(lvt & LAPIC_LVT_MASKED) && (lvt & 0xffu) >= 16 &&
	       (a->spiv & LAPIC_SPIV_ENABLE);
}

/* A HLT: waits for the timer while the guest takes interrupts and nothing else is asserted. */
static bool halt_wait(struct lapic *a, struct tv_machine *m, struct tv_exit *e)
{
	struct tv_regs r;
	struct timespec ts;

	if (m->be->get_regs(m->vcpu, &r) || !(r.rflags & RFLAGS_IF))
		return false;
	for (;;) {
		if (m->irq_at_engine >= 0)
			return true; /* the engine delivers it at once, past the hlt */
		if (!will_fire(a))
			return false;
		ts.tv_sec = (time_t)(a->timer.deadline_ns / 1000000000ull);
		ts.tv_nsec = (long)(a->timer.deadline_ns % 1000000000ull);
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
		    (tv_kick_timed_out() || tv_kick_interrupted())) {
			e->reason = TV_EXIT_INTR;
			return false;
		}
		if (tv_lapic_timer_poll(a) < 0)
			return false;
	}
}

static bool timer_resume(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct lapic *a = ctx;
	bool ours = a->timer.kicked;

	if (tv_lapic_timer_poll(a) < 0)
		return false;
	if (e->reason == TV_EXIT_HLT)
		return halt_wait(a, m, e);
	/* The kick's flag stays set through a HLT's wait, so the INTR it brings is known. */
	a->timer.kicked = 0;
	return ours && !tv_kick_timed_out() && !tv_kick_interrupted();
}

static void install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: KVM_RUN and the HLT's sleep must return */
	sigemptyset(&sa.sa_mask);
	sigaction(LAPIC_TIMER_SIGNAL, &sa, NULL);
}

/* The machine's end: no signal of this timer may outlive it (its value points here). */
static void timer_cleanup(void *ctx, struct tv_machine *m)
{
	struct lapic *a = ctx;
	const struct timespec zero = { 0 };
	sigset_t set, old;

	(void)m;
	if (!a->timer.host_made)
		return;
	sigemptyset(&set);
	sigaddset(&set, LAPIC_TIMER_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	timer_delete(a->timer.host);
	a->timer.host_made = false;
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int tv_lapic_timer_attach(struct lapic *a)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct lapic_timer *t = &a->timer;
	struct sigevent sev;
	int rc;

	t->be = a->m->be;
	t->vcpu = a->m->vcpu;
	pthread_once(&once, install_handler);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = LAPIC_TIMER_SIGNAL;
	sev.sigev_value.sival_ptr = t;
	/* The thread that boots the machine runs its vCPU (one vCPU per thread: kick.h). */
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->host) != 0) {
		rc = -errno;
		tv_set_error("the local APIC's timer: timer_create: %s", strerror(errno));
		return rc;
	}
	t->host_made = true;
	rc = tv_machine_add_cleanup(a->m, timer_cleanup, a);
	if (rc) {
		timer_delete(t->host);
		t->host_made = false;
		return rc;
	}
	tv_machine_set_timer(a->m, &(struct tv_machine_timer){ .resume = timer_resume, .ctx = a });
	return 0;
}
