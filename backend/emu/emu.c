/* The Unicorn engine: backend.h on the Unicorn CPU emulator (2.0 and 2.1).
 *
 * An engine is the library; a VM is a uc instance whose guest-physical memory is the caller's RAM
 * (uc_mem_map_ptr) plus one MMIO region from the end of RAM to 4 GiB (uc_mmio_map), whose reads
 * and writes become MMIO exits. The vCPU is the uc instance's CPU and the hooks on it.
 *
 * Unicorn fixes the CPU mode when the instance is opened: UC_MODE_16, 32 or 64 decides how wide
 * uc_reg_read/write see the registers, how uc_emu_start reads its begin address (CS * 16 + IP in
 * UC_MODE_16, EIP or RIP otherwise), and whether writing a segment register loads its descriptor
 * from the GDT (UC_MODE_16/32) or only sets the selector (UC_MODE_64, whose code is always
 * 64-bit). So the instance is opened by the VM's first set_sregs, in the mode that state needs
 * (or in UC_MODE_16 by a run with none), and replaced when a later state or the guest itself
 * needs another mode (the general registers, or the whole CPU state, are carried over).
 *
 * This file has the exit model below and the ops table; the parts are in the files emu.h lists,
 * each calling only those below it.
 *
 * How backend.h's exit model maps onto Unicorn (the traps are measured in docs/DESIGN.md):
 * - fast (no run flags): IN/OUT hooks (UC_HOOK_INSN) and the MMIO callbacks call the I/O handler
 *   in the middle of the instruction and the guest runs on. RIP read inside them is stale (the
 *   start of the translated block); the other registers are current. HLT ends uc_emu_start with
 *   UC_ERR_OK. A handler's TV_IO_STOP calls uc_emu_stop, which takes effect only at the end of the
 *   translated block: the guest may run a few more instructions (their exits go to the handler as
 *   usual), and a HLT among them is not seen, so the run looks as if it stopped after the hlt.
 *   With TV_RUN_PREEMPTIBLE the block hook stops instead, at the next block, and a HLT before it
 *   is reported after the exit.
 * - precise: a code hook (UC_HOOK_CODE) on every instruction. An exit is handled in its I/O hook
 *   (IN needs its data there) and kept; the code hook of the next instruction stops the engine
 *   before that instruction runs, so run() returns with the exiting instruction completed and RIP
 *   on the next one. Rep string I/O is one exit per element with RIP on the instruction and RCX
 *   counting down (Unicorn runs one element per pass, each with its code hook), as on KVM. An
 *   instruction with several exits (movs between two MMIO addresses) returns them from
 *   successive run()s.
 * - step: the same code hook stops before the second instruction of each run: DEBUG after every
 *   instruction. An instruction that exits (IO, MMIO, HLT) reports that exit instead, and rep
 *   string I/O one IO exit per element, with RIP on the instruction, then DEBUG once it is done:
 *   the sequence KVM gives for the same guest.
 * - kick: sets a flag. In the fast mode it also calls uc_emu_stop, which Unicorn may honour in
 *   the middle of a block with RIP left at the block's start: good enough to give up on a run, not
 *   to resume it (and a kick that lands just before uc_emu_start begins is only seen at the
 *   guest's next I/O). With TV_RUN_PREEMPTIBLE a block hook stops at the next block boundary
 *   instead, and in the precise and step modes the code hook at the next instruction: both exact.
 * - guest exceptions: Unicorn stops at them without delivering them. The interrupt hook
 *   (UC_HOOK_INTR; #UD through UC_HOOK_INSN_INVALID) stops the engine, and run() delivers the
 *   exception through the guest's IVT or IDT (emu_exception.c) and runs on: no exit, as under
 *   KVM. A step over a faulting instruction runs the handler's first instruction too; one over
 *   INT n ends before it (both as KVM's single-step does). A triple fault, or an exception the
 *   emulator cannot deliver (a task gate, say), is SHUTDOWN with the reason. */
#include "emu.h"
#include "emu_raw.h"

/* The register ops as core calls them: their uc_reg_* lines carry the step's note in the
 * --trace-api output (emu_log_vcpu). The backend's own calls (exception delivery, a new
 * instance's registers) go to emu_get_regs and the others directly and are no step. */
#define EMU_REGS_OP(op, type, note)                         \
	static int emu_op_##op(struct tv_vcpu *v, type arg) \
	{                                                   \
		const char *outer = v->step;                \
		int rc;                                     \
                                                            \
		v->step = note;                             \
		rc = emu_##op(v, arg);                      \
		v->step = outer;                            \
		return rc;                                  \
	}

EMU_REGS_OP(get_regs, struct tv_regs *, "read the general registers")
EMU_REGS_OP(set_regs, const struct tv_regs *,
	    "the general registers: entry point (RIP) and stack (RSP)")
EMU_REGS_OP(get_sregs, struct tv_sregs *, "read the special registers: mode, segments, tables")
EMU_REGS_OP(set_sregs, const struct tv_sregs *,
	    "the mode, one register at a time: GDT, segments, EFER, CR4, CR3, CR0")

const struct tv_backend_ops tv_emu_backend = {
	.name = "emu",
	.description = "Unicorn CPU emulator",
	.open = emu_open,
	.close = emu_close,
	.get_caps = emu_get_caps,
	.vm_create = emu_vm_create,
	.vm_destroy = emu_vm_destroy,
	.vcpu_create = emu_vcpu_create,
	.vcpu_destroy = emu_vcpu_destroy,
	.get_regs = emu_op_get_regs,
	.set_regs = emu_op_set_regs,
	.get_sregs = emu_op_get_sregs,
	.set_sregs = emu_op_set_sregs,
	.set_run_flags = emu_set_run_flags,
	.run = emu_run,
	.kick = emu_kick,
	.set_signal_mask = emu_set_signal_mask,
	.vm_label = emu_vm_label,
	.coalesce_pio = emu_coalesce_pio,
	.raw_run = emu_raw_run,
	.translate = NULL,
	.cpuid = emu_cpuid,
	.code_written = emu_code_written,
	.snapshot = emu_snapshot,
	.cpu_model = emu_cpu_model,
	.set_cpu_model = emu_set_cpu_model,
	.set_debug_points = emu_set_debug_points,
	.set_irq = emu_set_irq,
};
