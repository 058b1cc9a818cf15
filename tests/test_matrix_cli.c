/* The matrix tools as a user runs them (issue 13, item 2): bare `matrix` and `twinvm matrix`
 * are part 2c and end on their own, the standalone program names itself, each policy prints its
 * part's lines, the quantum only where there is one, the trace's numbers short, and the target
 * of the VMs left when one halts. */
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "run_binary.h"
#include "tv_test.h"

#define MAX_ARGS 24

/* Runs the binary of bin_env ("MATRIX_BIN", "TWINVM_BIN") with "matrix" first for twinvm, then
 * args (NULL-terminated). */
static void run_matrix(struct result *r, const char *bin_env, const char *const *args)
{
	const char *argv[MAX_ARGS];
	int n = 0;

	if (strcmp(bin_env, "TWINVM_BIN") == 0)
		argv[n++] = "matrix";
	for (; *args; args++) {
		ck_assert_int_lt(n, MAX_ARGS - 1);
		argv[n++] = *args;
	}
	argv[n] = NULL;
	tv_run_binary(bin_env, argv, r);
}

#define MATRIX(r, bin, ...) run_matrix((r), (bin), (const char *const[]){ __VA_ARGS__, NULL })

/* The occurrences of needle in haystack. */
static int count(const char *haystack, const char *needle)
{
	int n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The summary row of guest: its weight and quanta. */
static void summary_row(const struct result *r, const char *guest, unsigned *weight,
			unsigned *quanta)
{
	char head[64];
	const char *row;

	snprintf(head, sizeof(head), "%s ", guest);
	row = strstr(r->out, head);
	ck_assert_msg(row, "no summary row for %s: %s", guest, r->out);
	ck_assert_int_eq(sscanf(row + strlen(head), "%u %u", weight, quanta), 2);
}

/* The standalone program says `usage: matrix`, and its error lines begin "matrix: "; twinvm's
 * subcommand keeps its own name. */
START_TEST(test_standalone_matrix_names_itself)
{
	struct result r;

	MATRIX(&r, "MATRIX_BIN", "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "usage: matrix [options]\n", 24) == 0, "%.80s", r.out);
	MATRIX(&r, "TWINVM_BIN", "--help");
	ck_assert_msg(strncmp(r.out, "usage: twinvm matrix [options]\n", 31) == 0, "%.80s", r.out);
	MATRIX(&r, "MATRIX_BIN", "--bogus");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "matrix: unknown option '--bogus' (see matrix --help)\n");
	MATRIX(&r, "MATRIX_BIN", "--cpu", "no-such-cpu");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "matrix: --cpu 'no-such-cpu': unknown CPU model (twinvm info lists "
				"them)\n");
	MATRIX(&r, "MATRIX_BIN", "--backend", "emu", "--trace", "/nonexistent/t.jsonl");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "matrix: /nonexistent/t.jsonl: No such file or directory\n");
	MATRIX(&r, "MATRIX_BIN", "--backend", "emu", "--vm", "/nonexistent/guest.bin");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "matrix: guest image /nonexistent/guest.bin: No such file or "
				"directory\n");
	MATRIX(&r, "TWINVM_BIN", "--bogus");
	ck_assert_str_eq(r.err, "twinvm matrix: unknown option '--bogus' (see twinvm matrix --help)\n");
}
END_TEST

/* Part 2c with nothing but a short quantum: guest1-noio and guest2-noio (no OUT), weights 7 and
 * 3, one cycle of 10 quanta and the end, on its own; a "Time:" line after every turn. */
static void bare_matrix_is_2c(const char *engine, const char *bin)
{
	unsigned w1, w2, q1, q2;
	struct result r;
	char why[256];

	if (!tv_test_engine(engine, TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	MATRIX(&r, bin, "--backend", engine, "--quantum", "10ms");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "matrix summary: policy share, quantum 0.01 s, "), "%s", r.out);
	ck_assert_msg(strstr(r.out, " 10 turns\n"), "%s", r.out);
	summary_row(&r, "guest1-noio", &w1, &q1);
	summary_row(&r, "guest2-noio", &w2, &q2);
	ck_assert_uint_eq(w1, 7);
	ck_assert_uint_eq(w2, 3);
	ck_assert_uint_eq(q1, 7);
	ck_assert_uint_eq(q2, 3);
	ck_assert_int_eq(count(r.out, "Loaded Program with size: 5\n"), 2);
	ck_assert_int_eq(count(r.out, "KVM_EXIT_INTR\n"), 10);
	ck_assert_int_eq(count(r.out, "Time: "), 10);
	ck_assert_int_eq(count(r.out, "KVM_EXIT_IO"), 0);
}

START_TEST(test_bare_matrix_is_2c_emu) { bare_matrix_is_2c("emu", "MATRIX_BIN"); }
END_TEST
START_TEST(test_bare_matrix_is_2c_kvm) { bare_matrix_is_2c("kvm", "MATRIX_BIN"); }
END_TEST
START_TEST(test_bare_twinvm_matrix_is_2c_emu) { bare_matrix_is_2c("emu", "TWINVM_BIN"); }
END_TEST

/* The quantum it runs with by default is QUANTUM, 1 s (one turn, to keep the test short). */
START_TEST(test_bare_matrix_quantum_is_1s_emu)
{
	struct result r;
	char why[256];

	if (!tv_test_engine("emu", TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	MATRIX(&r, "MATRIX_BIN", "--backend", "emu", "--quanta", "1", "--quiet");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "matrix summary: policy share, quantum 1 s, 1.0"), "%s", r.out);
}
END_TEST

/* io prints part 2a's lines, without "Time:", and stops after 10 turns by default; io and
 * threads have no quantum to print; rr keeps its "Time:" lines (2b). */
static void each_policy_prints_its_part(const char *engine)
{
	struct result r;
	char why[256];

	if (!tv_test_engine(engine, TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	MATRIX(&r, "TWINVM_BIN", "--backend", engine, "--policy", "io");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_int_eq(count(r.out, "Time:"), 0);
	ck_assert_int_eq(count(r.out, " stopped running - exit reason: 2\n"), 10);
	ck_assert_int_eq(count(r.out, " KVM_EXIT_IO\n"), 10);
	ck_assert_int_eq(count(r.out, " out port: 16, data: "), 5);
	ck_assert_int_eq(count(r.out, " out port: 17, data: "), 5);
	ck_assert_msg(strstr(r.out, "matrix summary: policy io, 0."), "%s", r.out);
	ck_assert_msg(strstr(r.out, " 10 turns\n"), "%s", r.out);
	MATRIX(&r, "TWINVM_BIN", "--backend", engine, "--policy", "threads", "--vm", "guest1-noio",
	       "--vm", "guest2-noio", "--duration", "0.2");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_int_eq(count(r.out, "Time:"), 0);
	ck_assert_int_eq(count(r.out, "KVM_EXIT_INTR\n"), 2);
	ck_assert_msg(strstr(r.out, "matrix summary: policy threads, 0."), "%s", r.out);
	MATRIX(&r, "TWINVM_BIN", "--backend", engine, "--policy", "rr", "--quantum", "10ms",
	       "--quanta", "4");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_int_eq(count(r.out, "Time: "), 4);
	ck_assert_msg(strstr(r.out, "matrix summary: policy rr, quantum 0.01 s, "), "%s", r.out);
}

START_TEST(test_each_policy_prints_its_part_emu) { each_policy_prints_its_part("emu"); }
END_TEST
START_TEST(test_each_policy_prints_its_part_kvm) { each_policy_prints_its_part("kvm"); }
END_TEST

/* threads, given no limit, stops after 1 s (it has no turns to count). */
START_TEST(test_bare_threads_ends_on_its_own_emu)
{
	struct result r;
	char why[256];
	double secs = 0;
	const char *line;

	if (!tv_test_engine("emu", TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	MATRIX(&r, "TWINVM_BIN", "--backend", "emu", "--policy", "threads", "--quiet");
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	line = strstr(r.out, "matrix summary: policy threads, ");
	ck_assert_msg(line && sscanf(line, "matrix summary: policy threads, %lf s", &secs) == 1, "%s",
		      r.out);
	ck_assert_msg(secs >= 1.0 && secs < 5.0, "%.3f s", secs);
}
END_TEST

/* The trace's summary object, parsed, from a file of trace lines. */
static json_t *trace_summary(const char *path, char *text, size_t len)
{
	FILE *f = fopen(path, "r");
	json_t *rec = NULL;
	char line[4096];

	ck_assert_ptr_nonnull(f);
	text[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "{\"summary\"", 10) == 0) {
			snprintf(text, len, "%s", line);
			rec = json_loads(line, 0, NULL);
		}
	}
	fclose(f);
	ck_assert_msg(rec, "no summary in %s", path);
	return rec;
}

/* Every "t" of the trace has at most 9 significant digits, and quantum_s reads 0.05. */
START_TEST(test_trace_numbers_read_short_emu)
{
	char path[64], text[4096], line[4096], why[256];
	struct result r;
	json_t *sum;
	FILE *f;
	int ts = 0;

	if (!tv_test_engine("emu", TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	tv_temp_path(path, sizeof(path), ".jsonl");
	MATRIX(&r, "TWINVM_BIN", "--backend", "emu", "--quantum", "50ms", "--quanta", "3", "--quiet",
	       "--trace", path);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	sum = trace_summary(path, text, sizeof(text));
	ck_assert_msg(strstr(text, ",\"quantum_s\":0.05,"), "%s", text);
	json_decref(sum);
	f = fopen(path, "r");
	while (fgets(line, sizeof(line), f)) {
		const char *t = strstr(line, "\"t\":");
		int digits = 0;

		if (!t)
			continue;
		for (t += 4; *t == '0' || *t == '.'; t++)
			; /* leading zeros are not significant */
		for (; *t && *t != '}' && *t != ',' && *t != 'e'; t++)
			digits += *t >= '0' && *t <= '9';
		ck_assert_msg(digits <= 9, "more than 9 significant digits: %s", line);
		ts++;
	}
	fclose(f);
	ck_assert_int_eq(ts, 3);
	MATRIX(&r, "TWINVM_BIN", "--backend", "emu", "--policy", "io", "--quiet", "--trace", path);
	sum = trace_summary(path, text, sizeof(text));
	ck_assert_msg(!json_object_get(sum, "quantum_s"), "%s", text);
	json_decref(sum);
	unlink(path);
}
END_TEST

/* VM i's field of the summary object. */
static double vm_field(const json_t *sum, int i, const char *field)
{
	const json_t *v = json_object_get(json_array_get(json_object_get(sum, "vms"), i), field);

	ck_assert_msg(json_is_number(v), "VM%d has no %s", i + 1, field);
	return json_number_value(v);
}

/* 5:3:2, and hello (weight 5) halts in its first turn: the other two are owed 3:2 of that turn,
 * and 3/5 and 2/5 of everything after it, not 30% and 20%. */
static void target_follows_a_halt(const char *engine)
{
	char path[64], text[4096], why[256];
	double c1, total = 0, want[3];
	struct result r;
	json_t *sum;

	if (!tv_test_engine(engine, TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	tv_temp_path(path, sizeof(path), ".jsonl");
	MATRIX(&r, "TWINVM_BIN", "--backend", engine, "--vm", "hello:5", "--vm", "guest1-noio:3",
	       "--vm", "guest2-noio:2", "--quantum", "200ms", "--quanta", "5", "--quiet", "--trace",
	       path);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "(ended: HLT)"), "%s", r.out);
	sum = trace_summary(path, text, sizeof(text));
	unlink(path);
	ck_assert_double_eq(vm_field(sum, 0, "quanta"), 1); /* hello's one turn, first */
	for (int i = 0; i < 3; i++)
		total += vm_field(sum, i, "cpu_s");
	c1 = vm_field(sum, 0, "cpu_s");
	want[0] = 0.5 * c1 / total;
	want[1] = (0.3 * c1 + 0.6 * (total - c1)) / total;
	want[2] = (0.2 * c1 + 0.4 * (total - c1)) / total;
	for (int i = 0; i < 3; i++)
		ck_assert_msg(fabs(vm_field(sum, i, "target") - want[i]) < 1e-6,
			      "VM%d's target %.9g, not %.9g: %s", i + 1, vm_field(sum, i, "target"),
			      want[i], text);
	ck_assert_double_gt(vm_field(sum, 1, "target"), 0.55);
	json_decref(sum);
}

START_TEST(test_target_follows_a_halt_emu) { target_follows_a_halt("emu"); }
END_TEST
START_TEST(test_target_follows_a_halt_kvm) { target_follows_a_halt("kvm"); }
END_TEST

int main(void)
{
	Suite *s = suite_create("matrix_cli");
	TCase *tc = tcase_create("tools");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_standalone_matrix_names_itself);
	tcase_add_test(tc, test_bare_matrix_is_2c_emu);
	tcase_add_test(tc, test_bare_matrix_is_2c_kvm);
	tcase_add_test(tc, test_bare_twinvm_matrix_is_2c_emu);
	tcase_add_test(tc, test_bare_matrix_quantum_is_1s_emu);
	tcase_add_test(tc, test_each_policy_prints_its_part_emu);
	tcase_add_test(tc, test_each_policy_prints_its_part_kvm);
	tcase_add_test(tc, test_bare_threads_ends_on_its_own_emu);
	tcase_add_test(tc, test_trace_numbers_read_short_emu);
	tcase_add_test(tc, test_target_follows_a_halt_emu);
	tcase_add_test(tc, test_target_follows_a_halt_kvm);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
