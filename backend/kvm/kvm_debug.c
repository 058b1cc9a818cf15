/* Guest debug on KVM: the run flags' single-step and the debug points, both set through
 * kvm_guest_debug_apply (kvm_step.c); which point a KVM_EXIT_DEBUG is for; and the step over an
 * EXEC point's instruction that resuming from its stop makes.
 *
 * Resuming: x86 has RFLAGS.RF say "no instruction breakpoint for one instruction", but kvm-pvm
 * (6.18) does not honour it: the point fires again at once (measured). So the next run from the
 * stop single-steps that instruction with the points at its address left out of DR7, then puts
 * them back and runs on: the same on any KVM. */
#include "kvm.h"
#include "debug_points.h"
#include "x86.h"

#include <errno.h>
#include <string.h>

#define DR6_HITS 0xfull /* B0-B3: which address register matched */

/* Makes every KVM_RUN copy the registers into kvm_run (s.regs) on its way out, and fills the
 * copy once now, for the first step. */
static int kvm_sync_regs_on(struct tv_vcpu *v)
{
	struct kvm_sync_regs *sync = &v->run->s.regs;
	int ret;

	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_regs, (unsigned long)&sync->regs);
	if (ret < 0)
		return ret;
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_sregs, (unsigned long)&sync->sregs);
	if (ret < 0)
		return ret;
	v->run->kvm_valid_regs = KVM_SYNC_STEP;
	return 0;
}

int kvm_set_run_flags(struct tv_vcpu *v, unsigned flags)
{
	if (flags & ~(unsigned)TV_RUN_ALL_FLAGS) {
		tv_set_error("KVM: unknown run flags 0x%x", flags);
		return -EINVAL;
	}
	/* Guest debug is vCPU state in KVM: set it when stepping starts or stops, not per run. */
	if ((flags ^ v->flags) & TV_RUN_STEP) {
		int ret;

		if (!v->vm->e->can_step) {
			tv_set_error("KVM single-step: KVM_CAP_SET_GUEST_DEBUG or KVM_CAP_SYNC_REGS "
				     "missing");
			return -EOPNOTSUPP;
		}
		if (flags & TV_RUN_STEP) {
			ret = kvm_sync_regs_on(v);
			if (ret < 0)
				return ret;
		}
		ret = kvm_guest_debug_apply(v, flags);
		if (ret < 0)
			return ret;
		if (!(flags & TV_RUN_STEP))
			v->run->kvm_valid_regs = 0;
	}
	/* TV_RUN_PREEMPTIBLE needs nothing: a KVM_RUN interrupted by a signal always stops the
	 * guest between two instructions. */
	v->flags = flags;
	return 0;
}


/* Whether KVM can take the points p[0..n): SET_GUEST_DEBUG; where the kernel says which controls
 * it knows (KVM_CAP_SET_GUEST_DEBUG2, Linux 5.17 on), USE_HW_BP among them; and the kinds the
 * probe guest saw fire (kvm_debug_probe.c). */
static int kvm_hw_bp_supported(struct tv_vcpu *v, const struct tv_debug_point *p, size_t n)
{
	struct tv_engine *e = v->vm->e;
	bool exec = false, data = false;
	int known;

	if (!e->has_guest_debug) {
		tv_set_error("KVM debug registers: KVM_CAP_SET_GUEST_DEBUG missing");
		return -EOPNOTSUPP;
	}
	known = kvm_ioctl(v->log, e->fd, &kvm_ioc_check_extension,
			  (unsigned long)KVM_CAP_SET_GUEST_DEBUG2);
	if (known > 0 && !(known & KVM_GUESTDBG_USE_HW_BP)) {
		tv_set_error("KVM debug registers: KVM_CAP_SET_GUEST_DEBUG2 is 0x%x, without "
			     "KVM_GUESTDBG_USE_HW_BP (0x%x)", known, KVM_GUESTDBG_USE_HW_BP);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < n; i++) {
		exec = exec || p[i].kind == TV_DEBUG_EXEC;
		data = data || p[i].kind != TV_DEBUG_EXEC;
	}
	kvm_debug_probe(e);
	if ((exec && e->breakpoints_fire == 0) || (data && e->watchpoints_fire == 0)) {
		tv_set_error("KVM debug registers: %s do not fire on this KVM: %s",
			     exec && e->breakpoints_fire == 0 ? "breakpoints" : "watchpoints",
			     e->debug_probe);
		return -EOPNOTSUPP;
	}
	return 0;
}

int kvm_set_debug_points(struct tv_vcpu *v, const struct tv_debug_point *p, size_t n)
{
	struct tv_debug_point old[TV_DEBUG_POINTS_MAX];
	size_t old_n = v->npoints;
	int ret = tv_debug_points_check("KVM", p, n);

	if (ret < 0)
		return ret;
	if (n) {
		ret = kvm_hw_bp_supported(v, p, n);
		if (ret < 0)
			return ret;
	}
	memcpy(old, v->points, sizeof(old));
	if (n)
		memcpy(v->points, p, n * sizeof(*p));
	v->npoints = n;
	v->exec_stopped = v->stepping_over = false;
	if (n || old_n)
		ret = kvm_guest_debug_apply(v, v->flags);
	if (ret < 0) {
		memcpy(v->points, old, sizeof(old));
		v->npoints = old_n;
	}
	return ret;
}

bool kvm_debug_point_hit(const struct tv_vcpu *v)
{
	return v->npoints && (v->run->debug.arch.dr6 & DR6_HITS & ((1ull << v->npoints) - 1));
}

/* The EXEC point at linear address pc, or -1. */
static int kvm_exec_point_at(const struct tv_vcpu *v, uint64_t pc)
{
	for (size_t i = 0; i < v->npoints; i++)
		if (v->points[i].kind == TV_DEBUG_EXEC && v->points[i].addr == pc)
			return (int)i;
	return -1;
}

/* exit reports point hit (or the plain step, -1); an EXEC point's stop at linear pc is noted
 * for the step over it. */
static int kvm_report_point(struct tv_vcpu *v, struct tv_exit *exit, int hit, uint64_t pc)
{
	exit->debug.hit = hit;
	exit->debug.addr = hit >= 0 ? v->points[hit].addr : 0;
	if (hit >= 0 && v->points[hit].kind == TV_DEBUG_EXEC) {
		struct kvm_regs regs;
		int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_regs, (unsigned long)&regs);

		if (ret < 0)
			return ret;
		v->exec_stopped = true;
		v->exec_rip = regs.rip;
		v->exec_pc = pc;
	}
	return 0;
}

/* The step over an EXEC point's instruction ended without a point or a step to report: a hlt
 * it ran is reported as HLT (kvm-pvm steps over hlt without halting), else the run goes on. */
static int kvm_stepped_over(struct tv_vcpu *v, struct tv_exit *exit)
{
	struct kvm_sregs s;
	int ret;

	if (v->run->debug.arch.pc != v->exec_pc + 1)
		return 1;
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_sregs, (unsigned long)&s);
	if (ret < 0)
		return ret;
	if (!kvm_ran_hlt(v, v->exec_pc, v->run->debug.arch.pc, s.cr0 & TV_CR0_PG))
		return 1;
	exit->reason = TV_EXIT_HLT;
	return 0;
}

int kvm_debug_step_ended(struct tv_vcpu *v)
{
	if (!v->stepping_over)
		return 0;
	v->stepping_over = false;
	return kvm_guest_debug_apply(v, v->flags);
}

int kvm_debug_exit(struct tv_vcpu *v, struct tv_exit *exit, uint64_t step_from)
{
	uint64_t hits = v->run->debug.arch.dr6 & DR6_HITS;
	bool over = v->stepping_over;
	int hit = -1, ret = kvm_debug_step_ended(v);

	if (ret < 0)
		return ret;
	for (size_t i = 0; i < v->npoints && hit < 0; i++)
		if (hits & (1ull << i))
			hit = (int)i;
	if (hit >= 0)
		return kvm_report_point(v, exit, hit, v->run->debug.arch.pc);
	if (v->flags & TV_RUN_STEP) {
		uint64_t pc = kvm_linear_pc(&v->run->s.regs);

		if (kvm_stepped_over_hlt(v, over ? v->exec_pc : step_from)) {
			exit->reason = TV_EXIT_HLT;
			if (v->log)
				kvm_log_line(v->log, NULL, "  the step ran the hlt at 0x%llx: reported "
					     "as KVM_EXIT_HLT",
					     (unsigned long long)(over ? v->exec_pc : step_from));
			return 0;
		}
		/* A step that ends where an EXEC point is stops before its instruction too. */
		return kvm_report_point(v, exit, kvm_exec_point_at(v, pc), pc);
	}
	return over ? kvm_stepped_over(v, exit) : 0;
}

int kvm_debug_resume(struct tv_vcpu *v)
{
	struct kvm_regs regs;
	int ret;

	if (!v->exec_stopped)
		return 0;
	v->exec_stopped = false;
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_regs, (unsigned long)&regs);
	if (ret < 0 || regs.rip != v->exec_rip)
		return ret < 0 ? ret : 0;
	v->stepping_over = true;
	return kvm_guest_debug_apply(v, v->flags);
}
