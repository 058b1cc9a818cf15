/* KVM_RUN and its exits: the I/O handler called for IO and MMIO, the precise mode's completion
 * run, KVM's exit records turned into struct tv_exit, and kick. */
#include "kvm.h"
#include "ram_range.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

/* Hands an IO or MMIO exit to the I/O handler, then leaves the handler's IN or MMIO read data in
 * kvm_run, where the next KVM_RUN picks it up. Returns enum tv_io_action or -errno. */
static int kvm_handle_io(struct tv_vcpu *v, struct tv_exit *exit)
{
	struct kvm_run *run = v->run;
	int ret;

	memset(exit, 0, sizeof(*exit));
	exit->exception = -1; /* KVM does not say which */
	if (run->exit_reason == KVM_EXIT_IO) {
		exit->reason = TV_EXIT_IO;
		exit->io.direction = run->io.direction;
		exit->io.size = run->io.size;
		exit->io.port = run->io.port;
		exit->io.count = run->io.count;
		/* The data lives in the kvm_run mapping itself: OUT data KVM put there, IN data
		 * the handler writes there for KVM to load. */
		exit->io.data = tv_ram_range(run, v->run_size, run->io.data_offset,
					     (uint64_t)run->io.size * run->io.count);
		if (!exit->io.data) {
			/* KVM keeps the data inside the mapping; a guest's count never moves it. */
			tv_set_error("KVM: IO exit data (offset 0x%llx, %u x %u bytes) lies outside "
				     "the %zu-byte kvm_run mapping", (unsigned long long)run->io.data_offset,
				     run->io.count, run->io.size, v->run_size);
			return -EIO;
		}
		/* An IN nobody answers reads all ones, as on an empty ISA bus. */
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset(exit->io.data, 0xff, (size_t)run->io.size * run->io.count);
	} else {
		exit->reason = TV_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = run->mmio.len <= 8 ? run->mmio.len : 8;
		exit->mmio.is_write = run->mmio.is_write;
		if (run->mmio.is_write)
			memcpy(exit->mmio.data, run->mmio.data, exit->mmio.len);
		else
			memset(exit->mmio.data, 0xff, sizeof(exit->mmio.data));
	}

	ret = v->cfg.on_io(v->cfg.ctx, exit);
	if (ret < 0)
		return ret;
	if (ret != TV_IO_CONTINUE && ret != TV_IO_STOP) {
		tv_set_error("KVM: the I/O handler returned %d", ret);
		return -EINVAL;
	}
	if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write)
		memcpy(run->mmio.data, exit->mmio.data, exit->mmio.len);
	if (v->log)
		kvm_log_io_reply(v->log, run);
	return ret;
}

/* Precise mode: finishes the instruction that exited, without letting the guest run on. With
 * immediate_exit set, KVM_RUN completes the pending I/O and returns -EINTR before entering the
 * guest. If completing it raised a new exit instead (rep string I/O, a single-step trap), KVM_RUN
 * returns 0 and the exit waits in kvm_run for the next run(). */
static int kvm_complete_io(struct tv_vcpu *v)
{
	struct kvm_run *run = v->run;
	int ret, err;

	set_immediate_exit(run, 1);
	ret = ioctl(v->fd, KVM_RUN, 0);
	err = errno;
	/* Clear it first, then look at the flag: a kick landing in between sets both again. */
	set_immediate_exit(run, 0);
	if (v->kicked)
		set_immediate_exit(run, 1);
	if (v->log)
		kvm_log_run(v->log, run, KVM_RUN_COMPLETING, ret, err);

	if (ret == 0) {
		/* Under single-step, completing the instruction ends in its DEBUG trap; the IO or
		 * MMIO exit being returned already reports that instruction's end. */
		if ((v->flags & TV_RUN_STEP) && run->exit_reason == KVM_EXIT_DEBUG &&
		    !kvm_debug_point_hit(v))
			return kvm_debug_step_ended(v);
		v->exit_pending = true;
		return 0;
	}
	if (err == EINTR)
		return 0;
	tv_set_error("KVM_RUN (completing I/O): %s", strerror(err));
	return -err;
}

/* The guest stopped for a signal: a kick, or any other signal the thread let in. Both are
 * reported as INTR; the caller knows whether it kicked. */
static int kvm_exit_intr(struct tv_vcpu *v, struct tv_exit *exit)
{
	/* immediate_exit first: a kick landing between the two stores leaves it set, so that kick
	 * is not lost but makes the next run() return INTR at once. */
	set_immediate_exit(v->run, 0);
	v->kicked = 0;
	memset(exit, 0, sizeof(*exit));
	exit->exception = -1; /* KVM does not say which */
	exit->reason = TV_EXIT_INTR;
	return 0;
}

/* Every exit that ends run() other than IO, MMIO and INTR. */
static void kvm_convert_exit(const struct kvm_run *run, struct tv_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	exit->exception = -1; /* KVM does not say which */
	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		exit->reason = TV_EXIT_HLT;
		break;
	case KVM_EXIT_DEBUG:
		exit->reason = TV_EXIT_DEBUG;
		exit->debug.hit = -1; /* kvm_debug_exit names the point, if one stopped it */
		break;
	case KVM_EXIT_SHUTDOWN:
		exit->reason = TV_EXIT_SHUTDOWN;
		snprintf(exit->detail, sizeof(exit->detail),
			 "KVM_EXIT_SHUTDOWN: the vCPU shut down (a triple fault, or a guest state "
			 "this KVM cannot run)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit->reason = TV_EXIT_FAIL_ENTRY;
		exit->fail.code = run->fail_entry.hardware_entry_failure_reason;
		snprintf(exit->detail, sizeof(exit->detail),
			 "KVM_EXIT_FAIL_ENTRY: hardware_entry_failure_reason 0x%llx on cpu %u "
			 "(the CPU refused the guest state)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			 run->fail_entry.cpu);
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		char what[sizeof(exit->detail)];

		exit->reason = TV_EXIT_INTERNAL_ERROR;
		exit->fail.code = run->internal.suberror;
		kvm_describe_internal_error(what, sizeof(what), run);
		snprintf(exit->detail, sizeof(exit->detail), "KVM_EXIT_INTERNAL_ERROR: %.130s", what);
		break;
	}
	case KVM_EXIT_UNKNOWN:
		exit->reason = TV_EXIT_UNKNOWN;
		exit->fail.code = run->hw.hardware_exit_reason;
		snprintf(exit->detail, sizeof(exit->detail),
			 "KVM exit reason 0 (KVM_EXIT_UNKNOWN): hardware_exit_reason 0x%llx",
			 (unsigned long long)run->hw.hardware_exit_reason);
		break;
	default:
		/* An exit twinvm never asked for (an MSR exit, a system event, a newer kernel's
		 * addition): report it and let the caller stop. */
		exit->reason = TV_EXIT_UNKNOWN;
		exit->fail.code = run->exit_reason;
		snprintf(exit->detail, sizeof(exit->detail), "KVM exit reason %u (%s)",
			 run->exit_reason, kvm_exit_name(run->exit_reason));
		break;
	}
}

int kvm_set_irq(struct tv_vcpu *v, int vector)
{
	if (vector < -1 || vector > 255) {
		tv_set_error("set_irq: vector %d is not -1 or 0-255", vector);
		return -EINVAL;
	}
	v->irq = vector;
	return 0;
}

/* Before a KVM_RUN: the asserted interrupt (set_irq) is injected when kvm_run says the guest
 * takes one now (IF set, no STI or MOV SS shadow, none waiting in KVM); else KVM is asked to exit
 * as soon as it can (KVM_EXIT_IRQ_WINDOW_OPEN), and it goes in then: at the boundary where the
 * CPU would take it. KVM_INTERRUPT with no in-kernel irqchip, as userspace PICs do. 0 or -errno. */
static int kvm_irq_inject(struct tv_vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_interrupt irq = { .irq = (unsigned)v->irq };
	int ret;

	if (v->irq >= 0 && run->ready_for_interrupt_injection && run->if_flag) {
		ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_interrupt, (unsigned long)&irq);
		if (ret < 0)
			return ret;
		v->irq = -1;
		if (v->cfg.on_irq_ack)
			v->cfg.on_irq_ack(v->cfg.ctx, irq.irq); /* may assert the next one */
	}
	run->request_interrupt_window = v->irq >= 0;
	return 0;
}

/* A HLT (a halt exit, or a step that ran a hlt) while an interrupt the guest takes is asserted:
 * no exit, the interrupt goes in before the next KVM_RUN and the handler returns past the hlt,
 * as on the CPU. */
static bool kvm_irq_wakes(const struct tv_vcpu *v, const struct tv_exit *exit)
{
	return exit->reason == TV_EXIT_HLT && v->irq >= 0 && v->run->if_flag;
}

int kvm_run(struct tv_vcpu *v, struct tv_exit *exit)
{
	struct kvm_run *run = v->run;
	uint64_t step_from = 0;
	int ret;

	for (;;) {
		if (v->exit_pending) {
			v->exit_pending = false;
		} else {
			/* Only for the trace: a kick may have come before this KVM_RUN. */
			enum kvm_run_entry entry = v->log && run->immediate_exit ? KVM_RUN_KICKED
										: KVM_RUN_GUEST;

			if (v->flags & TV_RUN_STEP)
				step_from = kvm_linear_pc(&run->s.regs);
			ret = kvm_debug_resume(v);
			if (ret >= 0)
				ret = kvm_irq_inject(v);
			if (ret < 0)
				return ret;
			ret = ioctl(v->fd, KVM_RUN, 0);
			if (ret < 0) {
				int err = errno;

				if (v->log)
					kvm_log_run(v->log, run, entry, ret, err);
				if (err == EINTR)
					return kvm_exit_intr(v, exit);
				tv_set_error("KVM_RUN: %s", strerror(err));
				return -err;
			}
			if (v->log)
				kvm_log_run(v->log, run, entry, ret, 0);
		}

		switch (run->exit_reason) {
		case KVM_EXIT_IO:
		case KVM_EXIT_MMIO:
			ret = kvm_handle_io(v, exit);
			if (ret < 0)
				return ret;
			if (v->flags & (TV_RUN_PRECISE | TV_RUN_STEP))
				return kvm_complete_io(v);
			/* Fast mode: the next KVM_RUN completes the instruction and runs on. On
			 * STOP it completes at the next run(). */
			if (ret == TV_IO_STOP)
				return 0;
			break;
		case KVM_EXIT_INTR:
			return kvm_exit_intr(v, exit);
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			break; /* the asserted interrupt goes in before the next KVM_RUN */
		case KVM_EXIT_HLT:
			kvm_convert_exit(run, exit);
			if (kvm_irq_wakes(v, exit))
				break;
			return 0;
		case KVM_EXIT_DEBUG:
			kvm_convert_exit(run, exit);
			ret = kvm_debug_exit(v, exit, step_from);
			if (ret < 0 || (ret == 0 && !kvm_irq_wakes(v, exit)))
				return ret;
			break; /* the step over an EXEC point's instruction, or a woken hlt: run on */
		default:
			kvm_convert_exit(run, exit);
			return 0;
		}
	}
}

/* Async-signal-safe: two stores. Meant for the caller's signal handler on the vCPU's thread; from
 * another thread it also needs a signal to that thread to interrupt a guest that is running. */
void kvm_kick(struct tv_vcpu *v)
{
	v->kicked = 1;
	set_immediate_exit(v->run, 1);
}
