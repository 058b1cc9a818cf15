/* `twinvm bench`: the tools' own speed, diff's and fuzz's, as rates. */
#include "bench.h"

#include <stdio.h>

#include "builtin.h"
#include "diff.h"
#ifdef TWINVM_HAVE_ZYDIS
#include "fuzz.h"
#endif
#include "layout.h"
#include "probe.h"

/* Records compared per second by `twinvm diff` (step: instructions). */
struct stat3 bench_diff_rate(bool step, int max_records, const char *cpu_model)
{
	const struct tv_builtin *g = tv_builtin_find("guest1");
	struct tv_diff_opts o = { .mode = TV_MODE_REAL, .guest_name = "guest1",
				  .ram_size = TV_RAM_DEFAULT, .step = step,
				  .max_records = (uint64_t)max_records, .timeout_s = 20,
				  .a = tv_backend_find("kvm"), .b = tv_backend_find("emu"),
				  .cpu_model = cpu_model };
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
		double t0 = bench_now();

		if (tv_diff(&o) != TV_DIFF_SAME)
			break;
		if (i > 0)
			rate[n++] = max_records / (bench_now() - t0);
	}
	fclose(o.out);
	return n == RUNS ? bench_summarise(rate, n) : (struct stat3){ 0 };
}

#ifdef TWINVM_HAVE_ZYDIS
/* twinvm fuzz's rate, emulator against the host CPU: generated snippets compared per second,
 * minimising what diverges included, as `twinvm fuzz --oracle native` runs them. */
static struct stat3 fuzz_rate(uint64_t snippets, const char *cpu_model)
{
	struct fz_run_opts o = { .count = snippets, .mode = TV_MODE_LONG,
				 .gen = { .min_len = 1, .max_len = 4, .classes = FZ_CLASS_USER } };
	const struct tv_backend_ops *emu = tv_backend_find("emu");
	double rate[RUNS];
	struct fz_stats st;
	char why[256];
	FILE *sink;
	int n = 0;

	if (!emu || fz_engine_open(emu, TV_MODE_LONG, cpu_model, &o.emu, why, sizeof(why)) != 0)
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
	return n == RUNS ? bench_summarise(rate, n) : (struct stat3){ 0 };
}

void bench_fuzz(uint64_t snippets, const char *cpu_model, json_t *out)
{
	struct stat3 f = fuzz_rate(snippets, cpu_model);

	printf("fuzz (emu against the host CPU, generated 1-4 instructions):\n");
	bench_row("fuzz_snippets_per_s", f, "/s", ">= 50000");
	json_object_set_new(out, "fuzz", json_pack("{s:o}", "fuzz_snippets_per_s",
						   bench_stat_json(f)));
}
#endif
