/* `twinvm bench --quick` runs and writes the JSON it promises. No figure is judged here:
 * benchmarks are not pass/fail tests, and this machine is shared. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tv_test.h"

static const char *const keys[] = {
	"exit_cost_ratio",	  "exit_cost_count_ratio",  "throughput_ratio",
	"lifecycle_ms",		  "preempt_latency_us_p50", "preempt_latency_us_p99",
	"share_error",		  "diff_exits_per_s",	    "diff_steps_per_s",
	"startup_ratio",	  "startup_rss_ratio",	    "exit_cost_single_ratio",
};

/* The ratios measured on every engine that runs real and protected mode: each a positive finite
 * number, its range around its median. */
static const char *const ratios[] = { "exit_cost_ratio", "exit_cost_count_ratio",
				      "exit_cost_single_ratio", "throughput_ratio", "startup_ratio",
				      "startup_rss_ratio" };

static void check_ratio(json_t *obj, const char *engine, const char *key)
{
	json_t *v = json_object_get(obj, key);
	json_t *range = json_object_get(json_object_get(obj, "ranges"), key);
	double min, max, x;

	ck_assert_msg(json_is_number(v), "%s.%s is not a number", engine, key);
	x = json_number_value(v);
	ck_assert_msg(isfinite(x) && x > 0, "%s.%s is %g", engine, key, x);
	ck_assert_msg(json_unpack(range, "{s:F,s:F}", "min", &min, "max", &max) == 0,
		      "%s.ranges.%s has no min and max", engine, key);
	ck_assert_msg(min <= x && x <= max, "%s.%s %g is outside its range %g - %g", engine, key,
		      x, min, max);
}

/* Runs `twinvm bench ARGS --json FILE` with its table on /dev/null; the JSON it wrote. */
static json_t *run_bench(const char *a1, const char *a2, const char *a3)
{
	char path[64];
	const char *bin = getenv("TWINVM_BIN");
	json_error_t err;
	json_t *root;
	int st;
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	tv_temp_path(path, sizeof(path), ".json");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execl(bin, bin, "bench", "--json", path, a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "twinvm bench exited %d",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	root = json_load_file(path, 0, &err);
	unlink(path);
	ck_assert_msg(root != NULL, "the JSON does not parse: %s", err.text);
	return root;
}

START_TEST(test_bench_quick_writes_valid_json)
{
	json_t *root = run_bench("--quick", NULL, NULL);
	int engines = 0;

	for (const char *const *e = (const char *const[]){ "kvm", "emu", NULL }; *e; e++) {
		json_t *obj = json_object_get(root, *e);

		if (!obj)
			continue;
		engines++;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_t *v = json_object_get(obj, keys[i]);

			ck_assert_msg(v != NULL, "%s lacks %s", *e, keys[i]);
			ck_assert_msg(json_is_number(v) || json_is_null(v), "%s.%s is not a number",
				      *e, keys[i]);
		}
		for (size_t i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++)
			check_ratio(obj, *e, ratios[i]);
	}
	ck_assert_int_gt(engines, 0);
	json_decref(root);
}
END_TEST

/* --startup measures start-up alone, on the engine named: both runners ran, with their times and
 * peak memory. */
START_TEST(test_bench_startup_alone)
{
	json_t *root = run_bench("--startup", "--quick", "--engine=emu");
	json_t *emu = json_object_get(root, "emu");

	ck_assert_msg(emu != NULL, "no emu figures");
	ck_assert_ptr_null(json_object_get(root, "kvm"));
	ck_assert_ptr_null(json_object_get(emu, "exit_cost_ratio"));
	check_ratio(emu, "emu", "startup_ratio");
	check_ratio(emu, "emu", "startup_rss_ratio");
	ck_assert_double_gt(json_number_value(json_object_get(emu, "startup_raw_ms")), 0);
	ck_assert_double_gt(json_number_value(json_object_get(emu, "startup_raw_rss_mib")), 0);
	json_decref(root);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("quick");

	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_bench_quick_writes_valid_json);
	tcase_add_test(tc, test_bench_startup_alone);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
