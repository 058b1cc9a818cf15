/* What the parts of `twinvm bench` share: medians with their range, the clock, and the table's
 * rows and JSON values. */
#ifndef TWINVM_BENCH_H
#define TWINVM_BENCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every figure is the median of RUNS runs after a warm-up. */
#define RUNS 5

/* A median with its range; valid false: not measured. */
struct stat3 {
	double median, min, max;
	bool valid;
};

/* Seconds on the monotonic clock. */
double bench_now(void);

/* The median and range of v[0..n) (sorted in place); not valid when n is 0. */
struct stat3 bench_summarise(double *v, int n);

/* The value at fraction p of v[0..n) (sorted in place), NAN when n is 0. */
double bench_percentile(double *v, size_t n, double p);

/* One row of the table: "  what   median unit (min - max)  target ...", or n/a. */
void bench_row(const char *what, struct stat3 s, const char *unit, const char *target);

/* {"median", "min", "max"}, or null when not measured. */
json_t *bench_stat_json(struct stat3 s);

/* v as a JSON number, or null when not valid or not finite. */
json_t *bench_num_or_null(bool valid, double v);

/* Start-up, as whole processes: `twinvm run --backend ENGINE --mode protected` (hello) against
 * the raw runner of the same guest on the same engine (twinvm-raw-ENGINE, next to twinvm). */
struct bench_startup {
	struct stat3 ratio;	/* twinvm's time over the raw runner's, per pair of runs */
	struct stat3 rss_ratio; /* the same for the peak resident memory */
	double ms, raw_ms;	/* medians */
	double rss_mib, raw_rss_mib;
	char why[256];		/* when a ratio is not valid: the reason */
};

/* Measures engine's start-up with runs pairs of runs after a warm-up pair, alternating. */
void bench_startup(const char *engine, int runs, struct bench_startup *out);

/* s's rows in the table, with their targets, and its keys in obj (startup_ratio,
 * startup_rss_ratio, their ranges, the medians in ms and MiB). */
void bench_startup_report(const char *engine, const struct bench_startup *s, json_t *obj);

/* Records compared per second by `twinvm diff`, KVM against the emulator (step: instructions),
 * guest1 in real mode; not valid where KVM cannot run it. cpu_model: the emulator's. */
struct stat3 bench_diff_rate(bool step, int max_records, const char *cpu_model);

/* The fuzzer's rate, emulator against the host CPU, over snippets, printed and added to out as
 * "fuzz" (built with Zydis only). */
void bench_fuzz(uint64_t snippets, const char *cpu_model, json_t *out);

#endif
