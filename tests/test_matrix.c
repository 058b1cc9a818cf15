/* The matrix scheduler on each engine, with short quanta: every policy, a thread per VM under
 * threads, strict alternation under io, fairness under rr, 7:3 under share, timer preemption of
 * guests that never exit, a halting VM, exact preemption, and a control thread left as it was.
 *
 * The host may be loaded (CI, other jobs): what the tests assert is counted in turns and exits,
 * which the scheduler decides, and CPU time only where a tolerance is taken from the run's own
 * spread. None depends on how much CPU a 20 ms quantum happened to get. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "builtin.h"
#include "kick.h"
#include "layout.h"
#include "run_guest.h"
#include "scheduler.h"
#include "trace_lines.h"
#include "tv_test.h"

#define QUANTUM_S 0.02

struct matrix {
	struct tv_sched s;
	FILE *trace;
};

/* Sets up n VMs from built-in guest names on engine, or returns false with why. */
static bool matrix_open(struct matrix *mx, const char *engine, enum tv_policy policy,
			const char *const *guests, const unsigned *weights, int n, uint64_t max_quanta,
			double duration_s, char *why, size_t why_len)
{
	const struct tv_backend_ops *be = tv_test_engine(engine, TV_MODE_REAL, why, why_len);
	struct tv_sched_opts opt = { .policy = policy, .quantum_s = QUANTUM_S,
				     .max_quanta = max_quanta, .duration_s = duration_s };

	if (!be)
		return false;
	mx->trace = tmpfile();
	ck_assert_ptr_nonnull(mx->trace);
	opt.trace = mx->trace;
	ck_assert_int_eq(tv_sched_init(&mx->s, &opt, n), 0);
	for (int i = 0; i < n; i++) {
		struct tv_machine_opts mopt = { .backend = be, .ram_size = TV_RAM_DEFAULT };
		const struct tv_builtin *g = tv_builtin_find(guests[i]);
		const uint8_t *image;
		size_t len;

		ck_assert_ptr_nonnull(g);
		ck_assert(tv_builtin_image(g, TV_MODE_REAL, &image, &len));
		snprintf(mx->s.vms[i].name, sizeof(mx->s.vms[i].name), "%s", guests[i]);
		mx->s.vms[i].weight = weights ? weights[i] : 1;
		ck_assert_msg(tv_sched_boot_vm(&mx->s, i, &mopt, image, len) == 0, "%s",
			      tv_last_error());
	}
	return true;
}

static void matrix_run(struct matrix *mx)
{
	ck_assert_msg(tv_sched_run(&mx->s) == 0, "%s", tv_last_error());
	tv_sched_trace_summary(&mx->s);
	fflush(mx->trace);
}

static void matrix_close(struct matrix *mx)
{
	tv_sched_free(&mx->s);
	fclose(mx->trace);
}

/* The VM number of each trace record with the given reason, in order; returns the count. With
 * reason NULL: each record that ended a turn (every reason but IO; the guests here have no MMIO). */
static int trace_vms(struct matrix *mx, const char *reason, int *vms, int max)
{
	struct tv_trace_reader in = { .f = mx->trace, .name = "the trace" };
	json_t *rec;
	int n = 0;

	rewind(mx->trace);
	while ((rec = tv_test_trace_next(&in))) {
		const char *r;

		r = json_string_value(json_object_get(rec, "reason"));
		if (!json_object_get(rec, "summary") &&
		    (reason ? strcmp(r, reason) == 0 : strcmp(r, "IO") != 0)) {
			ck_assert_int_lt(n, max);
			vms[n++] = (int)json_integer_value(json_object_get(rec, "vm"));
		}
		json_decref(rec);
	}
	return n;
}

static const char *const io_pair[] = { "guest1", "guest2" };
static const char *const noio_pair[] = { "guest1-noio", "guest2-noio" };

/* guest1 writes AX to port 0x10, then increments it; guest2 writes to 0x11 and decrements: the
 * k-th OUT of VM1 carries k - 1, of VM2 -(k - 1), mod 2^16. Checks every OUT in the trace against
 * that (none lost, repeated or taken from the other VM) and counts each VM's into outs. */
static void trace_outs_exact(struct matrix *mx, uint64_t outs[2])
{
	static const unsigned port[2] = { 0x10, 0x11 };
	static const int step[2] = { 1, -1 };
	struct tv_trace_reader in = { .f = mx->trace, .name = "the trace" };
	json_t *rec;

	outs[0] = outs[1] = 0;
	rewind(mx->trace);
	while ((rec = tv_test_trace_next(&in))) {
		const json_t *io;
		const char *data;
		unsigned lo = 0, hi = 0;
		uint16_t want;
		int vm;

		io = json_object_get(rec, "io");
		if (io) {
			/* Plain ifs: a passing ck_assert costs a write, and there are 10^5 OUTs. */
			vm = (int)json_integer_value(json_object_get(rec, "vm")) - 1;
			if (vm != 0 && vm != 1)
				ck_abort_msg("an OUT from VM%d", vm + 1);
			data = json_string_value(json_object_get(io, "data"));
			want = (uint16_t)(step[vm] * (int64_t)outs[vm]);
			if (json_integer_value(json_object_get(io, "port")) != port[vm] ||
			    !data || sscanf(data, "%2x%2x", &lo, &hi) != 2 || (lo | hi << 8) != want)
				ck_abort_msg("VM%d's OUT %llu is not %u to port %#x: trace line %llu, data %s",
					     vm + 1, (unsigned long long)outs[vm] + 1, want, port[vm],
					     (unsigned long long)in.line, data ? data : "(none)");
			outs[vm]++;
		}
		json_decref(rec);
	}
}

/* Every exit of VM i is accounted for: its stats count the outs OUTs of the trace and INTR exits
 * that ended turns, nothing else; and its AX agrees with the count (the step after the last OUT
 * may or may not have run). */
static void exits_add_up(struct matrix *mx, int i, uint64_t outs)
{
	const struct tv_sched_vm *vm = &mx->s.vms[i];
	const struct tv_exit_stats *st = &vm->m.stats;
	const int step = i == 0 ? 1 : -1;
	uint16_t ax;
	struct tv_regs r;

	ck_assert_uint_eq(st->by_reason[TV_EXIT_IO], outs);
	ck_assert_uint_eq(st->io_out, outs);
	ck_assert_uint_eq(st->total, outs + st->by_reason[TV_EXIT_INTR]);
	ck_assert_int_eq(vm->m.be->get_regs(vm->m.vcpu, &r), 0);
	ax = (uint16_t)r.rax;
	ck_assert_msg(ax == (uint16_t)(step * (int64_t)outs) ||
			      ax == (uint16_t)(step * ((int64_t)outs - 1)),
		      "VM%d: AX %u after %llu OUTs", i + 1, ax, (unsigned long long)outs);
}

/* Every policy runs both VMs, and every exit is accounted for, per VM. */
static void every_policy_runs(const char *engine, enum tv_policy policy)
{
	bool threads = policy == TV_POLICY_THREADS;
	struct matrix mx;
	uint64_t outs[2];
	char why[256];

	if (!matrix_open(&mx, engine, policy, io_pair, NULL, 2, threads ? 0 : 10, threads ? 0.3 : 0,
			 why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	matrix_run(&mx);
	trace_outs_exact(&mx, outs);
	for (int i = 0; i < 2; i++) {
		const struct tv_sched_vm *vm = &mx.s.vms[i];

		ck_assert_msg(outs[i] > 0, "%s: VM%d made no OUT under %s", engine, i + 1,
			      tv_policy_name(policy));
		exits_add_up(&mx, i, outs[i]);
		ck_assert(!vm->done);
		/* Under io each turn ends at its one OUT; under the others at the timer (threads:
		 * the stop signal). */
		if (policy == TV_POLICY_IO) {
			ck_assert_uint_eq(vm->quanta, outs[i]);
			ck_assert_uint_eq(vm->m.stats.by_reason[TV_EXIT_INTR], 0);
		} else {
			ck_assert_uint_eq(vm->m.stats.by_reason[TV_EXIT_INTR], vm->quanta);
		}
	}
	if (!threads)
		ck_assert_uint_eq(mx.s.vms[0].quanta + mx.s.vms[1].quanta, 10);
	matrix_close(&mx);
}

/* threads: each VM on a host thread of its own, both at once. Each VM has one turn, from its
 * thread's start to the stop at 0.3 s, so the two turns overlap in time: turns taken on one
 * thread never do. Counted, not timed: a loaded host changes how many OUTs, not these. */
static void threads_run_each_vm_on_its_own_thread(const char *engine)
{
	struct matrix mx;
	uint64_t outs[2];
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_THREADS, io_pair, NULL, 2, 0, 0.3, why,
			 sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	matrix_run(&mx);
	trace_outs_exact(&mx, outs);
	for (int i = 0; i < 2; i++) {
		const struct tv_sched_vm *vm = &mx.s.vms[i];

		ck_assert_msg(outs[i] > 0, "%s: VM%d made no OUT", engine, i + 1);
		exits_add_up(&mx, i, outs[i]);
		ck_assert_uint_eq(vm->quanta, 1);
		ck_assert_uint_eq(vm->m.stats.by_reason[TV_EXIT_INTR], 1);
		ck_assert_uint_eq(vm->nslices, 1);
	}
	ck_assert(!pthread_equal(mx.s.vms[0].thread, mx.s.vms[1].thread));
	for (int i = 0; i < 2; i++) {
		const struct tv_sched_vm *vm = &mx.s.vms[i], *other = &mx.s.vms[1 - i];

		ck_assert_msg(vm->slices[0].t0 < other->slices[0].t1,
			      "VM%d started at %.3f s, after VM%d's turn ended at %.3f s", i + 1,
			      vm->slices[0].t0, 2 - i, other->slices[0].t1);
	}
	matrix_close(&mx);
}

static void io_alternates_strictly(const char *engine)
{
	struct matrix mx;
	int vms[64], n;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_IO, io_pair, NULL, 2, 40, 0, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	matrix_run(&mx);
	n = trace_vms(&mx, "IO", vms, 64);
	ck_assert_int_eq(n, 40);
	for (int i = 0; i < n; i++)
		ck_assert_msg(vms[i] == 1 + i % 2, "exit %d came from VM%d", i + 1, vms[i]);
	matrix_close(&mx);
}

static void rr_is_fair(const char *engine)
{
	struct matrix mx;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_RR, io_pair, NULL, 2, 9, 0, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	matrix_run(&mx);
	ck_assert_uint_eq(mx.s.vms[0].quanta + mx.s.vms[1].quanta, 9);
	ck_assert_uint_le(mx.s.vms[0].quanta, mx.s.vms[1].quanta + 1);
	ck_assert_uint_le(mx.s.vms[1].quanta, mx.s.vms[0].quanta + 1);
	matrix_close(&mx);
}

/* How far VM1's CPU share may stray from its target by chance alone: 6 standard errors, from
 * the spread of the turns' CPU times in this run. The quanta are exact, but the CPU a 20 ms
 * quantum gets is the host's to give: beside four busy loops on two cores a quantum got 2 to 6 ms,
 * and a fixed tolerance (0.67-0.73 once passed by 0.0014) fails at random. The VMs' turns
 * interleave, so load spreads both alike, and the spread within each VM measures it; a scheduler
 * that gives one VM more or longer quanta moves the VMs' means apart, which no spread explains. */
static double share_tolerance(const struct tv_sched *s)
{
	const struct tv_sched_vm *a = &s->vms[0], *b = &s->vms[1];
	double w = tv_sched_target(s, 0), na = (double)a->quanta, nb = (double)b->quanta;
	/* Each VM's sum of squared deviations from its own mean, pooled. */
	double ss = a->cpu_s2 - a->cpu_s * a->cpu_s / na + b->cpu_s2 - b->cpu_s * b->cpu_s / nb;
	double var = fmax(ss, 0) / (na + nb - 2);
	/* share - w = ((1 - w) * cpu_a - w * cpu_b) / (cpu_a + cpu_b), turns independent. */
	double se = sqrt(var * ((1 - w) * (1 - w) * na + w * w * nb)) / (a->cpu_s + b->cpu_s);

	/* The floor, for an idle host whose spread is near 0: 0.005 is one VM's quanta getting
	 * 2.4% more CPU (0.5 ms in 20), more than the two guests' turns differ by of their own. */
	return fmax(6 * se, 0.005);
}

static void share_is_7_to_3(const char *engine)
{
	static const unsigned weights[] = { 7, 3 };
	double cpu0, cpu1, share, tol;
	struct matrix mx;
	int vms[64], n;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_SHARE, io_pair, weights, 2, 40, 0, why,
			 sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	matrix_run(&mx);
	/* The scheduler's decisions, exact whatever the host's load. */
	ck_assert_uint_eq(mx.s.vms[0].quanta, 28);
	ck_assert_uint_eq(mx.s.vms[1].quanta, 12);
	/* 7:3 within every 10-quantum cycle, not just overall. */
	n = trace_vms(&mx, "INTR", vms, 64);
	ck_assert_int_eq(n, 40);
	for (int cycle = 0; cycle < 4; cycle++) {
		int first = 0;

		for (int k = 0; k < 10; k++)
			first += vms[10 * cycle + k] == 1;
		ck_assert_msg(first == 7, "cycle %d gave VM1 %d quanta of 10", cycle + 1, first);
	}
	/* The CPU those quanta got, judged as precisely as this run measured it. */
	cpu0 = mx.s.vms[0].cpu_s;
	cpu1 = mx.s.vms[1].cpu_s;
	share = cpu0 / (cpu0 + cpu1);
	tol = share_tolerance(&mx.s);
	ck_assert_msg(fabs(share - 0.7) <= tol,
		      "VM1's CPU share is %.4f, not 0.70 +- %.4f (CPU per quantum: %.2f ms, %.2f ms)",
		      share, tol, 1e3 * cpu0 / (double)mx.s.vms[0].quanta,
		      1e3 * cpu1 / (double)mx.s.vms[1].quanta);
	matrix_close(&mx);
}

static void noio_guests_are_preempted(const char *engine)
{
	struct matrix mx;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_RR, noio_pair, NULL, 2, 8, 0, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	matrix_run(&mx);
	for (int i = 0; i < 2; i++) {
		const struct tv_exit_stats *st = &mx.s.vms[i].m.stats;

		/* Only the timer took the CPU away: every exit is an INTR, one per quantum. */
		ck_assert_uint_eq(mx.s.vms[i].quanta, 4);
		ck_assert_uint_eq(st->by_reason[TV_EXIT_INTR], 4);
		ck_assert_uint_eq(st->total, 4);
	}
	matrix_close(&mx);
}

/* A VM that halts is never run again, and the others take its turns. hello halts after under
 * 1 ms of CPU (0.4 ms; 0.8 ms sanitized), but a 20 ms quantum holds that only while the host gives
 * the thread 1 ms of every 20; a 0.2 s one, which hello's turn ends early, leaves 200 times the
 * need, so "hello halted in its first turn" is a count of turns that load does not change. */
static void halting_vm_leaves_the_rest(const char *engine)
{
	static const char *const guests[] = { "hello", "guest1-noio", "guest2-noio" };
	static const int order[] = { 1, 2, 3, 2, 3 };
	struct matrix mx;
	int vms[16], n;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_RR, guests, NULL, 3, 5, 0, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	mx.s.opt.quantum_s = 0.2;
	matrix_run(&mx);
	ck_assert(mx.s.vms[0].done);
	ck_assert_int_eq(mx.s.vms[0].last.reason, TV_EXIT_HLT);
	ck_assert_uint_eq(mx.s.vms[0].quanta, 1);
	/* Who ended each turn, in order: hello's HLT, then the other two alternating. */
	ck_assert_int_eq(trace_vms(&mx, "HLT", vms, 16), 1);
	ck_assert_int_eq(vms[0], 1);
	n = trace_vms(&mx, NULL, vms, 16);
	ck_assert_int_eq(n, 5);
	for (int i = 0; i < n; i++)
		ck_assert_msg(vms[i] == order[i], "turn %d was VM%d's", i + 1, vms[i]);
	ck_assert_uint_eq(mx.s.vms[1].quanta, 2);
	ck_assert_uint_eq(mx.s.vms[2].quanta, 2);
	matrix_close(&mx);
}

/* Hundreds of preemptions of a guest whose four counters must stay equal (guests/counter.S). */
static void preemption_is_exact(const char *engine)
{
	static const char *const guests[] = { "counter", "counter" };
	struct matrix mx;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_RR, guests, NULL, 2, 0, 0, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	mx.s.opt.quantum_s = 0.002;
	mx.s.opt.max_quanta = 400;
	matrix_run(&mx);
	for (int i = 0; i < 2; i++) {
		struct tv_sched_vm *vm = &mx.s.vms[i];
		uint32_t counter = 0, bad = 0;
		struct tv_regs r;

		ck_assert_msg(!vm->done, "VM%d halted: a counter was skipped or counted twice",
			      i + 1);
		ck_assert_uint_eq(vm->quanta, 200);
		ck_assert_int_eq(tv_ram_read(&vm->m.ram, 0x500, &counter, 4), 0);
		ck_assert_int_eq(tv_ram_read(&vm->m.ram, 0x504, &bad, 4), 0);
		ck_assert_uint_eq(bad, 0);
		ck_assert_int_eq(vm->m.be->get_regs(vm->m.vcpu, &r), 0);
		/* Stopped at an instruction boundary inside one round: the counters differ by at
		 * most one, in the order the guest increments them. */
		ck_assert_uint_ge((uint32_t)r.rax, (uint32_t)r.rbx);
		ck_assert_uint_ge((uint32_t)r.rbx, (uint32_t)r.rcx);
		ck_assert_uint_ge((uint32_t)r.rcx, counter);
		ck_assert_uint_le((uint32_t)r.rax - counter, 1);
		ck_assert_uint_gt(counter, 1000);
	}
	matrix_close(&mx);
}

/* SA_RESTORER is glibc's own: it appears once an action has been set through glibc at all. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static bool same_action(const struct sigaction *a, const struct sigaction *b)
{
	return a->sa_handler == b->sa_handler &&
	       (a->sa_flags & ~SA_RESTORER) == (b->sa_flags & ~SA_RESTORER);
}

static void control_thread_left_as_it_was(const char *engine)
{
	const int sigs[] = { SIGRTMIN + 2, SIGINT, SIGTERM };
	struct sigaction before[3], after[3];
	sigset_t mask_before, mask_after;
	struct matrix mx;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_RR, noio_pair, NULL, 2, 4, 0, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	pthread_sigmask(SIG_SETMASK, NULL, &mask_before);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], NULL, &before[i]);
	matrix_run(&mx);
	pthread_sigmask(SIG_SETMASK, NULL, &mask_after);
	for (int i = 0; i < 3; i++) {
		sigaction(sigs[i], NULL, &after[i]);
		ck_assert_msg(same_action(&before[i], &after[i]), "signal %d's handler changed",
			      sigs[i]);
		ck_assert_int_eq(sigismember(&mask_before, sigs[i]), sigismember(&mask_after, sigs[i]));
	}
	ck_assert(!sigismember(&mask_after, SIGRTMIN + 2));
	matrix_close(&mx);
}

/* Jansson allocations not yet freed, counted by allocation functions the test installs. */
static long json_live;

static void *counting_malloc(size_t n)
{
	json_live++;
	return malloc(n);
}

static void counting_free(void *p)
{
	json_live -= p != NULL;
	free(p);
}

/* Every matrix run without --trace calls the summary writer: it must leave nothing behind (the
 * sanitizer build's exit status depended on it). */
START_TEST(test_trace_summary_without_trace_leaves_nothing)
{
	struct tv_sched_opts opt = { .policy = TV_POLICY_SHARE, .quantum_s = QUANTUM_S };
	struct tv_sched s;

	json_set_alloc_funcs(counting_malloc, counting_free);
	ck_assert_int_eq(tv_sched_init(&s, &opt, 2), 0);
	snprintf(s.vms[0].name, sizeof(s.vms[0].name), "guest1");
	snprintf(s.vms[1].name, sizeof(s.vms[1].name), "guest2");
	tv_sched_trace_summary(&s);
	tv_sched_free(&s);
	ck_assert_int_eq(json_live, 0);
}
END_TEST

/* --duration ends a turn inside its quantum: 0.3 s with 10 s quanta once ran 10 s. */
static void duration_ends_a_long_quantum(const char *engine)
{
	struct matrix mx;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_RR, noio_pair, NULL, 2, 0, 0.3, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	mx.s.opt.quantum_s = 10;
	matrix_run(&mx);
	ck_assert_msg(tv_sched_now(&mx.s) < 3, "a 0.3 s run took %.1f s", tv_sched_now(&mx.s));
	ck_assert_uint_eq(mx.s.vms[0].quanta + mx.s.vms[1].quanta, 1);
	matrix_close(&mx);
}

/* A quantum beyond a year is refused before anything runs, not armed as a timer that fails
 * unnoticed and never fires. */
static void quantum_beyond_a_year_is_refused(const char *engine)
{
	static const char *const guests[] = { "hello", "hello" };
	struct matrix mx;
	char why[256];

	if (!matrix_open(&mx, engine, TV_POLICY_RR, guests, NULL, 2, 0, 0, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	mx.s.opt.quantum_s = 1e300;
	ck_assert_int_eq(tv_sched_run(&mx.s), -ERANGE);
	ck_assert_uint_eq(mx.s.total_quanta, 0);
	matrix_close(&mx);
}

/* The --timeout timer: beyond a year is -ERANGE (it was a timer_settime failure ignored). */
START_TEST(test_kick_refuses_a_timeout_beyond_a_year)
{
	ck_assert_int_eq(tv_kick_arm(NULL, NULL, 1e300), -ERANGE);
	ck_assert_int_eq(tv_kick_arm(NULL, NULL, 9.3e18), -ERANGE);
	ck_assert_int_eq(tv_kick_arm(NULL, NULL, TV_TIME_MAX_S), 0);
	tv_kick_disarm();
}
END_TEST

/* test_<fn>_kvm and test_<fn>_emu: the same check on each engine. */
#define ENGINE_TESTS(fn)                                                         \
	START_TEST(test_##fn##_kvm) { fn("kvm"); }                              \
	START_TEST(test_##fn##_emu) { fn("emu"); }

START_TEST(test_every_policy_runs_kvm) { every_policy_runs("kvm", (enum tv_policy)_i); }
END_TEST
START_TEST(test_every_policy_runs_emu) { every_policy_runs("emu", (enum tv_policy)_i); }
END_TEST
ENGINE_TESTS(threads_run_each_vm_on_its_own_thread)
ENGINE_TESTS(io_alternates_strictly)
ENGINE_TESTS(rr_is_fair)
ENGINE_TESTS(share_is_7_to_3)
ENGINE_TESTS(noio_guests_are_preempted)
ENGINE_TESTS(halting_vm_leaves_the_rest)
ENGINE_TESTS(preemption_is_exact)
ENGINE_TESTS(control_thread_left_as_it_was)
ENGINE_TESTS(duration_ends_a_long_quantum)
ENGINE_TESTS(quantum_beyond_a_year_is_refused)

/* The counter guest can fail: the emulator's fast mode, stopped asynchronously from a signal
 * handler, re-executes instructions (docs/DESIGN.md, "Unicorn traps"), and the guest catches it. */
START_TEST(test_counter_guest_catches_reexecution_emu)
{
	const struct tv_builtin *g = tv_builtin_find("counter");
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	const uint8_t *image;
	uint32_t bad = 0;
	char why[256];
	size_t len;
	int runs;

	be = tv_test_engine("emu", TV_MODE_REAL, why, sizeof(why));
	if (!be)
		TV_SKIP("emu: %s", why);
	ck_assert(tv_builtin_image(g, TV_MODE_REAL, &image, &len));
	tv_test_run(&t, be, TV_MODE_REAL, image, len, NULL, 0.001);
	for (runs = 1; runs < 2000 && t.last.reason == TV_EXIT_INTR; runs++)
		ck_assert_int_eq(tv_machine_run(&t.m, 0.001, &t.last), 0);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "no re-execution caught in %d async stops",
		      runs);
	ck_assert_int_eq(tv_ram_read(&t.m.ram, 0x504, &bad, 4), 0);
	ck_assert_uint_eq(bad, 0xbad);
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("matrix");
	TCase *tc = tcase_create("scheduler");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_every_policy_runs_kvm, 0, TV_POLICY_COUNT);
	tcase_add_loop_test(tc, test_every_policy_runs_emu, 0, TV_POLICY_COUNT);
	tcase_add_test(tc, test_threads_run_each_vm_on_its_own_thread_kvm);
	tcase_add_test(tc, test_threads_run_each_vm_on_its_own_thread_emu);
	tcase_add_test(tc, test_io_alternates_strictly_kvm);
	tcase_add_test(tc, test_io_alternates_strictly_emu);
	tcase_add_test(tc, test_rr_is_fair_kvm);
	tcase_add_test(tc, test_rr_is_fair_emu);
	tcase_add_test(tc, test_share_is_7_to_3_kvm);
	tcase_add_test(tc, test_share_is_7_to_3_emu);
	tcase_add_test(tc, test_noio_guests_are_preempted_kvm);
	tcase_add_test(tc, test_noio_guests_are_preempted_emu);
	tcase_add_test(tc, test_halting_vm_leaves_the_rest_kvm);
	tcase_add_test(tc, test_halting_vm_leaves_the_rest_emu);
	tcase_add_test(tc, test_preemption_is_exact_kvm);
	tcase_add_test(tc, test_preemption_is_exact_emu);
	tcase_add_test(tc, test_control_thread_left_as_it_was_kvm);
	tcase_add_test(tc, test_control_thread_left_as_it_was_emu);
	tcase_add_test(tc, test_counter_guest_catches_reexecution_emu);
	tcase_add_test(tc, test_trace_summary_without_trace_leaves_nothing);
	tcase_add_test(tc, test_duration_ends_a_long_quantum_kvm);
	tcase_add_test(tc, test_duration_ends_a_long_quantum_emu);
	tcase_add_test(tc, test_quantum_beyond_a_year_is_refused_kvm);
	tcase_add_test(tc, test_quantum_beyond_a_year_is_refused_emu);
	tcase_add_test(tc, test_kick_refuses_a_timeout_beyond_a_year);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
