/* `twinvm diff` on small raw guests, one normalisation rule each (IN/OUT, MMIO above RAM, string
 * I/O, HC_gvaToHva), and the raw guests (a triple fault, the guest's own page tables):
 * both engines agree, and each engine's trace holds the records the rule says. *
 * Whether KVM (or the emulator) runs a mode is probed, never assumed: a case that cannot run here
 * checks that diff says 77 and is reported as skipped with the probe's reason. Exit codes: 0
 * identical, 1 diverged, 2 error, 77 cannot compare here. Helpers: diff_test.h. */
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "diff_test.h"
#include "trace.h"
#include "own_page_tables.h"
#include "tv_test.h"

/* ==== the raw guests ========================================================================= */

/* IN and OUT, with the host supplying IN's value. Protected or long mode: these encodings are
 * the same in 32- and 64-bit code.
 *   0x00  e5 eb           in eax, 0xeb       ; HC_numExits: EAX = 1
 *   0x02  e7 ea           out 0xea, eax      ; HC_print32bit(EAX)
 *   0x04  e4 10           in al, 0x10        ; a port with no device: AL = 0xff
 *   0x06  e6 10           out 0x10, al       ; dropped
 *   0x08  ba 11 00 00 00  mov edx, 0x11
 *   0x0d  ed              in eax, dx         ; no device: EAX = 0xffffffff
 *   0x0e  ef              out dx, eax
 *   0x0f  f4              hlt */
static const uint8_t in_out[] = {
	0xe5, 0xeb, 0xe7, 0xea, 0xe4, 0x10, 0xe6, 0x10,
	0xba, 0x11, 0x00, 0x00, 0x00, 0xed, 0xef, 0xf4,
};

/* What the trace of in_out holds on either engine: every instruction completed, RIP past it, and
 * after an IN the value already in the register. */
static const struct want in_out_records[] = {
	{ "IO", "in", 0xeb, 4, 1, "01000000", 0x02, "rax", 0x1 },
	{ "IO", "out", 0xea, 4, 1, "01000000", 0x04, NULL, 0 },
	{ "IO", "in", 0x10, 1, 1, "ff", 0x06, "rax", 0xff },
	{ "IO", "out", 0x10, 1, 1, "ff", 0x08, NULL, 0 },
	{ "IO", "in", 0x11, 4, 1, "ffffffff", 0x0e, "rax", 0xffffffff },
	{ "IO", "out", 0x11, 4, 1, "ffffffff", 0x0f, NULL, 0 },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x10, NULL, 0 },
};

/* Protected mode with 2 MiB of RAM: 0x300000 is above RAM, so both accesses are MMIO.
 *   0x00  c7 05 00 00 30 00 78 56 34 12   mov dword [0x300000], 0x12345678   ; write, dropped
 *   0x0a  a1 00 00 30 00                  mov eax, [0x300000]                ; read: all ones
 *   0x0f  f4                              hlt */
static const uint8_t above_ram[] = {
	0xc7, 0x05, 0x00, 0x00, 0x30, 0x00, 0x78, 0x56, 0x34, 0x12,
	0xa1, 0x00, 0x00, 0x30, 0x00,
	0xf4,
};

static const struct want above_ram_records[] = {
	{ "MMIO", NULL, 0, 0, 0, "78563412", 0x0a, NULL, 0 },
	{ "MMIO", NULL, 0, 0, 0, "ffffffff", 0x0f, "rax", 0xffffffff },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x10, NULL, 0 },
};

/* Real mode, string I/O (all segments at 0). KVM gives rep insb one exit of count 5, the emulator
 * five exits of count 1.
 *   0x00  fc        cld
 *   0x01  bf 00 01  mov di, 0x100   ; ES:DI: free RAM past the image
 *   0x04  b9 05 00  mov cx, 5
 *   0x07  ba 10 00  mov dx, 0x10    ; no device: every byte read is 0xff
 *   0x0a  f3 6c     rep insb        ; five bytes to 0x100..0x104
 *   0x0c  be 18 00  mov si, 0x18    ; DS:SI: "Hello" below
 *   0x0f  b9 05 00  mov cx, 5
 *   0x12  ba e9 00  mov dx, 0xe9    ; HC_print8bit
 *   0x15  f3 6e     rep outsb       ; prints "Hello"
 *   0x17  f4        hlt
 *   0x18  "Hello" */
static const uint8_t string_io16[] = {
	0xfc, 0xbf, 0x00, 0x01, 0xb9, 0x05, 0x00, 0xba, 0x10, 0x00, 0xf3, 0x6c,
	0xbe, 0x18, 0x00, 0xb9, 0x05, 0x00, 0xba, 0xe9, 0x00, 0xf3, 0x6e, 0xf4,
	'H', 'e', 'l', 'l', 'o',
};

static const struct want string_io16_records[] = {
	{ "IO", "in", 0x10, 1, 5, "ffffffffff", 0x0c, "rdi", 0x105 },
	{ "IO", "out", 0xe9, 1, 5, "48656c6c6f", 0x17, "rsi", 0x1d },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x18, "rcx", 0 },
};

/* The same in 32-bit code (protected or long mode: the encodings are the same), with a single
 * insb and outsb after each rep to show that a string instruction without rep stays one record.
 *   0x00  fc              cld
 *   0x01  bf 00 01 00 00  mov edi, 0x100
 *   0x06  b9 05 00 00 00  mov ecx, 5
 *   0x0b  ba 10 00 00 00  mov edx, 0x10
 *   0x10  f3 6c           rep insb
 *   0x12  6c              insb            ; a sixth byte, to 0x105
 *   0x13  be 40 00 00 00  mov esi, 0x40
 *   0x18  b9 05 00 00 00  mov ecx, 5
 *   0x1d  ba e9 00 00 00  mov edx, 0xe9
 *   0x22  f3 6e           rep outsb       ; "Hello"
 *   0x24  6e              outsb           ; "!"
 *   0x25  f4              hlt
 *   0x40  "Hello!" */
static const uint8_t string_io32[0x46] = {
	0xfc, 0xbf, 0x00, 0x01, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00,
	0xba, 0x10, 0x00, 0x00, 0x00, 0xf3, 0x6c, 0x6c,
	0xbe, 0x40, 0x00, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00,
	0xba, 0xe9, 0x00, 0x00, 0x00, 0xf3, 0x6e, 0x6e, 0xf4,
	[0x40] = 'H', 'e', 'l', 'l', 'o', '!',
};

static const struct want string_io32_records[] = {
	{ "IO", "in", 0x10, 1, 5, "ffffffffff", 0x12, "rdi", 0x105 },
	{ "IO", "in", 0x10, 1, 1, "ff", 0x13, "rdi", 0x106 },
	{ "IO", "out", 0xe9, 1, 5, "48656c6c6f", 0x24, "rsi", 0x45 },
	{ "IO", "out", 0xe9, 1, 1, "21", 0x25, "rsi", 0x46 },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x26, "rcx", 0 },
};

/* ud2 with no IDT: #UD cannot be delivered, the CPU gives up (SHUTDOWN), RIP on the ud2.
 * Protected and long mode only (README: in real mode this host's KVM delivers it through the
 * interrupt vector table). */
static const uint8_t undefined_opcode[] = { 0x0f, 0x0b };

static const struct want shutdown_records[] = {
	{ "SHUTDOWN", NULL, 0, 0, 0, NULL, 0x0, NULL, 0 },
};


static const struct want own_page_tables_records[] = {
	{ "IO", "out", 0xea, 4, 1, "3412ed5e", 0x64, "rax", 0x5eed1234 },
	{ "IO", "in", 0xee, 4, 1, "00000300", 0x6b, "rax", 0x30000 },
	{ "IO", "out", 0xea, 4, 1, "00000300", 0x6d, "rbx", 0x40000000 },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x79, NULL, 0 },
};

/* diff of a raw guest in mode, at exit level or with --step; extra arguments may follow. Skips
 * (after checking the 77) when an engine cannot run mode here. */
static void raw_guest_identical(const uint8_t *image, size_t len, enum tv_mode mode, bool step,
				const char *extra)
{
	struct result r;
	struct cmd c;
	char path[64], why[512], head[512];
	bool compared;

	dt_temp_guest(image, len, path, sizeof(path));
	dt_diff_cmd(&c, path, mode);
	if (step)
		CMD(&c, "--step");
	if (extra)
		CMD(&c, extra);
	compared = dt_diff_can_compare(&c, &r, mode, why, sizeof(why));
	unlink(path);
	if (!compared)
		TV_SKIP("%s mode%s: %s", tv_mode_name(mode),
			step ? " --step" : "", why);
	ck_assert_msg(r.status == 0, "%s mode%s: diff says: %s", tv_mode_name(mode),
		      step ? " --step" : "", dt_first_line(r.out, head, sizeof(head)));
	dt_assert_identical(&r);
}

/* A raw guest's trace on engine, checked record by record. */
static void raw_guest_trace(const uint8_t *image, size_t len, const char *engine,
			    enum tv_mode mode, int status, const struct want *want, int n)
{
	char path[64];

	dt_temp_guest(image, len, path, sizeof(path));
	dt_check_trace(engine, mode, path, status, want, n);
	unlink(path);
}

static const char *const engines[] = { "kvm", "emu" };
static const enum tv_mode protected_long[] = { TV_MODE_PROTECTED, TV_MODE_LONG };

/* ==== 3. normalisation rules, one raw guest each ============================================= */

/* IN is completed (the value in EAX, RIP past it) before the record, as OUT is. */
START_TEST(test_in_and_out_identical)
{
	raw_guest_identical(in_out, sizeof(in_out), protected_long[_i], false, NULL);
}
END_TEST
START_TEST(test_in_and_out_identical_step)
{
	raw_guest_identical(in_out, sizeof(in_out), protected_long[_i], true, NULL);
}
END_TEST
START_TEST(test_in_and_out_trace_rip_past_and_value_in_rax)
{
	raw_guest_trace(in_out, sizeof(in_out), engines[_i], TV_MODE_PROTECTED, 0, in_out_records,
			N(in_out_records));
}
END_TEST

/* An MMIO read completes (all ones in EAX) before the record, as the write does. */
START_TEST(test_mmio_above_ram_identical)
{
	raw_guest_identical(above_ram, sizeof(above_ram), TV_MODE_PROTECTED, _i, "--mem=2M");
}
END_TEST
START_TEST(test_mmio_above_ram_trace)
{
	raw_guest_trace(above_ram, sizeof(above_ram), engines[_i], TV_MODE_PROTECTED, 0,
			above_ram_records, N(above_ram_records));
}
END_TEST

/* rep insb / rep outsb: one record per instruction on both engines, however each splits it.
 * Loop indices: _i is exits/--step, or the engine; in the 32-bit tests, _i % 2 picks the mode
 * (or the engine) and _i / 2 the level (or the mode). */
START_TEST(test_string_io_real_identical)
{
	raw_guest_identical(string_io16, sizeof(string_io16), TV_MODE_REAL, _i, NULL);
}
END_TEST
START_TEST(test_string_io_real_one_record_per_instruction)
{
	raw_guest_trace(string_io16, sizeof(string_io16), engines[_i], TV_MODE_REAL, 0,
			string_io16_records, N(string_io16_records));
}
END_TEST
START_TEST(test_string_io_32_identical)
{
	raw_guest_identical(string_io32, sizeof(string_io32), protected_long[_i % 2], _i / 2, NULL);
}
END_TEST
START_TEST(test_string_io_32_one_record_per_instruction)
{
	raw_guest_trace(string_io32, sizeof(string_io32), engines[_i % 2], protected_long[_i / 2], 0,
			string_io32_records, N(string_io32_records));
}
END_TEST

/* HC_gvaToHva(0x400) is 0x400 on every engine in every mode: host addresses compare as RAM
 * offsets. _i: engine * 4 + mode. */
START_TEST(test_gva_to_hva_0x400_is_ram_offset_0x400)
{
	const char *engine = engines[_i / TV_MODE_COUNT];
	enum tv_mode mode = _i % TV_MODE_COUNT;
	const json_t *hc = NULL, *rec = NULL;
	struct trace t;
	char why[512];

	if (!dt_traced_run(&t, engine, mode, "hypercalls", 0, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	for (int i = 0; i < t.n && !hc; i++) {
		const json_t *h = json_object_get(t.rec[i], "hypercall");
		uint64_t arg;

		if (h && strcmp(json_string_value(json_object_get(h, "name")), "HC_gvaToHva") == 0 &&
		    tv_trace_hex(h, "arg", &arg) == 0 && arg == 0x400) {
			hc = h;
			rec = t.rec[i];
		}
	}
	ck_assert_msg(hc != NULL, "%s/%s: no HC_gvaToHva(0x400) record", engine,
		      tv_mode_name(mode));
	ck_assert_uint_eq(dt_hex_at(hc, "result"), 0x400);
	ck_assert_uint_eq(dt_reg(rec, "rax") & 0xffffffff, 0x400);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rec, "io"), "data")),
			 "00040000");
	dt_trace_free(&t);
}
END_TEST

/* ==== 4. the raw guests ============================================================== */

/* A triple fault ends both engines in SHUTDOWN with the same state. _i % 2: the mode (or the
 * engine); _i / 2: exits or --step (or the mode). */
START_TEST(test_triple_fault_identical)
{
	raw_guest_identical(undefined_opcode, sizeof(undefined_opcode), protected_long[_i % 2],
			    _i / 2, NULL);
}
END_TEST
START_TEST(test_triple_fault_trace_ends_in_shutdown)
{
	raw_guest_trace(undefined_opcode, sizeof(undefined_opcode), engines[_i % 2],
			protected_long[_i / 2], 1, shutdown_records, N(shutdown_records));
}
END_TEST

/* A long-mode guest that loads CR3 with tables of its own and reads through them. */
START_TEST(test_own_page_tables_identical)
{
	raw_guest_identical(tv_own_page_tables, tv_own_page_tables_len, TV_MODE_LONG, _i, NULL);
}
END_TEST
START_TEST(test_own_page_tables_trace)
{
	raw_guest_trace(tv_own_page_tables, tv_own_page_tables_len, engines[_i], TV_MODE_LONG, 0,
			own_page_tables_records, N(own_page_tables_records));
}
END_TEST

/* ==== the suite ============================================================================== */

int main(void)
{
	Suite *s = suite_create("diff_raw_guests");
	TCase *norm = tcase_create("normalisation");
	TCase *raw = tcase_create("raw_guests");

	tcase_set_timeout(norm, 120);
	tcase_add_loop_test(norm, test_in_and_out_identical, 0, N(protected_long));
	tcase_add_loop_test(norm, test_in_and_out_identical_step, 0, N(protected_long));
	tcase_add_loop_test(norm, test_in_and_out_trace_rip_past_and_value_in_rax, 0, N(engines));
	tcase_add_loop_test(norm, test_mmio_above_ram_identical, 0, 2); /* exits, --step */
	tcase_add_loop_test(norm, test_mmio_above_ram_trace, 0, N(engines));
	tcase_add_loop_test(norm, test_string_io_real_identical, 0, 2); /* exits, --step */
	tcase_add_loop_test(norm, test_string_io_real_one_record_per_instruction, 0, N(engines));
	tcase_add_loop_test(norm, test_string_io_32_identical, 0, 2 * N(protected_long));
	tcase_add_loop_test(norm, test_string_io_32_one_record_per_instruction, 0,
			    N(engines) * N(protected_long));
	tcase_add_loop_test(norm, test_gva_to_hva_0x400_is_ram_offset_0x400, 0,
			    N(engines) * TV_MODE_COUNT);
	suite_add_tcase(s, norm);

	tcase_set_timeout(raw, 120);
	tcase_add_loop_test(raw, test_triple_fault_identical, 0, 2 * N(protected_long));
	tcase_add_loop_test(raw, test_triple_fault_trace_ends_in_shutdown, 0,
			    N(engines) * N(protected_long));
	tcase_add_loop_test(raw, test_own_page_tables_identical, 0, 2); /* exits, --step */
	tcase_add_loop_test(raw, test_own_page_tables_trace, 0, N(engines));
	suite_add_tcase(s, raw);

	return tv_test_main(s);
}
