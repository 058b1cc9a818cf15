/* `twinvm bench`: what twinvm costs on each engine, as ratios against raw baselines measured in the
 * same run (these machines are shared and noisy: only a ratio taken side by side means anything).
 * Every figure is the median of at least five runs after a warm-up, with the min-max range. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtin.h"
#include "cli.h"
#include "commands.h"
#include "diff.h"
#ifdef TWINVM_HAVE_ZYDIS
#include "fuzz.h"
#endif
#include "hypercalls.h"
#include "layout.h"
#include "machine.h"
#include "probe.h"
#include "scheduler.h"

#define RUNS 5

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
};

struct stat3 {
	double median, min, max;
	bool valid;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stat3 summarise(double *v, int n)
{
	struct stat3 s = { 0 };

	if (n <= 0)
		return s;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.valid = true;
	return s;
}

static void image_with_count(uint8_t *image, const uint8_t *code, size_t len, uint32_t count)
{
	memcpy(image, code, len);
	memcpy(image + 2, &count, 4);
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

/* Seconds for twinvm's own run of a real-mode image to its HLT, set-up excluded. */
static int twinvm_seconds(const struct tv_backend_ops *be, const uint8_t *image, size_t len,
			  unsigned flags, double *seconds, uint64_t *exits)
{
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT, .quiet = true,
				       .run_flags = flags, .cpu_model = bench_cpu };
	struct tv_machine m;
	struct tv_exit e;
	double t0;
	int rc;

	opt.console = open_sink();
	if (!opt.console)
		return -EIO;
	rc = tv_machine_create(&m, &opt);
	if (rc) {
		fclose(opt.console);
		return rc;
	}
	rc = tv_machine_load(&m, image, len);
	if (!rc)
		rc = tv_machine_enter_mode(&m, TV_MODE_REAL);
	if (!rc) {
		t0 = now_s();
		rc = tv_machine_run(&m, 0, &e);
		*seconds = now_s() - t0;
		*exits = m.stats.total;
		if (!rc && e.reason != TV_EXIT_HLT) {
			tv_set_error("the benchmark guest ended in %s", tv_exit_reason_name(e.reason));
			rc = -5;
		}
	}
	tv_machine_destroy(&m);
	fclose(opt.console);
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

/* twinvm's cost per exit (a HC_print8bit into a sink) over the raw loop's, per run: against a
 * baseline that prints the byte as HC_print8bit must (*cost) and one that only counts (*count). */
static void exit_cost(const struct tv_backend_ops *be, const struct sizes *z, struct stat3 *cost,
		      struct stat3 *count)
{
	uint8_t image[sizeof(out_loop)];
	double ratio[RUNS], count_ratio[RUNS];
	int n = 0;

	*cost = *count = (struct stat3){ 0 };
	image_with_count(image, out_loop, sizeof(out_loop), z->exits);
	for (int i = 0; i <= RUNS; i++) { /* run 0 is the warm-up */
		double t, per_print, per_count;
		uint64_t exits;

		if (twinvm_seconds(be, image, sizeof(image), 0, &t, &exits) != 0 || exits < 2)
			return;
		per_print = raw_per_exit(be, image, sizeof(image), true);
		per_count = raw_per_exit(be, image, sizeof(image), false);
		if (per_print <= 0 || per_count <= 0)
			return;
		if (i > 0) {
			ratio[n] = t / (double)(exits - 1) / per_print;
			count_ratio[n++] = t / (double)(exits - 1) / per_count;
		}
	}
	*cost = summarise(ratio, n);
	*count = summarise(count_ratio, n);
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
	*ips = summarise(rate, n).median;
	return summarise(ratio, n);
}

/* Milliseconds per VM: create VM and vCPU, set up long mode, run hello to HLT, destroy. */
static struct stat3 lifecycle(const struct tv_backend_ops *be, const struct sizes *z)
{
	const struct tv_builtin *hello = tv_builtin_find("hello");
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT, .quiet = true,
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
		int rc = tv_machine_create(&m, &opt);

		if (rc)
			break;
		rc = tv_machine_load(&m, image, len);
		if (!rc)
			rc = tv_machine_enter_mode(&m, TV_MODE_LONG);
		if (!rc)
			rc = tv_machine_run(&m, 0, &e);
		tv_machine_destroy(&m);
		if (rc || e.reason != TV_EXIT_HLT)
			break;
		if (i > 0)
			ms[n++] = 1000 * (now_s() - t0);
	}
	fclose(opt.console);
	return n >= RUNS ? summarise(ms, n) : (struct stat3){ 0 };
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
		tv_sched_machine_opts(&s, i, &mopt);
		rc = tv_machine_create(&s.vms[i].m, &mopt);
		if (!rc)
			rc = tv_machine_load(&s.vms[i].m, image, len);
		if (!rc)
			rc = tv_machine_enter_mode(&s.vms[i].m, TV_MODE_REAL);
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

static double percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)((double)(n - 1) * p + 0.5)];
}

/* Records compared per second by `twinvm diff` (step: instructions). */
static struct stat3 diff_rate(bool step, int max_records)
{
	const struct tv_builtin *g = tv_builtin_find("guest1");
	struct tv_diff_opts o = { .mode = TV_MODE_REAL, .guest_name = "guest1",
				  .ram_size = TV_RAM_DEFAULT, .step = step,
				  .max_records = (uint64_t)max_records, .timeout_s = 20,
				  .a = tv_backend_find("kvm"), .b = tv_backend_find("emu"),
				  .cpu_model = bench_cpu };
	double rate[RUNS];
	char why[256];
	int n = 0;

	if (!o.a || !o.b || tv_probe_mode(o.a, TV_MODE_REAL, why, sizeof(why)) != 0)
		return (struct stat3){ 0 };
	tv_builtin_image(g, TV_MODE_REAL, &o.image, &o.len);
	o.out = fopen("/dev/null", "w");
	if (!o.out)
		return (struct stat3){ 0 };
	o.err = o.out; /* a failed run shows as n/a in the table */
	for (int i = 0; i <= RUNS; i++) {
		double t0 = now_s();

		if (tv_diff(&o) != TV_DIFF_SAME)
			break;
		if (i > 0)
			rate[n++] = max_records / (now_s() - t0);
	}
	fclose(o.out);
	return n == RUNS ? summarise(rate, n) : (struct stat3){ 0 };
}

#ifdef TWINVM_HAVE_ZYDIS
/* twinvm fuzz's rate, emulator against the host CPU: generated snippets compared per second,
 * minimising what diverges included, as `twinvm fuzz --oracle native` runs them. */
static struct stat3 fuzz_rate(uint64_t snippets)
{
	struct fz_run_opts o = { .count = snippets, .mode = TV_MODE_LONG,
				 .gen = { .min_len = 1, .max_len = 4, .classes = FZ_CLASS_USER } };
	const struct tv_backend_ops *emu = tv_backend_find("emu");
	double rate[RUNS];
	struct fz_stats st;
	char why[256];
	FILE *sink;
	int n = 0;

	if (!emu || fz_engine_open(emu, TV_MODE_LONG, bench_cpu, &o.emu, why, sizeof(why)) != 0)
		return (struct stat3){ 0 };
	if (fz_native_open(64, &o.oracle, why, sizeof(why)) != 0) {
		o.emu->close(o.emu);
		return (struct stat3){ 0 };
	}
	sink = fopen("/dev/null", "w");
	for (int i = 0; sink && i <= RUNS; i++) {
		o.seed = (uint64_t)i + 1;
		if (fz_run(&o, sink, &st) != 0 || st.seconds <= 0)
			break;
		if (i > 0)
			rate[n++] = (double)st.snippets / st.seconds;
	}
	if (sink)
		fclose(sink);
	o.oracle->close(o.oracle);
	o.emu->close(o.emu);
	return n == RUNS ? summarise(rate, n) : (struct stat3){ 0 };
}
#endif

static json_t *stat_json(struct stat3 s)
{
	if (!s.valid)
		return json_null();
	return json_pack("{s:f,s:f,s:f}", "median", s.median, "min", s.min, "max", s.max);
}

static json_t *num_or_null(bool valid, double v)
{
	return valid && isfinite(v) ? json_real(v) : json_null();
}

static void row(const char *what, struct stat3 s, const char *unit, const char *target)
{
	if (!s.valid) {
		printf("  %-34s %s\n", what, "n/a");
		return;
	}
	printf("  %-34s %10.3f %-6s (%.3f - %.3f)%s%s\n", what, s.median, unit, s.min, s.max,
	       target ? "  target " : "", target ? target : "");
}

/* All the measurements for one engine, printed as a table and returned as the JSON object. */
static json_t *bench_engine(const struct tv_backend_ops *be, const struct sizes *z,
			    struct stat3 diff_exits, struct stat3 diff_steps)
{
	struct stat3 cost, cost_count, tput, precise, life, err;
	double lat[4096], shares[RUNS], ips = 0, ips_precise = 0, p50, p99;
	size_t nlat = 0;
	int nshare = 0;
	char why[256];

	if (tv_probe_mode(be, TV_MODE_REAL, why, sizeof(why)) != 0) {
		printf("%s: not measured: %s\n", be->name, why);
		return NULL;
	}
	printf("%s:\n", be->name);
	fflush(stdout);
	exit_cost(be, z, &cost, &cost_count);
	row("exit cost, twinvm / raw printing", cost, "x", "<= 1.10");
	row("exit cost, twinvm / raw counting", cost_count, "x", NULL);
	tput = throughput(be, z->rounds, 0, &ips);
	row("throughput, twinvm / raw", tput, "x", ">= 0.95");
	precise = throughput(be, z->precise, TV_RUN_PRECISE, &ips_precise);
	row("throughput, precise mode / raw", precise, "x", NULL);
	printf("  %-34s %10.1f M instructions/s (precise %.1f M)\n", "guest speed, plain run",
	       ips / 1e6, ips_precise / 1e6);
	life = lifecycle(be, z);
	row("VM lifecycle (long mode hello)", life, "ms", NULL);
	for (int i = 0; i <= RUNS; i++) {
		double share = 0;

		if (schedule(be, TV_POLICY_RR, z->quanta_latency, lat, &nlat,
			     sizeof(lat) / sizeof(lat[0]), &share) != 0)
			break;
		if (i == 0)
			nlat = 0; /* warm-up */
	}
	p50 = percentile(lat, nlat, 0.50);
	p99 = percentile(lat, nlat, 0.99);
	printf("  %-34s %10.1f us p50, %.1f us p99 (%zu preemptions)\n", "preemption latency", p50,
	       p99, nlat);
	for (int i = 0; i <= RUNS; i++) {
		double share = 0;
		size_t none = 0;

		if (schedule(be, TV_POLICY_SHARE, z->quanta_share, lat, &none, 0, &share) != 0)
			break;
		if (i > 0)
			shares[nshare++] = fabs(share - 0.7);
	}
	err = summarise(shares, nshare);
	row("share 7:3 error, 10 ms quanta", err, "", NULL);
	row("diff, exits compared/s", diff_exits, "/s", NULL);
	row("diff --step, instructions/s", diff_steps, "/s", NULL);

	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,"
			 "s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:f,s:f}}",
			 "exit_cost_ratio", num_or_null(cost.valid, cost.median),
			 "exit_cost_count_ratio", num_or_null(cost_count.valid, cost_count.median),
			 "throughput_ratio", num_or_null(tput.valid, tput.median),
			 "lifecycle_ms", num_or_null(life.valid, life.median),
			 "preempt_latency_us_p50", num_or_null(nlat > 0, p50),
			 "preempt_latency_us_p99", num_or_null(nlat > 0, p99),
			 "share_error", num_or_null(err.valid, err.median),
			 "diff_exits_per_s", num_or_null(diff_exits.valid, diff_exits.median),
			 "diff_steps_per_s", num_or_null(diff_steps.valid, diff_steps.median),
			 "ranges", "exit_cost_ratio", stat_json(cost), "exit_cost_count_ratio",
			 stat_json(cost_count), "throughput_ratio",
			 stat_json(tput), "precise_throughput_ratio", stat_json(precise),
			 "lifecycle_ms", stat_json(life), "share_error", stat_json(err),
			 "diff_exits_per_s", stat_json(diff_exits), "instructions_per_s", ips,
			 "precise_instructions_per_s", ips_precise);
}

int tv_cmd_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "quick", no_argument, NULL, 'q' },
		{ "json", required_argument, NULL, 'j' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *engine = "all", *json_path = NULL;
	struct sizes z = { 20000, 200000, 20000, 10, 40, 100, 200, 1000 };
	struct stat3 diff_exits, diff_steps;
	json_t *out;
	bool quick = false;
	int c, measured = 0;

	opterr = 0;
	optind = 1;
	bench_cpu = NULL;
	while ((c = getopt_long(argc, argv, ":e:qj:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			engine = optarg;
			if (strcmp(engine, "all") && !tv_backend_find(engine))
				return tv_usage_error("bench", "--engine '%s': kvm, emu or all", optarg);
			break;
		case 'q':
			quick = true;
			break;
		case 'j':
			json_path = optarg;
			break;
		case 'c':
			if (tv_cpu_option("bench", optarg, &bench_cpu) != TV_EXIT_STATUS_OK)
				return TV_EXIT_STATUS_USAGE;
			break;
		case 'h':
			printf("usage: twinvm bench [--engine kvm|emu|all] [--quick] [--json FILE] "
			       "[--cpu MODEL]\n"
			       "Measures twinvm's cost on each engine against raw baselines run side by side:\n"
			       "exit cost and guest throughput (ratios), VM lifecycle, preemption latency,\n"
			       "share error, and diff's speed. Medians of %d runs after a warm-up.\n"
			       "--cpu picks the emulator's CPU model for twinvm's own runs (twinvm info lists\n"
			       "them; the raw baselines keep the default); KVM's guests see the host's CPU.\n",
			       RUNS);
			return TV_EXIT_STATUS_OK;
		case ':':
			return tv_usage_error("bench", "%s needs a value", argv[optind - 1]);
		default:
			return tv_usage_error("bench", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return tv_usage_error("bench", "unexpected argument '%s'", argv[optind]);
	if (quick)
		z = (struct sizes){ 2000, 20000, 2000, 6, 10, 20, 40, 200 };

	out = json_object();
	if (!out) {
		fprintf(stderr, "twinvm bench: out of memory\n");
		return TV_EXIT_STATUS_USAGE;
	}
	printf("twinvm bench%s: medians of %d runs after a warm-up, (min - max)\n",
	       quick ? " --quick" : "", RUNS);
#ifdef TWINVM_HAVE_ZYDIS
	{
		struct stat3 f = fuzz_rate(quick ? 20000 : 200000);

		printf("fuzz (emu against the host CPU, generated 1-4 instructions):\n");
		row("fuzz_snippets_per_s", f, "/s", ">= 50000");
		json_object_set_new(out, "fuzz", json_pack("{s:o}", "fuzz_snippets_per_s",
							   stat_json(f)));
	}
#endif
	diff_exits = diff_rate(false, z.diff_exits);
	diff_steps = diff_rate(true, z.diff_steps);
	for (size_t i = 0; i < tv_backend_count; i++) {
		const struct tv_backend_ops *be = tv_backends[i];
		json_t *obj;

		if (strcmp(engine, "all") && strcmp(engine, be->name))
			continue;
		/* The emulator is ~1000x faster than kvm-pvm: give it work long enough to time. */
		struct sizes zz = z;
		if (strcmp(be->name, "emu") == 0) {
			zz.exits *= 100;
			zz.rounds *= 1000;
			zz.precise *= 100;
		}
		obj = bench_engine(be, &zz, diff_exits, diff_steps);
		if (obj) {
			json_object_set_new(out, be->name, obj);
			measured++;
		}
	}
	if (json_path) {
		if (json_dump_file(out, json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
			fprintf(stderr, "twinvm bench: cannot write %s\n", json_path);
			json_decref(out);
			return TV_EXIT_STATUS_USAGE;
		}
	}
	json_decref(out);
	if (!measured) {
		fprintf(stderr, "twinvm bench: no engine could be measured here\n");
		return TV_EXIT_STATUS_USAGE;
	}
	return TV_EXIT_STATUS_OK;
}
