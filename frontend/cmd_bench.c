/* `twinvm bench`: what twinvm costs on each engine, as ratios against raw baselines measured in the
 * same run (these machines are shared and noisy: only a ratio taken side by side means anything).
 * Every figure is the median of at least five runs after a warm-up, with the min-max range. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "builtin.h"
#include "cli.h"
#include "commands.h"
#include "devices.h"
#include "hypercalls.h"
#include "layout.h"
#include "options.h"
#include "probe.h"
#include "scheduler.h"

/* --cpu: the emulator's CPU model for every machine the benchmark creates (NULL: the default).
 * The raw baselines run the default model; the model does not change how fast TCG runs these
 * loops. */
static const char *bench_cpu;

/* Real mode, guest-physical 0:  mov ecx, N ; 1: out 0xe9, al ; dec ecx ; jnz 1b ; hlt
 * (HC_print8bit: byte 7 is the port, TV_HC_PRINT8BIT) */
static const uint8_t out_loop[] = { 0x66, 0xb9, 0, 0, 0, 0, 0xe6, TV_HC_PRINT8BIT, 0x66, 0x49,
				    0x75, 0xfa, 0xf4 };
/* Real mode:  mov ecx, N ; 1: inc eax ; dec ecx ; jnz 1b ; hlt   (3 instructions a round) */
static const uint8_t compute_loop[] = { 0x66, 0xb9, 0, 0, 0, 0, 0x66, 0x40, 0x66, 0x49, 0x75,
					0xfa, 0xf4 };

struct sizes {
	uint32_t exits;     /* OUT loop rounds */
	uint32_t rounds;    /* compute loop rounds, fast mode */
	uint32_t precise;   /* compute loop rounds, precise mode */
	int vms;            /* lifecycle */
	int quanta_latency; /* rr quanta for the latency */
	int quanta_share;   /* share quanta for the share error */
	int diff_exits, diff_steps;
	int startup_runs;   /* pairs of whole processes */
};

static void image_with_count(uint8_t *image, const uint8_t *code, size_t len, uint32_t count)
{
	memcpy(image, code, len);
	memcpy(image + 2, &count, 4);
}

/* bench_now(), under the name this file's timing lines have always used. */
static double now_s(void)
{
	return bench_now();
}

/* Where the benchmark's guests print: /dev/null, fully buffered, so that twinvm and the raw
 * baseline that prints pay for the same stdio. NULL with the reason in tv_last_error(). */
static FILE *open_sink(void)
{
	FILE *f = fopen("/dev/null", "w");

	if (!f) {
		tv_set_error("/dev/null: %s", strerror(errno));
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, BUFSIZ);
	return f;
}

/* The console of twinvm's own runs while exit_cost measures: an open_sink(). NULL otherwise
 * (stdout: the guests of the other measurements print nothing). */
static FILE *twinvm_console;

/* Seconds for twinvm's own run of a real-mode image to its HLT, set-up excluded. */
static int twinvm_seconds(const struct tv_backend_ops *be, const uint8_t *image, size_t len,
			  unsigned flags, double *seconds, uint64_t *exits)
{
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT,
				       .run_flags = flags, .cpu_model = bench_cpu };
	struct tv_machine m;
	struct tv_exit e;
	double t0;
	int rc;

	opt.console = twinvm_console;
	rc = tv_machine_boot(&m, &opt, image, len, TV_MODE_REAL);
	if (rc)
		return rc;
	t0 = now_s();
	rc = tv_machine_run(&m, 0, &e);
	*seconds = now_s() - t0;
	*exits = m.stats.total;
	if (!rc && e.reason != TV_EXIT_HLT) {
		tv_set_error("the benchmark guest ended in %s", tv_exit_reason_name(e.reason));
		rc = -5;
	}
	tv_machine_destroy(&m);
	return rc;
}

/* The raw engine on the same image: with no OUT hook, one that counts, or one that prints
 * HC_print8bit's byte into a sink (hook and print). */
static int raw_seconds(const struct tv_backend_ops *be, const uint8_t *image, size_t len,
		       bool hook, bool print, struct tv_raw_result *res)
{
	struct tv_raw_io io = { .hook = hook, .print_port = TV_HC_PRINT8BIT };
	struct tv_ram ram;
	int rc = tv_ram_alloc(&ram, TV_RAM_DEFAULT);

	if (rc)
		return rc;
	if (print && !(io.console = open_sink())) {
		tv_ram_free(&ram);
		return -EIO;
	}
	memcpy(ram.host, image, len);
	rc = be->raw_run(ram.host, ram.size, &io, res);
	if (io.console)
		fclose(io.console);
	tv_ram_free(&ram);
	return rc;
}

/* Seconds per OUT of a raw run of image with an OUT hook that prints or only counts; 0 on
 * failure. */
static double raw_per_exit(const struct tv_backend_ops *be, const uint8_t *image, size_t len,
			   bool print)
{
	struct tv_raw_result raw;

	if (raw_seconds(be, image, len, true, print, &raw) != 0 || raw.io_exits == 0)
		return 0;
	return raw.seconds / (double)raw.io_exits;
}

/* twinvm's cost per exit of the OUT loop on port, over the raw loop's, per run: against a
 * baseline that prints the byte as HC_print8bit must (*cost; NULL: not measured) and one that
 * only counts (*count). On HC_print8bit's port an engine may coalesce the OUTs (machine.h); on a
 * port no device claims (0x80) every exit goes through the machine's device table one by one. */
static void exit_cost(const struct tv_backend_ops *be, const struct sizes *z, uint8_t port,
		      struct stat3 *cost, struct stat3 *count)
{
	uint8_t image[sizeof(out_loop)];
	double ratio[RUNS], count_ratio[RUNS];
	int n = 0;

	if (cost)
		*cost = (struct stat3){ 0 };
	*count = (struct stat3){ 0 };
	image_with_count(image, out_loop, sizeof(out_loop), z->exits);
	image[7] = port; /* the OUT's port */
	twinvm_console = open_sink();
	for (int i = 0; twinvm_console && i <= RUNS; i++) { /* run 0 is the warm-up */
		double t, per_print = 1, per_count;
		uint64_t exits;

		if (twinvm_seconds(be, image, sizeof(image), 0, &t, &exits) != 0 || exits < 2)
			break;
		if (cost)
			per_print = raw_per_exit(be, image, sizeof(image), true);
		per_count = raw_per_exit(be, image, sizeof(image), false);
		if (per_print <= 0 || per_count <= 0)
			break;
		if (i > 0) {
			ratio[n] = t / (double)(exits - 1) / per_print;
			count_ratio[n++] = t / (double)(exits - 1) / per_count;
		}
	}
	if (twinvm_console)
		fclose(twinvm_console);
	twinvm_console = NULL;
	if (n == RUNS && cost)
		*cost = bench_summarise(ratio, n);
	if (n == RUNS)
		*count = bench_summarise(count_ratio, n);
}

/* Instructions per second of a plain (or precise) run over the raw engine's with no hooks. */
static struct stat3 throughput(const struct tv_backend_ops *be, uint32_t rounds, unsigned flags,
			       double *ips)
{
	uint8_t image[sizeof(compute_loop)];
	double ratio[RUNS], rate[RUNS];
	int n = 0;

	image_with_count(image, compute_loop, sizeof(compute_loop), rounds);
	for (int i = 0; i <= RUNS; i++) {
		struct tv_raw_result raw;
		double t;
		uint64_t exits;

		if (twinvm_seconds(be, image, sizeof(image), flags, &t, &exits) != 0 ||
		    raw_seconds(be, image, sizeof(image), false, false, &raw) != 0)
			return (struct stat3){ 0 };
		if (i > 0) {
			ratio[n] = raw.seconds / t;
			rate[n++] = 3.0 * rounds / t;
		}
	}
	*ips = bench_summarise(rate, n).median;
	return bench_summarise(ratio, n);
}

/* Milliseconds per VM: create VM and vCPU, set up long mode, run hello to HLT, destroy. */
static struct stat3 lifecycle(const struct tv_backend_ops *be, const struct sizes *z)
{
	const struct tv_builtin *hello = tv_builtin_find("hello");
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT,
				       .cpu_model = bench_cpu };
	double ms[64];
	const uint8_t *image;
	size_t len;
	int n = 0;

	if (!tv_builtin_image(hello, TV_MODE_LONG, &image, &len))
		return (struct stat3){ 0 };
	opt.console = fopen("/dev/null", "w");
	for (int i = 0; i <= z->vms && i < 64; i++) {
		struct tv_machine m;
		struct tv_exit e;
		double t0 = now_s();
		int rc = tv_machine_boot(&m, &opt, image, len, TV_MODE_LONG);

		if (rc)
			break;
		rc = tv_machine_run(&m, 0, &e);
		tv_machine_destroy(&m);
		if (rc || e.reason != TV_EXIT_HLT)
			break;
		if (i > 0)
			ms[n++] = 1000 * (now_s() - t0);
	}
	fclose(opt.console);
	return n >= RUNS ? bench_summarise(ms, n) : (struct stat3){ 0 };
}

/* Runs two no-I/O guests under a timer policy with 10 ms quanta; fills latency (µs) and the
 * share VM1 got. */
static int schedule(const struct tv_backend_ops *be, enum tv_policy policy, int quanta,
		    double *latency_us, size_t *nlat, size_t cap, double *share1)
{
	static const char *const guests[] = { "guest1-noio", "guest2-noio" };
	struct tv_sched_opts opt = { .policy = policy, .quantum_s = 0.01,
				     .max_quanta = (uint64_t)quanta, .measure_latency = true };
	struct tv_sched s;
	int rc;

	if (tv_sched_init(&s, &opt, 2) != 0)
		return -12;
	for (int i = 0; i < 2; i++) {
		struct tv_machine_opts mopt = { .backend = be, .ram_size = TV_RAM_DEFAULT,
						.cpu_model = bench_cpu };
		const uint8_t *image;
		size_t len;

		tv_builtin_image(tv_builtin_find(guests[i]), TV_MODE_REAL, &image, &len);
		snprintf(s.vms[i].name, sizeof(s.vms[i].name), "%s", guests[i]);
		s.vms[i].weight = i == 0 ? 7 : 3;
		rc = tv_sched_boot_vm(&s, i, &mopt, image, len);
		if (rc) {
			tv_sched_free(&s);
			return rc;
		}
	}
	rc = tv_sched_run(&s);
	if (!rc) {
		for (size_t i = 0; i < s.nlatency && *nlat < cap; i++)
			latency_us[(*nlat)++] = 1e6 * s.latency_s[i];
		*share1 = s.vms[0].cpu_s / (s.vms[0].cpu_s + s.vms[1].cpu_s);
	}
	tv_sched_free(&s);
	return rc;
}

/* Preemption latency (rr) and the share policy's error, printed. */
static void sched_figures(const struct tv_backend_ops *be, const struct sizes *z, double *p50,
			  double *p99, size_t *nlat, struct stat3 *err)
{
	double lat[4096], shares[RUNS];
	int nshare = 0;

	*nlat = 0;
	for (int i = 0; i <= RUNS; i++) {
		double share = 0;

		if (schedule(be, TV_POLICY_RR, z->quanta_latency, lat, nlat,
			     sizeof(lat) / sizeof(lat[0]), &share) != 0)
			break;
		if (i == 0)
			*nlat = 0; /* warm-up */
	}
	*p50 = bench_percentile(lat, *nlat, 0.50);
	*p99 = bench_percentile(lat, *nlat, 0.99);
	printf("  %-34s %10.1f us p50, %.1f us p99 (%zu preemptions)\n", "preemption latency",
	       *p50, *p99, *nlat);
	for (int i = 0; i <= RUNS; i++) {
		double share = 0;
		size_t none = 0;

		if (schedule(be, TV_POLICY_SHARE, z->quanta_share, lat, &none, 0, &share) != 0)
			break;
		if (i > 0)
			shares[nshare++] = fabs(share - 0.7);
	}
	*err = bench_summarise(shares, nshare);
	bench_row("share 7:3 error, 10 ms quanta", *err, "", NULL);
}

/* All the measurements for one engine, printed as a table and returned as the JSON object;
 * start-up was measured before (bench_startup.c says why). */
static json_t *bench_engine(const struct tv_backend_ops *be, const struct sizes *z,
			    const struct bench_startup *startup, struct stat3 diff_exits,
			    struct stat3 diff_steps)
{
	struct stat3 cost, cost_count, single, tput, precise, life, err;
	double ips = 0, ips_precise = 0, p50, p99;
	size_t nlat;
	char why[256];
	json_t *obj;

	if (tv_probe_mode(be, TV_MODE_REAL, why, sizeof(why)) != 0) {
		printf("%s: not measured: %s\n", be->name, why);
		return NULL;
	}
	printf("%s:\n", be->name);
	fflush(stdout);
	exit_cost(be, z, TV_HC_PRINT8BIT, &cost, &cost_count);
	bench_row("exit cost, twinvm / raw printing", cost, "x", "<= 1.10");
	bench_row("exit cost, twinvm / raw counting", cost_count, "x", NULL);
	exit_cost(be, z, 0x80, NULL, &single);
	bench_row("exit cost, unclaimed port / counting", single, "x", NULL);
	tput = throughput(be, z->rounds, 0, &ips);
	bench_row("throughput, twinvm / raw", tput, "x", ">= 0.95");
	precise = throughput(be, z->precise, TV_RUN_PRECISE, &ips_precise);
	bench_row("throughput, precise mode / raw", precise, "x", NULL);
	printf("  %-34s %10.1f M instructions/s (precise %.1f M)\n", "guest speed, plain run",
	       ips / 1e6, ips_precise / 1e6);
	life = lifecycle(be, z);
	bench_row("VM lifecycle (long mode hello)", life, "ms", NULL);
	sched_figures(be, z, &p50, &p99, &nlat, &err);
	bench_row("diff, exits compared/s", diff_exits, "/s", NULL);
	bench_row("diff --step, instructions/s", diff_steps, "/s", NULL);

	obj = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
			"s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:f,s:f}}",
			"exit_cost_ratio", bench_num_or_null(cost.valid, cost.median),
			"exit_cost_count_ratio", bench_num_or_null(cost_count.valid, cost_count.median),
			"exit_cost_single_ratio", bench_num_or_null(single.valid, single.median),
			"throughput_ratio", bench_num_or_null(tput.valid, tput.median),
			"lifecycle_ms", bench_num_or_null(life.valid, life.median),
			"preempt_latency_us_p50", bench_num_or_null(nlat > 0, p50),
			"preempt_latency_us_p99", bench_num_or_null(nlat > 0, p99),
			"share_error", bench_num_or_null(err.valid, err.median),
			"diff_exits_per_s", bench_num_or_null(diff_exits.valid, diff_exits.median),
			"diff_steps_per_s", bench_num_or_null(diff_steps.valid, diff_steps.median),
			"ranges", "exit_cost_ratio", bench_stat_json(cost), "exit_cost_count_ratio",
			bench_stat_json(cost_count), "exit_cost_single_ratio", bench_stat_json(single),
			"throughput_ratio",
			bench_stat_json(tput), "precise_throughput_ratio", bench_stat_json(precise),
			"lifecycle_ms", bench_stat_json(life), "share_error", bench_stat_json(err),
			"diff_exits_per_s", bench_stat_json(diff_exits), "instructions_per_s", ips,
			"precise_instructions_per_s", ips_precise);
	if (obj)
		bench_startup_report(be->name, startup, obj);
	return obj;
}

/* What the command line asked for. */
struct bench_args {
	const char *engine, *json_path;
	bool quick, startup_only;
};

/* The engines --engine names, in tv_backends' order; their number. */
static size_t selected_engines(const char *engine, const struct tv_backend_ops **be, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < tv_backend_count && n < cap; i++)
		if (strcmp(engine, "all") == 0 || strcmp(engine, tv_backends[i]->name) == 0)
			be[n++] = tv_backends[i];
	return n;
}

/* Every measurement the arguments ask for, for each engine, into out; the number of engines
 * measured. */
static int bench_all(const struct bench_args *a, json_t *out)
{
	const struct sizes full = { 20000, 200000, 20000, 10, 40, 100, 200, 1000, 15 },
			   quick = { 2000, 20000, 2000, 6, 10, 20, 40, 200, 5 };
	const struct sizes *z = a->quick ? &quick : &full;
	const struct tv_backend_ops *be[4];
	struct bench_startup startup[4];
	struct stat3 diff_exits, diff_steps;
	size_t n = selected_engines(a->engine, be, 4);
	int measured = 0;

	printf("twinvm bench%s%s: medians of %d runs after a warm-up (start-up: of %d pairs), "
	       "(min - max)\n", a->quick ? " --quick" : "", a->startup_only ? " --startup" : "",
	       RUNS, z->startup_runs);
	/* Start-up first, while this process is still smaller than the runners it spawns. */
	for (size_t i = 0; i < n; i++)
		bench_startup(be[i]->name, z->startup_runs, &startup[i]);
	if (!a->startup_only) {
#ifdef TWINVM_HAVE_ZYDIS
		bench_fuzz(a->quick ? 20000 : 200000, bench_cpu, out);
#endif
		diff_exits = bench_diff_rate(false, z->diff_exits, bench_cpu);
		diff_steps = bench_diff_rate(true, z->diff_steps, bench_cpu);
	}
	for (size_t i = 0; i < n; i++) {
		/* The emulator is ~1000x faster than kvm-pvm: give it work long enough to time. */
		bool emu = strcmp(be[i]->name, "emu") == 0;
		struct sizes zz = *z;
		json_t *obj;

		zz.exits *= emu ? 100 : 1;
		zz.rounds *= emu ? 1000 : 1;
		zz.precise *= emu ? 100 : 1;
		if (a->startup_only) {
			printf("%s:\n", be[i]->name);
			obj = json_object();
			if (obj)
				bench_startup_report(be[i]->name, &startup[i], obj);
			measured += startup[i].ratio.valid;
		} else {
			obj = bench_engine(be[i], &zz, &startup[i], diff_exits, diff_steps);
			measured += obj != NULL;
		}
		if (obj)
			json_object_set_new(out, be[i]->name, obj);
	}
	return measured;
}

static const char bench_usage[] =
	"usage: twinvm bench [--engine kvm|emu|all] [--quick] [--startup] [--json FILE]\n"
	"                    [--cpu MODEL]\n"
	"Measures twinvm's cost on each engine against raw baselines run side by side:\n"
	"start-up, exit cost and guest throughput (ratios), VM lifecycle, preemption latency,\n"
	"share error, and diff's speed. Medians of %d runs after a warm-up (start-up: %d, or %d\n"
	"with --quick).\n"
	"--startup measures start-up alone: `twinvm run --backend ENGINE --mode protected` against\n"
	"twinvm-raw-ENGINE (built beside twinvm), the least code that runs the same guest on the\n"
	"engine, as whole processes, alternating; time and peak memory.\n"
	"--cpu picks the emulator's CPU model for twinvm's own runs (twinvm info lists\n"
	"them; the raw baselines keep the default); KVM's guests see the host's CPU.\n";

static int bench_help(const char *cmd, const char *value, void *out)
{
	(void)cmd, (void)value, (void)out;
	printf(bench_usage, RUNS, 15, 5);
	return TV_EXIT_STATUS_OK;
}

static int engine_option(const char *cmd, const char *value, void *out)
{
	if (strcmp(value, "all") && !tv_backend_find(value))
		return tv_usage_error(cmd, "--engine '%s': kvm, emu or all", value);
	*(const char **)out = value;
	return TV_OPTS_GO;
}

int tv_cmd_bench(int argc, char **argv)
{
	struct bench_args a = { .engine = "all" };
	const struct tv_opt opts[] = {
		TV_OPT("engine", 'e', CALL, &a.engine, .call = engine_option),
		TV_OPT("quick", 'q', FLAG, &a.quick),
		TV_OPT("startup", 0, FLAG, &a.startup_only),
		TV_OPT("json", 'j', TEXT, &a.json_path),
		TV_OPT("cpu", 0, CPU, &bench_cpu),
		TV_OPT("help", 'h', HELP, NULL, .call = bench_help),
	};
	json_t *out;
	int status, measured;

	bench_cpu = NULL;
	status = tv_options_parse("bench", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));
	if (status != TV_OPTS_GO)
		return status;
	out = json_object();
	if (!out) {
		fprintf(stderr, "twinvm bench: out of memory\n");
		return TV_EXIT_STATUS_USAGE;
	}
	measured = bench_all(&a, out);
	status = TV_EXIT_STATUS_OK;
	if (a.json_path &&
	    json_dump_file(out, a.json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
		fprintf(stderr, "twinvm bench: cannot write %s\n", a.json_path);
		status = TV_EXIT_STATUS_USAGE;
	} else if (!measured) {
		fprintf(stderr, "twinvm bench: no engine could be measured here\n");
		status = TV_EXIT_STATUS_USAGE;
	}
	json_decref(out);
	return status;
}
