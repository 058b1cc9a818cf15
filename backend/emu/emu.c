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
 * 64-bit). So set_sregs picks the mode the new state needs and, when it differs from the
 * instance's, replaces the instance (the general registers are carried over).
 *
 * This file has the engine, the VM, the vCPU, its hooks, run and kick. The registers (general
 * and special, the mode choice and the reopening) are in emu_regs.c, and what the two share in
 * emu.h.
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
#include "../backend.h"
#include "emu.h"
#include "emu_env.h"
#include "emu_raw.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* uc_ctl_tlb_mode and UC_TLB_CPU came with 2.1. */
#if UC_API_MAJOR > 2 || (UC_API_MAJOR == 2 && UC_API_MINOR >= 1)
#define EMU_HAVE_TLB_CTL 1
#else
#define EMU_HAVE_TLB_CTL 0
#endif

/* VMs opened by this process, to number them. */
static atomic_int emu_vm_count;

/* The translation cache per engine. Unicorn 2.1's default is 1 GiB, and the first run zeroes
 * the part it uses as huge pages: about 250 ms per VM here. Guests twinvm runs are small. */
#define EMU_TCG_BUFFER (32u << 20)

/* uc_emu_start's "until", for a Unicorn without exits (see emu_uc_create): non-canonical, so no
 * fetch in any mode reaches it and the run ends only on our terms. */
#define EMU_UNREACHABLE ((uint64_t)1 << 63)
#define EMU_4G ((uint64_t)1 << 32)

#define TV_RUN_ALL_FLAGS (TV_RUN_PRECISE | TV_RUN_STEP | TV_RUN_PREEMPTIBLE)

static bool emu_precise(unsigned flags)
{
	return flags & (TV_RUN_PRECISE | TV_RUN_STEP);
}

/* The block hook is needed only where no code hook stops at instruction boundaries already. */
static bool emu_block_hooked(unsigned flags)
{
	return (flags & TV_RUN_PREEMPTIBLE) && !emu_precise(flags);
}

/* -------------------------------------------------------------------------------------------
 * Exits and hooks */

/* Room for one more queued exit: false when the queue is at EMU_QUEUE_MAX or out of memory. */
static bool emu_queue_room(struct tv_vcpu *v)
{
	struct emu_pending *grown;
	unsigned cap;

	if (v->q_len < v->q_cap)
		return true;
	if (v->q_cap >= EMU_QUEUE_MAX)
		return false;
	cap = v->q_cap ? v->q_cap * 2 : EMU_QUEUE;
	grown = realloc(v->queue, cap * sizeof(*grown));
	if (!grown)
		return false;
	v->queue = grown;
	v->q_cap = cap;
	return true;
}

static struct emu_pending *emu_exit_begin(struct tv_vcpu *v, int reason)
{
	struct emu_pending *p = &v->scratch;

	if (emu_precise(v->flags) && emu_queue_room(v))
		p = &v->queue[v->q_len];
	p->exit.reason = reason;
	p->exit.exception = -1;
	p->exit.detail[0] = '\0';
	return p;
}

/* Stops the engine from a hook. From a code or block hook the engine stops before the
 * instruction the hook was called for; from an I/O hook only at the end of the block. why is
 * EMU_STOP_NONE for the I/O hooks' stops, which run() tells apart by the exit they kept. */
static void emu_stop_engine(struct tv_vcpu *v, enum emu_stop why, const char *note)
{
	uc_err err = uc_emu_stop(v->vm->uc);

	if (why != EMU_STOP_NONE)
		v->stop = why;
	EMU_LOG(v->log, "  uc_emu_stop() = %s (%s)", emu_err_name(err), note);
}

static const char *emu_io_note(int rc)
{
	if (rc == TV_IO_CONTINUE)
		return "";
	return rc == TV_IO_STOP ? " (handler: STOP)" : " (handler: error)";
}

/* After the I/O handler ran for the exit in p and said rc. */
static void emu_exit_end(struct tv_vcpu *v, struct emu_pending *p, int rc)
{
	if (rc < 0 && !v->io_error)
		v->io_error = rc;
	if (emu_precise(v->flags)) {
		/* Kept for run(); the code hook of the next instruction stops the engine. */
		if (p == &v->scratch)
			v->q_lost++;
		else
			v->q_len++;
		return;
	}
	if (rc == TV_IO_CONTINUE && !(v->kicked && !emu_block_hooked(v->flags)))
		return;
	if (rc != TV_IO_CONTINUE && v->q_len == 0) {
		v->queue[0] = *p;
		if (p->exit.reason == TV_EXIT_IO)
			v->queue[0].exit.io.data = v->queue[0].data;
		v->q_len = 1;
	}
	/* With a block hook, let it stop at the next block: an exact boundary, and a run that ends
	 * before it then can only have ended on a HLT. Without one, stop as soon as Unicorn can
	 * (a kick() that came just before uc_emu_start began is caught here too). */
	if (!emu_block_hooked(v->flags))
		emu_stop_engine(v, EMU_STOP_NONE,
				rc == TV_IO_CONTINUE ? "kick" : "handler; lands at the block's end");
}

static void emu_io_fill(struct emu_pending *p, uint8_t dir, uint32_t port, int size)
{
	p->exit.io.direction = dir;
	p->exit.io.size = (uint8_t)size;
	p->exit.io.port = (uint16_t)port;
	p->exit.io.count = 1; /* Unicorn calls the hooks once per element of string I/O */
	p->exit.io.data = p->data;
}

static uint32_t emu_on_in(uc_engine *uc, uint32_t port, int size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	struct emu_pending *p = emu_exit_begin(v, TV_EXIT_IO);
	uint32_t value = 0;
	int rc;

	(void)uc;
	if (size < 1 || size > 4)
		size = 4;
	emu_io_fill(p, TV_IO_IN, port, size);
	memset(p->data, 0xff, sizeof(p->data)); /* no device: all ones */
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	memcpy(&value, p->data, (size_t)size);
	EMU_LOG(v->log, "  hook IN port 0x%x size %d -> 0x%x%s", port, size, value, emu_io_note(rc));
	emu_exit_end(v, p, rc);
	return value;
}

static void emu_on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque)
{
	struct tv_vcpu *v = opaque;
	struct emu_pending *p = emu_exit_begin(v, TV_EXIT_IO);
	int rc;

	(void)uc;
	if (size < 1 || size > 4)
		size = 4;
	emu_io_fill(p, TV_IO_OUT, port, size);
	memcpy(p->data, &value, sizeof(value));
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	EMU_LOG(v->log, "  hook OUT port 0x%x size %d value 0x%x%s", port, size, value,
		emu_io_note(rc));
	emu_exit_end(v, p, rc);
}

static uint64_t emu_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *opaque)
{
	struct tv_vm *vm = opaque;
	struct tv_vcpu *v = vm->vcpu;
	uint64_t addr = vm->ram_size + offset, value = 0;
	struct emu_pending *p;
	int rc;

	(void)uc;
	if (size < 1 || size > 8)
		size = 8;
	if (!v || !v->in_run) {
		/* Not the guest's access (nothing of ours reads MMIO outside a run): no device. */
		EMU_LOG(vm->e->log, "callback MMIO read 0x%" PRIx64 " size %u outside a run -> ones",
			addr, size);
		return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	}
	p = emu_exit_begin(v, TV_EXIT_MMIO);
	p->exit.mmio.addr = addr;
	p->exit.mmio.len = size;
	p->exit.mmio.is_write = 0;
	memset(p->exit.mmio.data, 0xff, sizeof(p->exit.mmio.data));
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	memcpy(&value, p->exit.mmio.data, size);
	EMU_LOG(v->log, "  hook MMIO read 0x%" PRIx64 " size %u -> 0x%" PRIx64 "%s", addr, size, value,
		emu_io_note(rc));
	emu_exit_end(v, p, rc);
	return value;
}

static void emu_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value,
			   void *opaque)
{
	struct tv_vm *vm = opaque;
	struct tv_vcpu *v = vm->vcpu;
	uint64_t addr = vm->ram_size + offset;
	struct emu_pending *p;
	int rc;

	(void)uc;
	if (size < 1 || size > 8)
		size = 8;
	if (!v || !v->in_run) {
		EMU_LOG(vm->e->log, "callback MMIO write 0x%" PRIx64 " size %u value 0x%" PRIx64
			" outside a run: dropped", addr, size, value);
		return;
	}
	p = emu_exit_begin(v, TV_EXIT_MMIO);
	p->exit.mmio.addr = addr;
	p->exit.mmio.len = size;
	p->exit.mmio.is_write = 1;
	memset(p->exit.mmio.data, 0, sizeof(p->exit.mmio.data));
	memcpy(p->exit.mmio.data, &value, size);
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	EMU_LOG(v->log, "  hook MMIO write 0x%" PRIx64 " size %u value 0x%" PRIx64 "%s", addr, size,
		value, emu_io_note(rc));
	emu_exit_end(v, p, rc);
}

/* Precise and step modes: called before every instruction, with RIP exact. */
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
	if (why != EMU_STOP_NONE) {
		EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": stop before it", addr);
		emu_stop_engine(v, why, why == EMU_STOP_EXIT ? "exit pending"
					: why == EMU_STOP_STEP ? "step" : "kick");
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
	(void)size;
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
	EMU_LOG(v->log, "uc_hook_add(%s, begin 1, end 0) = %s", what, emu_err_name(err));
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
	EMU_LOG(v->log, "uc_hook_del(%s) = %s", what, emu_err_name(err));
	*h = 0;
}

/* Unicorn 2 compiles code and block hooks into the translated blocks it caches (calls to freed
 * hooks included): after adding or removing one, drop the cache. */
static int emu_flush_tb(struct tv_vcpu *v)
{
	uc_err err = uc_ctl(v->vm->uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));

	EMU_LOG(v->log, "uc_ctl(UC_CTL_TB_FLUSH) = %s", emu_err_name(err));
	if (err)
		return emu_fail("uc_ctl(UC_CTL_TB_FLUSH)", err);
	return 0;
}

/* Installs or removes the code and block hooks that flags need. */
static int emu_hooks_sync(struct tv_vcpu *v, unsigned flags)
{
	bool changed = false;
	int rc = 0;

	if (emu_precise(flags) && !v->hook_code) {
		rc = emu_hook_add(v, &v->hook_code, UC_HOOK_CODE, (void *)emu_on_code, "UC_HOOK_CODE",
				  0);
		changed = true;
	} else if (!emu_precise(flags) && v->hook_code) {
		emu_hook_del(v, &v->hook_code, "UC_HOOK_CODE");
		changed = true;
	}
	if (!rc && emu_block_hooked(flags) && !v->hook_block) {
		rc = emu_hook_add(v, &v->hook_block, UC_HOOK_BLOCK, (void *)emu_on_block,
				  "UC_HOOK_BLOCK", 0);
		changed = true;
	} else if (!rc && !emu_block_hooked(flags) && v->hook_block) {
		emu_hook_del(v, &v->hook_block, "UC_HOOK_BLOCK");
		changed = true;
	}
	if (changed) {
		int flush = emu_flush_tb(v);

		if (!rc)
			rc = flush;
	}
	return rc;
}

/* All the vCPU's hooks on a fresh instance. */
int emu_hooks_install(struct tv_vcpu *v)
{
	int rc;

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
	if (!rc)
		rc = emu_hooks_sync(v, v->flags);
	return rc;
}

static void emu_hooks_remove(struct tv_vcpu *v)
{
	emu_hook_del(v, &v->hook_in, "UC_HOOK_INSN UC_X86_INS_IN");
	emu_hook_del(v, &v->hook_out, "UC_HOOK_INSN UC_X86_INS_OUT");
	emu_hook_del(v, &v->hook_intr, "UC_HOOK_INTR");
	emu_hook_del(v, &v->hook_invalid, "UC_HOOK_INSN_INVALID");
	emu_hook_del(v, &v->hook_code, "UC_HOOK_CODE");
	emu_hook_del(v, &v->hook_block, "UC_HOOK_BLOCK");
	emu_flush_tb(v);
}

/* -------------------------------------------------------------------------------------------
 * Engine and VM */

static int emu_open(struct tv_engine **out, FILE *api_log)
{
	struct tv_engine *e;
	unsigned major, minor;

	e = calloc(1, sizeof(*e));
	if (!e) {
		tv_set_error("Unicorn engine: out of memory");
		return -ENOMEM;
	}
	e->log = api_log;
	e->model = EMU_MODEL_DEFAULT;
	e->version = uc_version(&major, &minor);
	EMU_LOG(e->log, "uc_version() = 0x%08x (%u.%u)", e->version, major, minor);
	if (major < 2) {
		tv_set_error("Unicorn %u.%u: twinvm needs Unicorn 2 or later", major, minor);
		free(e);
		return -ENODEV;
	}
	if (!uc_arch_supported(UC_ARCH_X86)) {
		EMU_LOG(e->log, "uc_arch_supported(UC_ARCH_X86) = false");
		tv_set_error("Unicorn %u.%u was built without x86 support", major, minor);
		free(e);
		return -ENODEV;
	}
	/* 2.0 walks the guest's page tables for faults but translates virtual = physical. */
	e->mmu = major > 2 || minor >= 1;
	*out = e;
	return 0;
}

static void emu_close(struct tv_engine *e)
{
	free(e);
}

static int emu_set_cpu_model(struct tv_engine *e, const char *name)
{
	int model = name ? emu_cpu_find(name) : EMU_MODEL_DEFAULT;

	EMU_LOG(e->log, "set_cpu_model(%s) = %s", name ? name : "default",
		model >= EMU_MODEL_DEFAULT ? "ok" : tv_last_error());
	if (model < EMU_MODEL_DEFAULT)
		return model;
	e->model = model;
	return 0;
}

static int emu_get_caps(struct tv_engine *e, struct tv_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	snprintf(caps->version, sizeof(caps->version), "Unicorn %u.%u.%u", e->version >> 24,
		 (e->version >> 16) & 0xff, (e->version >> 8) & 0xff);
	caps->mmu_translates = e->mmu;
	caps->single_step = true;
	snprintf(caps->notes, sizeof(caps->notes),
		 "uc_open per guest mode: UC_MODE_16/32/64, reopened when set_sregs changes it\n"
		 "RAM: uc_mem_map_ptr; MMIO up to 4 GiB: uc_mmio_map\n"
		 "port I/O: UC_HOOK_INSN IN/OUT, one exit per string element\n"
		 "exceptions: %s\n"
		 "precise and step: UC_HOOK_CODE (much slower)\n"
		 "preemptible: UC_HOOK_BLOCK\n"
		 "%s\n"
		 "translate: none (Unicorn has no call for it)\n"
		 "CPU model: %s\n",
		 emu_env_layout() == 0
			 ? "UC_HOOK_INTR stops, delivered in software through the guest's IVT or IDT"
			 : "UC_HOOK_INTR stops; not delivered (this Unicorn's CPU state is not laid "
			   "out as expected): SHUTDOWN",
		 e->mmu ? "TLB: UC_TLB_CPU (the guest's page tables)"
			: "TLB: virtual = physical (Unicorn before 2.1 ignores page tables)",
		 EMU_HAVE_CPU_MODEL ? "uc_ctl_set_cpu_model after every uc_open (--cpu)"
				    : "Unicorn's default (this Unicorn cannot pick one)");
	return 0;
}

/* A uc instance in mode over the VM's RAM, with the MMIO region above it. */
int emu_uc_create(struct tv_vm *vm, int mode, uc_engine **out)
{
	FILE *log = vm->e->log;
	uc_engine *uc;
	uc_err err;
	int rc;

	err = uc_open(UC_ARCH_X86, mode, &uc);
	EMU_LOG(log, "uc_open(UC_ARCH_X86, %s) = %s", emu_mode_name(mode), emu_err_name(err));
	if (err)
		return emu_fail("uc_open", err);
	/* First: Unicorn builds the CPU at the first call after uc_open that needs it. */
	rc = emu_cpu_apply(uc, vm->model, log);
	if (rc)
		goto close_uc;
#if EMU_HAVE_TLB_CTL
	err = uc_ctl_set_tcg_buffer_size(uc, EMU_TCG_BUFFER);
	EMU_LOG(log, "uc_ctl_set_tcg_buffer_size(%u) = %s", EMU_TCG_BUFFER, emu_err_name(err));
	if (err) {
		rc = emu_fail("uc_ctl_set_tcg_buffer_size", err);
		goto close_uc;
	}
	if (vm->e->mmu) {
		/* The default, said out loud: the CPU's own MMU, walking the guest's tables. */
		err = uc_ctl_tlb_mode(uc, UC_TLB_CPU);
		EMU_LOG(log, "uc_ctl_tlb_mode(UC_TLB_CPU) = %s", emu_err_name(err));
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
	EMU_LOG(log, "uc_ctl_exits_enable() = %s", emu_err_name(err));
	if (err) {
		rc = emu_fail("uc_ctl_exits_enable", err);
		goto close_uc;
	}
#endif
	err = uc_mem_map_ptr(uc, 0, vm->ram_size, UC_PROT_ALL, vm->ram);
	EMU_LOG(log, "uc_mem_map_ptr(0x0, 0x%" PRIx64 ", UC_PROT_ALL, %p) = %s", vm->ram_size,
		vm->ram, emu_err_name(err));
	if (err) {
		rc = emu_fail("uc_mem_map_ptr", err);
		goto close_uc;
	}
	if (vm->ram_size < EMU_4G) {
		err = uc_mmio_map(uc, vm->ram_size, EMU_4G - vm->ram_size, emu_mmio_read, vm,
				  emu_mmio_write, vm);
		EMU_LOG(log, "uc_mmio_map(0x%" PRIx64 ", 0x%" PRIx64 ", read, write) = %s",
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

static int emu_vm_create(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out)
{
	struct tv_vm *vm;
	int rc;

	if (!ram || ((uintptr_t)ram & 0xfff) || !ram_size || (ram_size & 0xfff)) {
		tv_set_error("vm_create: guest RAM must be page aligned and a non-zero multiple of "
			     "4 KiB (%p, 0x%" PRIx64 " bytes)", ram, ram_size);
		return -EINVAL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		tv_set_error("Unicorn VM: out of memory");
		return -ENOMEM;
	}
	vm->e = e;
	vm->ram = ram;
	vm->ram_size = ram_size;
	vm->label = atomic_fetch_add(&emu_vm_count, 1) + 1;
	/* Before the VM's instance opens: the default is measured on scratch instances, and
	 * Unicorn leaks when two are open at once. */
	vm->model = emu_cpu_resolve(e->model);
	/* Real mode, as a CPU comes out of reset; set_sregs reopens in the guest's mode. */
	vm->mode = UC_MODE_16;
	rc = emu_uc_create(vm, vm->mode, &vm->uc);
	if (rc) {
		free(vm);
		return rc;
	}
	*out = vm;
	return 0;
}

static void emu_vm_destroy(struct tv_vm *vm)
{
	uc_err err;

	if (!vm)
		return;
	if (vm->vcpu)
		vm->vcpu->vm = NULL; /* its hooks go with the instance */
	if (vm->uc) {
		err = uc_close(vm->uc);
		EMU_LOG(vm->e->log, "uc_close(%p) = %s", (void *)vm->uc, emu_err_name(err));
	}
	free(vm);
}

static int emu_vcpu_create(struct tv_vm *vm, const struct tv_vcpu_config *cfg,
			   struct tv_vcpu **out)
{
	struct tv_vcpu *v;
	int rc;

	if (!cfg || !cfg->on_io) {
		tv_set_error("vcpu_create: an I/O handler is mandatory");
		return -EINVAL;
	}
	if (vm->vcpu) {
		tv_set_error("vcpu_create: the emulator backend runs one vCPU per VM");
		return -EBUSY;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		tv_set_error("Unicorn vCPU: out of memory");
		return -ENOMEM;
	}
	v->vm = vm;
	v->log = vm->e->log;
	v->cfg = *cfg;
	if (!emu_queue_room(v)) { /* the fast mode keeps its stopping exit in slot 0 */
		free(v);
		tv_set_error("Unicorn vCPU: out of memory");
		return -ENOMEM;
	}
	v->exception = -1;
	atomic_init(&v->async_uc, NULL);
	rc = emu_hooks_install(v);
	if (rc) {
		emu_hooks_remove(v);
		free(v->queue);
		free(v);
		return rc;
	}
	vm->vcpu = v;
	*out = v;
	return 0;
}

static void emu_vcpu_destroy(struct tv_vcpu *v)
{
	if (!v)
		return;
	if (v->vm) {
		emu_hooks_remove(v);
		v->vm->vcpu = NULL;
	}
	if (v->snap)
		uc_context_free(v->snap);
	free(v->queue);
	free(v);
}

static int emu_set_run_flags(struct tv_vcpu *v, unsigned flags)
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
	return 0;
}

/* -------------------------------------------------------------------------------------------
 * Run */

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
			exit->reason = TV_EXIT_DEBUG;
			return 0;
		}
		exit->reason = emu_guest_fault(err) ? TV_EXIT_SHUTDOWN : TV_EXIT_INTERNAL_ERROR;
		if (err == UC_ERR_INSN_INVALID)
			exit->exception = 6; /* #UD, which Unicorn reports as this error */
		exit->fail.code = err;
		snprintf(exit->detail, sizeof(exit->detail), "uc_emu_start: %s", uc_strerror(err));
		return 0;
	}
	switch (v->stop) {
	case EMU_STOP_KICK:
		v->kicked = 0;
		exit->reason = TV_EXIT_INTR;
		return 0;
	case EMU_STOP_STEP:
		exit->reason = TV_EXIT_DEBUG;
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
	v->stop = EMU_STOP_NONE;
	v->io_error = 0;
	v->exception = -1;
	v->insns = 0;
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
	EMU_LOG(v->log,
		"uc_emu_start(begin 0x%" PRIx64 ", until 0x%" PRIx64 ", timeout 0, count 0) = %s", begin,
		EMU_UNREACHABLE, emu_err_name(*err));
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
		exit->reason = TV_EXIT_DEBUG;
		return 0;
	}
	return 1;
}

static int emu_run(struct tv_vcpu *v, struct tv_exit *exit)
{
	bool async = !emu_precise(v->flags) && !emu_block_hooked(v->flags);
	uc_err err;
	int rc;

	memset(exit, 0, sizeof(*exit));
	exit->exception = -1;
	if (emu_instance_lost(v->vm))
		return -EIO;
	if (emu_pop(v, exit)) {
		EMU_LOG(v->log, "run: %s exit kept from the last uc_emu_start",
			tv_exit_reason_name(exit->reason));
		return 0;
	}
	for (;;) {
		if (v->kicked) {
			v->kicked = 0;
			exit->reason = TV_EXIT_INTR;
			EMU_LOG(v->log, "run: INTR for a kick that came between runs");
			return 0;
		}
		rc = emu_start_once(v, async, &err);
		if (rc)
			return rc;
		if (v->exception < 0 || v->io_error || v->q_lost)
			return emu_classify(v, err, async, exit);
		rc = emu_deliver_stopped(v, exit);
		if (rc <= 0)
			return rc;
	}
}

static void emu_kick(struct tv_vcpu *v)
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
static int emu_set_signal_mask(struct tv_vcpu *v, const sigset_t *mask)
{
	v->has_run_mask = mask != NULL;
	if (mask)
		v->run_mask = *mask;
	EMU_LOG(v->log, "set_signal_mask(%s): applied with pthread_sigmask around uc_emu_start",
		mask ? "set" : "none");
	return 0;
}

/* The whole translation cache is flushed, not the range: uc_ctl_remove_cache (2.1.1) was seen to
 * loop for good inside tb_invalidate_phys_range after a few hundred thousand snippets of the
 * fuzzer rewritten at one address. A flush costs the next run a fresh translation, which a
 * rewritten snippet needs anyway. */
static int emu_code_written(struct tv_vcpu *v, uint64_t addr, uint64_t len)
{
	uc_err err;

	if (emu_instance_lost(v->vm))
		return -EIO;
	if (!len || addr > UINT64_MAX - len)
		return -EINVAL;
	err = uc_ctl_flush_tb(v->vm->uc);
	EMU_LOG(v->log, "uc_ctl_flush_tb() = %s (0x%" PRIx64 "-0x%" PRIx64 " rewritten)",
		emu_err_name(err), addr, addr + len);
	return err ? emu_fail("uc_ctl_flush_tb", err) : 0;
}

/* The whole CPU state through Unicorn's context, with what this backend keeps of it itself: the
 * uc mode, the segments' hidden parts, R8-R15 outside UC_MODE_64. */
static int emu_snapshot(struct tv_vcpu *v, bool restore)
{
	uc_err err;

	if (emu_instance_lost(v->vm))
		return -EIO;
	if (restore) {
		if (!v->snap) {
			tv_set_error("snapshot: nothing saved to restore");
			return -ENOENT;
		}
		if (v->snap_mode != v->vm->mode) {
			tv_set_error("snapshot: saved in %s, the instance is now %s",
				     emu_mode_name(v->snap_mode), emu_mode_name(v->vm->mode));
			return -EINVAL;
		}
		err = uc_context_restore(v->vm->uc, v->snap);
		EMU_LOG(v->log, "uc_context_restore(%p) = %s", (void *)v->vm->uc, emu_err_name(err));
		if (err)
			return emu_fail("uc_context_restore", err);
		v->shadow = v->snap_shadow;
		v->shadow_valid = v->snap_shadow_valid;
		memcpy(v->high_regs, v->snap_high, sizeof(v->high_regs));
		memcpy(v->high_env, v->snap_high_env, sizeof(v->high_env));
		return 0;
	}
	if (v->snap) {
		uc_context_free(v->snap); /* it may belong to an instance since replaced */
		v->snap = NULL;
	}
	err = uc_context_alloc(v->vm->uc, &v->snap);
	if (!err)
		err = uc_context_save(v->vm->uc, v->snap);
	EMU_LOG(v->log, "uc_context_alloc + uc_context_save(%p) = %s", (void *)v->vm->uc,
		emu_err_name(err));
	if (err) {
		if (v->snap)
			uc_context_free(v->snap);
		v->snap = NULL;
		return emu_fail("uc_context_save", err);
	}
	v->snap_mode = v->vm->mode;
	v->snap_shadow = v->shadow;
	v->snap_shadow_valid = v->shadow_valid;
	memcpy(v->snap_high, v->high_regs, sizeof(v->high_regs));
	memcpy(v->snap_high_env, v->high_env, sizeof(v->high_env));
	return 0;
}

static int emu_vm_label(struct tv_vm *vm)
{
	return vm->label;
}

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
	.get_regs = emu_get_regs,
	.set_regs = emu_set_regs,
	.get_sregs = emu_get_sregs,
	.set_sregs = emu_set_sregs,
	.set_run_flags = emu_set_run_flags,
	.run = emu_run,
	.kick = emu_kick,
	.set_signal_mask = emu_set_signal_mask,
	.vm_label = emu_vm_label,
	.raw_run = emu_raw_run,
	.translate = NULL,
	.cpuid = emu_cpuid,
	.code_written = emu_code_written,
	.snapshot = emu_snapshot,
	.cpu_model = emu_cpu_model,
	.set_cpu_model = emu_set_cpu_model,
};
