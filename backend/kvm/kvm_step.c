/* The parts of guest debug the rest builds on: the linear address of the next instruction, the
 * stepped HLT kvm-pvm does not report as one, and KVM_SET_GUEST_DEBUG computed in one place from
 * single-step and the debug points (kvm_guest_debug_apply). */
#include "kvm.h"
#include "ram_range.h"
#include "x86.h"

#include <errno.h>
#include <string.h>

#define DR7_FIXED 0x600ull /* GE and the reserved bit 10, as QEMU sets them */

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

	return kvm_ran_hlt(v, from, kvm_linear_pc(sync), sync->sregs.cr0 & TV_CR0_PG);
}

bool kvm_ran_hlt(struct tv_vcpu *v, uint64_t from, uint64_t to, bool paged)
{
	const uint8_t *op;
	uint64_t gpa = from;

	if (to != from + 1)
		return false;
	if (paged) {
		struct kvm_translation tl = { .linear_address = from };

		if (kvm_ioctl(v->log, v->fd, &kvm_ioc_translate, (unsigned long)&tl) < 0 ||
		    !tl.valid)
			return false;
		gpa = tl.physical_address;
	}
	op = tv_ram_range(v->vm->ram, v->vm->ram_size, gpa, 1);
	return op && *op == 0xf4;
}

/* Whether point i is left out while the vCPU steps over the instruction it stopped at. */
static bool kvm_point_skipped(const struct tv_vcpu *v, size_t i)
{
	return v->stepping_over && v->points[i].kind == TV_DEBUG_EXEC &&
	       v->points[i].addr == v->exec_pc;
}

/* DR7 for the points: Ln enables point n; its R/W field is 00 for an instruction, 01 for a
 * write, 11 for a read or write; its LEN field 00, 01, 11, 10 for 1, 2, 4, 8 bytes. */
static uint64_t kvm_dr7(const struct tv_vcpu *v)
{
	uint64_t dr7 = DR7_FIXED;

	for (size_t i = 0; i < v->npoints; i++) {
		const struct tv_debug_point *p = &v->points[i];
		uint64_t rw = p->kind == TV_DEBUG_EXEC ? 0 : p->kind == TV_DEBUG_WRITE ? 1 : 3;
		uint64_t len = p->len == 2 ? 1 : p->len == 4 ? 3 : p->len == 8 ? 2 : 0;

		if (!kvm_point_skipped(v, i))
			dr7 |= 1ull << (2 * i);
		dr7 |= (rw | len << 2) << (16 + 4 * i);
	}
	return dr7;
}

int kvm_guest_debug_apply(struct tv_vcpu *v, unsigned flags)
{
	struct kvm_guest_debug dbg;

	memset(&dbg, 0, sizeof(dbg));
	if ((flags & TV_RUN_STEP) || v->stepping_over)
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
	if (v->npoints) {
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		for (size_t i = 0; i < v->npoints; i++)
			dbg.arch.debugreg[i] = v->points[i].addr;
		dbg.arch.debugreg[7] = kvm_dr7(v);
	}
	return kvm_ioctl(v->log, v->fd, &kvm_ioc_set_guest_debug, (unsigned long)&dbg);
}
