/* --trace output: one JSON object per exit that parses back, with the canonical state. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "run_guest.h"
#include "trace.h"
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
	const uint8_t *image;
	char line[8192];
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
	p->n = 0;
	while (fgets(line, sizeof(line), f)) {
		json_error_t err;

		ck_assert_int_lt(p->n, MAX_LINES);
		ck_assert_msg(line[strlen(line) - 1] == '\n', "a trace line is not terminated");
		p->rec[p->n] = json_loads(line, 0, &err);
		ck_assert_msg(p->rec[p->n] != NULL, "line %d does not parse: %s", p->n + 1, err.text);
		p->n++;
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
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
