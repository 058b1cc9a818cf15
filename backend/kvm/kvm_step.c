/* Single-step on KVM: guest debug set when stepping starts or stops, the registers KVM copies
 * into kvm_run at every step, and the stepped HLT kvm-pvm does not report as one. */
#include "kvm.h"
#include "ram_range.h"
#include "x86.h"

#include <errno.h>

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

uint64_t kvm_linear_pc(const struct kvm_sync_regs *sync)
{
	const struct kvm_sregs *s = &sync->sregs;

	if ((s->efer & TV_EFER_LMA) && s->cs.l)
		return sync->regs.rip; /* 64-bit code: CS base is ignored */
	return (uint32_t)(s->cs.base + sync->regs.rip);
}

/* kvm-pvm steps over HLT as over any instruction: the step ends in KVM_EXIT_DEBUG with RIP past
 * the hlt, and the vCPU never halts (a VMX host reports KVM_EXIT_HLT instead). Recognise it by
 * the byte the step began on. Only a step that moved one byte can be a hlt, so the byte is read,
 * and with paging translated by KVM_TRANSLATE, only then. */
bool kvm_stepped_over_hlt(struct tv_vcpu *v, uint64_t from)
{
	const struct kvm_sync_regs *sync = &v->run->s.regs;
	const uint8_t *op;
	uint64_t gpa = from;

	if (kvm_linear_pc(sync) != from + 1)
		return false;
	if (sync->sregs.cr0 & TV_CR0_PG) {
		struct kvm_translation tl = { .linear_address = from };

		if (kvm_ioctl(v->log, v->fd, &kvm_ioc_translate, (unsigned long)&tl) < 0 ||
		    !tl.valid)
			return false;
		gpa = tl.physical_address;
	}
	op = tv_ram_range(v->vm->ram, v->vm->ram_size, gpa, 1);
	return op && *op == 0xf4;
}

int kvm_set_run_flags(struct tv_vcpu *v, unsigned flags)
{
	if (flags & ~(unsigned)TV_RUN_ALL_FLAGS) {
		tv_set_error("KVM: unknown run flags 0x%x", flags);
		return -EINVAL;
	}
	/* Guest debug is vCPU state in KVM: set it when stepping starts or stops, not per run. */
	if ((flags ^ v->flags) & TV_RUN_STEP) {
		struct kvm_guest_debug dbg = {
			.control = flags & TV_RUN_STEP ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP
						       : 0,
		};
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
		ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_guest_debug, (unsigned long)&dbg);
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
