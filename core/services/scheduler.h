/* The matrix scheduler: several VMs, one vCPU each, sharing the CPU under a policy. The same
 * control code runs on KVM and on the emulator; only the engine behind each machine differs.
 *
 *   threads  a host thread per vCPU; Linux schedules them (the assignment's starting point)
 *   io       one thread; a VM runs until its next IO exit, then the next VM runs (part 2a)
 *   rr       one thread; a POSIX timer preempts the running vCPU every quantum (part 2b)
 *   share    rr with weights: smooth weighted round robin, 7:3 by default (part 2c)
 *
 * Preemption: the timer (timer_create, SIGEV_THREAD_ID, aimed at the control thread) raises
 * TV_SCHED_SIGNAL. The control thread keeps it blocked, and each vCPU lets it in only while the guest
 * runs (set_signal_mask: KVM_SET_SIGNAL_MASK on KVM), so it can only interrupt a guest. KVM_RUN
 * then returns EINTR (exit reason 10, INTR) and the signal stays pending until the scheduler takes
 * it with sigtimedwait; on the emulator it is delivered inside the run and its handler kicks the
 * vCPU, which stops at the next block boundary (TV_RUN_PREEMPTIBLE). */
#ifndef TWINVM_SCHEDULER_H
#define TWINVM_SCHEDULER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine.h"

/* QUANTUM: one second, as the assignment requires; `--quantum` overrides it. */
#define QUANTUM 1.0

enum tv_policy { TV_POLICY_THREADS, TV_POLICY_IO, TV_POLICY_RR, TV_POLICY_SHARE, TV_POLICY_COUNT };

const char *tv_policy_name(enum tv_policy p);
bool tv_policy_parse(const char *name, enum tv_policy *p);

/* rr and share, the policies a timer drives (parts 2b, 2c): only they have a quantum, and only
 * their output has the assignment's "Time:" lines. */
static inline bool tv_policy_timed(enum tv_policy p)
{
	return p == TV_POLICY_RR || p == TV_POLICY_SHARE;
}

/* One span of time a VM held the CPU, for the timeline. */
struct tv_slice {
	double t0, t1; /* seconds since the scheduler started */
};

struct tv_sched_vm {
	char name[64];
	unsigned weight;
	struct tv_machine m;
	int label;       /* "VMFD: 4": the VM fd on KVM, the emulator's VM number */
	uint64_t quanta; /* turns on the CPU: quanta under rr/share, runs to the next exit under io */
	double cpu_s;    /* CPU time of the thread while this VM's vCPU ran */
	double cpu_s2;   /* each turn's CPU time squared, summed: with quanta, the turns' spread */
	double owed_s;   /* the CPU time its weight gave it of the turns while it ran (owe()) */
	bool done;       /* halted or failed: it no longer runs */
	struct tv_exit last; /* how it ended, when done */
	int64_t credit;      /* smooth weighted round robin */
	struct tv_slice *slices;
	size_t nslices, slices_cap;
	pthread_t thread; /* threads policy */
	struct tv_sched *sched;
	/* The devices the matrix's stands in front of (tv_sched_boot_vm). */
	struct tv_device inner_pio, inner_hc[TV_HC_COUNT], inner_mmio;
};

struct tv_sched_opts {
	enum tv_policy policy;
	double quantum_s;    /* QUANTUM unless overridden */
	uint64_t max_quanta; /* stop after this many turns in all; 0: no limit */
	double duration_s;   /* stop after this long; 0: no limit */
	FILE *out;           /* the assignment's lines; NULL: quiet */
	FILE *trace;         /* one JSON line per exit and a summary line; or NULL */
	bool measure_latency; /* rr/share: record each preemption's latency (twinvm bench) */
};

struct tv_sched {
	struct tv_sched_opts opt;
	struct tv_sched_vm *vms;
	int nvms;
	double t_start;
	uint64_t total_quanta;
	uint64_t trace_seq;
	pthread_mutex_t lock; /* output and trace, shared by the threads policy */
	volatile int stop;    /* set by Ctrl-C, the duration, or the quanta limit */
	bool interrupted;     /* Ctrl-C */
	double run_started;   /* when the last turn's vCPU was entered */
	/* With measure_latency: for each timer preemption, seconds from the timer's expiry to the
	 * next vCPU running. */
	double *latency_s;
	size_t nlatency, latency_cap;
	/* The first failed write to the trace (errno); it stops the run. 0 while all went out. */
	int trace_errno;
};

/* Sets up the scheduler for n VMs; the caller then fills vms[i].name and weight and boots each
 * vms[i].m with tv_sched_boot_vm. 0 or -ENOMEM. */
int tv_sched_init(struct tv_sched *s, const struct tv_sched_opts *opt, int n);
void tv_sched_free(struct tv_sched *s);

/* Boots vms[i].m in real mode with image (tv_machine_boot, with what the policy needs in *mopt:
 * its number, run flags) and registers the matrix's device on it: the ports and MMIO nobody
 * else claims (guest1's 0x10, guest2's 0x11), in front of the hypercalls too, so that every
 * exit is printed and traced as the assignment's control loop prints it. 0 or -errno. */
int tv_sched_boot_vm(struct tv_sched *s, int i, struct tv_machine_opts *mopt, const void *image,
		     size_t len);

/* Runs the VMs under the policy until every VM is done, a limit is reached or the user presses
 * Ctrl-C. The control thread's signal mask and handlers are as they were afterwards. 0 or -errno
 * (an engine failure, with tv_last_error()). */
int tv_sched_run(struct tv_sched *s);

/* Seconds since the scheduler started. */
double tv_sched_now(const struct tv_sched *s);

/* The target share of VM i, of all the CPU time the VMs had: what it was owed of each turn while
 * it ran (under share by weight, under the other policies an equal part), over all the CPU time.
 * With no VM done that is its weight over all the weights; before any turn, the same. */
double tv_sched_target(const struct tv_sched *s, int i);

/* Writes the summary object of the trace: {"summary": true, "policy": ..., "vms": [...]}. */
void tv_sched_trace_summary(struct tv_sched *s);

#endif
