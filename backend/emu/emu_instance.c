/* The VM's uc instance: opened over the VM's RAM with the MMIO region above it, once, in the mode
 * the guest's first state needs, and replaced when the guest's mode outgrows it.
 *
 * Unicorn fixes the CPU mode when an instance is opened (see the top of emu.c). The instance is
 * therefore opened late: by the first set_sregs, in the mode that state needs, or by the first
 * call that needs a CPU before any (run, get_sregs, snapshot), in UC_MODE_16 as a CPU comes out
 * of reset. Until then set_regs and get_regs keep the general registers in the vCPU. One uc_open
 * per VM, where the guest stays in its mode. */
#include "x86.h"
#include "emu.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* uc_ctl_tlb_mode and UC_TLB_CPU came with 2.1. */
#if UC_API_MAJOR > 2 || (UC_API_MAJOR == 2 && UC_API_MINOR >= 1)
#define EMU_HAVE_TLB_CTL 1
#else
#define EMU_HAVE_TLB_CTL 0
#endif

#define EMU_4G ((uint64_t)1 << 32)

/* The caller's buffer as guest-physical [0, ram_size). */
static uc_err emu_map_ram(struct tv_vm *vm, uc_engine *uc)
{
	uc_err err = uc_mem_map_ptr(uc, 0, vm->ram_size, UC_PROT_ALL, vm->ram);
	char note[80];

	if (vm->e->log) {
		snprintf(note, sizeof(note), "guest RAM: our buffer becomes guest-physical 0x0-0x%" PRIx64,
			 vm->ram_size - 1);
		emu_log_step(vm->e->log, note, "uc_mem_map_ptr(0x0, 0x%" PRIx64 ", UC_PROT_ALL, %p) = %s",
			     vm->ram_size, vm->ram, emu_err_name(err));
	}
	return err;
}

/* A uc instance in mode over the VM's RAM, with the MMIO region above it. */
static int emu_uc_create(struct tv_vm *vm, int mode, uc_engine **out)
{
	FILE *log = vm->e->log;
	uc_engine *uc;
	uc_err err;
	int rc;

	err = uc_open(UC_ARCH_X86, mode, &uc);
	EMU_STEP(log, "the VM and its one CPU, in the guest's mode: no memory yet",
		 "uc_open(UC_ARCH_X86, %s) = %s", emu_mode_name(mode), emu_err_name(err));
	if (err)
		return emu_fail("uc_open", err);
	/* First: Unicorn builds the CPU at the first call after uc_open that needs it. */
	rc = emu_cpu_apply(uc, vm->model, log);
	if (rc)
		goto close_uc;
#if EMU_HAVE_TLB_CTL
	err = uc_ctl_set_tcg_buffer_size(uc, EMU_TCG_BUFFER);
	EMU_STEP(log, "room for the guest's code translated to host code",
		 "uc_ctl_set_tcg_buffer_size(%u) = %s", EMU_TCG_BUFFER, emu_err_name(err));
	if (err) {
		rc = emu_fail("uc_ctl_set_tcg_buffer_size", err);
		goto close_uc;
	}
	if (vm->e->mmu) {
		/* The default, said out loud: the CPU's own MMU, walking the guest's tables. */
		err = uc_ctl_tlb_mode(uc, UC_TLB_CPU);
		EMU_STEP(log, "addresses go through the guest's own page tables",
			 "uc_ctl_tlb_mode(UC_TLB_CPU) = %s", emu_err_name(err));
		if (err) {
			rc = emu_fail("uc_ctl_tlb_mode", err);
			goto close_uc;
		}
	}
#endif
#ifdef uc_ctl_exits_enable
	/* uc_emu_start's "until" is looked up through the guest's page tables at every stop: in
	 * long mode an address no table maps raised a #GP (or #PF) that nobody saw, but QEMU
	 * kept it in flight, so the guest's next real fault became #DF and the one after a triple
	 * fault (measured: every stop in long mode, a step or an exit). With exits enabled and
	 * none set, "until" is ignored and only our stops end a run. */
	err = uc_ctl_exits_enable(uc);
	EMU_STEP(log, "no stop address: a run ends at HLT, a fault or twinvm's stop",
		 "uc_ctl_exits_enable() = %s", emu_err_name(err));
	if (err) {
		rc = emu_fail("uc_ctl_exits_enable", err);
		goto close_uc;
	}
#endif
	err = emu_map_ram(vm, uc);
	if (err) {
		rc = emu_fail("uc_mem_map_ptr", err);
		goto close_uc;
	}
	if (vm->ram_size < EMU_4G) {
		err = uc_mmio_map(uc, vm->ram_size, EMU_4G - vm->ram_size, emu_mmio_read, vm,
				  emu_mmio_write, vm);
		EMU_STEP(log, "the rest below 4 GiB: MMIO, each access calls back into twinvm",
			 "uc_mmio_map(0x%" PRIx64 ", 0x%" PRIx64 ", read, write) = %s",
			 vm->ram_size, EMU_4G - vm->ram_size, emu_err_name(err));
		if (err) {
			rc = emu_fail("uc_mmio_map", err);
			goto close_uc;
		}
	}
	*out = uc;
	return 0;

close_uc:
	err = uc_close(uc);
	EMU_LOG(log, "uc_close(%p) = %s", (void *)uc, emu_err_name(err));
	return rc;
}

/* See emu_reopen: after a UC_MODE_16/32 instance's guest entered long mode, R8-R15 are the
 * guest's where it changed the context's copy (high_env), and the caller's (high_regs) where it
 * did not. */
static int emu_high_regs_merge(struct tv_vcpu *v)
{
	static const int ids[8] = { UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
				    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15 };
	uint64_t vals[8];
	int rc = emu_read_batch(v, ids, vals, 8);

	for (int i = 0; !rc && i < 8; i++)
		if (vals[i] == v->high_env[i] && vals[i] != v->high_regs[i])
			rc = emu_reg_write(v, ids[i], v->high_regs[i]);
	return rc;
}

/* The instance's whole CPU state as a context, which outlives the instance. */
static int emu_context_take(struct tv_vcpu *v, uc_context **ctx)
{
	uc_engine *uc = v->vm->uc;
	uc_err err = uc_context_alloc(uc, ctx);

	if (!err)
		err = uc_context_save(uc, *ctx);
	EMU_LOG(v->log, "uc_context_alloc + uc_context_save(%p) = %s", (void *)uc, emu_err_name(err));
	if (err) {
		if (*ctx)
			uc_context_free(*ctx);
		*ctx = NULL;
		return emu_fail("uc_context_save", err);
	}
	return 0;
}

/* Opens the VM's instance in mode, in place of the one it has if any.
 * - fresh (set_sregs, or the first call that needs a CPU): a new CPU, with the general
 *   registers carried over through get_regs and set_regs (from the vCPU where there was no
 *   instance yet); set_sregs writes the rest. (A context would carry the old mode's hidden
 *   flags into the new instance: 64-bit code would not decode as 64-bit.)
 * - otherwise (the guest changed modes itself, emu_mode_follow): the whole CPU state moves,
 *   as Unicorn's context (every register, segment caches, control registers, MSRs, FPU and SSE
 *   state). A context outlives the instance it came from.
 * The old instance is closed before the new one opens: Unicorn 2.1.1 keeps about 512 KiB per
 * VM for good when two instances overlap (measured: 300 long-mode VMs grew the heap from 9 MiB
 * to 163 MiB in some runs; closing first, 10.6 MiB in every run).
 *
 * R8-R15: a UC_MODE_16/32 instance cannot reach them, so set_regs keeps the caller's values in
 * the vCPU (high_regs), and high_env remembers what the context holds for them; when the guest
 * itself enters long mode, emu_high_regs_merge takes each from the guest if it changed it, else
 * from the caller. */
int emu_reopen(struct tv_vcpu *v, int mode, bool fresh)
{
	struct tv_vm *vm = v->vm;
	uc_context *ctx = NULL;
	int old_mode = vm->mode;
	struct tv_regs r;
	uc_err err;
	int rc;

	rc = emu_get_regs(v, &r);
	if (!rc && !fresh)
		rc = emu_context_take(v, &ctx);
	if (rc)
		return rc;
	if (vm->uc) {
		err = uc_close(vm->uc);
		EMU_LOG(v->log, "uc_close(%p) = %s (replaced: the guest's mode needs %s)",
			(void *)vm->uc, emu_err_name(err), emu_mode_name(mode));
		vm->uc = NULL;
	}
	v->hook_in = v->hook_out = v->hook_intr = v->hook_invalid = 0;
	v->hook_code = v->hook_block = v->hook_translate = v->msr.hook_block = 0;
	memset(v->msr.hook_site, 0, sizeof(v->msr.hook_site)); /* the sites are hooked again */
	emu_smc_forget(v);
	emu_debug_hooks_forget(v);
	rc = emu_uc_create(vm, mode, &vm->uc);
	if (rc) {
		/* Out of memory, most likely. The VM is lost, and every later call says so. */
		vm->lost = true;
		if (ctx)
			uc_context_free(ctx);
		return rc;
	}
	vm->mode = mode;
	if (ctx) {
		err = uc_context_restore(vm->uc, ctx);
		EMU_LOG(v->log, "uc_context_restore(%p) = %s", (void *)vm->uc, emu_err_name(err));
		uc_context_free(ctx);
		if (err)
			return emu_fail("uc_context_restore", err);
	} else {
		memset(v->high_env, 0, sizeof(v->high_env)); /* a new CPU's registers are zero */
	}
	rc = emu_hooks_install(v, true);
	if (rc)
		return rc;
	if (fresh)
		return emu_set_regs(v, &r);
	return mode == UC_MODE_64 && old_mode != UC_MODE_64 ? emu_high_regs_merge(v) : 0;
}

int emu_instance_need(struct tv_vcpu *v)
{
	int rc = emu_instance_lost(v->vm);

	if (rc || v->vm->uc)
		return rc;
	/* Nothing said which mode: real mode, as a CPU comes out of reset. */
	return emu_reopen(v, UC_MODE_16, true);
}

/* After a run: a guest that switched modes itself may have left the instance's mode behind.
 * UC_MODE_16 starts a run at CS * 16 + a 16-bit IP, which cannot reach protected-mode code
 * above 64 KiB; UC_MODE_32 reads and writes only the low halves of 64-bit registers. Both move
 * up, the way the guest went. (UC_MODE_32 runs real-mode code and UC_MODE_64 compatibility-mode
 * and legacy code correctly, so the other directions keep the instance.) */
int emu_mode_follow(struct tv_vcpu *v)
{
	static const int cr0_id[1] = { UC_X86_REG_CR0 };
	uint64_t cr0, efer;
	int rc, want;

	if (v->vm->mode == UC_MODE_64)
		return 0;
	rc = emu_read_batch(v, cr0_id, &cr0, 1);
	if (rc || !(cr0 & TV_CR0_PE))
		return rc;
	want = UC_MODE_32;
	if (cr0 & TV_CR0_PG) {
		rc = emu_msr_access(v, false, TV_MSR_EFER, &efer);
		if (rc)
			return rc;
		if (efer & TV_EFER_LMA)
			want = UC_MODE_64;
	}
	if (want == v->vm->mode)
		return 0;
	return emu_reopen(v, want, false);
}
