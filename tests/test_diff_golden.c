/* `twinvm diff --against` golden traces (tests/golden): each agrees with the emulator, an edited
 * one diverges naming the field, a malformed one is refused with one line naming file, line and
 * field, and the golden reader's API. *
 * Whether KVM (or the emulator) runs a mode is probed, never assumed: a case that cannot run here
 * checks that diff says 77 and is reported as skipped with the probe's reason. Exit codes: 0
 * identical, 1 diverged, 2 error, 77 cannot compare here. Helpers: diff_test.h. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "diff_test.h"
#include "tv_test.h"

static void assert_golden_refused(const struct result *r, const char *path, const char *names);

/* ==== 5. --against golden traces (no /dev/kvm needed) ======================================== */

START_TEST(test_golden_dir_has_cpuid_and_other_traces)
{
	int cpuid = 0;

	ck_assert_msg(dt_ngolden > 0, "no golden traces found in '%s'", dt_golden_dir);
	for (int i = 0; i < dt_ngolden; i++)
		cpuid += strncmp(dt_golden_files[i], "cpuid-", 6) == 0;
	ck_assert_msg(cpuid > 0 && cpuid < dt_ngolden, "%d of %d golden traces are cpuid: want both "
		      "kinds", cpuid, dt_ngolden);
}
END_TEST

/* _i: the golden file. Every one agrees with the emulator. cpuid-* do because their headers name
 * what cpuid makes differ (KVM's CPU against the emulator's model), which diff leaves out and
 * says so; without that list they diverge, on a register cpuid wrote or (where the vendor strings
 * agree) on the leaf-1 signature HC_print32bit sends out. diff takes the guest, the mode and the
 * exit limit from the header: no flag but --against. */
START_TEST(test_golden_against_emu)
{
	const char *file = dt_golden_files[_i];
	bool is_cpuid = strncmp(file, "cpuid-", 6) == 0;
	char path[4400], guest[256], why[512], head[512];
	enum tv_mode mode;
	struct result r;
	struct cmd c;

	dt_golden_name_parse(file, guest, sizeof(guest), &mode);
	if (!tv_test_engine("emu", mode, why, sizeof(why)))
		TV_SKIP("%s: emu: %s", file, why);
	snprintf(path, sizeof(path), "%s/%s", dt_golden_dir, file);
	memset(&c, 0, sizeof(c));
	CMD(&c, "diff", "--against", path);
	dt_run(&c, &r);
	ck_assert_msg(r.status == 0, "%s: %s%s", file, r.out, r.err);
	dt_assert_identical(&r);
	ck_assert_msg(!is_cpuid || strstr(r.out, "expects them to differ: rax rbx rcx rdx"),
		      "%s: %s", file, r.out);
	if (!is_cpuid)
		return;
	dt_golden_copy(file, dt_drop_expectations, path, sizeof(path));
	if (!dt_diff_against(&r, path, guest, mode, NULL, why, sizeof(why)))
		TV_SKIP("%s: %s", file, why);
	unlink(path);
	dt_assert_diverged(&r);
	ck_assert_msg(strstr(dt_first_line(r.out, head, sizeof(head)), ": rbx: ") ||
		      strstr(head, ": rcx: ") || strstr(head, ": rdx: ") ||
		      strstr(head, ": rax: ") || strstr(head, ": io.data: "),
		      "%s: diverged, but not on a cpuid register: %s", file, head);
}
END_TEST

/* A trace's first line says what was run: the guest, mode, memory, exit limit, engine and CPU.
 * diff --against then needs no other flag, and a flag that disagrees with it is refused. */
START_TEST(test_trace_header_makes_the_golden_self_describing)
{
	struct result r;
	struct cmd c;
	char path[64], why[256];
	json_t *head, *h;
	FILE *f;

	if (!tv_test_engine("emu", TV_MODE_PROTECTED, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	memset(&c, 0, sizeof(c));
	CMD(&c, "run", "--backend", "emu", "--guest", "hypercalls", "--mode", "protected", "--mem",
	    "4M", "--max-exits", "7", "--trace", tv_temp_path(path, sizeof(path), ".jsonl"));
	dt_run(&c, &r);
	ck_assert_msg(r.status == 1 && strstr(r.err, "exit limit"), "%d: %s", r.status, r.err);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	head = json_loadf(f, JSON_DISABLE_EOF_CHECK, NULL);
	fclose(f);
	h = json_object_get(head, "twinvm_trace");
	ck_assert_msg(json_is_object(h), "the first line is no header");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "format")), 2);
	ck_assert_str_eq(json_string_value(json_object_get(h, "guest")), "hypercalls");
	ck_assert_str_eq(json_string_value(json_object_get(h, "mode")), "protected");
	ck_assert_str_eq(json_string_value(json_object_get(h, "mem")), "0x400000");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "max_exits")), 7);
	ck_assert_str_eq(json_string_value(json_object_get(h, "engine")), "emu");
	ck_assert_int_eq(json_string_length(json_object_get(json_object_get(h, "cpu"), "vendor")), 12);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(h, "version")));
	json_decref(head);

	memset(&c, 0, sizeof(c));
	CMD(&c, "diff", "--against", path);
	dt_run(&c, &r);
	ck_assert_msg(r.status == 0 && dt_starts_with(r.out, "identical: 7 exits compared "
			      "(hypercalls, protected mode"), "%d: %s%s", r.status, r.out, r.err);
	CMD(&c, "--mode", "long");
	dt_run(&c, &r);
	assert_golden_refused(&r, path, "--mode long: ");
	memset(&c, 0, sizeof(c));
	CMD(&c, "diff", "--against", path, "--max-exits", "8");
	dt_run(&c, &r);
	assert_golden_refused(&r, path, "is a trace of 7 exits");
	memset(&c, 0, sizeof(c));
	CMD(&c, "diff", "--against", path, "--step");
	dt_run(&c, &r);
	assert_golden_refused(&r, path, "--step: ");
	unlink(path);
}
END_TEST

/* A trace from before the header (format 1) is still read: the flags say what was run. */
static bool drop_header(json_t *rec, int line)
{
	(void)rec;
	return line != 1;
}

START_TEST(test_golden_without_header_still_read)
{
	struct result r;
	char path[64], why[256];

	ck_assert_msg(dt_ngolden > 0, "no golden traces found in '%s'", dt_golden_dir);
	dt_golden_copy("guest1-real.jsonl", drop_header, path, sizeof(path));
	if (!dt_diff_against(&r, path, "guest1", TV_MODE_REAL, "50", why, sizeof(why)))
		TV_SKIP("%s", why);
	unlink(path);
	ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
	dt_assert_identical(&r);
}
END_TEST

/* Edits of hello-long.jsonl, each a divergence the emulator's run must show. Line 1 is the
 * header, so record 5 is line 6. */
static bool edit_rbx_of_record_5(json_t *rec, int line)
{
	if (line == 6)
		json_object_set_new(json_object_get(rec, "regs"), "rbx", json_string("0xbad"));
	return true;
}

/* Flips CF (bit 0) in record 5's RFLAGS, 0x6 in hello-long.jsonl: 0x7. */
static bool edit_cf_of_record_5(json_t *rec, int line)
{
	json_t *regs = json_object_get(rec, "regs");
	char hex[24];

	if (line == 6) {
		uint64_t v = strtoull(json_string_value(json_object_get(regs, "rflags")), NULL, 16);

		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)(v ^ 1));
		json_object_set_new(regs, "rflags", json_string(hex));
	}
	return true;
}

static bool keep_all(json_t *rec, int line)
{
	(void)rec;
	(void)line;
	return true;
}

static bool keep_10_records(json_t *rec, int line)
{
	(void)rec;
	return line <= 11;
}

static bool edit_ram_hash(json_t *rec, int line)
{
	(void)line;
	if (json_object_get(rec, "ram"))
		json_object_set_new(json_object_get(rec, "ram"), "fnv1a64",
				    json_string("0x1111111111111111"));
	return true;
}

/* diff --against an edited copy of hello-long.jsonl; the report on stdout. */
static bool diff_against_edited(struct result *r, bool (*edit)(json_t *, int), char *why,
				size_t len)
{
	char path[64];
	bool ran;

	ck_assert_msg(dt_ngolden > 0, "no golden traces found in '%s'", dt_golden_dir);
	dt_golden_copy("hello-long.jsonl", edit, path, sizeof(path));
	ran = dt_diff_against(r, path, "hello", TV_MODE_LONG, NULL, why, len);
	unlink(path);
	return ran;
}

START_TEST(test_golden_with_one_register_edited_diverges_naming_it)
{
	struct result r;
	char why[512];

	if (!diff_against_edited(&r, edit_rbx_of_record_5, why, sizeof(why)))
		TV_SKIP("%s", why);
	dt_assert_diverged(&r);
	ck_assert_msg(dt_starts_with(r.out, "DIVERGED at exit 5: rbx: emu 0x0, ") &&
		      strstr(r.out, " 0xbad\n") != NULL, "report: %s", r.out);
}
END_TEST

/* RFLAGS is compared like the other registers, flag by flag: one flag flipped in the trace
 * diverges at that exit, naming rflags, and --ignore rflags.cf masks that flag and no more. */
START_TEST(test_golden_with_one_flag_flipped_diverges_naming_rflags)
{
	struct result r;
	struct cmd c;
	char path[64], why[512];

	if (!diff_against_edited(&r, edit_cf_of_record_5, why, sizeof(why)))
		TV_SKIP("%s", why);
	dt_assert_diverged(&r);
	ck_assert_msg(dt_starts_with(r.out, "DIVERGED at exit 5: rflags: emu 0x6, ") &&
		      strstr(r.out, " 0x7\n") != NULL, "report: %s", r.out);

	dt_golden_copy("hello-long.jsonl", edit_cf_of_record_5, path, sizeof(path));
	dt_diff_cmd(&c, "hello", TV_MODE_LONG);
	CMD(&c, "--against", path, "--backend", "emu", "--ignore", "rflags.cf");
	dt_run(&c, &r);
	unlink(path);
	dt_assert_identical(&r);
}
END_TEST

/* A golden cut short (a full disk, a killed recording) would pass as a shorter run: without its
 * final RAM line it is refused, exit 2, naming the file and its last line. */
START_TEST(test_golden_cut_short_is_refused)
{
	struct result r;
	struct cmd c;
	char path[64];

	ck_assert_msg(dt_ngolden > 0, "no golden traces found in '%s'", dt_golden_dir);
	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	dt_golden_copy("hello-long.jsonl", keep_10_records, path, sizeof(path));
	dt_diff_cmd(&c, "hello", TV_MODE_LONG);
	CMD(&c, "--against", path);
	dt_run(&c, &r);
	unlink(path);
	assert_golden_refused(&r, path, "line 11: the trace ends without its final RAM record");
}
END_TEST

/* The trace's closing RAM hash is compared: a wrong one must diverge. */
START_TEST(test_golden_with_wrong_ram_hash_diverges)
{
	struct result r;
	char why[512];

	if (!diff_against_edited(&r, edit_ram_hash, why, sizeof(why)))
		TV_SKIP("%s", why);
	ck_assert_msg(r.status == 1 && strstr(r.out, "DIVERGED in guest RAM") != NULL,
		      "a golden trace with a wrong RAM hash: status %d, report: %s", r.status, r.out);
}
END_TEST

/* One malformed field of hello-long.jsonl (17 lines: the header, 14 IO records, HLT, the RAM
 * line): the value put at path on line, and what the one error line must name. */
struct bad_golden {
	int line;
	const char *path[3];
	const char *value; /* JSON */
	const char *names;
};

static const struct bad_golden bad_goldens[] = {
	{ 4, { "reason" }, "5", "line 4: \"reason\": not a string" },
	{ 4, { "reason" }, "\"HALT\"", "line 4: \"reason\": not the name" },
	{ 16, { "code" }, "2", "line 16: \"reason\": not the name" },
	{ 2, { "seq" }, "null", "line 2: \"seq\"" },
	{ 5, { "io", "port" }, "\"0xe9\"", "line 5: \"io.port\"" },
	{ 5, { "io", "size" }, "3", "line 5: \"io.size\"" },
	{ 7, { "io", "data" }, "\"4\"", "line 7: \"io.data\"" },
	{ 7, { "io" }, "[]", "line 7: \"io\"" },
	{ 16, { "io" }, "{}", "line 16: \"io\": present" },
	{ 6, { "regs", "rip" }, "13", "line 6: \"regs.rip\"" },
	{ 6, { "regs", "rbx" }, "\"0x-1\"", "line 6: \"regs.rbx\"" },
	{ 3, { "sregs", "cs" }, "\"cs\"", "line 3: \"sregs.cs\"" },
	{ 3, { "sregs", "efer" }, "{}", "line 3: \"sregs.efer\"" },
	{ 8, { "hypercall", "name" }, "7", "line 8: \"hypercall.name\"" },
	{ 17, { "ram", "fnv1a64" }, "\"0x\"", "line 17: \"ram.fnv1a64\"" },
	{ 17, { "ram" }, "true", "line 17: \"ram\"" },
	{ 6, { "insn", "bytes" }, "\"e6e\"", "line 6: \"insn.bytes\"" },
	{ 6, { "insn", "rip" }, "5", "line 6: \"insn.rip\"" },
	/* the header: read strictly too */
	{ 1, { "twinvm_trace", "mode" }, "\"long64\"", "line 1: \"twinvm_trace.mode\": not real" },
	{ 1, { "twinvm_trace", "format" }, "3", "line 1: \"twinvm_trace.format\": newer" },
	{ 1, { "twinvm_trace", "platform" }, "\"isa\"",
	  "line 1: \"twinvm_trace.platform\": not \"none\" or \"pc\"" },
	{ 1, { "twinvm_trace", "platform" }, "1", "line 1: \"twinvm_trace.platform\": not a string" },
	{ 1, { "twinvm_trace", "expect" }, "[{\"field\":\"rip2\",\"reason\":\"x\"}]",
	  "line 1: \"twinvm_trace.expect\": a field diff does not compare" },
	{ 5, { "twinvm_trace" }, "{}", "line 5: a header line" },
};
static const struct bad_golden *bad_golden;

static bool edit_bad_golden(json_t *rec, int line)
{
	const struct bad_golden *b = bad_golden;
	json_t *parent = rec, *value;
	int last = 0;

	if (line != b->line)
		return true;
	while (last < 2 && b->path[last + 1])
		parent = json_object_get(parent, b->path[last++]);
	ck_assert_msg(json_is_object(parent), "line %d has no %s", line, b->path[0]);
	value = json_loads(b->value, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(value);
	json_object_set_new(parent, b->path[last], value);
	return true;
}

/* A malformed golden trace: one line on stderr with the file, the line and the field; nothing on
 * stdout; exit 2. */
static void assert_golden_refused(const struct result *r, const char *path, const char *names)
{
	ck_assert_msg(r->status == 2, "status %d, stdout: %s, stderr: %s", r->status, r->out, r->err);
	ck_assert_msg(tv_count_lines(r->err) == 1, "stderr has %d lines: %s", tv_count_lines(r->err),
		      r->err);
	ck_assert_msg(strstr(r->err, path) && strstr(r->err, names), "stderr lacks %s or '%s': %s",
		      path, names, r->err);
	ck_assert_msg(r->out[0] == '\0', "stdout: %s", r->out);
}

/* _i: the bad field. A "reason" that was no string once crashed diff (SIGSEGV). */
START_TEST(test_golden_with_a_malformed_field_exits_2_naming_it)
{
	struct result r;
	struct cmd c;
	char path[64];

	ck_assert_msg(dt_ngolden > 0, "no golden traces found in '%s'", dt_golden_dir);
	bad_golden = &bad_goldens[_i];
	dt_golden_copy("hello-long.jsonl", edit_bad_golden, path, sizeof(path));
	dt_diff_cmd(&c, "hello", TV_MODE_LONG);
	CMD(&c, "--against", path, "--backend", "emu");
	dt_run(&c, &r);
	unlink(path);
	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	assert_golden_refused(&r, path, bad_golden->names);
}
END_TEST

/* A line that is no JSON object, wherever it is: refused before any engine runs. */
START_TEST(test_golden_with_a_line_not_json_exits_2)
{
	static const char *const lines[] = { "{\"vm\":0,", "[1,2]", "", "{\"vm\":0}\0{}" };
	static const char *const names[] = { "line 18: not JSON", "line 18: not a JSON object",
					     "line 18: not JSON", "line 18: not JSON" };
	struct result r;
	struct cmd c;
	char path[64];
	FILE *f;

	ck_assert_msg(dt_ngolden > 0, "no golden traces found in '%s'", dt_golden_dir);
	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	for (int i = 0; i < N(lines); i++) {
		dt_golden_copy("hello-long.jsonl", keep_all, path, sizeof(path));
		f = fopen(path, "a");
		ck_assert_ptr_nonnull(f);
		fwrite(lines[i], 1, strlen(lines[i]) + (i == 3 ? 3 : 0), f);
		fputc('\n', f);
		ck_assert_int_eq(fclose(f), 0);
		dt_diff_cmd(&c, "hello", TV_MODE_LONG);
		CMD(&c, "--against", path, "--backend", "emu");
		dt_run(&c, &r);
		unlink(path);
		assert_golden_refused(&r, path, names[i]);
	}
}
END_TEST

/* The reader itself (the fuzz target's entry): records, the RAM line, and lines it refuses. */
START_TEST(test_golden_reader_api)
{
	static const char good[] = "{\"vm\":0,\"seq\":1,\"reason\":\"HLT\",\"code\":5}\n"
				   "{\"vm\":0,\"ram\":{\"size\":\"0x1000\",\"fnv1a64\":\"0x1\"}}\n";
	static char longline[TV_TRACE_LINE_MAX + 2];
	json_t *rec, *ram;
	char msg[256];
	FILE *f;

	ck_assert_int_eq(tv_golden_parse_line(good, strchr(good, '\n') - good, &rec, &ram, msg,
					      sizeof(msg)), 0);
	ck_assert(rec && !ram);
	json_decref(rec);
	ck_assert_int_eq(tv_golden_parse_line("{\"reason\":[]}", 14, &rec, &ram, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert(!rec && !ram);
	f = fmemopen((void *)good, sizeof(good) - 1, "r");
	ck_assert_int_eq(tv_golden_check(f, NULL, msg, sizeof(msg)), 0);
	ck_assert_int_eq(ftell(f), 0);
	fclose(f);
	memset(longline, ' ', sizeof(longline) - 1);
	f = fmemopen(longline, sizeof(longline) - 1, "r");
	ck_assert_int_eq(tv_golden_check(f, NULL, msg, sizeof(msg)), -EFBIG);
	ck_assert_msg(strstr(msg, "line 1: longer than") != NULL, "%s", msg);
	fclose(f);
}
END_TEST

/* ==== the suite ============================================================================== */

int main(void)
{
	Suite *s = suite_create("diff_golden");
	TCase *golden = tcase_create("golden");

	dt_list_golden();

	tcase_set_timeout(golden, 120);
	tcase_add_test(golden, test_golden_dir_has_cpuid_and_other_traces);
	if (dt_ngolden > 0)
		tcase_add_loop_test(golden, test_golden_against_emu, 0, dt_ngolden);
	tcase_add_test(golden, test_golden_with_one_register_edited_diverges_naming_it);
	tcase_add_test(golden, test_golden_with_one_flag_flipped_diverges_naming_rflags);
	tcase_add_test(golden, test_golden_cut_short_is_refused);
	tcase_add_test(golden, test_trace_header_makes_the_golden_self_describing);
	tcase_add_test(golden, test_golden_without_header_still_read);
	tcase_add_test(golden, test_golden_with_wrong_ram_hash_diverges);
	tcase_add_loop_test(golden, test_golden_with_a_malformed_field_exits_2_naming_it, 0,
			    N(bad_goldens));
	tcase_add_test(golden, test_golden_with_a_line_not_json_exits_2);
	tcase_add_test(golden, test_golden_reader_api);
	suite_add_tcase(s, golden);

	return tv_test_main(s);
}
