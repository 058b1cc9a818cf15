/* A machine: guest RAM, one engine, one VM, one vCPU, and the run loop that handles its exits.
 * This is the hypervisor proper, above the engine interface and below the tools. */
#ifndef TWINVM_MACHINE_H
#define TWINVM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "guestmem.h"
#include "hypercalls.h"
#include "modes.h"

struct tv_record;

#define TV_EXIT_REASON_MAX 32

struct tv_exit_stats {
	uint64_t total; /* every exit, the one being handled included */
	uint64_t by_reason[TV_EXIT_REASON_MAX];
	uint64_t io_in, io_out;
};

struct tv_machine_opts {
	const struct tv_backend_ops *backend;
	uint64_t ram_size;
	FILE *console;  /* where bytes written to port 0xE9 go */
	FILE *api_log;  /* --trace-api: every engine call, or NULL */
	FILE *trace;    /* --trace: one JSON line per exit, or NULL */
	unsigned run_flags; /* enum tv_run_flags; a trace adds TV_RUN_PRECISE */
	int id;         /* the VM's number in traces */
	bool quiet;     /* no warnings about ports and MMIO with no device (probes) */
	uint64_t max_exits; /* tv_machine_run stops after this many exits; 0: no limit */
	/* The CPU model (set_cpu_model's name) for an engine that has models; NULL: its default.
	 * An engine without (KVM, whose guests see the host's CPU) ignores it. */
	const char *cpu_model;
	/* Optional: sees every IO and MMIO exit once the devices have handled it, and decides
	 * whether the vCPU runs on (enum tv_io_action). The matrix prints the assignment's lines
	 * from here, because in the fast run mode such exits never leave the engine's run(). */
	int (*observer)(void *ctx, struct tv_machine *m, const struct tv_exit *exit);
	void *observer_ctx;
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
	unsigned maxphyaddr;    /* the vCPU's physical-address width, for the page walk */
	struct tv_hc_log hc_log; /* hypercall failure messages, counted to throttle them */
	bool warned_mmio;
	struct tv_record *pending; /* an exit read ahead while merging string I/O (record.c) */
	bool has_pending;
	uint64_t records;          /* canonical records written to the trace */
	uint8_t warned_port[65536 / 8]; /* one warning per port with no device */
	/* The first write to the console or the trace that failed: the run stops there
	 * (tv_machine_run returns -EIO) and the tool says "writing <file>: <reason>". */
	const char *output_failed; /* "console" or "trace"; NULL while every write succeeded */
	int output_errno;
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

/* Puts the vCPU in mode: page tables and GDT into RAM, then the registers. Reads the special
 * registers back and fails with -ENOTSUP when the engine dropped a bit the mode needs (a KVM
 * without 32-bit paging drops CR0.PG). */
int tv_machine_enter_mode(struct tv_machine *m, enum tv_mode mode);

/* Runs until an exit the run loop does not handle itself (HLT, SHUTDOWN, a failure, INTR from a
 * timeout or Ctrl-C, an I/O handler's STOP) and returns it in *last. timeout_s <= 0: no limit.
 * 0, or -errno when the engine failed. */
int tv_machine_run(struct tv_machine *m, double timeout_s, struct tv_exit *last);

/* Flushes f, the machine's console or trace (what names which), and checks that every write to it
 * since the last check went out: glibc drops the buffer after a failed write, so a check at the
 * end alone misses it. false after a failure, which is kept in m->output_failed. */
bool tv_machine_flush(struct tv_machine *m, FILE *f, const char *what);

/* Counts an exit that run() returned in m->stats (IO and MMIO exits are counted as they happen,
 * by the I/O handler). For loops that call the backend's run() themselves. */
void tv_machine_count_exit(struct tv_machine *m, const struct tv_exit *e);

/* One line: "rax=0x2a rbx=0x0 ... rip=0x1e rflags=0x2". */
void tv_format_regs(const struct tv_regs *r, char *buf, size_t len);

#endif
