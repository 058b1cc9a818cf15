/* The Unicorn backend's private header, for backend/emu/ only: the engine, VM and vCPU structs
 * and the functions the backend's files call in one another, and emu_log.c's names and
 * --trace-api output. Outside backend/emu/ only tv_emu_backend is meant to be used.
 *
 * The files, from the bottom up (each calls only files above it in this list, never back):
 * emu_log.c (names, trace lines, error text), emu_decode.c (x86-64 decoding, pure), emu_desc.c,
 * emu_env.c, emu_cpu_models.c (and the build's table of its measurements), emu_cpu.c,
 * emu_cpuid.c and emu_deliver.c (no instance of their own), emu_exits.c (the I/O hooks and MMIO
 * callbacks), emu_site_do.c (instructions done by the backend) and emu_sites.c (where they are:
 * emu_sites.h), emu_debug.c (the debug points' hooks), emu_fault.c (the #GP(0)s Unicorn raises
 * where the CPU raises another fault, or at another instruction), emu_smc.c (stale blocks after
 * self-modifying code), emu_hooks.c (every hook on an instance), emu_regs.c (general registers),
 * emu_instance.c (the uc instance, opened and replaced), emu_sregs.c (special registers),
 * emu_exception.c (guest exceptions), emu_run.c (run and kick), emu_vm.c (engine, VM, vCPU),
 * emu.c (the ops table).
 *
 * Nothing here runs when the trace is off: EMU_LOG checks the FILE before it evaluates its
 * arguments, so a run without --trace-api formats nothing. */
#ifndef TWINVM_EMU_H
#define TWINVM_EMU_H

#include "../backend.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "emu_uc.h"

#include "emu_cpu_models.h" /* EMU_HAVE_CPU_MODEL, EMU_CPU_QUERIES */

/* Exits one instruction can make before precise mode stops it: a movs between two MMIO
 * addresses makes two, an fxsave64 into MMIO 189. The queue starts at EMU_QUEUE and doubles as
 * needed up to EMU_QUEUE_MAX (an xsave of every AVX-512 component byte by byte stays below it);
 * an exit past that fails the run rather than go missing from the trace. */
#define EMU_QUEUE 64
#define EMU_QUEUE_MAX 65536

/* The translation cache per instance (and the raw baseline's). Unicorn 2.1's default is 1 GiB,
 * and the first run zeroes the part it uses as huge pages: about 250 ms per VM here. Guests
 * twinvm runs are small. Every flush zeroes it again too (88% of a run that rewrites its code
 * in a loop, measured with perf at 32 MiB: emu_drop_blocks' flushes), hence 8 MiB, which holds
 * kvm-unit-tests' largest working sets. */
#define EMU_TCG_BUFFER (8u << 20)

/* The addresses of translated blocks emu_smc.c remembers (a power of two). */
#define EMU_SMC_SEEN 1024u

/* A model is an index into emu_cpu.c's table; this one asks for the measured default (and is
 * what instances keep where this Unicorn cannot pick a model: Unicorn's own default). */
#define EMU_MODEL_DEFAULT (-1)

struct tv_engine {
	FILE *log;	  /* --trace-api, or NULL */
	unsigned version; /* uc_version(): major << 24 | minor << 16 | patch << 8 | extra */
	bool mmu;	  /* 2.1 and later walk the guest's page tables */
	int model;	  /* set_cpu_model's, for the VMs created next; EMU_MODEL_DEFAULT */
};

struct tv_vm {
	struct tv_engine *e;
	/* NULL until the first set_sregs (or run, get_sregs, snapshot) opens it; replaced when the
	 * guest's mode needs another uc mode (emu_instance.c). */
	uc_engine *uc;
	int mode;      /* the uc_mode uc was opened with */
	bool lost;     /* a replacement could not open: every call fails with -EIO */
	bool tb_stale; /* the cache may call a removed code or block hook: flush before reuse */
	int model;     /* the CPU model every instance of this VM is opened with */
	void *ram;
	uint64_t ram_size;
	struct tv_vcpu *vcpu; /* for the MMIO callbacks; NULL until vcpu_create */
	int label;            /* this process's VM number, for "VMFD: 1" style output */
};

/* One-byte OUTs to a coalesced port gathered before they go to the handler as one exit. */
#define EMU_RING_MAX 4096

/* An exit that run() will return, with the bytes its io.data points to. */
struct emu_pending {
	struct tv_exit exit;
	uint8_t data[8];
};

/* Why a hook stopped the engine. */
enum emu_stop {
	EMU_STOP_NONE,	    /* no hook did: HLT, an engine error, or kick()'s uc_emu_stop */
	EMU_STOP_EXIT,	    /* an exit waits to be returned (or the handler failed) */
	EMU_STOP_STEP,	    /* one instruction done */
	EMU_STOP_KICK,	    /* a kick, at an instruction or block boundary */
	EMU_STOP_EXCEPTION, /* a CPU exception, for run() to deliver */
	EMU_STOP_DEBUG,	    /* a debug point (v->dbg.hit) */
	EMU_STOP_IRQ,	    /* the asserted interrupt, deliverable before this instruction; or the
			     * code hook it needs, to be installed */
	EMU_STOP_RETRANSLATE, /* the translations to drop first (flush_pending): the run goes on */
};

/* set_debug_points' points and their hooks (emu_debug.c). */
struct emu_debug {
	struct tv_debug_point points[TV_DEBUG_POINTS_MAX];
	size_t n;
	uc_hook hook_exec[TV_DEBUG_POINTS_MAX]; /* EXEC point i's code hook; 0: none */
	uc_hook hook_write, hook_read, hook_boundary; /* the data points' hooks */
	int hit; /* the point that stopped the guest, not yet reported; -1: none */
	/* The points' guest-physical addresses under the paging of phys_key (CR0, CR3, CR4). */
	uint64_t phys[TV_DEBUG_POINTS_MAX], phys_key[3];
	bool mapped[TV_DEBUG_POINTS_MAX], phys_valid;
	/* run() reported an EXEC point at exec_pc (linear): a run that begins there runs that
	 * instruction (exec_skip: the point's hook lets its first call go by). */
	bool exec_stopped, exec_skip;
	uint64_t exec_pc;
};

/* How many RDMSR/WRMSR places get a code hook (kvm-unit-tests' pmu.flat holds 86 pairs 0F 30 or
 * 0F 32, its data's included; every code hook is looked at for each hooked instruction, and for
 * every instruction in the precise mode), and the size of the set of pages scanned for them
 * (emu_sites.c). */
#define EMU_MSR_SITES 128
#define EMU_MSR_PAGES 4096

struct emu_msr {
	bool apic; /* IA32_APIC_BASE asked for (tv_vcpu_config): RDMSR/WRMSR sites, the block hook */
	uint64_t apic_base;
	/* DR0-DR7 as the guest wrote them: MOV to and from a debug register is done here on every
	 * vCPU (emu_sites.c says why); DR4 and DR5 are DR6 and DR7. */
	uint64_t dr[8];
	uint64_t cr8; /* the TPR as MOV to CR8 wrote it (Unicorn without an APIC reads 0) */
	uc_hook hook_block;
	uint64_t site[EMU_MSR_SITES]; /* the linear address of the 0F of a site's instruction */
	uint8_t prefixes[EMU_MSR_SITES]; /* prefix bytes before it: the hook's range */
	uc_hook hook_site[EMU_MSR_SITES];
	unsigned nsites, npages;
	uint64_t *pages; /* EMU_MSR_PAGES linear page numbers + 1 scanned, 0 in a free slot */
	/* The instance has begun running: its first block, which Unicorn's translation hook does
	 * not see (it sees new blocks reached from another), was scanned before it. */
	bool started;
};

struct tv_vcpu {
	struct tv_vm *vm;
	FILE *log;
	/* The step note of the register calls being made (set_regs, get_sregs...): set by
	 * those ops for the time they run, NULL otherwise (see emu_log_vcpu). */
	const char *step;
	struct tv_vcpu_config cfg;
	unsigned flags; /* enum tv_run_flags; STEP implies PRECISE */
	bool io_fast;   /* neither precise nor logged: an I/O hook just calls the handler */
	uc_hook hook_in, hook_out, hook_intr, hook_invalid, hook_code, hook_block; /* 0: none */
	uc_hook hook_translate; /* emu_smc.c's; 0: none */
	/* Inside the translation hook: blocks to drop wait until uc_emu_start has returned, and
	 * then go with all others (flush_pending: emu_drop_blocks). */
	bool in_translate, flush_pending;
	/* cfg.cpuid's copy, which the guest's CPUID answers from (emu_cpuid.c); n = 0: the CPU
	 * model's own answers, and no hook. */
	struct tv_cpuid_table cpuid;
	uc_hook hook_cpuid;
	uint64_t smc_seen[EMU_SMC_SEEN]; /* emu_smc.c: addresses translated, + 1; 0: empty */
	/* emu_smc.c's second check, with a platform (irq_aware): each block's bytes as they were
	 * when it last ran, by address. */
	struct { uint64_t pc, hash; } smc_block[EMU_SMC_SEEN];
	struct emu_msr msr; /* IA32_APIC_BASE, which Unicorn does not keep (emu_sites.c) */

	volatile sig_atomic_t kicked;
	volatile sig_atomic_t kick_stopped; /* kick() called uc_emu_stop, for the log */
	/* The instance kick() may stop directly: set only while a fast run is in uc_emu_start. */
	_Atomic(uc_engine *) async_uc;

	/* set_signal_mask: the thread's mask during uc_emu_start, as KVM_SET_SIGNAL_MASK does. */
	sigset_t run_mask;
	bool has_run_mask;

	/* One run, reset by run(). */
	bool in_run;
	enum emu_stop stop;
	int io_error;	   /* the I/O handler's negative errno */
	int64_t exception; /* the vector UC_HOOK_INTR saw, -1 if none */
	bool exc_software; /* it came from INT n, INT3 or INTO (set by emu_exception_take) */
	/* The exception was raised by twinvm (emu_raise), not Unicorn: its error code is this. */
	bool exc_raised;
	uint32_t exc_raised_error;
	unsigned insns;	   /* instructions begun, in the precise and step modes */
	uint64_t insn_addr;
	/* The last block begun, [last_block, last_block_end), where a block hook is on (0: none
	 * this run): emu_fault.c finds a branch to a non-canonical address there. */
	uint64_t last_block, last_block_end;

	/* Exits not yet returned, in order. */
	struct emu_pending *queue; /* q_cap slots; io.data is set to the slot's data when popped */
	unsigned q_cap, q_next, q_len, q_lost;
	struct emu_pending scratch; /* an exit handled in place (fast mode) */
	struct emu_pending fast_io; /* the fast mode's IN and OUT exits (emu_exits_init) */

	/* Coalesced ports (coalesce_pio): their one-byte OUTs wait here in the fast mode, and go to
	 * the handler as one exit before any other exit and when uc_emu_start returns. */
	uint8_t coalesced[65536 / 8];
	uint16_t ring_port;
	unsigned ring_len;
	uint8_t ring[EMU_RING_MAX];

	/* The segments' hidden parts as set_sregs received them: Unicorn has no way to report a
	 * segment's base, limit or flags, only its selector. */
	struct tv_sregs shadow;
	bool shadow_valid;
	/* The general registers while the VM has no instance: written when it opens. */
	struct tv_regs regs_unopened;
	/* R8-R15 outside UC_MODE_64, where Unicorn cannot reach them (nor can 32-bit code). */
	uint64_t high_regs[8];
	/* snapshot(): the CPU's context and what the backend keeps beside it, or NULL. */
	uc_context *snap;
	int snap_mode;
	struct tv_sregs snap_shadow;
	bool snap_shadow_valid;
	uint64_t snap_high[8], snap_high_env[8], snap_apic_base;
	/* What the instance's context holds for R8-R15 meanwhile (see emu_reopen). */
	uint64_t high_env[8];
	struct emu_debug dbg;
	/* set_irq's vector, -1 for none. irq_aware: set_irq has been called (a machine with an
	 * interrupt controller). irq_hooked: an interrupt has been asserted, so from then on the
	 * code hook watches every instruction boundary for the moment the guest takes one (it
	 * costs about 12 times the run time of plain code: not before it is needed). */
	int irq;
	bool irq_aware, irq_hooked;
};

/* Whether the run flags make every instruction go through the code hook. */
static inline bool emu_precise(unsigned flags)
{
	return flags & (TV_RUN_PRECISE | TV_RUN_STEP);
}

/* Whether the code hook is on: the precise modes, or a vCPU that has been sent interrupts. */
static inline bool emu_code_hooked(const struct tv_vcpu *v, unsigned flags)
{
	return emu_precise(flags) || v->irq_hooked;
}

/* The block hook is needed only where no code hook stops at instruction boundaries already. */
static inline bool emu_block_hooked(unsigned flags)
{
	return (flags & TV_RUN_PREEMPTIBLE) && !emu_precise(flags);
}

/* emu_exits.c: the I/O hooks and the MMIO callbacks, and the queue of exits they keep. */

/* Room for one more queued exit: false when the queue is at EMU_QUEUE_MAX or out of memory. */
bool emu_queue_room(struct tv_vcpu *v);

/* Stops the engine from a hook. From a code or block hook the engine stops before the
 * instruction the hook was called for; from an I/O hook only at the end of the block. why is
 * EMU_STOP_NONE for the I/O hooks' stops, which run() tells apart by the exit they kept. */
void emu_stop_engine(struct tv_vcpu *v, enum emu_stop why, const char *note);

/* From a code hook: the instruction about to run faults with vector (and error, where the vector
 * has one) instead of running, as the CPU would where Unicorn runs it (emu_sites.c's sites). */
void emu_raise(struct tv_vcpu *v, unsigned vector, uint32_t error, const char *why);

/* The constant part of the fast mode's I/O exit, once per vCPU. */
void emu_exits_init(struct tv_vcpu *v);

/* Hands the coalesced OUTs gathered so far to the handler as one exit: its answer (TV_IO_CONTINUE
 * when there were none). */
int emu_ring_flush(struct tv_vcpu *v);

/* The coalesce_pio op. */
int emu_coalesce_pio(struct tv_vcpu *v, uint16_t port, bool on);

uint32_t emu_on_in(uc_engine *uc, uint32_t port, int size, void *opaque);
void emu_on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque);
uint64_t emu_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *opaque);
void emu_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *opaque);

/* emu_smc.c: the workaround for Unicorn's stale blocks after the guest rewrites its code. */

/* UC_HOOK_EDGE_GENERATED: a block just translated at cur->pc. */
void emu_smc_on_translate(uc_engine *uc, uc_tb *cur, uc_tb *prev, void *opaque);

/* The instance is new: nothing of it is translated yet. */
void emu_smc_forget(struct tv_vcpu *v);

/* The block hook of the second check: a block whose bytes changed since it last ran is dropped
 * and the block begun again (emu_restart_block), translated afresh. */
void emu_smc_on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque);
/* emu_sites.c: IA32_APIC_BASE, which Unicorn does not keep (v->msr), and the hooks that find and
 * do the RDMSR and WRMSR instructions that name it. */

/* The block hook that finds them and the code hooks on the places found (after every other
 * code hook, so that the precise mode's and the debug points' run first). */
int emu_sites_hooks_add(struct tv_vcpu *v);
void emu_sites_hooks_del(struct tv_vcpu *v);

/* The code hooks on the places found, added again after every other code hook: after the
 * precise mode's code hook or the debug points' were added. */
int emu_sites_readd(struct tv_vcpu *v);

/* The guest's code was rewritten from outside: its pages are scanned again. */
void emu_sites_forget_pages(struct tv_vcpu *v);

void emu_sites_on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque);
void emu_sites_on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque);

/* The scan emu_sites_on_block does, for a block just translated (emu_smc.c's translation hook, on
 * every vCPU): a site found in its pages drops them and starts the block again, hooked. */
void emu_sites_on_translate(struct tv_vcpu *v, uint64_t addr, uint32_t size);

/* Before the instance's first uc_emu_start from pc (RIP): the pages its first block lies in
 * scanned, as emu_sites_on_translate does for every later block. */
void emu_sites_before_first_run(struct tv_vcpu *v, uint64_t pc);

/* From a block or translation hook: the block at linear addr begins again (a RIP write, which
 * Unicorn acts on at once; uc_emu_stop would let the block run first), translated afresh where
 * its translation was dropped. */
void emu_restart_block(struct tv_vcpu *v, uint64_t addr);

/* Drops the translations of the linear range [begin, end) (none for an empty one) at once; or,
 * inside the translation hook (v->in_translate), stops the engine before the new block runs,
 * for run() to drop every translation (emu_flush_tb) and go on (EMU_STOP_RETRANSLATE).
 *
 * Why not the range, there: Unicorn 2.1.1's range invalidation (uc_ctl_remove_cache, the
 * tb_invalidate_phys_range under it) leaves a block's freed memory in its page's list of blocks
 * after some thousands of calls, and a later call or a chained jump crashes on it (SIGBUS,
 * SIGSEGV: kvm-unit-tests' access test, which rewrites its code under paging for every case,
 * about 2900 times; seen with the calls made inside the hook and after uc_emu_start alike, and
 * never with whole flushes). A flush is dearer (the blocks that run again are translated
 * again), and comes only when a block is translated a second time. */
void emu_drop_blocks(struct tv_vcpu *v, uint64_t begin, uint64_t end);

/* emu_debug.c: the debug points' hooks, and what run() reports for them. */

/* Adds the hooks for the points in v->dbg (none when there are none). */
int emu_debug_hooks_add(struct tv_vcpu *v);

/* Removes them: true when a code hook was among them (the cache must then be flushed). */
bool emu_debug_hooks_del(struct tv_vcpu *v);

/* The instance they were on is gone: their handles are forgotten. */
void emu_debug_hooks_forget(struct tv_vcpu *v);

/* Before a run that begins at linear address begin: whether it resumes from an EXEC stop. */
void emu_debug_begin(struct tv_vcpu *v, uint64_t begin);

/* The point that stopped the guest, if one did and it is not reported yet: true with *exit
 * filled. */
bool emu_debug_report(struct tv_vcpu *v, struct tv_exit *exit);

/* The end of a single step at linear address *pc (NULL: unknown): DEBUG with hit -1, or the EXEC
 * point it ended on. */
void emu_debug_step(struct tv_vcpu *v, struct tv_exit *exit, const uint64_t *pc);

/* emu_hooks.c */

/* All the vCPU's hooks on its VM's instance; fresh: one that has run nothing yet. */
int emu_hooks_install(struct tv_vcpu *v, bool fresh);

/* Installs or removes the code and block hooks that flags need (none without an instance). */
int emu_hooks_sync(struct tv_vcpu *v, unsigned flags);

/* emu_hooks.c: */
/* Whether the guest takes the asserted interrupt at this instruction boundary: IF set, and no
 * STI or MOV SS shadow (QEMU's HF_INHIBIT_IRQ in hflags). For the code hook, where the
 * instruction about to run is the boundary. */
bool emu_irq_deliverable(struct tv_vcpu *v);

/* Every hook of the vCPU off the instance (the cache is left as it is: see emu_hooks.c). */
void emu_hooks_remove(struct tv_vcpu *v);

/* Drops every translated block (Unicorn compiles code and block hooks into them). */
int emu_flush_tb(struct tv_vcpu *v);

/* The set_debug_points op. */
int emu_set_debug_points(struct tv_vcpu *v, const struct tv_debug_point *p, size_t n);

/* emu_regs.c: the general registers and the accessors emu_sregs.c and emu_instance.c use. */

int emu_get_regs(struct tv_vcpu *v, struct tv_regs *r);
int emu_set_regs(struct tv_vcpu *v, const struct tv_regs *r);

/* -EIO when the VM has lost its instance (a reopen could open none, out of memory): every entry
 * point that touches the instance checks this first. */
int emu_instance_lost(const struct tv_vm *vm);

/* The linear address uc_emu_start takes as "begin": CS.selector * 16 + IP in UC_MODE_16, EIP or
 * RIP otherwise. Needs the instance. */
int emu_begin_address(struct tv_vcpu *v, uint64_t *begin);

/* One register, an MMR (GDTR, IDTR, LDTR, TR) or an MSR, with its trace line and error text. */
int emu_reg_write(struct tv_vcpu *v, int id, uint64_t value);
int emu_mmr_write(struct tv_vcpu *v, int id, const uc_x86_mmr *m);
int emu_mmr_read(struct tv_vcpu *v, int id, uc_x86_mmr *m);
int emu_msr_access(struct tv_vcpu *v, bool write, uint32_t rid, uint64_t *value);

/* Reads n registers into vals, each zero-extended to 64 bits. */
int emu_read_batch(struct tv_vcpu *v, const int *ids, uint64_t *vals, int n);

/* emu_instance.c: the VM's uc instance. */

/* Opens the instance in mode, replacing the VM's if it has one (see emu_instance.c): fresh,
 * with only the general registers carried over (set_sregs then writes the rest), or with the
 * whole CPU state. */
int emu_reopen(struct tv_vcpu *v, int mode, bool fresh);

/* The VM's instance, opened in UC_MODE_16 (a CPU out of reset) if nothing opened it yet; -EIO
 * when it is lost. */
int emu_instance_need(struct tv_vcpu *v);

/* Reopens the instance when the guest has switched to a mode the instance's cannot run or
 * report (see emu_instance.c). Called after every uc_emu_start. */
int emu_mode_follow(struct tv_vcpu *v);

/* emu_sregs.c */

int emu_get_sregs(struct tv_vcpu *v, struct tv_sregs *s);
int emu_set_sregs(struct tv_vcpu *v, const struct tv_sregs *s);

/* emu_run.c */

int emu_set_run_flags(struct tv_vcpu *v, unsigned flags);
int emu_run(struct tv_vcpu *v, struct tv_exit *exit);
void emu_kick(struct tv_vcpu *v);
int emu_set_signal_mask(struct tv_vcpu *v, const sigset_t *mask);

/* emu_vm.c */

int emu_open(struct tv_engine **out, FILE *api_log);
void emu_close(struct tv_engine *e);
int emu_get_caps(struct tv_engine *e, struct tv_caps *caps);
int emu_set_cpu_model(struct tv_engine *e, const char *name);
int emu_vm_create(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out);
void emu_vm_destroy(struct tv_vm *vm);
int emu_vm_label(struct tv_vm *vm);
int emu_vcpu_create(struct tv_vm *vm, const struct tv_vcpu_config *cfg, struct tv_vcpu **out);
void emu_vcpu_destroy(struct tv_vcpu *v);
int emu_code_written(struct tv_vcpu *v, uint64_t addr, uint64_t len);
int emu_snapshot(struct tv_vcpu *v, bool restore);

/* emu_exception.c: delivers vector, at which the last uc_emu_start stopped, through the guest's
 * IVT or IDT. 1 when the guest is at its handler; 0 with SHUTDOWN in *exit (a triple fault, or
 * the emulator cannot deliver it); -errno when the instance failed. */
int emu_exception_take(struct tv_vcpu *v, unsigned vector, struct tv_exit *exit);

/* The same for the interrupt set_irq asserted (v->irq), at an instruction boundary where the
 * guest takes it: no error code, RIP the instruction it returns to. */
int emu_interrupt_take(struct tv_vcpu *v, unsigned vector, struct tv_exit *exit);

/* emu_run.c: the set_irq op. */
int emu_set_irq(struct tv_vcpu *v, int vector);

/* emu_cpuid.c: the cpuid member of tv_emu_backend. */
int emu_cpuid(struct tv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* UC_HOOK_INSN UC_X86_INS_CPUID, added when the vCPU has a table (v->cpuid): the guest's CPUID
 * answered from it; Unicorn's own is skipped. */
int emu_on_cpuid(uc_engine *uc, void *user);

/* CPUID 0x80000008's physical-address width, for the reserved bits of a page walk; the
 * default where the model's is missing or outside 32-52. */
unsigned emu_maxphyaddr(struct tv_vcpu *v);

/* emu_cpu.c: the CPU models. */

/* The cpu_model member of tv_emu_backend. */
int emu_cpu_model(size_t i, struct tv_cpu_model *out);

/* The model called name, or -ENOENT (-ENOTSUP without models) with the reason set. */
int emu_cpu_find(const char *name);

/* model, or the measured default for EMU_MODEL_DEFAULT (measured at the first call). */
int emu_cpu_resolve(int model);

#if EMU_HAVE_CPU_MODEL
/* The default this host gets from the answers m (for the test that the build's table chooses as
 * a fresh measurement does). */
size_t emu_cpu_default_of(const struct emu_cpu_answers m[EMU_CPU_NMODELS]);
#endif

/* "skylake-client"; "unicorn-default" for EMU_MODEL_DEFAULT. */
const char *emu_cpu_name(int model);

/* uc_ctl_set_cpu_model on an instance just opened (Unicorn takes it before anything else). */
int emu_cpu_apply(uc_engine *uc, int model, FILE *log);

/* The answer model's CPUID gave to leaf.subleaf when it was measured, if that leaf was one of
 * the EMU_CPU_QUERIES measured: 0, 1, 7.0, 0x80000000, 0x80000001, 0x80000008. */
bool emu_cpu_leaf(int model, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* emu_log.c */

/* The negative errno for a Unicorn error code. */
int emu_errno(uc_err err);

/* Leaves "uc_mem_map_ptr: Invalid memory mapping (UC_ERR_MAP)" in tv_last_error() (Unicorn's
 * text already ends with the code's name) and returns the errno for it. */
int emu_fail(const char *call, uc_err err);

#define EMU_LOG(log, ...)                             \
	do {                                          \
		if (log)                              \
			emu_log_line((log), __VA_ARGS__); \
	} while (0)

void emu_log_line(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A call that is a step of the run: its line, then its note after TV_API_NOTE (backend.h). */
#define EMU_STEP(log, note, ...)                                  \
	do {                                                      \
		if (log)                                          \
			emu_log_step((log), (note), __VA_ARGS__); \
	} while (0)

void emu_log_step(FILE *log, const char *note, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A register call's line: inside uc_emu_start (a hook's handler reading the guest's registers)
 * indented as what happens inside the run, else with v->step as its note. */
#define EMU_LOG_VCPU(v, ...)                             \
	do {                                             \
		if ((v)->log)                            \
			emu_log_vcpu((v), __VA_ARGS__); \
	} while (0)

void emu_log_vcpu(struct tv_vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "uc_reg_read_batch(EAX=0x2a EBX=0x0 ...) = UC_ERR_OK": n registers, values as 64-bit, as
 * emu_log_vcpu writes a line. */
void emu_log_regs(struct tv_vcpu *v, const char *call, const int *ids, const uint64_t *vals,
		  int n, uc_err err);

/* "UC_ERR_MAP"; "UC_ERR_?" for a code this table does not know. */
const char *emu_err_name(uc_err err);

/* "UC_MODE_32". */
const char *emu_mode_name(int mode);

/* "UC_X86_REG_CR0" for the registers the backend uses; "UC_X86_REG_?" for others. */
const char *emu_reg_name(int reg);

/* The short name without the prefix, "CR0", for the batch lines. */
const char *emu_reg_short(int reg);

/* "#GP" for an exception vector; "INT" above 31 (a software interrupt or an engine event). */
const char *emu_vector_name(uint32_t vector);

#endif
