/* `twinvm matrix` and the `matrix` program: several VMs on one CPU under a scheduling policy. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "layout.h"
#include "options.h"
#include "scheduler.h"
#include "select.h"
#include "timeline.h"

#define MAX_VMS 16

/* Neither --quanta nor --duration: a run that ends on its own, after one 7:3 cycle (10 s at
 * QUANTUM); threads, which has no turns to count, after 1 s. */
#define DEFAULT_QUANTA 10
#define DEFAULT_THREADS_S 1.0

/* After the "usage: TOOL [options]" line, which names the tool as it was run (matrix_help). */
static const char matrix_usage[] =
	"Runs several VMs, one vCPU each, on one CPU under a scheduling policy: the assignment's\n"
	"matrix. Without options it is part 2c: share, VM1 guest1-noio with weight 7 and VM2\n"
	"guest2-noio with weight 3 (no I/O), a quantum of 1 s, for 10 quanta (10 s).\n"
	"\n"
	"  -p, --policy POLICY         threads, io, rr or share (default share)\n"
	"      --vm NAME|FILE[:WEIGHT] a VM: built-in guest1, guest2, guest1-noio, guest2-noio,\n"
	"                              counter, or a raw real-mode image (a regular file; the\n"
	"                              argument at most 255 characters); repeat for more VMs.\n"
	"                              WEIGHT (share only, 1 to 1000): two VMs given none get\n"
	"                              7 and 3, more get 1 each. Without --vm: guest1-noio and\n"
	"                              guest2-noio under rr and share (parts 2b, 2c); guest1 and\n"
	"                              guest2, which write to a port, under threads and io (2a)\n"
	"  -b, --backend auto|kvm|emu  engine (auto: KVM where its probe runs real mode)\n"
	"  -q, --quantum TIME          time slice of rr and share, e.g. 20ms (default 1s, the\n"
	"                              QUANTUM macro)\n"
	"      --quanta N              stop after N turns in all\n"
	"      --duration TIME         stop after this long, even inside a quantum\n"
	"                              (times: 1ms to a year, 31536000s, for --quantum; above 0\n"
	"                              to a year for --duration). Given neither: 10 turns, or\n"
	"                              1 s under threads; Ctrl-C stops any run early\n"
	"      --quiet                 print only the summary\n"
	"      --trace FILE.jsonl      one JSON line per exit (vm, reason, time), then a summary\n"
	"      --timeline FILE.svg     a Gantt chart of who ran when, with the weights and shares\n"
	"      --mem SIZE              guest RAM per VM (default 2M)\n"
	"      --cpu MODEL             the emulator's CPU model (twinvm info lists them; default\n"
	"                              auto); an error on KVM\n"
	"  -h, --help                  this text\n"
	"\n"
	"Exit status: 0 the run ended by a limit, Ctrl-C or every VM halting; 1 a VM ended\n"
	"another way (shutdown, engine failure); 2 usage or host error.\n";

struct vm_spec {
	const char *guest;
	char buf[256];
	unsigned weight; /* 0: not given */
};

/* "guest1:7" -> guest1, weight 7. A colon with no number after it belongs to the file name.
 * 0, -ENAMETOOLONG when arg does not fit v->buf, -EINVAL for a bad weight or an empty name. */
static int parse_vm(const char *arg, struct vm_spec *v)
{
	const char *colon = strrchr(arg, ':');
	char *end;

	/* The weight is cut off inside buf at colon's offset: that offset must be inside buf. */
	if (strlen(arg) >= sizeof(v->buf))
		return -ENAMETOOLONG;
	snprintf(v->buf, sizeof(v->buf), "%s", arg);
	v->guest = v->buf;
	v->weight = 0;
	if (colon && colon[1]) {
		unsigned long w = strtoul(colon + 1, &end, 10);

		if (*end == '\0') {
			if (w == 0 || w > 1000)
				return -EINVAL;
			v->weight = (unsigned)w;
			v->buf[colon - arg] = '\0';
		}
	}
	return v->buf[0] != '\0' ? 0 : -EINVAL;
}

static void print_summary(const struct tv_sched *s, FILE *f)
{
	double cpu_total = 0;

	for (int i = 0; i < s->nvms; i++)
		cpu_total += s->vms[i].cpu_s;
	fprintf(f, "matrix summary: policy %s", tv_policy_name(s->opt.policy));
	if (tv_policy_timed(s->opt.policy)) /* io and threads have no quantum */
		fprintf(f, ", quantum %g s", s->opt.quantum_s);
	fprintf(f, ", %.3f s, %" PRIu64 " turns%s\n", tv_sched_now(s), s->total_quanta,
		s->interrupted ? " (stopped by Ctrl-C)" : "");
	fprintf(f, "%-4s %-5s %-14s %6s %7s %8s %7s %7s  %s\n", "VM", "VMFD", "guest", "weight",
		"quanta", "cpu_s", "share", "target", "exits");
	for (int i = 0; i < s->nvms; i++) {
		const struct tv_sched_vm *vm = &s->vms[i];

		fprintf(f, "%-4d %-5d %-14.14s %6u %7" PRIu64 " %8.3f %6.1f%% %6.1f%% ", i + 1,
			vm->label, vm->name, vm->weight, vm->quanta, vm->cpu_s,
			cpu_total > 0 ? 100 * vm->cpu_s / cpu_total : 0.0,
			100 * tv_sched_target(s, i));
		for (int r = 0, first = 1; r < TV_EXIT_REASON_MAX; r++) {
			if (!vm->m.stats.by_reason[r])
				continue;
			fprintf(f, "%s%s %" PRIu64, first ? " " : ", ", tv_exit_reason_name(r),
				vm->m.stats.by_reason[r]);
			first = 0;
		}
		if (vm->done)
			fprintf(f, " (ended: %s)", tv_exit_reason_name(vm->last.reason));
		fprintf(f, "\n");
	}
}

/* What the command line asked for. */
struct matrix_args {
	struct tv_sched_opts opt;
	struct vm_spec specs[MAX_VMS];
	int nspecs;
	const char *backend, *trace_path, *timeline_path, *cpu_model;
	uint64_t mem;
	bool quiet;
	char tool[64]; /* "twinvm matrix", or "matrix" (the program): messages begin with it */
};

/* Creates VM i from a's spec, loaded and in real mode. Prints the reason and returns false. */
static bool make_vm(struct tv_sched *s, int i, const struct matrix_args *a,
		    const struct tv_backend_ops *be)
{
	const struct vm_spec *spec = &a->specs[i];
	struct tv_sched_vm *vm = &s->vms[i];
	struct tv_machine_opts mopt = { .backend = be, .ram_size = a->mem, .console = stdout,
					.cpu_model = a->cpu_model };
	struct tv_guest g;
	bool ok = false;
	int rc;

	if (!tv_guest_open(&g, spec->guest, TV_MODE_REAL))
		return false;
	snprintf(vm->name, sizeof(vm->name), "%s", spec->guest);
	rc = tv_sched_boot_vm(s, i, &mopt, g.bytes, g.len);
	if (rc == -ENODEV) {
		fprintf(stderr, "%s: VM%d: %s\n", a->tool, i + 1, tv_last_error());
		goto out;
	}
	if (rc) {
		fprintf(stderr, "%s: VM%d %s: %s\n", a->tool, i + 1, spec->guest, tv_last_error());
		goto out;
	}
	vm->label = be->vm_label ? be->vm_label(vm->m.vm) : i + 1;
	if (s->opt.out)
		fprintf(s->opt.out, "VMFD: %d, Loaded Program with size: %zu\n", vm->label, g.len);
	ok = true;
out:
	tv_guest_close(&g);
	return ok;
}

static int matrix_help(const char *cmd, const char *value, void *out)
{
	char tool[64];

	(void)value;
	(void)out;
	printf("usage: %s [options]\n%s", tv_tool_name(cmd, tool, sizeof(tool)), matrix_usage);
	return TV_EXIT_STATUS_OK;
}

static int policy_option(const char *cmd, const char *value, void *out)
{
	if (!tv_policy_parse(value, out))
		return tv_usage_error(cmd, "unknown policy '%s' (threads, io, rr, share)", value);
	return TV_OPTS_GO;
}

static int vm_option(const char *cmd, const char *value, void *out)
{
	struct matrix_args *a = out;
	int rc;

	if (a->nspecs == MAX_VMS)
		return tv_usage_error(cmd, "at most %d VMs", MAX_VMS);
	rc = parse_vm(value, &a->specs[a->nspecs]);
	if (rc == -ENAMETOOLONG)
		return tv_usage_error(cmd, "--vm '%.40s...': %zu characters, at most %zu", value,
				      strlen(value), sizeof(a->specs[0].buf) - 1);
	if (rc)
		return tv_usage_error(cmd, "--vm '%s': give NAME or FILE, optionally :WEIGHT with a "
				      "weight from 1 to 1000", value);
	a->nspecs++;
	return TV_OPTS_GO;
}

/* The flags into a, then what they say together checked. TV_OPTS_GO, or the exit status. */
static int matrix_args(const char *cmd, int argc, char **argv, struct matrix_args *a)
{
	const struct tv_opt opts[] = {
		TV_OPT("policy", 'p', CALL, &a->opt.policy, .call = policy_option),
		TV_OPT("vm", 0, CALL, a, .call = vm_option),
		TV_OPT("backend", 'b', TEXT, &a->backend),
		TV_OPT("quantum", 'q', SECONDS, &a->opt.quantum_s, .min = 0.001,
		       .hint = "give a time from 1ms to a year (31536000s), e.g. 20ms"),
		TV_OPT("quanta", 0, COUNT, &a->opt.max_quanta, .hint = "give a positive count"),
		TV_OPT("duration", 0, SECONDS, &a->opt.duration_s, .min = TV_OPT_ABOVE_ZERO,
		       .hint = "give a time above 0, at most a year (31536000s), e.g. 5s"),
		TV_OPT("quiet", 0, FLAG, &a->quiet),
		TV_OPT("trace", 0, TEXT, &a->trace_path),
		TV_OPT("timeline", 0, TEXT, &a->timeline_path),
		TV_OPT("mem", 0, MEM, &a->mem, .hint = "give a multiple of 4K from 128K to 3G"),
		TV_OPT("cpu", 0, CPU, &a->cpu_model),
		TV_OPT("help", 'h', HELP, NULL, .call = matrix_help),
	};
	int status = tv_options_parse(cmd, argc, argv, opts, sizeof(opts) / sizeof(opts[0]));

	if (status != TV_OPTS_GO)
		return status;
	if (a->quiet)
		a->opt.out = NULL;
	if (a->opt.policy == TV_POLICY_THREADS && a->opt.max_quanta)
		return tv_usage_error(cmd, "the threads policy has no quanta: bound it with --duration");
	if (a->nspecs == 0) {
		/* The assignment's pair: with its OUTs where a VM gives up the CPU at an I/O exit
		 * (2a), without them where the timer takes it (2b; 2c "assume there will be no I/O"):
		 * the OUTs would only print millions of lines. */
		bool timed = tv_policy_timed(a->opt.policy);

		parse_vm(timed ? "guest1-noio" : "guest1", &a->specs[0]);
		parse_vm(timed ? "guest2-noio" : "guest2", &a->specs[1]);
		a->nspecs = 2;
	}
	if (!a->opt.max_quanta && !(a->opt.duration_s > 0)) {
		if (a->opt.policy == TV_POLICY_THREADS)
			a->opt.duration_s = DEFAULT_THREADS_S;
		else
			a->opt.max_quanta = DEFAULT_QUANTA;
	}
	if (a->opt.policy == TV_POLICY_SHARE && a->nspecs == 2 && !a->specs[0].weight &&
	    !a->specs[1].weight) {
		/* The documented 7:3 holds for any two VMs given without weights. */
		a->specs[0].weight = 7;
		a->specs[1].weight = 3;
	}
	for (int i = 0; i < a->nspecs && a->opt.policy != TV_POLICY_SHARE; i++)
		if (a->specs[i].weight)
			return tv_usage_error(cmd, "weights (--vm %s:%u) need --policy share",
					      a->specs[i].guest, a->specs[i].weight);
	return TV_OPTS_GO;
}

/* After the run: what was lost, how the engine or the VMs ended, and the timeline; the exit
 * status. */
static int matrix_status(struct tv_sched *s, const struct matrix_args *a,
			 const struct tv_backend_ops *be, int rc, bool *lost)
{
	int status = TV_EXIT_STATUS_OK;

	for (int i = 0; i < a->nspecs && !*lost; i++) {
		if (s->vms[i].m.output_failed) {
			*lost = true;
			return tv_output_lost(a->tool, "stdout", s->vms[i].m.output_errno);
		}
	}
	if (s->trace_errno) {
		*lost = true;
		return tv_output_lost(a->tool, a->trace_path, s->trace_errno);
	}
	if (rc) {
		fprintf(stderr, "%s: %s engine failed: %s\n", a->tool, be->name, tv_last_error());
		return TV_EXIT_STATUS_USAGE;
	}
	for (int i = 0; i < a->nspecs; i++)
		if (s->vms[i].done && s->vms[i].last.reason != TV_EXIT_HLT)
			status = TV_EXIT_STATUS_GUEST;
	if (a->timeline_path && tv_timeline_write_svg(s, a->timeline_path) != 0) {
		fprintf(stderr, "%s: timeline: %s\n", a->tool, tv_last_error());
		status = TV_EXIT_STATUS_USAGE;
	}
	return status;
}

/* The VMs of a on be, run to the end: the exit status. */
static int matrix_run(const struct matrix_args *a, const struct tv_backend_ops *be)
{
	struct tv_sched s;
	int status = TV_EXIT_STATUS_USAGE, rc;
	bool lost = false; /* output was lost, and said so */

	if (tv_sched_init(&s, &a->opt, a->nspecs) != 0) {
		fprintf(stderr, "%s: out of memory\n", a->tool);
		return TV_EXIT_STATUS_USAGE;
	}
	if (a->trace_path) {
		s.opt.trace = fopen(a->trace_path, "w");
		if (!s.opt.trace) {
			fprintf(stderr, "%s: %s: %s\n", a->tool, a->trace_path, strerror(errno));
			goto free_sched;
		}
	}
	for (int i = 0; i < a->nspecs; i++) {
		s.vms[i].weight = a->specs[i].weight ? a->specs[i].weight : 1;
		if (!make_vm(&s, i, a, be))
			goto free_sched;
	}
	rc = tv_sched_run(&s);
	if (a->opt.out)
		fflush(a->opt.out);
	print_summary(&s, stdout);
	tv_sched_trace_summary(&s);
	status = matrix_status(&s, a, be, rc, &lost);
free_sched:
	if (s.opt.trace && fclose(s.opt.trace) != 0 && !lost)
		status = tv_output_lost(a->tool, a->trace_path, errno);
	tv_sched_free(&s);
	return status;
}

int tv_matrix_main(const char *cmd, int argc, char **argv)
{
	struct matrix_args a = {
		.opt = { .policy = TV_POLICY_SHARE, .quantum_s = QUANTUM, .out = stdout },
		.backend = "auto",
		.mem = TV_RAM_DEFAULT,
	};
	const struct tv_backend_ops *be;
	char note[768], why[768];
	int status = matrix_args(cmd, argc, argv, &a);

	if (status != TV_OPTS_GO)
		return status;
	tv_tool_name(cmd, a.tool, sizeof(a.tool));
	be = tv_select_backend(a.backend, TV_MODE_REAL, note, sizeof(note), why, sizeof(why));
	if (!be) {
		fprintf(stderr, "%s: %s\n", a.tool, why);
		return TV_EXIT_STATUS_USAGE;
	}
	if (note[0])
		fprintf(stderr, "%s: %s\n", a.tool, note);
	if (!tv_cpu_engine_ok(cmd, be, a.cpu_model))
		return TV_EXIT_STATUS_USAGE;
	return matrix_run(&a, be);
}

int tv_cmd_matrix(int argc, char **argv)
{
	return tv_matrix_main("matrix", argc, argv);
}
