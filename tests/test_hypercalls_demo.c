/* The demo guest `hypercalls` on both engines in every mode: its lines, exactly, and its exit
 * counts and hypercalls checked against a trace of the same run. Helpers and guests: hc_test.h. */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "hc_test.h"
#include "trace.h"
#include "trace_lines.h"
#include "tv_test.h"

/* --- the demo guest `hypercalls` -------------------------------------------------------------- */

/* Runs the built-in hypercalls guest; false with the reason when engine cannot run mode. */
static bool run_demo(struct tv_test_run *t, const char *engine, enum tv_mode mode, FILE *trace,
		     char *why, size_t why_len)
{
	const struct tv_builtin *g = tv_builtin_find("hypercalls");
	const uint8_t *image;
	size_t len;

	ck_assert_ptr_nonnull(g);
	tv_builtin_image(g, mode, &image, &len);
	if (!hc_prepare(t, engine, mode, image, len, trace, why, why_len))
		return false;
	hc_run(t);
	ck_assert_msg(t->last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t->last.reason), t->last.detail);
	return true;
}

/* Compares line by line, so a failure names the first line that differs. */
static void expect_lines(const char *got, const char *want)
{
	int line = 1;

	while (*got || *want) {
		size_t g = strcspn(got, "\n"), w = strcspn(want, "\n");

		ck_assert_msg(g == w && memcmp(got, want, g) == 0 && got[g] == want[w],
			      "line %d: got \"%.*s\", expected \"%.*s\"", line, (int)g, got, (int)w,
			      want);
		got += g + (got[g] != '\0');
		want += w + (want[w] != '\0');
		line++;
	}
}

static void demo_prints_exactly(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256], want[1024];

	if (!run_demo(&t, engine, mode, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	snprintf(want, sizeof(want),
		 "HC_print32bit(1234567890):\n"
		 "1234567890\n"
		 "HC_printStr between two HC_numExits\n"
		 "numExits before: 3\n"
		 "numExits after: 5\n"
		 "difference: 2\n"
		 "HC_numExitsByType:\n"
		 "IO in: 3\n"
		 "IO out: 10\n"
		 "HC_gvaToHva(0x400): %" PRIu32 "\n"
		 "HC_gvaToHva(0xfffff000): Invalid GVA\n"
		 "0\n",
		 hva32(0x400));
	expect_lines(t.console, want);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 0);
	ck_assert_uint_eq(t.m.stats.total, 21); /* 20 hypercalls and the hlt */
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(demo_guest_prints_exactly_the_expected_lines, demo_prints_exactly)

/* --- against a trace of the same run ---------------------------------------------------------- */

#define MAX_RECORDS 64

struct trace {
	json_t *rec[MAX_RECORDS];
	int n;
};

/* Parses every exit record of the trace file f, which it closes. The closing {"ram": ...} line
 * (guest RAM's size and hash) is checked for its place and left out. */
static void trace_load(struct trace *tr, FILE *f)
{
	struct tv_trace_reader in = { .f = f, .name = "the trace" };
	bool ram_seen = false;
	json_t *rec;

	rewind(f);
	tr->n = 0;
	while ((rec = tv_test_trace_next(&in))) {
		ck_assert_msg(!ram_seen, "a line after the closing RAM line");
		if (json_object_get(rec, "ram")) {
			ram_seen = true;
			json_decref(rec);
			continue;
		}
		ck_assert_int_lt(tr->n, MAX_RECORDS);
		tr->rec[tr->n++] = rec;
	}
	fclose(f);
}

static void trace_free(struct trace *tr)
{
	for (int i = 0; i < tr->n; i++)
		json_decref(tr->rec[i]);
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static uint64_t hex_of(const json_t *obj, const char *key)
{
	uint64_t v = 0;

	ck_assert_msg(tv_trace_hex(obj, key, &v) == 0, "\"%s\" is missing or not hex", key);
	return v;
}

/* Runs the demo guest with a trace; false with the reason when engine cannot run mode. */
static bool traced_demo(struct tv_test_run *t, struct trace *tr, const char *engine,
			enum tv_mode mode, char *why, size_t why_len)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	if (!run_demo(t, engine, mode, f, why, why_len)) {
		fclose(f);
		return false;
	}
	trace_load(tr, f);
	return true;
}

static void numexitsbytype_matches_trace(const char *engine, enum tv_mode mode)
{
	unsigned long in = 0, out = 0, said_in, said_out;
	struct tv_test_run t;
	struct trace tr;
	const char *text;
	char why[256];
	int i;

	if (!traced_demo(&t, &tr, engine, mode, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	text = strstr(t.console, "HC_numExitsByType:\n");
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "HC_numExitsByType:\nIO in: %lu\nIO out: %lu\n", &said_in,
				&said_out), 2);

	for (i = 0; i < tr.n; i++) {
		const json_t *io = json_object_get(tr.rec[i], "io");
		const json_t *hc = json_object_get(tr.rec[i], "hypercall");

		if (io && strcmp(str_of(io, "dir"), "in") == 0)
			in++;
		else if (io)
			out++;
		if (hc && strcmp(str_of(hc, "name"), "HC_numExitsByType") == 0)
			break;
	}
	ck_assert_msg(i < tr.n, "no HC_numExitsByType exit in the trace");
	ck_assert_uint_eq(said_in, in);
	ck_assert_uint_eq(said_out, out);
	trace_free(&tr);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexitsbytype_matches_the_io_exits_in_the_trace, numexitsbytype_matches_trace)

static const char *const hc_names[] = {
	[HC_PORT_PRINT8BIT - 0xe9] = "HC_print8bit",
	[HC_PORT_PRINT32BIT - 0xe9] = "HC_print32bit",
	[HC_PORT_NUMEXITS - 0xe9] = "HC_numExits",
	[HC_PORT_PRINTSTR - 0xe9] = "HC_printStr",
	[HC_PORT_NUMEXITSBYTYPE - 0xe9] = "HC_numExitsByType",
	[HC_PORT_GVATOHVA - 0xe9] = "HC_gvaToHva",
};

/* The first (up to) four bytes of a trace's io.data, which is hex in memory order. */
static uint32_t data_le32(const char *hex)
{
	uint32_t value = 0;

	ck_assert_ptr_nonnull(hex);
	for (int i = 0; i < 4 && hex[2 * i] && hex[2 * i + 1]; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

		value |= (uint32_t)strtoul(byte, NULL, 16) << (8 * i);
	}
	return value;
}

/* Checks one IO record's "hypercall" object against the record's own port, data and registers. */
static void expect_hypercall_record(const json_t *rec)
{
	const json_t *io = json_object_get(rec, "io"), *hc = json_object_get(rec, "hypercall");
	const json_t *regs = json_object_get(rec, "regs");
	json_int_t port = json_integer_value(json_object_get(io, "port"));
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	uint32_t value = data_le32(str_of(io, "data"));

	ck_assert_msg(hc, "exit %" PRIu64 " on port 0x%x has no hypercall object", seq, (int)port);
	ck_assert_int_ge(port, 0xe9);
	ck_assert_int_le(port, 0xee);
	ck_assert_str_eq(str_of(hc, "name"), hc_names[port - 0xe9]);

	switch (port) {
	case HC_PORT_PRINT8BIT:
		ck_assert_uint_eq(hex_of(hc, "arg"), value & 0xff);
		break;
	case HC_PORT_PRINT32BIT:
	case HC_PORT_PRINTSTR:
		ck_assert_uint_eq(hex_of(hc, "arg"), value);
		ck_assert_uint_eq(hex_of(hc, "arg"), hex_of(regs, "rax") & 0xffffffff);
		if (port == HC_PORT_PRINTSTR) { /* the string printed, in the record: ASCII here */
			ck_assert_ptr_nonnull(str_of(hc, "text"));
			ck_assert_uint_eq(strlen(str_of(hc, "text")), hex_of(hc, "result"));
		}
		break;
	case HC_PORT_NUMEXITS:
		ck_assert_uint_eq(hex_of(hc, "result"), seq); /* exits so far, this one too */
		ck_assert_uint_eq(hex_of(hc, "result"), hex_of(regs, "rax") & 0xffffffff);
		break;
	case HC_PORT_NUMEXITSBYTYPE:
		ck_assert_uint_eq(hex_of(hc, "result"), HC_SCRATCH);
		ck_assert_uint_eq(hex_of(regs, "rax") & 0xffffffff, HC_SCRATCH);
		break;
	case HC_PORT_GVATOHVA:
		ck_assert_uint_eq(hex_of(hc, "arg"), hex_of(regs, "rbx"));
		ck_assert_uint_eq(hex_of(hc, "result"), hex_of(regs, "rax") & 0xffffffff);
		ck_assert_uint_eq(hex_of(hc, "result"), value);
		/* the demo's second call is the invalid one, and only it carries an error */
		ck_assert_int_eq(json_object_get(hc, "error") != NULL,
				 hex_of(hc, "arg") == 0xfffff000);
		if (json_object_get(hc, "error"))
			break;
		/* The whole host address: EAX's 32 bits below, a 64-bit pointer above them. */
		ck_assert_uint_eq(hex_of(hc, "hva") & 0xffffffff, hex_of(hc, "result"));
		ck_assert_uint_ne(hex_of(hc, "hva") >> 32, 0);
		ck_assert_uint_eq(hex_of(hc, "gpa"), hex_of(hc, "arg")); /* mapped one to one */
		break;
	}
	if (port != HC_PORT_GVATOHVA)
		ck_assert_ptr_null(json_object_get(hc, "error"));
}

static void trace_records_hypercalls(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	struct trace tr;
	char why[256];

	if (!traced_demo(&t, &tr, engine, mode, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	ck_assert_int_eq(tr.n, 21);
	for (int i = 0; i < tr.n; i++) {
		if (strcmp(str_of(tr.rec[i], "reason"), "IO") == 0)
			expect_hypercall_record(tr.rec[i]);
		else
			ck_assert_ptr_null(json_object_get(tr.rec[i], "hypercall"));
	}
	ck_assert_str_eq(str_of(tr.rec[tr.n - 1], "reason"), "HLT");
	trace_free(&tr);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(trace_records_name_arg_and_result_of_each_hypercall, trace_records_hypercalls)

static void trace_records_failure(const char *engine, enum tv_mode mode)
{
	FILE *f = tmpfile();
	struct tv_test_run t;
	const json_t *hc;
	struct trace tr;
	char why[256];

	ck_assert_ptr_nonnull(f);
	if (!hc_prepare_guest(&t, engine, mode, &printstr_outside_ram, f, why, sizeof(why))) {
		fclose(f);
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	}
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&printstr_outside_ram, mode));
	trace_load(&tr, f);
	ck_assert_int_eq(tr.n, 2);
	hc = json_object_get(tr.rec[0], "hypercall");
	ck_assert_str_eq(str_of(hc, "name"), "HC_printStr");
	ck_assert_uint_eq(hex_of(hc, "arg"), OUTSIDE);
	ck_assert_ptr_null(json_object_get(hc, "result"));
	ck_assert_str_eq(str_of(hc, "error"), t.m.hc.error);
	ck_assert_ptr_nonnull(strstr(str_of(hc, "error"), "outside guest RAM"));
	trace_free(&tr);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(trace_records_the_error_of_a_failed_hypercall, trace_records_failure)

int main(void)
{
	Suite *s = suite_create("hypercalls_demo");
	TCase *demo = tcase_create("demo_guest");

	hc_probe_all();

	tcase_set_timeout(demo, 120);
	ADD_ON_EACH_ENGINE(demo, demo_guest_prints_exactly_the_expected_lines, 0);
	ADD_ON_EACH_ENGINE(demo, numexitsbytype_matches_the_io_exits_in_the_trace, 0);
	ADD_ON_EACH_ENGINE(demo, trace_records_name_arg_and_result_of_each_hypercall, 0);
	ADD_ON_EACH_ENGINE(demo, trace_records_the_error_of_a_failed_hypercall, 0);
	suite_add_tcase(s, demo);
	return tv_test_main(s);
}
