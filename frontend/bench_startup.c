/* `twinvm bench --startup`: what it costs to start twinvm, as whole processes against the raw
 * runner of the same guest (bench/raw_*.c), alternating, time and peak memory per pair of runs.
 * Each run is spawned and reaped by twinvm-measure (bench/measure.c), which says why. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RUNS 64

extern char **environ;

/* The paths a start-up measurement spawns, all beside twinvm. */
struct startup_paths {
	char self[PATH_MAX], raw[PATH_MAX], measure[PATH_MAX];
};

/* Spawns argv with its stdout on fd: the pid, or -1 with errno. */
static pid_t spawn_to(char *const argv[], int fd)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc = posix_spawn_file_actions_init(&fa);

	if (rc) {
		errno = rc;
		return -1;
	}
	rc = posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	if (!rc)
		rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	errno = rc;
	return rc ? -1 : pid;
}

/* One run of argv (argv[0] twinvm-measure, argv[1] the program): seconds and peak KiB (0: not
 * measurable). 0, or -1 with the reason in why. */
static int measure(char *const argv[], double *seconds, long *kib, char *why, size_t len)
{
	int fd[2], st = 0, status = -1;
	FILE *f = NULL;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) != 0)
		return snprintf(why, len, "pipe: %s", strerror(errno)), -1;
	pid = spawn_to(argv, fd[1]);
	if (pid < 0)
		snprintf(why, len, "%.150s: %s", argv[0], strerror(errno));
	close(fd[1]);
	if (pid >= 0 && (f = fdopen(fd[0], "r")) != NULL &&
	    fscanf(f, "%lf %ld %d", seconds, kib, &status) != 3)
		status = -1;
	if (f)
		fclose(f);
	else
		close(fd[0]);
	while (pid >= 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid < 0)
		return -1;
	if (status < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return snprintf(why, len, "%.100s could not measure %.100s", argv[0], argv[1]), -1;
	if (status != 0)
		return snprintf(why, len, "%.100s%s%.20s ended with status %d", argv[1],
				argv[2] ? " " : "", argv[2] ? argv[2] : "", status), -1;
	return 0;
}

/* twinvm's own path, and beside it the raw runner for engine and twinvm-measure. */
static int find_paths(const char *engine, struct startup_paths *p, char *why, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", p->self, sizeof(p->self) - 1);
	const char *slash;
	int dir;

	if (n <= 0 || (size_t)n >= sizeof(p->self) - 1)
		return snprintf(why, len, "cannot find twinvm's own path: %s",
				n < 0 ? strerror(errno) : "too long"), -1;
	p->self[n] = '\0';
	slash = strrchr(p->self, '/');
	dir = (int)(slash - p->self);
	if (snprintf(p->raw, sizeof(p->raw), "%.*s/twinvm-raw-%s", dir, p->self, engine) >=
		    (int)sizeof(p->raw) ||
	    snprintf(p->measure, sizeof(p->measure), "%.*s/twinvm-measure", dir, p->self) >=
		    (int)sizeof(p->measure))
		return snprintf(why, len, "the path %.150s is too long", p->self), -1;
	if (access(p->raw, X_OK) != 0)
		return snprintf(why, len, "no raw runner %.150s: %s", p->raw, strerror(errno)), -1;
	if (access(p->measure, X_OK) != 0)
		return snprintf(why, len, "no %.150s: %s", p->measure, strerror(errno)), -1;
	return 0;
}

/* runs pairs after a warm-up pair, the one run first alternating: seconds and KiB of each. */
static int run_pairs(char *const twinvm[], char *const raw[], int runs, double *t, double *rt,
		     double *kib, double *rkib, char *why, size_t len)
{
	for (int i = 0; i <= runs; i++) {
		double s[2];
		long k[2];

		for (int j = 0; j < 2; j++) {
			int who = j ^ (i % 2); /* 0: twinvm */

			if (measure(who ? raw : twinvm, &s[who], &k[who], why, len) != 0)
				return -1;
		}
		if (i > 0) { /* run 0 is the warm-up */
			t[i - 1] = s[0], rt[i - 1] = s[1];
			kib[i - 1] = (double)k[0], rkib[i - 1] = (double)k[1];
		}
	}
	return 0;
}

void bench_startup(const char *engine, int runs, struct bench_startup *out)
{
	static struct startup_paths p; /* 12 KiB: not on the stack */
	char backend[16];
	char *twinvm[] = { p.measure, p.self, "run", "--backend", backend, "--mode", "protected",
			   NULL };
	char *raw[] = { p.measure, p.raw, NULL };
	double t[MAX_RUNS], rt[MAX_RUNS], kib[MAX_RUNS], rkib[MAX_RUNS], r[MAX_RUNS];
	bool rss_ok = true;

	memset(out, 0, sizeof(*out));
	snprintf(backend, sizeof(backend), "%s", engine);
	if (runs < 1 || runs > MAX_RUNS) {
		snprintf(out->why, sizeof(out->why), "%d runs: 1 to %d", runs, MAX_RUNS);
		return;
	}
	if (find_paths(engine, &p, out->why, sizeof(out->why)) != 0 ||
	    run_pairs(twinvm, raw, runs, t, rt, kib, rkib, out->why, sizeof(out->why)) != 0)
		return;
	for (int i = 0; i < runs; i++) {
		r[i] = t[i] / rt[i];
		rss_ok = rss_ok && kib[i] > 0 && rkib[i] > 0;
	}
	out->ratio = bench_summarise(r, runs);
	for (int i = 0; i < runs; i++)
		r[i] = rss_ok ? kib[i] / rkib[i] : 0;
	out->rss_ratio = bench_summarise(r, rss_ok ? runs : 0);
	out->ms = 1000 * bench_summarise(t, runs).median;
	out->raw_ms = 1000 * bench_summarise(rt, runs).median;
	out->rss_mib = bench_summarise(kib, runs).median / 1024;
	out->raw_rss_mib = bench_summarise(rkib, runs).median / 1024;
	if (!rss_ok)
		snprintf(out->why, sizeof(out->why), "peak memory not measurable: twinvm-measure's "
			 "own peak reaches a runner's");
}

/* Issue 12's targets for the two ratios: time, then peak memory (NULL: none set). */
static void targets(const char *engine, const char **time, const char **rss)
{
	bool kvm = strcmp(engine, "kvm") == 0;

	*time = kvm ? "<= 1.25" : "<= 1.3";
	*rss = kvm ? NULL : "<= 1.5";
}

void bench_startup_report(const char *engine, const struct bench_startup *s, json_t *obj)
{
	json_t *ranges = json_object_get(obj, "ranges");
	const char *time, *rss;

	targets(engine, &time, &rss);
	bench_row("start-up, twinvm / raw, time", s->ratio, "x", time);
	bench_row("start-up, twinvm / raw, peak RSS", s->rss_ratio, "x", rss);
	if (s->ratio.valid)
		printf("  %-34s %10.1f ms, %.1f MiB (raw %.1f ms, %.1f MiB)\n", "start-up, twinvm run",
		       s->ms, s->rss_mib, s->raw_ms, s->raw_rss_mib);
	if (s->why[0])
		printf("  %-34s %s\n", "start-up:", s->why);
	if (!ranges) {
		ranges = json_object();
		json_object_set_new(obj, "ranges", ranges);
	}
	json_object_set_new(obj, "startup_ratio", bench_num_or_null(s->ratio.valid, s->ratio.median));
	json_object_set_new(obj, "startup_rss_ratio",
			    bench_num_or_null(s->rss_ratio.valid, s->rss_ratio.median));
	json_object_set_new(obj, "startup_ms", bench_num_or_null(s->ratio.valid, s->ms));
	json_object_set_new(obj, "startup_raw_ms", bench_num_or_null(s->ratio.valid, s->raw_ms));
	json_object_set_new(obj, "startup_rss_mib", bench_num_or_null(s->ratio.valid, s->rss_mib));
	json_object_set_new(obj, "startup_raw_rss_mib",
			    bench_num_or_null(s->ratio.valid, s->raw_rss_mib));
	json_object_set_new(ranges, "startup_ratio", bench_stat_json(s->ratio));
	json_object_set_new(ranges, "startup_rss_ratio", bench_stat_json(s->rss_ratio));
}
