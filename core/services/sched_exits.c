/* The matrix's exits: the assignment's lines, the trace, and the device that sees every exit of
 * a matrix VM (tv_sched_boot_vm). The scheduler proper (policies, signals, accounting) is in
 * scheduler.c, which calls this file and is not called back. */
#include "sched_exits.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "devices.h"
#include "trace.h"

double tv_sched_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double tv_sched_now(const struct tv_sched *s)
{
	return tv_sched_clock(CLOCK_MONOTONIC) - s->t_start;
}

void tv_sched_say(struct tv_sched *s, const struct tv_sched_vm *vm, const char *fmt, ...)
{
	va_list ap;

	if (!s->opt.out)
		return;
	pthread_mutex_lock(&s->lock);
	if (vm)
		fprintf(s->opt.out, "VMFD: %d ", vm->label);
	va_start(ap, fmt);
	vfprintf(s->opt.out, fmt, ap);
	va_end(ap);
	fputc('\n', s->opt.out);
	pthread_mutex_unlock(&s->lock);
}

/* Writes and frees one trace line; a failure is kept in s->trace_errno and stops the run. As
 * tv_trace_write, but its numbers (t, quantum_s, cpu_s, ...) with 9 significant digits, %.9g: a
 * quantum of 0.05 s reads 0.05, not 0.050000000000000003, and a time keeps its nanoseconds below
 * 1 s, its microseconds below 1000 s. */
void tv_sched_trace_line(struct tv_sched *s, json_t *rec)
{
	FILE *f = s->opt.trace;

	errno = 0;
	if ((json_dumpf(rec, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9)) != 0 ||
	     fputc('\n', f) == EOF || fflush(f) != 0) &&
	    !s->trace_errno) {
		s->trace_errno = errno ? errno : EIO;
		s->stop = 1;
	}
	json_decref(rec);
}

static void trace_exit(struct tv_sched *s, const struct tv_sched_vm *vm, const struct tv_exit *e,
		       double t)
{
	json_t *rec;

	if (!s->opt.trace)
		return;
	pthread_mutex_lock(&s->lock);
	rec = tv_trace_record((int)(vm - s->vms) + 1, ++s->trace_seq, e, NULL, NULL);
	if (rec) {
		json_object_set_new(rec, "t", json_real(t));
		tv_sched_trace_line(s, rec);
	}
	pthread_mutex_unlock(&s->lock);
}

/* What the assignment's control loop prints after KVM_RUN returns. */
void tv_sched_report_exit(struct tv_sched *s, struct tv_sched_vm *vm, const struct tv_exit *e)
{
	double t = tv_sched_now(s);

	/* 2b's sanity check after KVM_RUN returns; 2a's output (io) and the threads have none. */
	if (tv_policy_timed(s->opt.policy))
		tv_sched_say(s, NULL, "Time: %f", t);
	tv_sched_say(s, vm, "stopped running - exit reason: %d", e->reason);
	tv_sched_say(s, vm, "KVM_EXIT_%s", tv_exit_reason_name(e->reason));
	if (e->reason == TV_EXIT_IO && e->io.data) {
		uint32_t value = 0;

		memcpy(&value, e->io.data, e->io.size <= 4 ? e->io.size : 4);
		tv_sched_say(s, vm, "%s port: %u, data: %u", e->io.direction == TV_IO_OUT ? "out" : "in",
		    e->io.port, value);
	} else if (e->detail[0]) {
		tv_sched_say(s, vm, "%s", e->detail);
	}
	trace_exit(s, vm, e, t);
}

/* The matrix's device: every IO and MMIO exit of a matrix VM comes here, inside the engine's
 * run(), goes to the device it stands in front of, and is reported. */
static int report_device(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	struct tv_sched_vm *vm = ctx;
	struct tv_sched *s = vm->sched;
	unsigned hc = (unsigned)(e->io.port - TV_HC_FIRST);
	const struct tv_device *inner = e->reason == TV_EXIT_MMIO ? &vm->inner_mmio
				       : hc < TV_HC_COUNT	    ? &vm->inner_hc[hc]
								    : &vm->inner_pio;
	int rc = inner->fn(inner->ctx, m, e);

	if (rc != TV_IO_CONTINUE)
		return rc;
	tv_sched_report_exit(s, vm, e);
	/* Under io, run() returns at this exit and the scheduler moves on; otherwise the vCPU is
	 * back in the guest as soon as this returns. */
	if (s->opt.policy != TV_POLICY_IO)
		tv_sched_say(s, vm, "started running");
	return TV_IO_CONTINUE;
}

int tv_sched_boot_vm(struct tv_sched *s, int i, struct tv_machine_opts *mopt, const void *image,
		     size_t len)
{
	struct tv_sched_vm *vm = &s->vms[i];
	struct tv_machine *m = &vm->m;
	int rc;

	vm->sched = s;
	mopt->id = i + 1;
	/* io needs run() back at every IO exit, with nothing run past it; the timer policies need a
	 * stop that loses and repeats nothing. */
	mopt->run_flags = s->opt.policy == TV_POLICY_IO ? TV_RUN_PRECISE : TV_RUN_PREEMPTIBLE;
	rc = tv_machine_boot(m, mopt, image, len, TV_MODE_REAL);
	if (rc)
		return rc;
	vm->inner_pio = m->pio[0];
	for (unsigned p = 0; p < TV_HC_COUNT; p++)
		vm->inner_hc[p] = *tv_machine_pio_at(m, (uint16_t)(TV_HC_FIRST + p));
	vm->inner_mmio = m->mmio_unclaimed;
	rc = tv_machine_add_pio(m, 0, 0, report_device, vm);
	if (!rc)
		rc = tv_machine_add_pio(m, TV_HC_FIRST, TV_HC_COUNT, report_device, vm);
	if (!rc)
		rc = tv_machine_add_mmio(m, 0, 0, report_device, vm);
	if (rc)
		tv_machine_destroy(m);
	return rc;
}
