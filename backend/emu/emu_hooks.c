/* The emulator's hooks on an instance: the I/O hooks (emu_exits.c), the interrupt and
 * invalid-instruction hooks that stop at guest exceptions, the code and block hooks the run
 * flags need, and the sites' hooks (emu_sites.c); added when an instance opens or the flags
 * change, removed with the vCPU. */
#include "emu.h"
#include "emu_env.h"
#include "x86.h"
#include "debug_points.h"

#include <inttypes.h>
#include <string.h>

bool emu_irq_deliverable(struct tv_vcpu *v)
{
	struct emu_env env;
	uint64_t rflags = 0;
	bool shadow;

	if (uc_reg_read(v->vm->uc, UC_X86_REG_EFLAGS, &rflags) != UC_ERR_OK ||
	    !(rflags & TV_RFLAGS_IF))
		return false;
	if (emu_env_save(&env, v->vm->uc))
		return true; /* no layout to read the shadow from: IF alone decides */
	shadow = emu_env_hflags(&env) & EMU_HF_INHIBIT_IRQ;
	emu_env_release(&env);
	return !shadow;
}

/* Precise and step modes, and a vCPU that may be sent interrupts: called before every
 * instruction, with RIP exact. */
static void emu_on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	enum emu_stop why = EMU_STOP_NONE;

	(void)uc;
	(void)size;
	if (v->q_len || v->q_lost || v->io_error)
		why = EMU_STOP_EXIT; /* the previous instruction exited and is now complete */
	else if (v->insns && (v->flags & TV_RUN_STEP))
		why = EMU_STOP_STEP;
	else if (v->kicked)
		why = EMU_STOP_KICK;
	else if (v->irq >= 0 && emu_irq_deliverable(v))
		why = EMU_STOP_IRQ;
	if (why != EMU_STOP_NONE) {
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": stop before it", addr);
		emu_stop_engine(v, why, why == EMU_STOP_EXIT ? "exit pending"
					: why == EMU_STOP_STEP ? "step"
					: why == EMU_STOP_IRQ  ? "interrupt"
							       : "kick");
		return;
	}
	v->insns++;
	v->insn_addr = addr;
}

/* Preemptible fast mode: called before every translated block. */
static void emu_on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	enum emu_stop why = EMU_STOP_NONE;

	(void)uc;
	v->last_block = addr;
	v->last_block_end = addr + size;
	if (v->q_len || v->io_error)
		why = EMU_STOP_EXIT; /* a handler's STOP in the previous block */
	else if (v->kicked)
		why = EMU_STOP_KICK;
	if (why != EMU_STOP_NONE) {
		EMU_LOG(v->log, "  hook BLOCK 0x%" PRIx64 ": stop before it", addr);
		emu_stop_engine(v, why, why == EMU_STOP_EXIT ? "exit pending" : "kick");
	}
}

/* Every CPU exception and every INT n (#UD too, once emu_on_invalid has claimed it). Unicorn
 * would go on after the hook as if the guest had handled it: stop, and run() delivers it. RIP
 * is on the faulting instruction, or past INT n, INT3 and INTO. */
static void emu_on_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
	struct tv_vcpu *v = opaque;

	(void)uc;
	v->exception = intno;
	EMU_LOG(v->log, "  hook INTR vector %u (%s)", intno, emu_vector_name(intno));
	emu_stop_engine(v, EMU_STOP_EXCEPTION, "exception");
}

/* An invalid opcode: Unicorn would end uc_emu_start with UC_ERR_INSN_INVALID. Claimed, it goes
 * on to the interrupt hook as vector 6, which the guest's IDT may handle. */
static bool emu_on_invalid(uc_engine *uc, void *opaque)
{
	struct tv_vcpu *v = opaque;

	(void)uc;
	EMU_LOG(v->log, "  hook INSN_INVALID: #UD");
	return true;
}

static int emu_hook_add(struct tv_vcpu *v, uc_hook *h, int type, void *cb, const char *what,
			int insn)
{
	uc_err err = type == UC_HOOK_INSN
			     ? uc_hook_add(v->vm->uc, h, type, cb, v, 1, 0, insn)
			     : uc_hook_add(v->vm->uc, h, type, cb, v, 1, 0);

	/* begin 1 > end 0: every address. */
	EMU_STEP(v->log, "a callback into twinvm: how the guest's I/O and faults exit",
		 "uc_hook_add(%s, begin 1, end 0) = %s", what, emu_err_name(err));
	if (err) {
		*h = 0;
		tv_set_error("uc_hook_add(%s): %s", what, uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

static void emu_hook_del(struct tv_vcpu *v, uc_hook *h, const char *what)
{
	uc_err err;

	if (!*h)
		return;
	err = uc_hook_del(v->vm->uc, *h);
	EMU_STEP(v->log, "the callbacks removed", "uc_hook_del(%s) = %s", what, emu_err_name(err));
	*h = 0;
}

/* Unicorn 2 compiles code and block hooks into the translated blocks it caches (calls to freed
 * hooks included): after adding or removing one, drop the cache. The blocks translated before
 * are forgotten by emu_smc.c too: their next translation is no sign of rewritten code. */
int emu_flush_tb(struct tv_vcpu *v)
{
	uc_err err = uc_ctl(v->vm->uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));

	EMU_LOG(v->log, "uc_ctl(UC_CTL_TB_FLUSH) = %s", emu_err_name(err));
	emu_smc_forget(v);
	if (err)
		return emu_fail("uc_ctl(UC_CTL_TB_FLUSH)", err);
	return 0;
}

/* One block hook for a machine with a platform, before each block runs: Unicorn 2.1.1 misses an
 * IN hook in 64-bit code where two block hooks and no code hook are on (measured:
 * kvm-unit-tests' emulator test spun on the UART's LSR, reading no device), so the checks that
 * need one share it: emu_smc.c's rewritten code (a machine with an interrupt controller),
 * emu_sites.c's RDMSR/WRMSR scan (IA32_APIC_BASE asked for), the preemptible mode's stop
 * (emu_on_block) and the stop that adds the interrupt code hook once a vector is asserted
 * (emu_set_irq: exact here, where a uc_emu_stop inside an MMIO callback leaves RIP at the
 * block's start and runs the block's first instructions again). */
static void emu_on_platform_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;

	v->last_block = addr; /* for emu_fault.c */
	v->last_block_end = addr + size;
	if (v->irq_aware)
		emu_smc_on_block(uc, addr, size, v);
	if (v->msr.apic)
		emu_sites_on_block(uc, addr, size, v);
	if (emu_block_hooked(v->flags))
		emu_on_block(uc, addr, size, v);
	if (v->stop == EMU_STOP_NONE && v->irq >= 0 && v->irq_hooked && !v->hook_code) {
		EMU_LOG(v->log, "  hook BLOCK 0x%" PRIx64 ": stop before it", addr);
		emu_stop_engine(v, EMU_STOP_IRQ, "interrupts: the code hook is needed");
	}
}

/* Installs or removes the code and block hooks that flags need. fresh: the instance has run
 * nothing yet, so its cache holds no block to drop. */
static int emu_hooks_apply(struct tv_vcpu *v, unsigned flags, bool fresh)
{
	bool changed = false;
	int rc = 0;

	if (emu_code_hooked(v, flags) && !v->hook_code) {
		rc = emu_hook_add(v, &v->hook_code, UC_HOOK_CODE, (void *)emu_on_code, "UC_HOOK_CODE",
				  0);
		if (!rc)
			rc = emu_sites_readd(v); /* after it: the step counts their instruction */
		changed = true;
	} else if (!emu_code_hooked(v, flags) && v->hook_code) {
		emu_hook_del(v, &v->hook_code, "UC_HOOK_CODE");
		changed = true;
	}
	if (!rc && (v->irq_aware || v->msr.apic) && !v->msr.hook_block) {
		rc = emu_hook_add(v, &v->msr.hook_block, UC_HOOK_BLOCK, (void *)emu_on_platform_block,
				  "UC_HOOK_BLOCK (a platform's: rewritten code, RDMSR/WRMSR)", 0);
		changed = true;
	}
	/* With a platform's block hook, that one does the preemptible mode's work. */
	bool own_block = emu_block_hooked(flags) && !v->msr.hook_block;

	if (!rc && own_block && !v->hook_block) {
		rc = emu_hook_add(v, &v->hook_block, UC_HOOK_BLOCK, (void *)emu_on_block,
				  "UC_HOOK_BLOCK", 0);
		changed = true;
	} else if (!rc && !own_block && v->hook_block) {
		emu_hook_del(v, &v->hook_block, "UC_HOOK_BLOCK");
		changed = true;
	}
	if (changed && !fresh) {
		int flush = emu_flush_tb(v);

		if (!rc)
			rc = flush;
	}
	return rc;
}

int emu_hooks_sync(struct tv_vcpu *v, unsigned flags)
{
	if (!v->vm->uc)
		return 0; /* no instance yet: they are added when it opens */
	return emu_hooks_apply(v, flags, false);
}

int emu_hooks_install(struct tv_vcpu *v, bool fresh)
{
	int rc;

	v->msr.started = false; /* a new instance: its first block to scan */

	rc = emu_hook_add(v, &v->hook_in, UC_HOOK_INSN, (void *)emu_on_in,
			  "UC_HOOK_INSN UC_X86_INS_IN", UC_X86_INS_IN);
	if (!rc)
		rc = emu_hook_add(v, &v->hook_out, UC_HOOK_INSN, (void *)emu_on_out,
				  "UC_HOOK_INSN UC_X86_INS_OUT", UC_X86_INS_OUT);
	if (!rc)
		rc = emu_hook_add(v, &v->hook_intr, UC_HOOK_INTR, (void *)emu_on_intr,
				  "UC_HOOK_INTR", 0);
	if (!rc)
		rc = emu_hook_add(v, &v->hook_invalid, UC_HOOK_INSN_INVALID, (void *)emu_on_invalid,
				  "UC_HOOK_INSN_INVALID", 0);
	if (!rc) /* see emu_smc.c */
		rc = emu_hook_add(v, &v->hook_translate, UC_HOOK_EDGE_GENERATED,
				  (void *)emu_smc_on_translate, "UC_HOOK_EDGE_GENERATED", 0);
	if (!rc && v->cpuid.n)
		rc = emu_hook_add(v, &v->hook_cpuid, UC_HOOK_INSN, (void *)emu_on_cpuid,
				  "UC_HOOK_INSN UC_X86_INS_CPUID", UC_X86_INS_CPUID);
	if (!rc)
		rc = emu_hooks_apply(v, v->flags, fresh);
	if (!rc)
		rc = emu_debug_hooks_add(v);
	if (!rc)
		rc = emu_sites_hooks_add(v);
	return rc;
}

/* The cache may now hold blocks that call the code or block hook just removed: they are dropped
 * before another vCPU runs the instance (emu_vcpu_create), not here. A VM's instance is mostly
 * closed next, and a flush before uc_close would zero the whole translation buffer for nothing. */
void emu_hooks_remove(struct tv_vcpu *v)
{
	if (v->hook_code || v->hook_block || v->msr.hook_block)
		v->vm->tb_stale = true;
	emu_hook_del(v, &v->hook_in, "UC_HOOK_INSN UC_X86_INS_IN");
	emu_hook_del(v, &v->hook_out, "UC_HOOK_INSN UC_X86_INS_OUT");
	emu_hook_del(v, &v->hook_intr, "UC_HOOK_INTR");
	emu_hook_del(v, &v->hook_invalid, "UC_HOOK_INSN_INVALID");
	emu_hook_del(v, &v->hook_translate, "UC_HOOK_EDGE_GENERATED");
	emu_hook_del(v, &v->hook_cpuid, "UC_HOOK_INSN UC_X86_INS_CPUID");
	emu_hook_del(v, &v->hook_code, "UC_HOOK_CODE");
	emu_hook_del(v, &v->hook_block, "UC_HOOK_BLOCK");
	if (emu_debug_hooks_del(v))
		v->vm->tb_stale = true;
	if (v->msr.hook_block)
		v->vm->tb_stale = true;
	emu_sites_hooks_del(v);
}

/* The hooks for the new points replace the old ones now if the instance is open, else when it
 * opens (emu_hooks_install). */
int emu_set_debug_points(struct tv_vcpu *v, const struct tv_debug_point *p, size_t n)
{
	int rc = tv_debug_points_check("emulator", p, n), flush;
	bool had_code = false;

	if (rc)
		return rc;
	if (v->vm->uc) {
		rc = emu_instance_lost(v->vm);
		if (rc)
			return rc;
		had_code = emu_debug_hooks_del(v);
	}
	if (n)
		memcpy(v->dbg.points, p, n * sizeof(*p));
	v->dbg.n = n;
	v->dbg.hit = -1;
	v->dbg.exec_stopped = v->dbg.exec_skip = false;
	if (!v->vm->uc)
		return 0;
	rc = emu_debug_hooks_add(v);
	if (!rc)
		rc = emu_sites_readd(v); /* after the points' code hooks: a point there fires */
	/* Code hooks are compiled into the translated blocks; the memory hooks are looked up at
	 * each access that leaves the fast path, which a flush (and its TLB flush) forces anew. */
	flush = had_code || n ? emu_flush_tb(v) : 0;
	return rc ? rc : flush;
}
