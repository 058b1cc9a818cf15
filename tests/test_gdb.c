/* The GDB stub with the real gdb (gdb -batch against `twinvm run --gdb`), on both engines, in
 * every mode each runs: a breakpoint, three steps, registers read and written (the guest prints
 * the value gdb gave it), a string read from guest memory, a watchpoint. The addresses come from
 * the guests' own traces, so the tests follow the guests. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdb_session.h"
#include "run_binary.h"
#include "tv_test.h"

static const char *const engines[] = { "emu", "kvm" };
static const enum tv_mode modes[] = { TV_MODE_REAL, TV_MODE_PROTECTED, TV_MODE_PAGED32,
				      TV_MODE_LONG };

/* _i: engine and mode; skips where that engine cannot run the mode, or there is no gdb. */
#define SESSION_OR_SKIP(engine, mode)                                                  \
	const char *engine = engines[_i / 4];                                           \
	enum tv_mode mode = modes[_i % 4];                                              \
	do {                                                                            \
		char why_[512];                                                         \
		if (!gdb_present(why_, sizeof(why_)))                                   \
			TV_SKIP("%s", why_);                                            \
		if (!tv_test_engine(engine, mode, why_, sizeof(why_)))                  \
			TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why_);         \
	} while (0)

/* Record n (from 1) of the guest's trace in mode, on the emulator: its "insn" or "hypercall". */
static unsigned long long trace_field(const char *guest, enum tv_mode mode, int n,
				      const char *object, const char *key)
{
	struct result r;
	char *line;
	unsigned long long v = 0;
	int i = 0;

	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--mode",
				   tv_mode_name(mode), "--guest", guest, "--trace", "-", NULL }, &r);
	ck_assert_msg(r.status == 0, "%s", r.err);
	for (line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *rec = json_loads(line, 0, NULL);

		if (json_object_get(rec, "seq") && ++i == n)
			sscanf(json_string_value(json_object_get(json_object_get(rec, object), key)),
			       "%llx", &v);
		json_decref(rec);
	}
	ck_assert_msg(v, "%s/%s: record %d has no %s.%s", guest, tv_mode_name(mode), n, object,
		      key);
	return v;
}

static void run(struct gdb_session *s, const char *engine, enum tv_mode mode, const char *guest,
		const char *script)
{
	char why[512];

	ck_assert_msg(gdb_session_run((const char *const[]){ "--backend", engine, "--mode",
					      tv_mode_name(mode), "--guest", guest, NULL },
				      script, s, why, sizeof(why)),
		      "%s/%s: %s\ngdb: %s\ntwinvm: %s", engine, tv_mode_name(mode), why, s->gdb, s->err);
}

/* gdb's "$N = VALUE" line for the expression printed last. */
static bool printed(const char *gdb, const char *value)
{
	char want[64];

	snprintf(want, sizeof(want), " = %s\n", value);
	return strstr(gdb, want) != NULL;
}

START_TEST(test_breakpoint_stops_at_its_address)
{
	struct gdb_session s;
	char script[256], pc[32];
	unsigned long long at;

	SESSION_OR_SKIP(engine, mode);
	at = trace_field("hello", mode, 3, "insn", "rip"); /* the third OUT */
	snprintf(script, sizeof(script), "break *0x%llx\ncontinue\nprint/x $pc\n", at);
	run(&s, engine, mode, "hello", script);
	snprintf(pc, sizeof(pc), "0x%llx", at);
	ck_assert_msg(printed(s.gdb, pc), "%s/%s: want pc %s: %s", engine, tv_mode_name(mode), pc,
		      s.gdb);
	/* gdb quits by detaching (target remote's default): the guest runs on to its halt */
	ck_assert_msg(s.status == 0 && strstr(s.err, "gdb: detached: the guest runs on") &&
		      strstr(s.out, "Hello, world!\n"), "%d: %s%s", s.status, s.out, s.err);
}
END_TEST

/* The addresses of hello's first n instructions in mode, from --step's own listing. */
static void first_insns(enum tv_mode mode, unsigned long long *addr, int n)
{
	struct result r;
	char path[64], line[256];
	int i = 0;
	FILE *f;

	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--mode",
				   tv_mode_name(mode), "--step-out",
				   tv_temp_path(path, sizeof(path), ".txt"), NULL }, &r);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (i < n && fgets(line, sizeof(line), f))
		if (line[0] != ' ') /* "0000:000d  ..." in real mode, "0x0000000d  ..." else */
			addr[i++] = strtoull(mode == TV_MODE_REAL ? strchr(line, ':') + 1 : line,
					     NULL, 16);
	fclose(f);
	unlink(path);
	ck_assert_int_eq(i, n);
}

START_TEST(test_three_steps)
{
	struct gdb_session s;
	unsigned long long at[4];
	char pc[32];

	SESSION_OR_SKIP(engine, mode);
	first_insns(mode, at, 4);
	snprintf(pc, sizeof(pc), "0x%llx", at[3]);
	run(&s, engine, mode, "hello", "stepi\nstepi\nstepi\nprint/x $pc\n");
	ck_assert_msg(printed(s.gdb, pc), "%s/%s: want pc %s: %s", engine, tv_mode_name(mode), pc,
		      s.gdb);
}
END_TEST

/* HC_print32bit prints EAX: stopped at its OUT, gdb reads 1234567890 there and writes 42, and
 * the guest prints 42. */
START_TEST(test_registers_read_and_written)
{
	struct gdb_session s;
	char script[256];
	unsigned long long at;

	SESSION_OR_SKIP(engine, mode);
	at = trace_field("hypercalls", mode, 2, "insn", "rip");
	snprintf(script, sizeof(script), "break *0x%llx\ncontinue\nprint $eax\nset $eax = 42\n"
		 "delete\ncontinue\n", at);
	run(&s, engine, mode, "hypercalls", script);
	ck_assert_msg(printed(s.gdb, "1234567890"), "%s/%s: %s", engine, tv_mode_name(mode), s.gdb);
	ck_assert_msg(strstr(s.out, "HC_print32bit(1234567890):\n42\n"), "%s/%s: %s", engine,
		      tv_mode_name(mode), s.out);
	ck_assert_msg(strstr(s.gdb, "exited normally") && s.status == 0, "%d: %s", s.status, s.gdb);
}
END_TEST

START_TEST(test_string_read_from_guest_memory)
{
	struct gdb_session s;
	char script[128];
	unsigned long long at;

	SESSION_OR_SKIP(engine, mode);
	at = trace_field("hypercalls", mode, 1, "hypercall", "arg"); /* HC_printStr's string */
	snprintf(script, sizeof(script), "x/s 0x%llx\n", at);
	run(&s, engine, mode, "hypercalls", script);
	ck_assert_msg(strstr(s.gdb, "\"HC_print32bit(1234567890):\\n\""), "%s/%s: %s", engine,
		      tv_mode_name(mode), s.gdb);
}
END_TEST

/* hello stores 42 at 0x400: a watchpoint there stops the guest just after the store. */
START_TEST(test_watchpoint_stops_at_the_write)
{
	struct gdb_session s;

	SESSION_OR_SKIP(engine, mode);
	run(&s, engine, mode, "hello", "watch *(char *)0x400\ncontinue\nprint *(char *)0x400\n");
	ck_assert_msg(strstr(s.gdb, "New value = 42 '*'"), "%s/%s: %s", engine, tv_mode_name(mode),
		      s.gdb);
	ck_assert_msg(printed(s.gdb, "42 '*'"), "%s", s.gdb);
}
END_TEST

/* Five breakpoints, more than an engine's four: four where the guest never goes and one on its
 * HLT. They are found by single steps, and the guest stops at the HLT, its greeting printed,
 * instead of running to its end. */
START_TEST(test_more_breakpoints_than_the_engine_has)
{
	struct gdb_session s;
	unsigned long long hlt;
	char script[512], pc[32];

	SESSION_OR_SKIP(engine, mode);
	hlt = trace_field("hello", mode, 15, "insn", "rip");
	snprintf(script, sizeof(script), "break *0x7000\nbreak *0x7001\nbreak *0x7002\n"
		 "break *0x7003\nbreak *0x%llx\ncontinue\nprint/x $pc\n", hlt);
	run(&s, engine, mode, "hello", script);
	snprintf(pc, sizeof(pc), "0x%llx", hlt);
	ck_assert_msg(printed(s.gdb, pc), "%s/%s: want pc %s: %s", engine, tv_mode_name(mode), pc,
		      s.gdb);
	ck_assert_msg(strstr(s.gdb, "Breakpoint 5, "), "%s", s.gdb);
}
END_TEST

/* A read watchpoint is the engine's own or nothing: hello reads its string's second byte ('e'),
 * and the stop comes just after that read; where the engine's watchpoints do not fire (this
 * host's KVM, as twinvm info says), gdb is told it cannot have one. */
START_TEST(test_read_watchpoint_is_the_engines)
{
	struct gdb_session s;
	struct result r;

	SESSION_OR_SKIP(engine, mode);
	/* after the first instruction, EDX holds the string's address */
	run(&s, engine, mode, "hello", "stepi\neval \"rwatch *(char *)0x%x\", $edx + 1\n"
					"continue\nprint $pc\n");
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "info", NULL }, &r);
	if (!strcmp(engine, "kvm") && strstr(r.out, "watchpoints do not fire")) {
		ck_assert_msg(strstr(s.gdb, "Could not insert hardware watchpoint"), "%s", s.gdb);
		return;
	}
	ck_assert_msg(strstr(s.gdb, "Value = 101 'e'"), "%s/%s: %s", engine, tv_mode_name(mode),
		      s.gdb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gdb");
	TCase *tc = tcase_create("gdb");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_breakpoint_stops_at_its_address, 0, 8);
	tcase_add_loop_test(tc, test_three_steps, 0, 8);
	tcase_add_loop_test(tc, test_registers_read_and_written, 0, 8);
	tcase_add_loop_test(tc, test_string_read_from_guest_memory, 0, 8);
	tcase_add_loop_test(tc, test_watchpoint_stops_at_the_write, 0, 8);
	tcase_add_loop_test(tc, test_more_breakpoints_than_the_engine_has, 0, 8);
	tcase_add_loop_test(tc, test_read_watchpoint_is_the_engines, 0, 8);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
