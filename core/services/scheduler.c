/* The matrix scheduler: policies, preemption by timer signal, accounting and the exit lines. */
#include "scheduler.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kick.h"
#include "sched_exits.h"
#include "trace.h"

/* The preemption signal: real-time, so it is queued apart from everything else. */
#define TV_SCHED_SIGNAL (SIGRTMIN + 2)

/* Under io, two slices of one VM closer than this are drawn as one: io switches every few
 * microseconds, and a timeline of millions of slivers shows nothing and fills memory. Under the
 * timer policies every quantum is a slice of its own (at least 1 ms), so that two quanta of one
 * VM in a row are two rectangles on the timeline. */
#define SLICE_MERGE_S 0.0005

static const char *const policy_names[TV_POLICY_COUNT] = {
	[TV_POLICY_THREADS] = "threads",
	[TV_POLICY_IO] = "io",
	[TV_POLICY_RR] = "rr",
	[TV_POLICY_SHARE] = "share",
};

/* The VM this thread is running now: the signal handler kicks it. */
static _Thread_local struct tv_sched_vm *volatile running_vm;
/* The scheduler Ctrl-C stops. */
static struct tv_sched *volatile active_sched;

const char *tv_policy_name(enum tv_policy p)
{
	return (unsigned)p < TV_POLICY_COUNT ? policy_names[p] : "unknown";
}

bool tv_policy_parse(const char *name, enum tv_policy *p)
{
	for (int i = 0; i < TV_POLICY_COUNT; i++) {
		if (strcmp(name, policy_names[i]) == 0) {
			*p = (enum tv_policy)i;
			return true;
		}
	}
	return false;
}

/* VM i's weight under the policy: share's weights, 1 each under the others. */
static double weight_of(const struct tv_sched *s, int i)
{
	return s->opt.policy == TV_POLICY_SHARE ? s->vms[i].weight : 1;
}

double tv_sched_target(const struct tv_sched *s, int i)
{
	double owed = 0, total = 0;

	for (int j = 0; j < s->nvms; j++)
		owed += s->vms[j].owed_s;
	if (owed > 0)
		return s->vms[i].owed_s / owed;
	for (int j = 0; j < s->nvms; j++)
		total += weight_of(s, j);
	return total > 0 ? weight_of(s, i) / total : 0;
}

/* ---- accounting ---------------------------------------------------------------------------- */

/* Divides a turn's cpu seconds among the VMs not done when it began, by weight_of: what each was
 * owed of it. The target column is owed over all the CPU time: the share each VM should have had
 * of the time as it was actually spent. While all run, that is the weights (5:3:2); once one
 * halts, its share goes to the others (pick_share), and of the time after they are owed their
 * shares of what is left (5:3: 62.5% and 37.5%), while the one that halted keeps what it was owed
 * until then. The weights alone would be a target no run can meet after a halt. */
static void owe(struct tv_sched *s, double cpu)
{
	double total = 0;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nvms; i++)
		if (!s->vms[i].done)
			total += weight_of(s, i);
	for (int i = 0; i < s->nvms && total > 0; i++)
		if (!s->vms[i].done)
			s->vms[i].owed_s += cpu * weight_of(s, i) / total;
	pthread_mutex_unlock(&s->lock);
}

static void add_slice(struct tv_sched *s, struct tv_sched_vm *vm, double t0, double t1)
{
	struct tv_slice *last = vm->nslices ? &vm->slices[vm->nslices - 1] : NULL;

	if (last && s->opt.policy == TV_POLICY_IO && t0 - last->t1 < SLICE_MERGE_S) {
		last->t1 = t1;
		return;
	}
	if (vm->nslices == vm->slices_cap) {
		size_t cap = vm->slices_cap ? 2 * vm->slices_cap : 64;
		struct tv_slice *p = realloc(vm->slices, cap * sizeof(*p));

		if (!p)
			return; /* the timeline loses a slice; the accounting below does not */
		vm->slices = p;
		vm->slices_cap = cap;
	}
	vm->slices[vm->nslices++] = (struct tv_slice){ t0, t1 };
}

/* One turn on the CPU: run the VM's vCPU until run() returns, and account for it. */
static int turn(struct tv_sched *s, struct tv_sched_vm *vm)
{
	struct tv_exit e;
	double t0, c0, cpu;
	int rc;

	tv_sched_say(s, vm, "started running");
	t0 = tv_sched_now(s);
	s->run_started = t0;
	c0 = tv_sched_clock(CLOCK_THREAD_CPUTIME_ID);
	running_vm = vm;
	rc = tv_machine_step(&vm->m, &e);
	running_vm = NULL;
	cpu = tv_sched_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
	vm->cpu_s += cpu;
	vm->cpu_s2 += cpu * cpu;
	owe(s, cpu);
	add_slice(s, vm, t0, tv_sched_now(s));
	vm->quanta++;
	__atomic_add_fetch(&s->total_quanta, 1, __ATOMIC_RELAXED);
	if (rc) {
		vm->done = true;
		return rc;
	}
	if (e.reason == TV_EXIT_IO || e.reason == TV_EXIT_MMIO)
		return 0; /* report_device() has reported it */
	tv_sched_report_exit(s, vm, &e);
	if (e.reason != TV_EXIT_INTR) {
		vm->done = true;
		vm->last = e;
	}
	return 0;
}

/* ---- signals ------------------------------------------------------------------------------- */

static void on_signal(int sig)
{
	struct tv_sched_vm *vm = running_vm;

	if (sig == SIGINT || sig == SIGTERM) {
		struct tv_sched *s = active_sched;

		if (s) {
			s->stop = 1;
			s->interrupted = true;
		}
	}
	if (vm)
		vm->m.be->kick(vm->m.vcpu);
}

struct saved_signals {
	sigset_t mask;
	struct sigaction sched, intr, term;
};

/* Blocks TV_SCHED_SIGNAL in this thread (threads created later inherit that) and gives every
 * vCPU the mask to run with: this thread's, with TV_SCHED_SIGNAL let in. */
static int signals_take(struct tv_sched *s, struct saved_signals *saved)
{
	struct sigaction sa;
	sigset_t block, run_mask;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a KVM_RUN must come back with EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(TV_SCHED_SIGNAL, &sa, &saved->sched);
	sigaction(SIGINT, &sa, &saved->intr);
	sigaction(SIGTERM, &sa, &saved->term);
	active_sched = s;

	sigemptyset(&block);
	sigaddset(&block, TV_SCHED_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, &saved->mask);
	run_mask = saved->mask;
	sigdelset(&run_mask, TV_SCHED_SIGNAL);
	for (int i = 0; i < s->nvms; i++) {
		int rc = s->vms[i].m.be->set_signal_mask(s->vms[i].m.vcpu, &run_mask);

		if (rc)
			return rc;
	}
	return 0;
}

/* Takes a pending TV_SCHED_SIGNAL off the queue: left there, it would end the next run at once. */
static void signals_drain(void)
{
	const struct timespec zero = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, TV_SCHED_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

static void signals_restore(struct tv_sched *s, const struct saved_signals *saved)
{
	for (int i = 0; i < s->nvms; i++)
		s->vms[i].m.be->set_signal_mask(s->vms[i].m.vcpu, NULL);
	signals_drain();
	active_sched = NULL;
	sigaction(TV_SCHED_SIGNAL, &saved->sched, NULL);
	sigaction(SIGINT, &saved->intr, NULL);
	sigaction(SIGTERM, &saved->term, NULL);
	pthread_sigmask(SIG_SETMASK, &saved->mask, NULL);
}

static int timer_make(timer_t *t)
{
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = TV_SCHED_SIGNAL;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, t) != 0) {
		tv_set_error("timer_create: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Fires once after seconds, then every period seconds (0: once). 0 disarms. 0 or -errno (-ERANGE
 * outside 0 to TV_TIME_MAX_S), with tv_last_error(). */
static int timer_arm(timer_t t, double seconds, double period)
{
	struct itimerspec its = { 0 };

	if (tv_seconds_timespec(seconds, &its.it_value) != 0 ||
	    tv_seconds_timespec(period, &its.it_interval) != 0) {
		tv_set_error("a timer of %g s, then every %g s: give 0 to %g s (a year)", seconds,
			     period, TV_TIME_MAX_S);
		return -ERANGE;
	}
	if (seconds > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	if (timer_settime(t, 0, &its, NULL) != 0) {
		int err = -errno;

		tv_set_error("timer_settime: %s", strerror(errno));
		return err;
	}
	return 0;
}

/* ---- policies ------------------------------------------------------------------------------ */

static bool limits_reached(struct tv_sched *s)
{
	if (s->opt.max_quanta && s->total_quanta >= s->opt.max_quanta)
		return true;
	if (s->opt.duration_s > 0 && tv_sched_now(s) >= s->opt.duration_s)
		return true;
	return s->stop;
}

/* rr and io: the next VM after the last one that ran, skipping the done. */
static struct tv_sched_vm *pick_round_robin(struct tv_sched *s, int *last)
{
	for (int k = 1; k <= s->nvms; k++) {
		int i = (*last + k) % s->nvms;

		if (!s->vms[i].done) {
			*last = i;
			return &s->vms[i];
		}
	}
	return NULL;
}

/* share: smooth weighted round robin (as nginx balances upstreams). Every VM gains its weight;
 * the richest runs and pays the total. Over one cycle of sum(weights) quanta each VM runs exactly
 * its weight, spread out rather than in a block. A VM that is done drops out of the sums, so
 * its share goes to the others. */
static struct tv_sched_vm *pick_share(struct tv_sched *s)
{
	struct tv_sched_vm *best = NULL;
	int64_t total = 0;

	for (int i = 0; i < s->nvms; i++) {
		struct tv_sched_vm *vm = &s->vms[i];

		if (vm->done)
			continue;
		vm->credit += vm->weight;
		total += vm->weight;
		if (!best || vm->credit > best->credit)
			best = vm;
	}
	if (best)
		best->credit -= total;
	return best;
}

static void note_latency(struct tv_sched *s, double expiry)
{
	if (s->nlatency == s->latency_cap) {
		size_t cap = s->latency_cap ? 2 * s->latency_cap : 256;
		double *p = realloc(s->latency_s, cap * sizeof(*p));

		if (!p)
			return;
		s->latency_s = p;
		s->latency_cap = cap;
	}
	s->latency_s[s->nlatency++] = s->run_started - expiry;
}

/* io, rr and share: one control thread runs every vCPU in turn. */
static int run_single_thread(struct tv_sched *s)
{
	bool timed = tv_policy_timed(s->opt.policy);
	double expiry = -1; /* when the timer that ended the last turn fired, if it did */
	timer_t timer;
	int last = s->nvms - 1, rc, disarm_rc;

	rc = timer_make(&timer);
	if (rc)
		return rc;
	while (!limits_reached(s)) {
		struct tv_sched_vm *vm = s->opt.policy == TV_POLICY_SHARE ? pick_share(s)
									    : pick_round_robin(s, &last);
		if (!vm)
			break;
		/* A fresh quantum for every turn, so a VM that halts early gives the next one a
		 * whole quantum; but never past --duration, which ends the turn if it comes first.
		 * Under io the timer only enforces --duration. */
		double armed = tv_sched_now(s), first = timed ? s->opt.quantum_s : 0;
		double period = s->opt.quantum_s;
		uint64_t intr_before = vm->m.stats.by_reason[TV_EXIT_INTR];

		if (s->opt.duration_s > 0) {
			double left = s->opt.duration_s - armed;

			if (left < 1e-6)
				left = 1e-6; /* due now: a timer of 0 would disarm */
			if (!timed || left < first) {
				first = left;
				period = 0.02; /* again until the turn ends: never lost */
			}
		}
		rc = first > 0 ? timer_arm(timer, first, period) : 0;
		if (rc)
			break;
		rc = turn(s, vm);
		disarm_rc = timer_arm(timer, 0, 0);
		signals_drain();
		if (!rc)
			rc = disarm_rc;
		if (rc)
			break;
		if (s->opt.measure_latency && expiry >= 0)
			note_latency(s, expiry);
		/* The turn ended at the timer: it fired first seconds after it was armed. */
		expiry = timed && vm->m.stats.by_reason[TV_EXIT_INTR] > intr_before ? armed + first
										     : -1;
	}
	if (timer_delete(timer) != 0 && !rc) {
		rc = -errno;
		tv_set_error("timer_delete: %s", strerror(errno));
	}
	return rc;
}

static void *vcpu_thread(void *arg)
{
	struct tv_sched_vm *vm = arg;
	struct tv_sched *s = vm->sched;
	intptr_t rc = 0;

	while (!vm->done && !s->stop && rc == 0)
		rc = turn(s, vm);
	return (void *)rc;
}

/* threads: a host thread per vCPU; the control thread only watches the clock and, to stop, sends
 * each thread the preemption signal (again every 20 ms: a signal that arrives between two runs
 * stays pending and ends the next one at once, but the thread must get to it). */
static int run_threads(struct tv_sched *s)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	int rc = 0, started = 0;

	for (int i = 0; i < s->nvms; i++) {
		rc = -pthread_create(&s->vms[i].thread, NULL, vcpu_thread, &s->vms[i]);
		if (rc) {
			tv_set_error("pthread_create: %s", strerror(-rc));
			s->stop = 1;
			break;
		}
		started++;
	}
	for (;;) {
		bool all_done = true;

		for (int i = 0; i < started; i++)
			all_done &= s->vms[i].done;
		if (all_done || s->stop)
			break;
		if (s->opt.duration_s > 0 && tv_sched_now(s) >= s->opt.duration_s)
			break;
		nanosleep(&tick, NULL);
	}
	s->stop = 1;
	for (int i = 0; i < started; i++) {
		for (;;) {
			struct timespec deadline;
			void *ret;

			pthread_kill(s->vms[i].thread, TV_SCHED_SIGNAL);
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += 20 * 1000 * 1000;
			if (deadline.tv_nsec >= 1000000000) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(s->vms[i].thread, &ret, &deadline) == 0) {
				if (!rc && (intptr_t)ret)
					rc = (int)(intptr_t)ret;
				break;
			}
		}
	}
	return rc;
}

int tv_sched_run(struct tv_sched *s)
{
	bool timed = tv_policy_timed(s->opt.policy);
	struct saved_signals saved;
	int rc;

	/* Every time value is a timer's, or bounds one: each in range before anything runs. */
	if ((timed && !(s->opt.quantum_s > 0 && s->opt.quantum_s <= TV_TIME_MAX_S)) ||
	    !(s->opt.duration_s >= 0 && s->opt.duration_s <= TV_TIME_MAX_S)) {
		tv_set_error("quantum %g s, duration %g s: give a quantum above 0 and both at most "
			     "%g s (a year)", s->opt.quantum_s, s->opt.duration_s, TV_TIME_MAX_S);
		return -ERANGE;
	}
	s->t_start = tv_sched_clock(CLOCK_MONOTONIC);
	rc = signals_take(s, &saved);
	if (!rc)
		rc = s->opt.policy == TV_POLICY_THREADS ? run_threads(s) : run_single_thread(s);
	signals_restore(s, &saved);
	return rc;
}

int tv_sched_init(struct tv_sched *s, const struct tv_sched_opts *opt, int n)
{
	memset(s, 0, sizeof(*s));
	s->opt = *opt;
	s->vms = calloc((size_t)n, sizeof(*s->vms));
	if (!s->vms)
		return -ENOMEM;
	s->nvms = n;
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

void tv_sched_free(struct tv_sched *s)
{
	for (int i = 0; i < s->nvms; i++) {
		tv_machine_destroy(&s->vms[i].m);
		free(s->vms[i].slices);
	}
	free(s->vms);
	free(s->latency_s);
	pthread_mutex_destroy(&s->lock);
	s->vms = NULL;
}

void tv_sched_trace_summary(struct tv_sched *s)
{
	json_t *vms, *rec;
	double cpu_total = 0;

	if (!s->opt.trace)
		return;
	vms = json_array();
	for (int i = 0; i < s->nvms; i++)
		cpu_total += s->vms[i].cpu_s;
	for (int i = 0; i < s->nvms; i++) {
		const struct tv_sched_vm *vm = &s->vms[i];

		json_array_append_new(vms, json_pack("{s:i,s:s,s:i,s:I,s:f,s:f,s:f}", "id", i + 1,
						     "name", vm->name, "weight", (int)vm->weight,
						     "quanta", (json_int_t)vm->quanta, "cpu_s",
						     vm->cpu_s, "share",
						     cpu_total > 0 ? vm->cpu_s / cpu_total : 0.0,
						     "target", tv_sched_target(s, i)));
	}
	rec = json_pack("{s:b,s:s}", "summary", 1, "policy", tv_policy_name(s->opt.policy));
	if (!rec) {
		json_decref(vms);
		return;
	}
	if (tv_policy_timed(s->opt.policy)) /* io and threads have no quantum */
		json_object_set_new(rec, "quantum_s", json_real(s->opt.quantum_s));
	json_object_set_new(rec, "vms", vms);
	tv_sched_trace_line(s, rec);
}
