/* `twinvm matrix` and the `matrix` program: several VMs on one CPU under a scheduling policy. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "layout.h"
#include "scheduler.h"
#include "select.h"
#include "timeline.h"

#define MAX_VMS 16

static const char matrix_usage[] =
	"usage: twinvm matrix [options]\n"
	"Runs several VMs, one vCPU each, on one CPU under a scheduling policy: the assignment's\n"
	"matrix. Without options: share, VM1 guest1 with weight 7, VM2 guest2 with weight 3,\n"
	"a quantum of 1 s, until Ctrl-C.\n"
	"\n"
	"  -p, --policy POLICY         threads, io, rr or share (default share)\n"
	"      --vm NAME|FILE[:WEIGHT] a VM: built-in guest1, guest2, guest1-noio, guest2-noio,\n"
	"                              counter, or a raw real-mode image (a regular file; the\n"
	"                              argument at most 255 characters); repeat for more VMs\n"
	"  -b, --backend auto|kvm|emu  engine (auto: KVM where its probe runs real mode)\n"
	"  -q, --quantum TIME          time slice, e.g. 20ms (default 1s, the QUANTUM macro)\n"
	"      --quanta N              stop after N turns in all\n"
	"      --duration TIME         stop after this long, even inside a quantum\n"
	"                              (times: 1ms to a year, 31536000s, for --quantum; above 0\n"
	"                              to a year for --duration)\n"
	"      --quiet                 print only the summary\n"
	"      --trace FILE.jsonl      one JSON line per exit (vm, reason, time), then a summary\n"
	"      --timeline FILE.svg     a Gantt chart of who ran when, with the shares\n"
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
	fprintf(f, "matrix summary: policy %s, quantum %g s, %.3f s, %" PRIu64 " turns%s\n",
		tv_policy_name(s->opt.policy), s->opt.quantum_s, tv_sched_now(s), s->total_quanta,
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

/* Creates VM i from its spec, loaded and in real mode. Prints the reason and returns false. */
static bool make_vm(struct tv_sched *s, int i, const struct vm_spec *spec,
		    const struct tv_backend_ops *be, uint64_t mem, const char *cpu_model)
{
	struct tv_sched_vm *vm = &s->vms[i];
	struct tv_machine_opts mopt = { .backend = be, .ram_size = mem, .console = stdout,
					.cpu_model = cpu_model };
	struct tv_guest g;
	bool ok = false;
	int rc;

	if (!tv_guest_open(&g, spec->guest, TV_MODE_REAL))
		return false;
	snprintf(vm->name, sizeof(vm->name), "%s", spec->guest);
	rc = tv_sched_boot_vm(s, i, &mopt, g.bytes, g.len);
	if (rc == -ENODEV) {
		fprintf(stderr, "twinvm matrix: VM%d: %s\n", i + 1, tv_last_error());
		goto out;
	}
	if (rc) {
		fprintf(stderr, "twinvm matrix: VM%d %s: %s\n", i + 1, spec->guest, tv_last_error());
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

int tv_matrix_main(const char *cmd, int argc, char **argv)
{
	enum { OPT_VM = 256, OPT_QUANTA, OPT_DURATION, OPT_QUIET, OPT_TRACE, OPT_TIMELINE, OPT_MEM,
	       OPT_CPU };
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "vm", required_argument, NULL, OPT_VM },
		{ "backend", required_argument, NULL, 'b' },
		{ "quantum", required_argument, NULL, 'q' },
		{ "quanta", required_argument, NULL, OPT_QUANTA },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "timeline", required_argument, NULL, OPT_TIMELINE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tv_sched_opts opt = { .policy = TV_POLICY_SHARE, .quantum_s = QUANTUM, .out = stdout };
	struct vm_spec specs[MAX_VMS];
	const char *backend = "auto", *trace_path = NULL, *timeline_path = NULL, *cpu_model = NULL;
	const struct tv_backend_ops *be;
	uint64_t mem = TV_RAM_DEFAULT;
	char note[768], why[768];
	struct tv_sched s;
	int nspecs = 0, c, status = TV_EXIT_STATUS_USAGE, rc;
	char tool[64];
	bool lost = false; /* output was lost, and said so */

	snprintf(tool, sizeof(tool), "twinvm %s", cmd);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":p:b:q:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!tv_policy_parse(optarg, &opt.policy))
				return tv_usage_error(cmd, "unknown policy '%s' (threads, io, rr, share)",
						      optarg);
			break;
		case OPT_VM:
			if (nspecs == MAX_VMS)
				return tv_usage_error(cmd, "at most %d VMs", MAX_VMS);
			rc = parse_vm(optarg, &specs[nspecs]);
			if (rc == -ENAMETOOLONG)
				return tv_usage_error(cmd, "--vm '%.40s...': %zu characters, at most %zu",
						      optarg, strlen(optarg), sizeof(specs[0].buf) - 1);
			if (rc)
				return tv_usage_error(cmd, "--vm '%s': give NAME or FILE, optionally "
						      ":WEIGHT with a weight from 1 to 1000", optarg);
			nspecs++;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'q':
			if (tv_parse_seconds(optarg, &opt.quantum_s) != 0 || opt.quantum_s < 0.001)
				return tv_usage_error(cmd, "--quantum '%s': give a time from 1ms to a year "
						      "(31536000s), e.g. 20ms", optarg);
			break;
		case OPT_QUANTA:
			if (tv_parse_count(optarg, &opt.max_quanta) != 0)
				return tv_usage_error(cmd, "--quanta '%s': give a positive count", optarg);
			break;
		case OPT_DURATION:
			if (tv_parse_seconds(optarg, &opt.duration_s) != 0 || opt.duration_s <= 0)
				return tv_usage_error(cmd, "--duration '%s': give a time above 0, at most a "
						      "year (31536000s), e.g. 5s", optarg);
			break;
		case OPT_QUIET:
			opt.out = NULL;
			break;
		case OPT_TRACE:
			trace_path = optarg;
			break;
		case OPT_TIMELINE:
			timeline_path = optarg;
			break;
		case OPT_MEM:
			if (tv_parse_mem(optarg, &mem) != 0)
				return tv_usage_error(cmd, "--mem '%s': give a multiple of 4K from 128K to 3G",
						      optarg);
			break;
		case OPT_CPU:
			if (tv_cpu_option(cmd, optarg, &cpu_model) != TV_EXIT_STATUS_OK)
				return TV_EXIT_STATUS_USAGE;
			break;
		case 'h':
			fputs(matrix_usage, stdout);
			return TV_EXIT_STATUS_OK;
		case ':':
			return tv_usage_error(cmd, "%s needs a value", argv[optind - 1]);
		default:
			return tv_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return tv_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (opt.policy == TV_POLICY_THREADS && opt.max_quanta)
		return tv_usage_error(cmd, "the threads policy has no quanta: bound it with --duration");
	if (nspecs == 0) {
		/* The assignment's pair; Neo's 70% and Morpheus's 30% under share. */
		bool share = opt.policy == TV_POLICY_SHARE;

		parse_vm(share ? "guest1:7" : "guest1", &specs[0]);
		parse_vm(share ? "guest2:3" : "guest2", &specs[1]);
		nspecs = 2;
	}
	if (opt.policy != TV_POLICY_SHARE) {
		for (int i = 0; i < nspecs; i++)
			if (specs[i].weight)
				return tv_usage_error(cmd, "weights (--vm %s:%u) need --policy share",
						      specs[i].guest, specs[i].weight);
	}

	be = tv_select_backend(backend, TV_MODE_REAL, note, sizeof(note), why, sizeof(why));
	if (!be) {
		fprintf(stderr, "twinvm %s: %s\n", cmd, why);
		return TV_EXIT_STATUS_USAGE;
	}
	if (note[0])
		fprintf(stderr, "twinvm %s: %s\n", cmd, note);
	if (!tv_cpu_engine_ok(cmd, be, cpu_model))
		return TV_EXIT_STATUS_USAGE;
	if (tv_sched_init(&s, &opt, nspecs) != 0) {
		fprintf(stderr, "twinvm %s: out of memory\n", cmd);
		return TV_EXIT_STATUS_USAGE;
	}
	if (trace_path) {
		s.opt.trace = fopen(trace_path, "w");
		if (!s.opt.trace) {
			perror(trace_path);
			goto free_sched;
		}
	}
	for (int i = 0; i < nspecs; i++) {
		s.vms[i].weight = specs[i].weight ? specs[i].weight : 1;
		if (!make_vm(&s, i, &specs[i], be, mem, cpu_model))
			goto free_sched;
	}

	rc = tv_sched_run(&s);
	if (opt.out)
		fflush(opt.out);
	print_summary(&s, stdout);
	tv_sched_trace_summary(&s);
	for (int i = 0; i < nspecs && !lost; i++) {
		if (s.vms[i].m.output_failed) {
			lost = true;
			status = tv_output_lost(tool, "stdout", s.vms[i].m.output_errno);
		}
	}
	if (!lost && s.trace_errno) {
		lost = true;
		status = tv_output_lost(tool, trace_path, s.trace_errno);
	}
	if (lost)
		goto free_sched;
	if (rc) {
		fprintf(stderr, "twinvm %s: %s engine failed: %s\n", cmd, be->name, tv_last_error());
		goto free_sched;
	}
	status = TV_EXIT_STATUS_OK;
	for (int i = 0; i < nspecs; i++)
		if (s.vms[i].done && s.vms[i].last.reason != TV_EXIT_HLT)
			status = TV_EXIT_STATUS_GUEST;
	if (timeline_path && tv_timeline_write_svg(&s, timeline_path) != 0) {
		fprintf(stderr, "twinvm %s: timeline: %s\n", cmd, tv_last_error());
		status = TV_EXIT_STATUS_USAGE;
	}
free_sched:
	if (s.opt.trace && fclose(s.opt.trace) != 0 && !lost)
		status = tv_output_lost(tool, trace_path, errno);
	tv_sched_free(&s);
	return status;
}

int tv_cmd_matrix(int argc, char **argv)
{
	return tv_matrix_main("matrix", argc, argv);
}
