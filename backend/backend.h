/* The one engine interface. Everything above backend/ talks to a CPU engine through this header
 * only: no <linux/kvm.h>, no <unicorn/unicorn.h> above this line.
 *
 * A backend is an ops table (struct tv_backend_ops) plus opaque state (engine, vm, vcpu). Each
 * backend fills the table with static functions and exports only the table. Every member says
 * whether it is mandatory; optional members may be NULL and are checked at the call site.
 *
 * Errors: functions return 0 or a negative errno. The text for the user ("KVM_SET_SREGS: Invalid
 * argument", "uc_mem_map_ptr: Invalid memory mapping (UC_ERR_MAP)") is left with tv_set_error()
 * and read with tv_last_error(); it is per thread. */
#ifndef TWINVM_BACKEND_H
#define TWINVM_BACKEND_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu_state.h" /* struct tv_regs, tv_sregs: the portable CPU state */

/* Exit reasons carry KVM's numbers on both engines, so output is identical. */
enum tv_exit_reason {
	TV_EXIT_UNKNOWN = 0,
	TV_EXIT_IO = 2,
	TV_EXIT_DEBUG = 4,
	TV_EXIT_HLT = 5,
	TV_EXIT_MMIO = 6,
	TV_EXIT_SHUTDOWN = 8,
	TV_EXIT_FAIL_ENTRY = 9,
	TV_EXIT_INTR = 10,
	TV_EXIT_INTERNAL_ERROR = 17,
};

/* "HLT", "IO", ...; "UNKNOWN" for a number outside the table. */
const char *tv_exit_reason_name(int reason);

enum tv_io_dir { TV_IO_IN = 0, TV_IO_OUT = 1 }; /* KVM's numbering */

/* One exit, converted from the engine's own record before any generic code looks at it. */
struct tv_exit {
	int reason; /* enum tv_exit_reason */
	union {
		struct {
			uint8_t direction; /* enum tv_io_dir */
			uint8_t size;      /* 1, 2 or 4 bytes per element */
			uint16_t port;
			uint32_t count; /* elements; > 1 for string I/O an engine batches, or for
			                 * the OUTs of a coalesced port (see exits) */
			void *data;     /* count * size bytes, owned by the backend, valid until the
			                 * next run; the I/O handler fills it for IN */
			uint32_t exits; /* how many of the guest's exits this one stands for: count
			                 * for a coalesced port's gathered OUTs, else 0 (one) */
		} io;
		struct {
			uint64_t addr; /* guest-physical */
			uint8_t data[8];
			uint32_t len;
			uint8_t is_write;
		} mmio;
		struct {
			int hit;       /* the index of the point that stopped the vCPU, or -1
			                * for a single step (TV_RUN_STEP) that hit none */
			uint64_t addr; /* that point's address */
		} debug;
		struct {
			uint64_t code; /* KVM: suberror, hardware_entry_failure_reason, or
			                * for UNKNOWN the raw exit reason; emu: the uc_err */
		} fail;
	};
	/* SHUTDOWN: the exception the guest could not take (0 #DE, 6 #UD, 13 #GP, 14 #PF...),
	 * or -1 when the engine does not say (KVM). -1 for every other reason. */
	int exception;
	/* The engine's own words for SHUTDOWN, INTERNAL_ERROR and FAIL_ENTRY, for example
	 * "uc_emu_start: Unhandled CPU exception (UC_ERR_EXCEPTION)"; empty otherwise. */
	char detail[160];
};

/* What the I/O handler tells the backend after an IO or MMIO exit. */
enum tv_io_action {
	TV_IO_CONTINUE = 0, /* run on */
	TV_IO_STOP = 1,     /* return from run() with this exit */
};

/* Called by the backend for every IO and MMIO exit, before the exiting instruction completes:
 * for IN it fills exit->io.data, for an MMIO read exit->mmio.data (both hold all ones before the
 * call, so a handler that leaves them reads as an empty bus). Returns enum tv_io_action, or
 * a negative errno, which makes run() return it. It may run inside the engine (Unicorn's hooks), so
 * it must not call back into the backend for this vcpu except get_regs and get_sregs (which
 * hypercalls need for their arguments and to walk the guest's page tables). */
typedef int (*tv_io_fn)(void *ctx, struct tv_exit *exit);

/* Run flags (set_run_flags). Without any, run() is "fast": IO and MMIO exits are handled through
 * the I/O handler without returning, and run() returns only on HLT, SHUTDOWN, a failure, a
 * kick (INTR), or a handler's TV_IO_STOP (in fast mode the exiting instruction may then be left
 * uncompleted: the next run() completes it). */
enum tv_run_flags {
	/* run() returns after every IO and MMIO exit, with the exiting instruction completed: the
	 * registers then are the canonical state of the README (RIP on the next instruction).
	 * An instruction that makes several exits (rep string I/O, a 16-byte MMIO access) is
	 * mid-way at every exit but its last. */
	TV_RUN_PRECISE = 1u << 0,
	/* run() returns one exit per instruction (implies PRECISE): DEBUG after an ordinary one,
	 * the IO or MMIO exit for an I/O instruction (one per element of string I/O), HLT for hlt. */
	TV_RUN_STEP = 1u << 1,
	/* kick() will be used to time-slice: it must stop at an instruction boundary with no
	 * instruction lost or executed twice. May cost speed on the emulator. */
	TV_RUN_PREEMPTIBLE = 1u << 2,
};

/* Breakpoints and watchpoints (set_debug_points): at most this many at a time, as x86 has four
 * debug address registers. */
#define TV_DEBUG_POINTS_MAX 4

enum tv_debug_kind {
	TV_DEBUG_EXEC,   /* stop before the instruction at addr runs */
	TV_DEBUG_WRITE,  /* stop after an instruction that wrote any of [addr, addr + len) */
	TV_DEBUG_ACCESS, /* stop after an instruction that read or wrote any of them */
};

struct tv_debug_point {
	enum tv_debug_kind kind;
	uint64_t addr; /* guest linear (virtual) address */
	uint8_t len;   /* 1, 2, 4 or 8 for data points, aligned to len; 1 for EXEC */
};

/* What an engine can do on this host, as far as the backend knows without running a guest.
 * Per-mode limits are probed by core (core/services/probe.c), which runs real guests. */
struct tv_caps {
	char version[64];    /* "KVM API 12", "Unicorn 2.1.1" */
	bool mmu_translates; /* guest page tables are honoured (Unicorn < 2.1: virtual = physical) */
	bool single_step;
	char notes[768]; /* capabilities found and used, one per line, for `twinvm info` */
	/* What set_debug_points can do here, where the engine found out by running a probe guest
	 * (KVM's debug registers), for `twinvm info`; empty where it says nothing. */
	char debug_points[256];
};

/* What a benchmark baseline does for the guest's OUTs (raw_run). */
struct tv_raw_io {
	bool hook;  /* the emulator: one OUT hook, or none (KVM exits for port I/O anyway) */
	FILE *console; /* NULL: the OUT is only counted; else the byte of an OUT to print_port is
			* appended here, the least any hypervisor does for HC_print8bit */
	uint16_t print_port;
};

/* What a benchmark baseline run measured (raw_run). */
struct tv_raw_result {
	uint64_t io_exits; /* port I/O exits (KVM) or OUT hook calls (Unicorn) */
	double seconds;    /* from the first entry into the guest to its HLT */
};

/* One CPU model an engine can give its guests (cpu_model), measured on this host: the CPUID
 * feature bits of leaves 1 (ECX, EDX), 7.0 (EBX, ECX, EDX) and 0x80000001 (ECX, EDX), against the
 * host's own cpuid instruction, leaving out the bits the OS or a hypervisor sets (OSXSAVE, OSPKE,
 * the hypervisor bit). */
struct tv_cpu_model {
	char name[32];	   /* lower case with dashes: "skylake-client", "epyc-rome" */
	bool is_default;   /* the one a VM gets when none is named */
	bool host_subset;  /* every feature bit it reports, the host's CPU has too */
	unsigned features; /* feature bits it reports */
	char lacks[512];   /* host features it does not report, by name: "avx2 sha_ni ..." */
	char extra[256];   /* features it reports that the host lacks: "svm monitor" */
};

/* What separates an api_log line from its step note, which says what the call does in the run:
 * "KVM_CREATE_VM(type 0) = fd 4  # an empty VM: no memory, no CPU". Lines without one are
 * calls that only check or read back. twinvm run --api-chart draws the steps from these lines. */
#define TV_API_NOTE "  # "

/* A vCPU's whole CPUID table, as KVM_SET_CPUID2 takes it: twinvm diff gives KVM's to the emulator
 * so that a guest reading CPUID takes the same paths on both engines (cpuid_table, and
 * tv_vcpu_config.cpuid). A leaf not in it is answered by KVM's rules (backend/cpuid_table.h). */
struct tv_cpuid_entry {
	uint32_t leaf, subleaf;
	bool by_subleaf; /* the entry is for this subleaf only (KVM_CPUID_FLAG_SIGNIFCANT_INDEX) */
	uint32_t r[4];   /* EAX, EBX, ECX, EDX */
};

struct tv_cpuid_table {
	size_t n;
	struct tv_cpuid_entry *e; /* malloc'd: tv_cpuid_table_free */
};

void tv_cpuid_table_free(struct tv_cpuid_table *t);

struct tv_engine; /* an open engine: /dev/kvm fd, or the Unicorn library */
struct tv_vm;     /* guest RAM registered with the engine */
struct tv_vcpu;   /* one virtual CPU */

struct tv_vcpu_config {
	tv_io_fn on_io; /* mandatory */
	void *ctx;      /* passed to on_io and on_irq_ack */
	/* Optional: the engine delivered set_irq's vector (the CPU's interrupt acknowledge). Called
	 * inside run(), like on_io, and may call set_irq for the next interrupt. */
	void (*on_irq_ack)(void *ctx, unsigned vector);
	/* The guest's RDMSR and WRMSR of IA32_APIC_BASE (0xfee00900 at reset) work as KVM always
	 * has them. The emulator, which reads that MSR as 0 otherwise, then finds and does those
	 * instructions itself, at a cost on every block it runs (backend/emu/emu_msr.c). */
	bool apic_base_msr;
	/* Optional: the table the guest's CPUID answers from, instead of the engine's own CPU
	 * model; the engine copies it. The emulator takes it (its CPUID op then answers from it
	 * too); KVM, whose guests see KVM's table, refuses one with -ENOTSUP. */
	const struct tv_cpuid_table *cpuid;
};

struct tv_backend_ops {
	const char *name; /* "kvm" or "emu" */
	const char *description;

	/* Mandatory. api_log, when not NULL, receives one line per engine call (ioctl or uc_*)
	 * with its inputs and its result: the --trace-api output, "NAME(inputs) = result". A
	 * call that is a step of the run (see TV_API_NOTE) ends with its step note; a line that
	 * begins with two spaces tells what happened inside or around a call (a Unicorn hook, the
	 * data an IN returns). -ENODEV, -EACCES etc. when the engine cannot be used here, with
	 * the reason in tv_last_error(). */
	int (*open)(struct tv_engine **out, FILE *api_log);
	void (*close)(struct tv_engine *e); /* mandatory; NULL-safe */
	int (*get_caps)(struct tv_engine *e, struct tv_caps *caps); /* mandatory */

	/* Mandatory. ram is caller-owned, page aligned, ram_size a multiple of 4 KiB, and becomes
	 * guest-physical [0, ram_size). Guest-physical accesses outside it (below 4 GiB at least)
	 * are MMIO exits: writes dropped, reads return what on_io put in mmio.data (all ones by
	 * default). */
	int (*vm_create)(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out);
	void (*vm_destroy)(struct tv_vm *vm); /* mandatory; NULL-safe */

	/* Mandatory. One vCPU per VM is all twinvm needs. */
	int (*vcpu_create)(struct tv_vm *vm, const struct tv_vcpu_config *cfg,
			   struct tv_vcpu **out);
	void (*vcpu_destroy)(struct tv_vcpu *v); /* mandatory; NULL-safe */

	/* Mandatory. Registers in the portable form. */
	int (*get_regs)(struct tv_vcpu *v, struct tv_regs *r);
	int (*set_regs)(struct tv_vcpu *v, const struct tv_regs *r);
	int (*get_sregs)(struct tv_vcpu *v, struct tv_sregs *s);
	int (*set_sregs)(struct tv_vcpu *v, const struct tv_sregs *s);

	/* Mandatory. enum tv_run_flags; takes effect at the next run(). */
	int (*set_run_flags)(struct tv_vcpu *v, unsigned flags);

	/* Mandatory. Runs the guest until the next exit run() must report (see enum
	 * tv_run_flags) and fills *exit. Returns 0 when *exit is filled (a guest failure such as
	 * SHUTDOWN is an exit, not an error), a negative errno when the engine itself failed. */
	int (*run)(struct tv_vcpu *v, struct tv_exit *exit);

	/* Mandatory. Async-signal-safe: makes the current run(), or the next one, return INTR
	 * soon. Exact (no instruction lost or repeated) when TV_RUN_PREEMPTIBLE is set. */
	void (*kick)(struct tv_vcpu *v);

	/* Mandatory. The thread's signal mask while the guest runs, so that a signal kept blocked in
	 * the control thread still interrupts the guest: KVM_SET_SIGNAL_MASK on KVM (a pending
	 * signal the mask lets in makes KVM_RUN return EINTR, and the signal stays pending for
	 * the caller to take with sigtimedwait), pthread_sigmask around the run on the emulator
	 * (the signal is delivered there and its handler must kick). NULL: the thread's own mask. */
	int (*set_signal_mask)(struct tv_vcpu *v, const sigset_t *mask);

	/* Optional. The number that names this VM in the assignment's output ("VMFD: 4"): the VM fd
	 * on KVM; the emulator numbers its VMs. */
	int (*vm_label)(struct tv_vm *vm);

	/* Optional. The benchmarks' baseline: runs a real-mode guest (all segments 0, entry 0, SP
	 * 0xf000) in ram to its HLT with the least code the engine allows and no twinvm code in the
	 * loop: a bare KVM_RUN loop; uc_emu_start with one OUT hook (io->hook) or none. Each OUT
	 * is counted, and printed as io says. */
	/* Optional. Coalesced ports, as KVM_CAP_COALESCED_PIO has them: one-byte OUTs to port
	 * (on true) need not reach the I/O handler one by one; the engine may gather them and hand
	 * them over as one exit whose io.exits says how many they were, before any other exit
	 * and before run() returns, in the guest's order. Only in the fast run mode. */
	int (*coalesce_pio)(struct tv_vcpu *v, uint16_t port, bool on);

	int (*raw_run)(void *ram, uint64_t ram_size, const struct tv_raw_io *io,
		       struct tv_raw_result *res);

	/* Optional. The guest's code at [addr, addr + len) was rewritten from outside the guest
	 * (through the RAM buffer, which the engine does not watch): forget what was translated
	 * from it. addr is guest-virtual, the same as physical for code twinvm identity-maps. NULL
	 * where the engine translates nothing (KVM runs the bytes as they are). */
	int (*code_written)(struct tv_vcpu *v, uint64_t addr, uint64_t len);

	/* Optional. Saves the vCPU's whole state (restore false), or puts the saved one back
	 * (restore true): registers, special registers, and what the engine keeps beside them
	 * (the emulator's record of an exception in flight, which an exception its hook stopped
	 * at leaves set: without a restore, the next fault in that vCPU turns into a double or
	 * triple fault). -ENOENT when restoring with nothing saved. */
	int (*snapshot)(struct tv_vcpu *v, bool restore);

	/* Optional. The engine's own translation of a guest virtual address, for cross-checking
	 * core's software page walk (KVM_TRANSLATE). -EFAULT when unmapped. */
	int (*translate)(struct tv_vcpu *v, uint64_t gva, uint64_t *gpa);

	/* Optional. What the guest's CPUID instruction answers for leaf and subleaf on this vCPU:
	 * out[] = EAX, EBX, ECX, EDX. Core's page walk takes MAXPHYADDR from it. */
	int (*cpuid)(struct tv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

	/* Optional. The whole table the guest's CPUID answers from now, into *out (the caller
	 * frees it with tv_cpuid_table_free), for another engine to give its guest the same. */
	int (*cpuid_table)(struct tv_vcpu *v, struct tv_cpuid_table *out);

	/* Optional: NULL for an engine whose guests see one CPU (KVM's see the host's CPUID, as
	 * KVM_GET_SUPPORTED_CPUID gives it). Describes model i (from 0) of the engine's list in
	 * *out, with no engine open: -ENOENT past the last, -ENOTSUP when this build of the engine
	 * cannot pick a model (Unicorn 2.0), with the reason in tv_last_error(). */
	int (*cpu_model)(size_t i, struct tv_cpu_model *out);

	/* Optional, with cpu_model. Every VM created on e from now on gets the model cpu_model
	 * calls name; NULL: the default. -ENOENT for a name not in the list, -ENOTSUP as above. */
	int (*set_cpu_model)(struct tv_engine *e, const char *name);

	/* Optional. Makes run() return TV_EXIT_DEBUG (exit->debug) when the vCPU is about to run an EXEC
	 * point's instruction (RIP = addr, the instruction not run), or has just run an instruction that
	 * wrote (WRITE) or read or wrote (ACCESS) a data point's bytes (RIP past it, the write done).
	 * Replaces the set given before; n = 0 clears it. Works together with TV_RUN_STEP (a step that
	 * also hits a point reports the point). Resuming from an EXEC stop at the same address runs that
	 * instruction (the point does not fire again until the vCPU comes back to it). -EOPNOTSUPP, with
	 * the reason in tv_last_error(), where the engine cannot (a KVM without guest debug or debug
	 * registers); -EINVAL for n > TV_DEBUG_POINTS_MAX or a bad len/alignment. */
	int (*set_debug_points)(struct tv_vcpu *v, const struct tv_debug_point *p, size_t n);

	/* Optional. The external interrupt (INTR) the interrupt controller asserts: vector 0-255, or
	 * -1 for none; replaces the one before. Callable between runs and from on_io. The engine
	 * delivers it through the guest's IVT or IDT, with no exit, at the first instruction
	 * boundary where RFLAGS.IF is set and no STI or MOV SS shadow holds it off: after the
	 * instruction that asserted it, after the instruction an STI enabling interrupts lets
	 * through, or at a HLT (which it ends: run() does not return HLT while an interrupt is
	 * asserted and IF is set). Then it forgets it and calls cfg.on_irq_ack. Both engines
	 * deliver at the same boundary, so traces agree. A call with -1 before the first run tells
	 * the engine interrupts may come (the emulator then checks for rewritten code, and from the
	 * first vector on watches every instruction boundary). */
	int (*set_irq)(struct tv_vcpu *v, int vector);
};

/* The engines built into this binary, in order of preference ("kvm" first). */
extern const struct tv_backend_ops *const tv_backends[];
extern const size_t tv_backend_count;

/* The backend called name, or NULL. */
const struct tv_backend_ops *tv_backend_find(const char *name);

/* The per-thread error text. tv_set_error formats like printf. */
void tv_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *tv_last_error(void);

#endif
