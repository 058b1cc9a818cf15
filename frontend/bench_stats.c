/* The figures of `twinvm bench`: medians with their range, printed and in JSON. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double bench_now(void)
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

struct stat3 bench_summarise(double *v, int n)
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

double bench_percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)((double)(n - 1) * p + 0.5)];
}

json_t *bench_stat_json(struct stat3 s)
{
	if (!s.valid)
		return json_null();
	return json_pack("{s:f,s:f,s:f}", "median", s.median, "min", s.min, "max", s.max);
}

json_t *bench_num_or_null(bool valid, double v)
{
	return valid && isfinite(v) ? json_real(v) : json_null();
}

void bench_row(const char *what, struct stat3 s, const char *unit, const char *target)
{
	if (!s.valid) {
		printf("  %-34s %s\n", what, "n/a");
		return;
	}
	printf("  %-34s %10.3f %-6s (%.3f - %.3f)%s%s\n", what, s.median, unit, s.min, s.max,
	       target ? "  target " : "", target ? target : "");
}
