/* The Linux KVM engine: backend.h on /dev/kvm.
 *
 * An engine is an open /dev/kvm; a VM is a KVM VM fd whose memory slot 0 is the caller's RAM; a
 * vCPU is a vCPU fd plus its mmap'd struct kvm_run, the page where KVM reports each exit and where
 * userspace leaves the answer (IN data, MMIO read data) for the next KVM_RUN.
 *
 * How backend.h's exit model maps onto KVM_RUN:
 * - fast (no run flags): KVM_RUN in a loop. IO and MMIO exits go to the I/O handler and straight
 *   back into KVM_RUN, which finishes the exiting instruction with the handler's data before
 *   running on. One ioctl per exit, nothing else.
 * - precise: after the handler, one more KVM_RUN with kvm_run->immediate_exit set. KVM completes
 *   the pending instruction (loads the IN data, moves RIP past it) and returns -EINTR without
 *   running any further guest instruction. The completion can itself end in a new exit (the next
 *   element of a rep string instruction, or the single-step trap): KVM_RUN then returns 0, and
 *   that exit is kept for the next run(), which reports it without entering the guest.
 * - step: KVM_SET_GUEST_DEBUG with SINGLESTEP; KVM ends every instruction with KVM_EXIT_DEBUG.
 *   Two things are normalised so that every instruction gives exactly one exit: the DEBUG that
 *   completing an IN or MMIO read raises is dropped (the IO or MMIO exit already marks that
 *   instruction's end, and OUT and MMIO writes raise none), and a stepped HLT, which kvm-pvm
 *   reports as DEBUG and does not halt at all, is reported as HLT (kvm_stepped_over_hlt).
 * - kick: the caller's signal handler sets immediate_exit. A signal that arrives while the guest
 *   runs makes KVM_RUN return -EINTR; one that arrives between two KVM_RUNs leaves immediate_exit
 *   set, so the next KVM_RUN returns -EINTR at once (after completing any pending I/O). Either way
 *   the guest stops on an instruction boundary.
 *
 * The engine's parts are in kvm_engine.c, kvm_vm.c, kvm_regs.c, kvm_step.c and kvm_run.c (see
 * kvm.h); this file joins them into the ops table. */
#include "kvm.h"
#include "kvm_raw.h"

const struct tv_backend_ops tv_kvm_backend = {
	.name = "kvm",
	.description = "Linux KVM (/dev/kvm)",
	.open = kvm_open,
	.close = kvm_close,
	.get_caps = kvm_get_caps,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.get_regs = kvm_get_regs,
	.set_regs = kvm_set_regs,
	.get_sregs = kvm_get_sregs,
	.set_sregs = kvm_set_sregs,
	.set_run_flags = kvm_set_run_flags,
	.run = kvm_run,
	.kick = kvm_kick,
	.set_signal_mask = kvm_set_signal_mask,
	.vm_label = kvm_vm_label,
	.raw_run = kvm_raw_run,
	.translate = kvm_translate,
	.cpuid = kvm_cpuid,
	.cpuid_table = kvm_cpuid_table,
	.set_debug_points = kvm_set_debug_points,
	.set_irq = kvm_set_irq,
};
