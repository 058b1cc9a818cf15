/* The KVM backend's private header, for backend/kvm/ only: the engine, VM and vCPU structs and
 * the functions its files call in one another. Outside backend/kvm/ only tv_kvm_backend is meant
 * to be used. The files, from the bottom up: kvm_ioctl.c (one logged ioctl), kvm_engine.c
 * (/dev/kvm and its capabilities), kvm_vm.c (VM, memory, vCPU), kvm_regs.c (registers),
 * kvm_step.c (the parts of guest debug: the next instruction's address, a stepped HLT,
 * KVM_SET_GUEST_DEBUG), kvm_debug_probe.c (whether debug points fire here), kvm_debug.c (run
 * flags, single-step and debug points), kvm_run.c (KVM_RUN and its exits), kvm.c (the ops
 * table). */
#ifndef TWINVM_KVM_H
#define TWINVM_KVM_H

#include "../backend.h"
#include "kvm_log.h"

#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Where KVM puts the three pages of TSS it needs to run real mode on Intel CPUs without
 * unrestricted guest support: just below the 4 GiB BIOS area, as QEMU and kvm-hello-world do. It
 * must not overlap guest RAM. */
#define KVM_TSS_ADDR 0xfffbd000ul

/* KVM_GET_SUPPORTED_CPUID fails with E2BIG when nent is below the host's count; it never returns
 * more than KVM_MAX_CPUID_ENTRIES, 256 in current kernels. */
#define KVM_CPUID_ENTRIES 256

/* What single-step needs KVM to copy into kvm_run at every exit (KVM_CAP_SYNC_REGS). */
#define KVM_SYNC_STEP (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

#define TV_RUN_ALL_FLAGS (TV_RUN_PRECISE | TV_RUN_STEP | TV_RUN_PREEMPTIBLE)

struct tv_engine {
	int fd;		 /* /dev/kvm */
	FILE *log;	 /* --trace-api, or NULL */
	size_t run_size; /* KVM_GET_VCPU_MMAP_SIZE */
	bool has_tss_addr, can_step; /* can_step: SET_GUEST_DEBUG and SYNC_REGS */
	bool has_guest_debug;        /* SET_GUEST_DEBUG: debug points (kvm_debug.c) */
	/* What kvm_debug_probe found, once per engine: -1 not probed yet, 0 no, 1 yes. */
	int breakpoints_fire, watchpoints_fire;
	char debug_probe[200]; /* what it saw, for the error text and twinvm info */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, given to every vCPU; NULL without */
	struct tv_caps caps;
};

struct tv_vm {
	struct tv_engine *e;
	int fd;
	const uint8_t *ram; /* the caller's; read only to recognise a stepped HLT */
	uint64_t ram_size;
};

struct tv_vcpu {
	struct tv_vm *vm;
	FILE *log;
	int fd;
	struct kvm_run *run; /* mmap'd from fd, run_size bytes */
	size_t run_size;
	struct tv_vcpu_config cfg;
	unsigned flags; /* enum tv_run_flags */
	/* kvm_run holds an exit that a completion KVM_RUN produced and run() has not reported. */
	bool exit_pending;
	/* KVM_SET_SREGS also sets the APIC base, which the portable sregs do not carry: keep KVM's. */
	uint64_t apic_base;
	volatile sig_atomic_t kicked; /* kick() was called since the last INTR exit */
	/* set_debug_points': in DR0-DR3, in this order. */
	struct tv_debug_point points[TV_DEBUG_POINTS_MAX];
	size_t npoints;
	/* run() stopped at an EXEC point, RIP exec_rip (linear exec_pc): a run from there steps
	 * over the instruction with that point left out (stepping_over; kvm_debug.c). */
	bool exec_stopped, stepping_over;
	uint64_t exec_rip, exec_pc;
	int irq; /* set_irq's vector, not yet injected; -1: none */
};

/* immediate_exit is written from the signal handler too (kick): volatile, so the compiler neither
 * drops a store nor moves it across the stores to kicked. */
static inline void set_immediate_exit(struct kvm_run *run, uint8_t value)
{
	*(volatile uint8_t *)&run->immediate_exit = value;
}

/* kvm_ioctl.c */

/* Makes one ioctl, writes its --trace-api line, and on failure leaves "KVM_SET_SREGS: Invalid
 * argument" in tv_last_error(). Returns what the ioctl returned, or -errno. */
int kvm_ioctl(FILE *log, int fd, const struct kvm_ioctl_desc *d, unsigned long arg);

/* close(fd), with its --trace-api line; what names the fd there ("vm", "vcpu"), note is its
 * step note. */
void kvm_close_fd(FILE *log, int fd, const char *what, const char *note);

/* kvm_engine.c */

int kvm_open(struct tv_engine **out, FILE *api_log);
void kvm_close(struct tv_engine *e);
int kvm_get_caps(struct tv_engine *e, struct tv_caps *caps);

/* The vCPU's CPUID is the table vcpu_create gave it with KVM_SET_CPUID2: answered from that. */
int kvm_cpuid(struct tv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
int kvm_cpuid_table(struct tv_vcpu *v, struct tv_cpuid_table *out);

/* kvm_vm.c */

int kvm_vm_create(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out);
void kvm_vm_destroy(struct tv_vm *vm);
int kvm_vm_label(struct tv_vm *vm);
int kvm_vcpu_create(struct tv_vm *vm, const struct tv_vcpu_config *cfg, struct tv_vcpu **out);
void kvm_vcpu_destroy(struct tv_vcpu *v);
int kvm_set_signal_mask(struct tv_vcpu *v, const sigset_t *mask);

/* kvm_regs.c */

int kvm_get_regs(struct tv_vcpu *v, struct tv_regs *r);
int kvm_set_regs(struct tv_vcpu *v, const struct tv_regs *r);
int kvm_get_sregs(struct tv_vcpu *v, struct tv_sregs *s);
int kvm_set_sregs(struct tv_vcpu *v, const struct tv_sregs *s);
int kvm_translate(struct tv_vcpu *v, uint64_t gva, uint64_t *gpa);

/* kvm_step.c */

/* The linear address of the next instruction, from kvm_run's copy of the registers. */
uint64_t kvm_linear_pc(const struct kvm_sync_regs *sync);

/* Whether the step that began at linear address from ran a hlt (see kvm_step.c). */
bool kvm_stepped_over_hlt(struct tv_vcpu *v, uint64_t from);

/* Whether an instruction that began at linear from and ended at to was a hlt; paged: CR0.PG. */
bool kvm_ran_hlt(struct tv_vcpu *v, uint64_t from, uint64_t to, bool paged);

/* KVM_SET_GUEST_DEBUG from the run flags' single-step and the vCPU's debug points: the one place
 * that sets it. */
int kvm_guest_debug_apply(struct tv_vcpu *v, unsigned flags);

/* kvm_debug_probe.c: whether breakpoints and watchpoints fire on this KVM, found once per engine
 * by running a probe guest; e->breakpoints_fire, watchpoints_fire and debug_probe say. */
void kvm_debug_probe(struct tv_engine *e);

/* kvm_debug.c */

int kvm_set_run_flags(struct tv_vcpu *v, unsigned flags);

int kvm_set_debug_points(struct tv_vcpu *v, const struct tv_debug_point *p, size_t n);

/* kvm_run.c: the set_irq op. */
int kvm_set_irq(struct tv_vcpu *v, int vector);

/* Whether the KVM_EXIT_DEBUG in kvm_run is a debug point's (DR6 B0-B3), not only a step's. */
bool kvm_debug_point_hit(const struct tv_vcpu *v);

/* The KVM_EXIT_DEBUG in kvm_run, exit already DEBUG with hit -1: names the point DR6 names (or
 * the EXEC point a step ended on), turns a stepped hlt into HLT (step_from: where a TV_RUN_STEP
 * step began). 0 to report exit, 1 when it ended a step over an EXEC point that is no stop (the
 * run goes on), or -errno. */
int kvm_debug_exit(struct tv_vcpu *v, struct tv_exit *exit, uint64_t step_from);

/* A step ended that KVM_EXIT_DEBUG does not report (completing an I/O instruction): the points
 * left out for a step over an EXEC point's instruction are put back. 0 or -errno. */
int kvm_debug_step_ended(struct tv_vcpu *v);

/* Before a KVM_RUN: when the vCPU is still where an EXEC point stopped it, steps over that
 * instruction with the point left out. 0 or -errno. */
int kvm_debug_resume(struct tv_vcpu *v);

/* kvm_run.c */

int kvm_run(struct tv_vcpu *v, struct tv_exit *exit);
void kvm_kick(struct tv_vcpu *v);

#endif
