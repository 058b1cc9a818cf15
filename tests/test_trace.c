/* --trace output: one JSON object per exit that parses back, with the canonical state. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "run_guest.h"
#include "trace.h"
#include "trace_lines.h"
#include "tv_test.h"

#define MAX_LINES 64

struct parsed {
	json_t *rec[MAX_LINES];
	int n;
};

/* Runs hello in mode on engine with a trace and parses every line of it; false when skipped. */
static bool traced_hello(const char *engine, enum tv_mode mode, struct parsed *p, char *why,
			 size_t why_len)
{
	const struct tv_builtin *hello = tv_builtin_find("hello");
	const struct tv_backend_ops *be = tv_test_engine(engine, mode, why, why_len);
	struct tv_test_run t;
	struct tv_trace_reader in = { .name = "the trace" };
	const uint8_t *image;
	json_t *rec;
	size_t len;
	FILE *f;

	if (!be)
		return false;
	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert(tv_builtin_image(hello, mode, &image, &len));
	tv_test_run(&t, be, mode, image, len, f, 30);
	ck_assert_int_eq(t.last.reason, TV_EXIT_HLT);
	ck_assert_str_eq(t.console, "Hello, world!\n");
	tv_test_run_end(&t);

	rewind(f);
	in.f = f;
	p->n = 0;
	while ((rec = tv_test_trace_next(&in))) {
		ck_assert_int_lt(p->n, MAX_LINES);
		ck_assert_msg(in.terminated, "a trace line is not terminated");
		p->rec[p->n++] = rec;
	}
	fclose(f);
	return true;
}

static void parsed_free(struct parsed *p)
{
	for (int i = 0; i < p->n; i++)
		json_decref(p->rec[i]);
}

static uint64_t reg(const json_t *rec, const char *name)
{
	uint64_t v;

	ck_assert_int_eq(tv_trace_hex(json_object_get(rec, "regs"), name, &v), 0);
	return v;
}

static void trace_parses_back(const char *engine, enum tv_mode mode)
{
	struct parsed p;
	char why[256];

	if (!traced_hello(engine, mode, &p, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	/* 15 exits, then guest RAM's size and hash for `diff --against`. */
	ck_assert_int_eq(p.n, 16);
	{
		const json_t *ram = json_object_get(p.rec[15], "ram");
		uint64_t size = 0, hash = 0;

		ck_assert_ptr_nonnull(ram);
		ck_assert_int_eq(tv_trace_hex(ram, "size", &size), 0);
		ck_assert_uint_eq(size, 2 << 20);
		ck_assert_int_eq(tv_trace_hex(ram, "fnv1a64", &hash), 0);
		ck_assert_uint_ne(hash, 0);
	}
	for (int i = 0; i < 15; i++) {
		const json_t *rec = p.rec[i];

		ck_assert_int_eq(json_integer_value(json_object_get(rec, "seq")), i + 1);
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "vm")), 0);
		ck_assert_ptr_nonnull(json_object_get(rec, "sregs"));
		if (i < 14) {
			const json_t *io = json_object_get(rec, "io");

			ck_assert_str_eq(json_string_value(json_object_get(rec, "reason")), "IO");
			ck_assert_int_eq(json_integer_value(json_object_get(rec, "code")), 2);
			ck_assert_int_eq(json_integer_value(json_object_get(io, "port")), 0xe9);
			ck_assert_str_eq(json_string_value(json_object_get(io, "dir")), "out");
			/* The canonical state: the OUT has completed, AL holds the character. */
			ck_assert_uint_eq(reg(rec, "rax") & 0xff, (uint8_t)"Hello, world!\n"[i]);
		} else {
			ck_assert_str_eq(json_string_value(json_object_get(rec, "reason")), "HLT");
			ck_assert_uint_eq(reg(rec, "rax"), 42);
		}
	}
	parsed_free(&p);
}

/* The canonical RIP at every exit is the same on both engines: this is what lets `diff` compare. */
static void engines_agree(enum tv_mode mode)
{
	struct parsed k, e;
	char why[256];

	if (!traced_hello("kvm", mode, &k, why, sizeof(why)))
		TV_SKIP("kvm/%s: %s", tv_mode_name(mode), why);
	if (!traced_hello("emu", mode, &e, why, sizeof(why))) {
		parsed_free(&k);
		TV_SKIP("emu/%s: %s", tv_mode_name(mode), why);
	}
	ck_assert_int_eq(k.n, e.n);
	for (int i = 0; i < k.n - 1; i++) { /* the last line is RAM's hash */
		ck_assert_str_eq(json_string_value(json_object_get(k.rec[i], "reason")),
				 json_string_value(json_object_get(e.rec[i], "reason")));
		ck_assert_msg(reg(k.rec[i], "rip") == reg(e.rec[i], "rip"),
			      "exit %d: kvm rip 0x%llx, emu rip 0x%llx", i + 1,
			      (unsigned long long)reg(k.rec[i], "rip"),
			      (unsigned long long)reg(e.rec[i], "rip"));
		ck_assert_uint_eq(reg(k.rec[i], "rax"), reg(e.rec[i], "rax"));
	}
	/* And guest RAM ends the same, byte for byte as far as the hash can tell. */
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(k.rec[k.n - 1], "ram"),
							   "fnv1a64")),
			 json_string_value(json_object_get(json_object_get(e.rec[e.n - 1], "ram"),
							   "fnv1a64")));
	parsed_free(&k);
	parsed_free(&e);
}

/* The reader: a line far longer than any stdio buffer comes back whole, a last line without a
 * newline is read and flagged, and a line that is no JSON object is refused naming file and line. */
START_TEST(test_trace_reader_reads_long_lines_whole_and_names_file_and_line)
{
	enum { LONG = 20000 };
	static char text[LONG + 128];
	struct tv_trace_reader in = { .name = "t.jsonl" };
	const char *data;
	json_t *obj;
	char msg[256];
	int n;

	n = snprintf(text, sizeof(text), "{\"seq\":1}\n{\"data\":\"");
	memset(text + n, 'a', LONG);
	snprintf(text + n + LONG, sizeof(text) - n - LONG, "\"}\n{\"seq\":3}\n[4]\n{\"seq\":5}");
	in.f = fmemopen(text, strlen(text), "r");
	ck_assert_ptr_nonnull(in.f);
	ck_assert_int_eq(tv_trace_read(&in, &obj, msg, sizeof(msg)), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(obj, "seq")), 1);
	json_decref(obj);
	ck_assert_int_eq(tv_trace_read(&in, &obj, msg, sizeof(msg)), 1);
	data = json_string_value(json_object_get(obj, "data"));
	ck_assert_msg(data && strlen(data) == LONG, "the long line came back cut");
	json_decref(obj);
	ck_assert_int_eq(tv_trace_read(&in, &obj, msg, sizeof(msg)), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(obj, "seq")), 3);
	ck_assert(in.terminated);
	json_decref(obj);
	ck_assert_int_eq(tv_trace_read(&in, &obj, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_null(obj);
	ck_assert_str_eq(msg, "t.jsonl line 4: not a JSON object");
	ck_assert_int_eq(tv_trace_read(&in, &obj, msg, sizeof(msg)), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(obj, "seq")), 5);
	ck_assert(!in.terminated);
	ck_assert_uint_eq(in.line, 5);
	json_decref(obj);
	ck_assert_int_eq(tv_trace_read(&in, &obj, msg, sizeof(msg)), 0);
	fclose(in.f);
}
END_TEST

/* A line over TV_TRACE_LINE_MAX - 1 bytes is refused, not cut into pieces that parse. */
START_TEST(test_trace_reader_refuses_a_line_over_the_limit)
{
	static char text[TV_TRACE_LINE_MAX + 16];
	struct tv_trace_reader in = { .name = "t.jsonl" };
	json_t *obj;
	char msg[256];

	memset(text, ' ', sizeof(text));
	memcpy(text + TV_TRACE_LINE_MAX + 4, "{}\n", 3);
	in.f = fmemopen(text, sizeof(text), "r");
	ck_assert_ptr_nonnull(in.f);
	ck_assert_int_eq(tv_trace_read(&in, &obj, msg, sizeof(msg)), -EFBIG);
	ck_assert_ptr_null(obj);
	ck_assert_msg(strcmp(msg, "t.jsonl line 1: longer than 65535 bytes") == 0, "%s", msg);
	fclose(in.f);
}
END_TEST

START_TEST(test_trace_parses_back_kvm) { trace_parses_back("kvm", (enum tv_mode)_i); }
END_TEST
START_TEST(test_trace_parses_back_emu) { trace_parses_back("emu", (enum tv_mode)_i); }
END_TEST
START_TEST(test_trace_canonical_rip_same_on_both_engines) { engines_agree((enum tv_mode)_i); }
END_TEST

int main(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("jsonl");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_trace_parses_back_kvm, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_trace_parses_back_emu, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_trace_canonical_rip_same_on_both_engines, 0, TV_MODE_COUNT);
	tcase_add_test(tc, test_trace_reader_reads_long_lines_whole_and_names_file_and_line);
	tcase_add_test(tc, test_trace_reader_refuses_a_line_over_the_limit);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
