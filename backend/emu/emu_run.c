/* The emulator's run: uc_emu_start from the vCPU's RIP, the exits its hooks kept returned in
 * order, guest exceptions delivered (emu_exception.c) with the guest run on, the way the run
 * ended turned into the exit run() reports; and kick, the run flags and the signal mask. */
#include "emu.h"
#include "emu_env.h"
#include "emu_sites.h"
#include "x86.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

/* uc_emu_start's "until", for a Unicorn without exits (see emu_uc_create): non-canonical, so no
 * fetch in any mode reaches it and the run ends only on our terms. */
#define EMU_UNREACHABLE ((uint64_t)1 << 63)

#define TV_RUN_ALL_FLAGS (TV_RUN_PRECISE | TV_RUN_STEP | TV_RUN_PREEMPTIBLE)

int emu_set_run_flags(struct tv_vcpu *v, unsigned flags)
{
	int rc;

	if (flags & ~TV_RUN_ALL_FLAGS) {
		tv_set_error("set_run_flags: unknown flags 0x%x", flags & ~TV_RUN_ALL_FLAGS);
		return -EINVAL;
	}
	if (flags & TV_RUN_STEP)
		flags |= TV_RUN_PRECISE;
	rc = emu_hooks_sync(v, flags);
	if (rc)
		return rc;
	v->flags = flags;
	v->io_fast = !emu_precise(flags) && !v->log;
	return 0;
}

/* The end of a single step: hit -1, or the EXEC point it ended on. */
static void emu_exit_step(struct tv_vcpu *v, struct tv_exit *exit)
{
	uint64_t pc;

	emu_debug_step(v, exit, v->dbg.n && emu_begin_address(v, &pc) == 0 ? &pc : NULL);
}

static bool emu_pop(struct tv_vcpu *v, struct tv_exit *exit)
{
	if (v->q_next >= v->q_len)
		return false;
	*exit = v->queue[v->q_next].exit;
	if (exit->reason == TV_EXIT_IO)
		exit->io.data = v->queue[v->q_next].data; /* the queue may have moved since */
	v->q_next++;
	/* The slot's data stays as it is until the next uc_emu_start, as io.data promises. */
	if (v->q_next == v->q_len)
		v->q_next = v->q_len = 0;
	return true;
}

static void emu_push(struct tv_vcpu *v, int reason)
{
	if (emu_queue_room(v)) {
		memset(&v->queue[v->q_len].exit, 0, sizeof(v->queue[0].exit));
		v->queue[v->q_len].exit.exception = -1;
		v->queue[v->q_len++].exit.reason = reason;
	}
}

/* Unicorn's errors that are the guest's doing: the machine would have shut down. */
static bool emu_guest_fault(uc_err err)
{
	switch (err) {
	case UC_ERR_READ_UNMAPPED:
	case UC_ERR_WRITE_UNMAPPED:
	case UC_ERR_FETCH_UNMAPPED:
	case UC_ERR_INSN_INVALID:
	case UC_ERR_WRITE_PROT:
	case UC_ERR_READ_PROT:
	case UC_ERR_FETCH_PROT:
	case UC_ERR_READ_UNALIGNED:
	case UC_ERR_WRITE_UNALIGNED:
	case UC_ERR_FETCH_UNALIGNED:
	case UC_ERR_EXCEPTION: return true;
	default: return false;
	}
}

/* Step mode, after a fetch failure: whether the instruction the run began completed first (it
 * jumped somewhere that cannot be fetched, and RIP moved off it). */
static bool emu_step_done(struct tv_vcpu *v, uc_err err)
{
	uint64_t pc;

	if (err != UC_ERR_FETCH_UNMAPPED && err != UC_ERR_FETCH_PROT)
		return false;
	return v->insns == 1 && emu_begin_address(v, &pc) == 0 && pc != v->insn_addr;
}

/* Turns the way uc_emu_start ended into the exit run() reports. */
static int emu_classify(struct tv_vcpu *v, uc_err err, bool async, struct tv_exit *exit)
{
	bool step = v->flags & TV_RUN_STEP;

	if (v->io_error) {
		int rc = v->io_error;

		v->q_next = v->q_len = 0;
		return rc;
	}
	if (v->q_lost) {
		/* Handled, but a trace would miss them: fail rather than drop them silently. */
		tv_set_error("emulator: one instruction made more than %u exits (%u not kept)",
			     v->q_cap, v->q_lost);
		v->q_next = v->q_len = 0;
		return -E2BIG;
	}

	if (v->q_len) {
		/* Exits the guest made before the engine stopped, in order. With a block hook, an
		 * OK end that no hook asked for is a HLT run after them. */
		if (err == UC_ERR_OK && v->stop == EMU_STOP_NONE && v->exception < 0 &&
		    emu_block_hooked(v->flags))
			emu_push(v, TV_EXIT_HLT);
		emu_pop(v, exit);
		return 0;
	}

	if (err != UC_ERR_OK) {
		if (step && emu_step_done(v, err)) {
			/* The jump completed; the failed fetch comes back at the next run(). */
			emu_exit_step(v, exit);
			return 0;
		}
		exit->reason = emu_guest_fault(err) ? TV_EXIT_SHUTDOWN : TV_EXIT_INTERNAL_ERROR;
		if (err == UC_ERR_INSN_INVALID)
			exit->exception = 6; /* #UD, which Unicorn reports as this error */
		exit->fail.code = err;
		snprintf(exit->detail, sizeof(exit->detail), "uc_emu_start: %s", uc_strerror(err));
		v->dbg.hit = -1; /* the guest cannot go on: a point its last instruction hit is moot */
		return 0;
	}
	/* A debug point before a step's end or a kick (which stays pending for the next run). */
	if (emu_debug_report(v, exit))
		return 0;
	switch (v->stop) {
	case EMU_STOP_KICK:
		v->kicked = 0;
		exit->reason = TV_EXIT_INTR;
		return 0;
	case EMU_STOP_STEP:
		emu_exit_step(v, exit);
		return 0;
	case EMU_STOP_NONE:
		/* Nothing of ours stopped it but kick()'s uc_emu_stop: else the guest halted. A kick
		 * that raced a HLT counts as the kick. */
		if (async && v->kicked) {
			v->kicked = 0;
			exit->reason = TV_EXIT_INTR;
			return 0;
		}
		exit->reason = TV_EXIT_HLT;
		return 0;
	default:
		exit->reason = TV_EXIT_INTERNAL_ERROR;
		snprintf(exit->detail, sizeof(exit->detail),
			 "uc_emu_start: stopped for an exit that was not kept");
		return 0;
	}
}

/* One uc_emu_start from the vCPU's RIP, with the run's state reset first; *err is how it
 * ended. async: kick() may stop the instance directly (the fast mode without a block hook). */
static int emu_start_once(struct tv_vcpu *v, bool async, uc_err *err)
{
	uc_engine *uc = v->vm->uc;
	sigset_t saved_mask;
	uint64_t begin;
	int rc;

	rc = emu_begin_address(v, &begin);
	if (rc)
		return rc;
	emu_debug_begin(v, begin);
	if (!v->msr.started)
		emu_sites_before_first_run(v, begin);
	v->stop = EMU_STOP_NONE;
	v->io_error = 0;
	v->exception = -1;
	v->insns = 0;
	v->last_block = v->last_block_end = 0;
	v->q_next = v->q_len = v->q_lost = 0;
	v->kick_stopped = 0;
	v->in_run = true;
	if (async) {
		/* kick() can stop this run now. One that came before this line found nothing to
		 * stop: the flag is all that is left of it, so look again. */
		atomic_store(&v->async_uc, uc);
		if (v->kicked) {
			atomic_store(&v->async_uc, NULL);
			v->in_run = false;
			v->stop = EMU_STOP_KICK;
			*err = UC_ERR_OK;
			return 0;
		}
	}
	if (v->has_run_mask)
		pthread_sigmask(SIG_SETMASK, &v->run_mask, &saved_mask);
	*err = uc_emu_start(uc, begin, EMU_UNREACHABLE, 0, 0);
	if (v->has_run_mask)
		pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
	if (async)
		atomic_store(&v->async_uc, NULL);
	v->in_run = false;
	if (v->flush_pending) { /* what the translation hook found stale (emu_drop_blocks) */
		v->flush_pending = false;
		rc = emu_flush_tb(v);
		if (rc)
			return rc;
	}
	if (v->ring_len) { /* the coalesced OUTs since the last exit, before run() returns */
		rc = emu_ring_flush(v);
		if (rc < 0 && !v->io_error)
			v->io_error = rc;
	}
	/* The hooks' lines came first: the call is written when it returns, as KVM_RUN is. */
	EMU_STEP(v->log,
		 *err == UC_ERR_OK ? "run the guest: its I/O calls the hooks inside; back at HLT or a stop"
				   : "the guest did what Unicorn cannot go on from: the run ends",
		 "uc_emu_start(begin 0x%" PRIx64 ", until 0x%" PRIx64 ", timeout 0, count 0) = %s",
		 begin, EMU_UNREACHABLE, emu_err_name(*err));
	if (v->kick_stopped)
		EMU_LOG(v->log, "uc_emu_stop() = (called by kick() during the run; logged here "
				"because kick() runs in a signal handler)");
	return emu_mode_follow(v);
}

/* The run that just ended stopped at a guest exception: delivered, it is no exit and the guest
 * runs on (1); 0 with *exit the next exit: one the guest made before the exception, SHUTDOWN (a
 * triple fault, or one the emulator cannot deliver), or the end of a step. */
static int emu_deliver_stopped(struct tv_vcpu *v, struct tv_exit *exit)
{
	unsigned vector = (unsigned)v->exception;
	int rc;

	v->exception = -1;
	rc = emu_exception_take(v, vector, exit);
	if (rc < 0)
		return rc;
	if (v->q_len) {
		/* Exits the guest made first come first; a SHUTDOWN goes after them (before, only
		 * when the queue is full: returned, not dropped). */
		if (rc == 0) {
			if (!emu_queue_room(v))
				return 0;
			v->queue[v->q_len++].exit = *exit;
		}
		emu_pop(v, exit);
		return 0;
	}
	if (rc == 0)
		return 0;
	/* A step over INT n, INT3 or INTO ends on the handler's first instruction; a step over a
	 * faulting instruction runs that instruction too: what KVM's single-step does (measured on
	 * kvm-pvm). Else the guest runs on. */
	if ((v->flags & TV_RUN_STEP) && v->exc_software) {
		emu_exit_step(v, exit);
		return 0;
	}
	return 1;
}

int emu_set_irq(struct tv_vcpu *v, int vector)
{
	if (vector < -1 || vector > 255) {
		tv_set_error("set_irq: vector %d is not -1 or 0-255", vector);
		return -EINVAL;
	}
	v->irq = vector;
	EMU_LOG(v->log, "set_irq(%d): %s", vector,
		vector < 0 ? "none asserted" : "delivered when the guest takes interrupts");
	if (!v->irq_aware) {
		v->irq_aware = true; /* emu_smc.c's second check, from the next hook sync */
		if (!v->in_run) {
			int rc = emu_hooks_sync(v, v->flags);

			if (rc)
				return rc;
		}
	}
	if (vector < 0 || v->irq_hooked)
		return 0;
	v->irq_hooked = true;
	if (v->hook_code)
		return 0; /* a precise mode's hook is there already */
	if (v->in_run) {
		/* The code hook cannot be added to blocks already running: stop, and run() adds
		 * it before the guest goes on (at the end of this block, or at a HLT in it: this
		 * first interrupt may come a few instructions late). The platform's block hook
		 * stops exactly, before the next block; without it, stop now. */
		if (!v->msr.hook_block)
			emu_stop_engine(v, EMU_STOP_IRQ, "interrupts: the code hook is needed");
		return 0;
	}
	return emu_hooks_sync(v, v->flags);
}

/* The asserted interrupt delivered (1, the guest runs on, the controller told), or 0 with
 * SHUTDOWN in *exit, or -errno. */
static int emu_irq_take(struct tv_vcpu *v, struct tv_exit *exit)
{
	unsigned vector = (unsigned)v->irq;
	int rc;

	v->irq = -1;
	rc = emu_interrupt_take(v, vector, exit);
	if (rc == 1 && v->cfg.on_irq_ack)
		v->cfg.on_irq_ack(v->cfg.ctx, vector);
	return rc;
}

/* Whether the instruction before RIP was a HLT (its byte, 0xF4, just before RIP): after a run
 * stopped at a block's end for the interrupt code hook, which tells a block that ended in a
 * HLT from one that ended otherwise. An instruction ending in the byte 0xF4 (an immediate)
 * would read as a HLT too: only where the stop came at that very instruction. The address is
 * taken as linear (CS's base 0 outside real mode, as twinvm's and kvm-unit-tests' are) and
 * walked through the guest's page tables. */
static bool emu_after_hlt(struct tv_vcpu *v)
{
	struct walk w;
	uint64_t pc;
	uint8_t byte;

	if (emu_begin_address(v, &pc) != 0 || pc == 0)
		return false;
	emu_site_walk_init(v, &w);
	return emu_site_read(&w, pc - 1, &byte, 1) == 1 && byte == 0xf4;
}

/* One run() as it was before interrupts: the next exit, or -errno. An EMU_STOP_IRQ run that
 * stopped for the asserted interrupt is delivered here; run() sees to a HLT it ends. */
static int emu_run_once(struct tv_vcpu *v, struct tv_exit *exit)
{
	bool async = !emu_precise(v->flags) && !emu_block_hooked(v->flags);
	uc_err err;
	int rc;

	memset(exit, 0, sizeof(*exit));
	exit->exception = -1;
	rc = emu_instance_need(v);
	if (rc)
		return rc;
	if (emu_pop(v, exit)) {
		EMU_LOG(v->log, "run: %s exit kept from the last uc_emu_start",
			tv_exit_reason_name(exit->reason));
		return 0;
	}
	if (emu_debug_report(v, exit)) {
		EMU_LOG(v->log, "run: debug point %d, hit after the exits just returned",
			exit->debug.hit);
		return 0;
	}
	for (;;) {
		if (v->kicked) {
			v->kicked = 0;
			exit->reason = TV_EXIT_INTR;
			EMU_LOG(v->log, "run: INTR for a kick that came between runs");
			return 0;
		}
		if (v->irq_hooked && !v->hook_code) {
			rc = emu_hooks_sync(v, v->flags);
			if (rc)
				return rc;
		}
		rc = emu_start_once(v, async, &err);
		if (rc)
			return rc;
		if (v->stop == EMU_STOP_RETRANSLATE) {
			/* A step whose instruction ran before the new block was translated is done */
			bool stepped = (v->flags & TV_RUN_STEP) && v->insns;

			if (!stepped && err == UC_ERR_OK && v->exception < 0 && !v->io_error &&
			    !v->q_lost && !v->q_len && v->dbg.hit < 0)
				continue; /* the stale blocks dropped: the guest goes on */
			if (stepped)
				v->stop = EMU_STOP_STEP;
		}
		if (v->stop == EMU_STOP_IRQ && err == UC_ERR_OK && v->exception < 0 &&
		    !v->io_error && !v->q_lost && !v->q_len) {
			/* Before an instruction where the guest takes it, or for the hook (where the
			 * block may have ended in a HLT with interrupts off: halted for good). */
			if (v->irq < 0 || !emu_irq_deliverable(v)) {
				if (emu_after_hlt(v)) {
					exit->reason = TV_EXIT_HLT;
					return 0;
				}
				continue;
			}
			rc = emu_irq_take(v, exit);
			if (rc <= 0)
				return rc;
			continue;
		}
		if (v->exception < 0 || v->io_error || v->q_lost)
			return emu_classify(v, err, async, exit);
		rc = emu_deliver_stopped(v, exit);
		if (rc <= 0)
			return rc;
	}
}

int emu_run(struct tv_vcpu *v, struct tv_exit *exit)
{
	for (;;) {
		int rc = emu_run_once(v, exit);

		/* A HLT with the guest taking interrupts is woken by the one asserted: delivered
		 * with RIP past the hlt, the handler returns there, as on the CPU. */
		if (rc || exit->reason != TV_EXIT_HLT || v->irq < 0 || !emu_irq_deliverable(v))
			return rc;
		EMU_LOG(v->log, "run: HLT woken by interrupt %d", v->irq);
		rc = emu_irq_take(v, exit);
		if (rc <= 0)
			return rc;
	}
}

void emu_kick(struct tv_vcpu *v)
{
	uc_engine *uc;

	v->kicked = 1;
	uc = atomic_load(&v->async_uc);
	if (uc) {
		uc_emu_stop(uc);
		v->kick_stopped = 1;
	}
}

/* The signals a time-slicing caller keeps blocked are let in only while the guest runs, so their
 * handler (which kicks) runs inside uc_emu_start, as KVM_SET_SIGNAL_MASK has KVM_RUN see them. */
int emu_set_signal_mask(struct tv_vcpu *v, const sigset_t *mask)
{
	v->has_run_mask = mask != NULL;
	if (mask)
		v->run_mask = *mask;
	EMU_LOG(v->log, "set_signal_mask(%s): applied with pthread_sigmask around uc_emu_start",
		mask ? "set" : "none");
	return 0;
}
