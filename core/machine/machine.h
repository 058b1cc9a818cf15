/* A machine: guest RAM, one engine, one VM, one vCPU, and the run loop that handles its exits.
 * This is the hypervisor proper, above the engine interface and below the tools. */
#ifndef TWINVM_MACHINE_H
#define TWINVM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "console.h"
#include "trace_header.h"
#include "guestmem.h"
#include "hypercalls.h"
#include "modes.h"

#define TV_EXIT_REASON_MAX 32

struct tv_exit_stats {
	uint64_t total; /* every exit, the one being handled included */
	uint64_t by_reason[TV_EXIT_REASON_MAX];
	uint64_t io_in, io_out;
};

/* A device's handler for one IO or MMIO exit: fills IN / MMIO read data in e, may note what it
 * did in m->hc for the trace, and says whether the vCPU runs on (enum tv_io_action) or fails
 * the run (a negative errno). Called inside the engine's run(), so it must not run the vCPU. */
typedef int (*tv_device_fn)(void *ctx, struct tv_machine *m, struct tv_exit *e);

/* How many handlers a machine holds. Port exits find theirs by index (a byte per port), MMIO
 * exits walk a short list of ranges. */
#define TV_PIO_HANDLERS_MAX 32
#define TV_MMIO_HANDLERS_MAX 8
#define TV_CLEANUPS_MAX 16
#define TV_COALESCED_MAX 4

struct tv_device {
	tv_device_fn fn;
	void *ctx;
	uint64_t first, count; /* MMIO: the guest-physical range */
};

/* The interrupt controller a platform puts between its devices' IRQ lines and the vCPU (the PICs,
 * dev_pic.c), or none (set_line NULL). */
struct tv_irq_chip {
	/* A device drives line high (level true) or low. 0, or -errno. */
	int (*set_line)(void *ctx, struct tv_machine *m, unsigned line, bool level);
	/* The engine delivered vector, which the chip asserted (tv_machine_assert_irq). */
	void (*ack)(void *ctx, struct tv_machine *m, unsigned vector);
	void *ctx;
};

/* The vCPU's one interrupt input has two sources: the PICs, whose interrupts reach it as ExtINT
 * (through LINT0 in virtual-wire mode, not subject to the local APIC's TPR), and the local APIC's
 * fixed interrupts (dev_lapic_irq.c). ExtINT comes first, as in the CPU's delivery-mode order. */
enum tv_irq_source { TV_IRQ_EXTINT, TV_IRQ_LAPIC, TV_IRQ_SOURCES };

/* A device with a timer of its own (the local APIC's, dev_lapic_timer.c): it kicks the vCPU when
 * the timer comes due, and tv_machine_step asks it about every INTR and HLT exit. resume returns
 * true when the run goes on (the INTR was its own kick; a HLT its interrupt has ended), false
 * to hand e to the caller; it may turn a HLT into INTR (a kick came while it waited). */
struct tv_machine_timer {
	bool (*resume)(void *ctx, struct tv_machine *m, struct tv_exit *e);
	void *ctx;
};

struct tv_machine_opts {
	const struct tv_backend_ops *backend;
	uint64_t ram_size;
	FILE *console;  /* what the guest prints (HC_print8bit and friends) */
	FILE *api_log;  /* --trace-api: every engine call, or NULL */
	FILE *trace;    /* --trace: one JSON line per exit, or NULL */
	/* --trace's header line (trace_header.h) comes from this, or there is none */
	const struct tv_trace_info *trace_info;
	FILE *step;     /* --step: each instruction as it runs (tv_step_run), or NULL */
	unsigned run_flags; /* enum tv_run_flags; a trace adds TV_RUN_PRECISE */
	int id;         /* the VM's number in traces */
	uint64_t max_exits; /* tv_machine_run stops after this many exits; 0: no limit */
	/* The CPU model (set_cpu_model's name) for an engine that has models; NULL: its default.
	 * An engine without (KVM, whose guests see the host's CPU) ignores it. */
	const char *cpu_model;
	/* A guest's wrong use of a device (a refused hypercall) ends the run: the device's handler
	 * fails with -EPROTO, and m->hc says what was refused. */
	bool strict;
	/* Where devices say what went wrong in the guest's use of them (a refused hypercall, a
	 * port nobody claimed: devices.h), or NULL to say nothing (probes, diff, benchmarks). */
	FILE *warnings;
	/* --verbose: devices note (on warnings) what the guest cannot see, such as HC_gvaToHva's
	 * whole 64-bit host address. */
	bool verbose;
	/* Where the vCPU starts (RIP) when the mode is entered: 0, TV_ENTRY, for a raw image;
	 * tv_machine_boot sets it to an ELF guest's e_entry. */
	uint64_t entry;
	/* RAX and RBX when the mode is entered: 0, or what tv_machine_boot sets for a multiboot
	 * kernel (EAX the boot loader's magic, EBX its information's address: multiboot.h). */
	uint64_t entry_rax, entry_rbx;
	/* A multiboot kernel's environment module (--multiboot-env), multiboot_env_len bytes; NULL:
	 * TV_MULTIBOOT_ENV_DEFAULT. Read at tv_machine_boot only. */
	const void *multiboot_env;
	size_t multiboot_env_len;
	/* A multiboot kernel's command line (tv_multiboot_load), NULL: empty. Read at
	 * tv_machine_boot only. */
	const char *multiboot_cmdline;
	/* The devices beyond the hypercalls: TV_PLATFORM_PC adds a PC's (devices.h). */
	enum tv_platform { TV_PLATFORM_NONE, TV_PLATFORM_PC } platform;
	/* The CPUID table the guest sees instead of the engine's own (tv_vcpu_config.cpuid), or
	 * NULL. Read at tv_machine_create only. */
	const struct tv_cpuid_table *cpuid;
};

struct tv_machine {
	struct tv_machine_opts opt;
	const struct tv_backend_ops *be;
	struct tv_engine *engine;
	struct tv_vm *vm;
	struct tv_vcpu *vcpu;
	struct tv_ram ram;
	enum tv_mode mode;
	struct tv_exit_stats stats;
	struct tv_hc_record hc; /* what the current exit's hypercall did, for the trace */
	struct tv_console console; /* where the guest's lines end, and the notes waiting for it */
	unsigned maxphyaddr;    /* the vCPU's physical-address width, for the page walk */
	/* The device table, filled at set-up. pio[0] answers the ports nobody claimed, and
	 * pio_slot[port] indexes pio[] (65536 entries). */
	uint8_t *pio_slot;
	struct tv_device pio[TV_PIO_HANDLERS_MAX];
	unsigned npio;
	struct tv_device mmio[TV_MMIO_HANDLERS_MAX], mmio_unclaimed;
	unsigned nmmio;
	struct {
		void (*fn)(void *ctx, struct tv_machine *m);
		void *ctx;
		bool owned; /* ctx is tv_machine_device_alloc's: freed after fn */
	} cleanup[TV_CLEANUPS_MAX]; /* run by tv_machine_destroy, the last registered first */
	unsigned ncleanup;
	uint16_t coalesced[TV_COALESCED_MAX]; /* ports the engine gathers OUTs of */
	unsigned ncoalesced;
	/* The first write to the console or the trace that failed: the run stops there
	 * (tv_machine_run returns -EIO) and the tool says "writing <file>: <reason>". */
	const char *output_failed; /* "console" or "trace"; NULL while every write succeeded */
	/* A device ended the run for the guest (isa-debug-exit): the process exits with this. */
	bool guest_exit;
	int guest_exit_status;
	int output_errno;
	struct tv_irq_chip irq_chip; /* tv_machine_set_irq_chip's; zeroed: none */
	struct {
		int vector; /* what the source asserts, -1: none */
		void (*ack)(void *ctx, struct tv_machine *m, unsigned vector);
		void *ctx;
	} irq_src[TV_IRQ_SOURCES];
	int irq_at_engine; /* the source whose vector the engine holds (set_irq), -1: none */
	int be_irq_vector; /* and that vector, -1: none */
	struct tv_machine_timer timer; /* tv_machine_set_timer's; zeroed: none */
};

/* Allocates RAM, opens the engine and creates the VM and its vCPU. On failure everything made is
 * released, and tv_last_error() says what failed. 0 or -errno. */
int tv_machine_create(struct tv_machine *m, const struct tv_machine_opts *opt);
void tv_machine_destroy(struct tv_machine *m);

/* Checks a raw image against RAM and the layout: 0, or -EINVAL with the reason in
 * tv_last_error() (empty, larger than RAM, overlapping the hypervisor's structures). */
int tv_image_check(size_t len, uint64_t ram_size);

/* Copies an image to guest-physical TV_IMAGE_BASE after tv_image_check. */
int tv_machine_load(struct tv_machine *m, const void *image, size_t len);

/* Puts the vCPU in mode: page tables and GDT into RAM, then the registers, RIP at opt.entry.
 * Reads the special registers back and fails with -ENOTSUP when the engine dropped a bit the
 * mode needs (a KVM without 32-bit paging drops CR0.PG). */
int tv_machine_enter_mode(struct tv_machine *m, enum tv_mode mode);

/* The empty device table tv_machine_create starts with; for a machine without an engine (tests
 * and fuzz targets that drive devices directly). 0 or -ENOMEM; tv_machine_destroy frees it. */
int tv_machine_init_devices(struct tv_machine *m);

/* Registers fn for the count ports from first on, or for the ports nobody claimed when count is
 * 0. A later registration of a port replaces the earlier one. 0, or -ENOSPC/-EINVAL. */
int tv_machine_add_pio(struct tv_machine *m, uint16_t first, uint32_t count, tv_device_fn fn,
		       void *ctx);

/* Registers fn for guest-physical [first, first + len) outside RAM, or for the MMIO nobody
 * claimed when len is 0. 0, or -ENOSPC/-EINVAL. */
int tv_machine_add_mmio(struct tv_machine *m, uint64_t first, uint64_t len, tv_device_fn fn,
			void *ctx);

/* Lets the engine gather one-byte OUTs to port and hand them to its device as one exit whose
 * io.exits says how many (backend.h, coalesce_pio): for a device that takes count > 1, such as
 * HC_print8bit's console. The exits are counted one by one all the same, and come before any
 * other exit, in order. Not with max_exits (which stops at an exact exit), not where the engine
 * cannot, and undone when the port is registered again. 0, or -errno. */
int tv_machine_coalesce_pio(struct tv_machine *m, uint16_t port);

/* The handler registered for port (pio[0] when nobody claimed it), for a device that wraps
 * another. */
const struct tv_device *tv_machine_pio_at(const struct tv_machine *m, uint16_t port);

/* fn(ctx, m) runs when the machine is destroyed: a device frees its state, or says what it
 * suppressed. 0, or -ENOSPC. */
int tv_machine_add_cleanup(struct tv_machine *m, void (*fn)(void *ctx, struct tv_machine *m),
			   void *ctx);

/* A device's state: size zeroed bytes that live as long as m. At tv_machine_destroy, fn (if not
 * NULL) runs first (a device says what it suppressed), then the state is freed. NULL when out
 * of memory or of clean-up slots, with the reason in tv_last_error(). */
void *tv_machine_device_alloc(struct tv_machine *m, size_t size,
			      void (*fn)(void *ctx, struct tv_machine *m));

/* Makes chip the machine's interrupt controller, and tells the engine interrupts may come
 * (set_irq -1). -ENOTSUP, with the reason in tv_last_error(), for an engine that cannot inject
 * interrupts. */
int tv_machine_set_irq_chip(struct tv_machine *m, const struct tv_irq_chip *chip);

/* A device drives IRQ line high or low, through the interrupt controller. -ENODEV when the
 * machine has none. */
int tv_machine_irq_line(struct tv_machine *m, unsigned line, bool level);

/* The controller asserts vector at the vCPU (-1: none): the engine's set_irq. 0 or -errno. */
int tv_machine_assert_irq(struct tv_machine *m, int vector);

/* Source src asserts vector (-1: none); the engine is given ExtINT's vector, else the local
 * APIC's. When the engine delivers it, the source forgets it and its ack (the irq_chip's for
 * ExtINT, tv_machine_set_irq_ack's for the others) is called. 0 or -errno. */
int tv_machine_assert_irq_from(struct tv_machine *m, enum tv_irq_source src, int vector);

/* ack(ctx, m, vector) is told when the engine delivered src's vector; and the engine is told
 * interrupts may come (set_irq -1). -ENOTSUP, with tv_last_error(), for an engine without. */
int tv_machine_set_irq_ack(struct tv_machine *m, enum tv_irq_source src,
			   void (*ack)(void *ctx, struct tv_machine *m, unsigned vector), void *ctx);

/* Makes t the machine's device timer (one at most). */
void tv_machine_set_timer(struct tv_machine *m, const struct tv_machine_timer *t);

/* Handles one IO or MMIO exit through the device table and counts it: the engine's on_io. */
int tv_machine_io(void *machine, struct tv_exit *e);

/* THE place that runs the engine: one run() to its next exit, counted in m->stats (IO and MMIO
 * exits were counted by tv_machine_io as they happened). An INTR or HLT exit the device timer
 * resumes from is neither returned nor counted. 0, or -errno when the engine failed. */
int tv_machine_step(struct tv_machine *m, struct tv_exit *e);

/* Takes one exit of reason back out of m->stats: a stop the tool made (a single step, a kick of
 * its own), which the guest's HC_numExits and the run's counts must not see. */
void tv_machine_uncount(struct tv_machine *m, int reason);

/* Runs until an exit the run loop does not handle itself (HLT, SHUTDOWN, a failure, INTR from a
 * timeout or Ctrl-C, a device's STOP) and returns it in *last; with a trace, one record a line
 * (tv_machine_run_traced, record.h). timeout_s <= 0: no limit. The console is flushed at the
 * end. 0, or -errno when the engine failed. */
int tv_machine_run(struct tv_machine *m, double timeout_s, struct tv_exit *last);

/* What every run does around its loop: the timeout armed (kick.h) for loop(m, last), then the
 * console flushed. For a run loop of its own (the traced run, record.c); 0 or -errno. */
int tv_machine_run_loop(struct tv_machine *m, double timeout_s, struct tv_exit *last,
			int (*loop)(struct tv_machine *m, struct tv_exit *last));

/* Flushes f, the machine's console or trace (what names which), and checks that every write to it
 * since the last check went out: glibc drops the buffer after a failed write, so a check at the
 * end alone misses it. false after a failure, which is kept in m->output_failed. */
bool tv_machine_flush(struct tv_machine *m, FILE *f, const char *what);

/* Keeps a failed write to f (a device's fputc returned EOF) in m->output_failed, so the run stops
 * at this exit. Always false, for the caller's return. */
bool tv_machine_output_failed(struct tv_machine *m, FILE *f, const char *what, int err);

/* One line: "rax=0x2a rbx=0x0 ... rip=0x1e rflags=0x2". */
void tv_format_regs(const struct tv_regs *r, char *buf, size_t len);

#endif
