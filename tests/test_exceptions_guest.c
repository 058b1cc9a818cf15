/* The built-in guests that take exceptions on purpose, `exceptions` and `interrupts`
 * (guests/exceptions.h), run as a user runs them: `twinvm run --guest G --mode M --backend E`
 * must print exactly the lines below, one "ok" per case, and exit 0. The guests check every frame
 * themselves, from the SDM, so these runs are the oracle where there is no KVM. On KVM,
 * `exceptions` must pass in every mode the probe runs; `interrupts` may instead stop at one of the
 * instructions a KVM that emulates the guest cannot execute (kvm-pvm), with every line before it
 * ok. And the guest's checks can fail: one expectation changed in guest RAM gives a FAILED line, a
 * nonzero EAX and a failed host-side check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "run_binary.h"
#include "run_guest.h"
#include "tv_test.h"

static const char *const engines[] = { "kvm", "emu" };

/* What `exceptions` prints in each mode, then its summary. */
/* What protected and paged32 mode print alike, before paged32's two #PF lines. */
#define PROTECTED_LINES \
	"#DE: ok (div by zero)\n" \
	"#UD: ok (ud2)\n" \
	"#NM: ok (fninit with CR0.TS)\n" \
	"#DF: ok (#GP through a not-present gate: error 0x0)\n" \
	"#NP: ok (DS loaded with a not-present segment: error 0x20)\n" \
	"#SS: ok (SS loaded with a not-present segment: error 0x20)\n" \
	"#GP: ok (DS loaded with a selector past the GDT limit: error 0x40)\n"

static const char *const exceptions_out[TV_MODE_COUNT] = {
	[TV_MODE_REAL] =
		"#DE: ok (div by zero)\n"
		"#BP: ok (int3)\n"
		"#OF: ok (into with OF set)\n"
		"#UD: ok (ud2)\n"
		"#NM: ok (fninit with CR0.TS)\n"
		"#GP: ok (fxsave to an address not aligned to 16)\n"
		"int $0x21: ok (software interrupt)\n"
		"exceptions: all 7 ok\n",
	[TV_MODE_PROTECTED] =
		PROTECTED_LINES
		"exceptions: all 7 ok\n",
	[TV_MODE_PAGED32] =
		PROTECTED_LINES
		"#PF: ok (read of a not-present page: cr2 0x40000123, error 0x0)\n"
		"#PF: ok (write to a read-only page: cr2 0x40000123, error 0x3)\n"
		"exceptions: all 9 ok\n",
	[TV_MODE_LONG] =
		"#DE: ok (div by zero)\n"
		"#UD: ok (ud2)\n"
		"#UD: ok (into in 64-bit code)\n"
		"#NM: ok (fninit with CR0.TS)\n"
		"#DF: ok (#GP through a not-present gate: error 0x0)\n"
		"#NP: ok (DS loaded with a not-present segment: error 0x20)\n"
		"#SS: ok (SS loaded with a not-present segment: error 0x20)\n"
		"#GP: ok (DS loaded with a selector past the GDT limit: error 0x40)\n"
		"#GP: ok (non-canonical address: error 0x0)\n"
		"#PF: ok (read where no table maps: cr2 0x123456789000, error 0x0)\n"
		"#PF: ok (write to a read-only page: cr2 0x40000123, error 0x3)\n"
		"exceptions: all 11 ok\n",
};

static const char *const interrupts_out[TV_MODE_COUNT] = {
	[TV_MODE_REAL] =
		"#DB: ok (single step)\n"
		"#BP: ok (int3)\n"
		"#OF: ok (into with OF set)\n"
		"#BR: ok (bound out of range)\n"
		"int $0x21: ok (software interrupt)\n"
		"interrupts: all 5 ok\n",
	[TV_MODE_PROTECTED] =
		"#DB: ok (single step)\n"
		"#BP: ok (int3)\n"
		"#OF: ok (into with OF set)\n"
		"#BR: ok (bound out of range)\n"
		"#TS: ok (iret with NT to a back link that is no TSS: error 0x20)\n"
		"int $0x80: ok (software interrupt)\n"
		"interrupts: all 6 ok\n",
	[TV_MODE_PAGED32] =
		"#DB: ok (single step)\n"
		"#BP: ok (int3)\n"
		"#OF: ok (into with OF set)\n"
		"#BR: ok (bound out of range)\n"
		"#TS: ok (iret with NT to a back link that is no TSS: error 0x20)\n"
		"int $0x80: ok (software interrupt)\n"
		"interrupts: all 6 ok\n",
	[TV_MODE_LONG] =
		"#DB: ok (single step)\n"
		"#BP: ok (int3)\n"
		"int $0x80: ok (software interrupt)\n"
		"interrupts: all 3 ok\n",
};

/* The host-side check's line after the guest's own (core/guest/builtin.c). */
#define CHECKS_OK "guest checks: ok (EAX 0)\n"

/* `twinvm run --backend engine --mode mode --guest guest`; false, with the probe's reason in why,
 * when the engine cannot run the mode here. */
static bool run_guest(struct result *r, const char *engine, enum tv_mode mode, const char *guest,
		      char *why, size_t len)
{
	const char *args[] = { "run", "--backend", engine, "--mode", tv_mode_name(mode),
			       "--guest", guest, NULL };

	if (!tv_test_engine(engine, mode, why, len))
		return false;
	tv_run_binary("TWINVM_BIN", args, r);
	return true;
}

/* Compares line by line, so a failure names the first line that differs (and shows err, where
 * twinvm said how the guest ended). */
static void expect_lines(const char *what, const char *got, const char *want, const char *err)
{
	int line = 1;

	while (*got || *want) {
		size_t g = strcspn(got, "\n"), w = strcspn(want, "\n");

		ck_assert_msg(g == w && memcmp(got, want, g) == 0 && got[g] == want[w],
			      "%s line %d: got \"%.*s\", expected \"%.*s\"; stderr: %s", what, line,
			      (int)g, got, (int)w, want, err);
		got += g + (got[g] != '\0');
		want += w + (want[w] != '\0');
		line++;
	}
}

static void expect_all_ok(const char *engine, enum tv_mode mode, const char *guest,
			  const char *const out[TV_MODE_COUNT])
{
	char why[1024], want[2048], what[128];
	struct result r;

	if (!run_guest(&r, engine, mode, guest, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	snprintf(what, sizeof(what), "%s on %s, %s mode", guest, engine, tv_mode_name(mode));
	snprintf(want, sizeof(want), "%s%s", out[mode], CHECKS_OK);
	expect_lines(what, r.out, want, r.err);
	ck_assert_msg(r.status == 0, "%s: exit %d: %s", what, r.status, r.err);
}

/* _i: the mode. */
START_TEST(test_exceptions_all_ok_on_emu)
{
	expect_all_ok("emu", (enum tv_mode)_i, "exceptions", exceptions_out);
}
END_TEST

START_TEST(test_exceptions_all_ok_on_kvm)
{
	expect_all_ok("kvm", (enum tv_mode)_i, "exceptions", exceptions_out);
}
END_TEST

START_TEST(test_interrupts_all_ok_on_emu)
{
	expect_all_ok("emu", (enum tv_mode)_i, "interrupts", interrupts_out);
}
END_TEST

/* A KVM that executes the guest in its instruction emulator (kvm-pvm: real and protected mode,
 * software interrupts in long mode) stops with an emulation error at bound, int n, int3, into or
 * iret. Then every line printed before must be what a full run prints, and the instruction it
 * could not emulate one of those. Any other KVM must run it all. */
START_TEST(test_interrupts_all_ok_on_kvm_or_stopped_where_it_cannot_emulate)
{
	static const char *const opcodes[] = { "cc ", "cd ", "ce ", "cf ", "62 ", "66 62 " };
	static const char marker[] = "cannot emulate the instruction at ";
	enum tv_mode mode = (enum tv_mode)_i;
	char why[1024], want[2048];
	const char *at;
	struct result r;
	bool known = false;

	if (!run_guest(&r, "kvm", mode, "interrupts", why, sizeof(why)))
		TV_SKIP("kvm/%s: %s", tv_mode_name(mode), why);
	snprintf(want, sizeof(want), "%s%s", interrupts_out[mode], CHECKS_OK);
	if (r.status == 0) {
		expect_lines("interrupts on kvm", r.out, want, r.err);
		return;
	}
	at = strstr(r.err, marker);
	ck_assert_msg(at != NULL, "%s mode: exit %d, and not at an emulation error: %s",
		      tv_mode_name(mode), r.status, r.err);
	at += strlen(marker);
	for (size_t i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++)
		known |= strncmp(at, opcodes[i], strlen(opcodes[i])) == 0;
	ck_assert_msg(known, "%s mode: KVM could not emulate an instruction that is none of bound, "
		      "int n, int3, into, iret: %s", tv_mode_name(mode), r.err);
	ck_assert_msg(strncmp(want, r.out, strlen(r.out)) == 0,
		      "%s mode: the lines before the emulation error are not a full run's first "
		      "lines:\n%s", tv_mode_name(mode), r.out);
}
END_TEST

/* ---- the checks can fail --------------------------------------------------------------------- */

/* Where the NUL-terminated text is in the image, or 0. */
static uint64_t find_text(const uint8_t *image, size_t len, const char *text)
{
	size_t n = strlen(text) + 1;

	for (size_t a = 1; a + n <= len; a++)
		if (memcmp(image + a, text, n) == 0)
			return a;
	return 0;
}

/* The #DE case's expected vector in the image. struct event_case (guests/exceptions.h) begins
 * with the pointers name ("#DE") and what ("div by zero"), then raise, insn and next, all
 * word-sized (8 bytes in long mode, else 4), then the vector. */
static uint64_t de_vector_offset(const uint8_t *image, size_t len, enum tv_mode mode)
{
	uint64_t name = find_text(image, len, "#DE"), what = find_text(image, len, "div by zero");
	unsigned ws = mode == TV_MODE_LONG ? 8 : 4;

	ck_assert_msg(name && what, "the image has no \"#DE\" or no \"div by zero\"");
	for (size_t a = 0; a + 2 * ws <= len; a += ws) {
		uint64_t w0 = 0, w1 = 0;

		memcpy(&w0, image + a, ws);
		memcpy(&w1, image + a + ws, ws);
		if (w0 == name && w1 == what)
			return a + 5 * ws;
	}
	ck_abort_msg("no case in the image points at \"#DE\" and \"div by zero\"");
	return 0;
}

/* _i: the engine (0 kvm, 1 emu); protected mode, which both can run. */
START_TEST(test_exceptions_reports_a_frame_that_differs_from_its_expectation)
{
	static const char first[] = "#DE: FAILED (div by zero: vector 0x0, expected 0x6";
	const struct tv_builtin *g = tv_builtin_find("exceptions");
	const enum tv_mode mode = TV_MODE_PROTECTED;
	const struct tv_backend_ops *be;
	const uint8_t *image, ud = 6;
	char why[1024], *check_out = NULL;
	size_t len, check_len = 0;
	struct tv_test_run t;
	FILE *check;

	be = tv_test_engine(engines[_i], mode, why, sizeof(why));
	if (!be)
		TV_SKIP("%s/%s: %s", engines[_i], tv_mode_name(mode), why);
	ck_assert(tv_builtin_image(g, mode, &image, &len));
	tv_test_prepare(&t, be, mode, image, len, NULL);
	ck_assert_int_eq(tv_ram_write(&t.m.ram, de_vector_offset(image, len, mode), &ud, 1), 0);
	tv_test_finish(&t, 60);

	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_msg(strncmp(t.console, first, strlen(first)) == 0, "first line: %s", t.console);
	ck_assert_msg(strstr(t.console, "\nexceptions: 1 of 7 FAILED\n"), "%s", t.console);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 1);
	check = open_memstream(&check_out, &check_len);
	ck_assert_ptr_nonnull(check);
	ck_assert_int_eq(g->check(&t.m, check), 1);
	fclose(check);
	ck_assert_str_eq(check_out, "guest checks: FAILED (EAX 0x1)\n");
	free(check_out);
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exceptions_guest");
	TCase *emu = tcase_create("emu");
	TCase *kvm = tcase_create("kvm");
	TCase *checks = tcase_create("checks");

	tcase_set_timeout(emu, 120);
	tcase_add_loop_test(emu, test_exceptions_all_ok_on_emu, 0, TV_MODE_COUNT);
	tcase_add_loop_test(emu, test_interrupts_all_ok_on_emu, 0, TV_MODE_COUNT);
	suite_add_tcase(s, emu);

	tcase_set_timeout(kvm, 120);
	tcase_add_loop_test(kvm, test_exceptions_all_ok_on_kvm, 0, TV_MODE_COUNT);
	tcase_add_loop_test(kvm, test_interrupts_all_ok_on_kvm_or_stopped_where_it_cannot_emulate, 0,
			    TV_MODE_COUNT);
	suite_add_tcase(s, kvm);

	tcase_set_timeout(checks, 120);
	tcase_add_loop_test(checks, test_exceptions_reports_a_frame_that_differs_from_its_expectation,
			    0, 2);
	suite_add_tcase(s, checks);
	return tv_test_main(s);
}
