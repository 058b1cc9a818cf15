/* Faults through the fuzzer's own table in the engine oracles, in every mode: #GP, #NP and #SS
 * with the selector, #PF with CR2, int3 as a trap, each with its vector, error code and frame on
 * both engines; and the exceptions class's snippets fault as the SDM says, or as the README's
 * known differences say. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "engine_oracle.h"
#include "fz.h"
#include "gen.h"
#include "layout.h"
#include "traps.h"
#include "tv_test.h"

#define RFLAGS_RF (1ull << 16)

/* What a delivered fault must look like whatever the snippet: the frame's CS is the mode's code
 * segment, and the error code is known exactly for the vectors that push one (none in real
 * mode). */
static void check_frame(const char *engine, enum tv_mode mode, const struct fz_result *r)
{
	const uint16_t cs = mode == TV_MODE_REAL	   ? FZ_REAL_CS
			    : mode == TV_MODE_LONG ? TV_SEL_CODE64
						   : TV_SEL_CODE32;
	const int v = r->vector;
	const bool pushes = mode != TV_MODE_REAL && (v == 8 || (v >= 10 && v <= 14) || v == 17);

	ck_assert_msg(r->has_frame, "%s/%s: vector %d without a frame", engine, tv_mode_name(mode),
		      v);
	ck_assert_msg(r->frame_cs == cs, "%s/%s: vector %d saved CS 0x%x", engine,
		      tv_mode_name(mode), v, r->frame_cs);
	ck_assert_msg(r->error_code_known == pushes, "%s/%s: vector %d, error code %s", engine,
		      tv_mode_name(mode), v, r->error_code_known ? "known" : "unknown");
	if (mode == TV_MODE_LONG)
		ck_assert_uint_eq(r->frame_ss, TV_SEL_DATA);
}

/* mov ax, sel; mov sreg, ax (sreg as mov sreg, r/m numbers it: 3 DS, 2 SS), in mode's width. */
static void load_snippet(struct fz_snippet *s, enum tv_mode mode, uint16_t sel, unsigned sreg)
{
	const uint8_t code[] = { 0x66, 0xb8, (uint8_t)sel, (uint8_t)(sel >> 8), 0x8e,
				 (uint8_t)(0xc0 | sreg << 3) };

	snippet(s, mode, code, sizeof(code), true);
}

/* Segment loads the fuzzer's GDT refuses (traps.h), in each protected mode on both engines: the
 * vector, the selector as the error code, RIP on the load, the frame's CS, RF set (a fault). */
static void segment_faults(const char *engine, enum tv_mode mode)
{
	static const struct {
		uint16_t sel;
		unsigned sreg;
		int vector;
		uint64_t error;
	} cases[] = {
		{ 0x1238, 3, 13, 0x1238 },                           /* past the GDT's limit */
		{ FZ_SEL_NOT_PRESENT, 3, 11, FZ_SEL_NOT_PRESENT },   /* not present: #NP */
		{ FZ_SEL_NOT_PRESENT | 3, 3, 13, FZ_SEL_NOT_PRESENT }, /* RPL > DPL comes first */
		{ FZ_SEL_NOT_PRESENT, 2, 12, FZ_SEL_NOT_PRESENT },   /* into SS: #SS */
		{ FZ_SEL_READ_ONLY, 2, 13, FZ_SEL_READ_ONLY },       /* SS must be writable */
		{ FZ_SEL_EXEC_ONLY, 3, 13, FZ_SEL_EXEC_ONLY },       /* DS must be readable */
		{ FZ_SEL_DATA_DPL3, 2, 13, FZ_SEL_DATA_DPL3 },       /* SS's DPL must be CPL */
		{ TV_SEL_DATA | 3, 3, 13, TV_SEL_DATA },             /* RPL above DPL */
	};
	const uint64_t at = FZ_CODE_ADDR + 4; /* the mov sreg */
	struct fz_oracle *o;
	struct fz_snippet s;
	struct fz_state in;
	struct fz_result r;

	OPEN_OR_SKIP(o, engine, mode);
	start(&in, mode);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load_snippet(&s, mode, cases[i].sel, cases[i].sreg);
		run(o, &s, &in, &r);
		ck_assert_msg(r.vector == cases[i].vector && r.error_code == cases[i].error,
			      "%s/%s: loading 0x%x: vector %d, error 0x%llx", engine,
			      tv_mode_name(mode), cases[i].sel, r.vector,
			      (unsigned long long)r.error_code);
		check_frame(engine, mode, &r);
		ck_assert_uint_eq(r.st.rip, at);
		ck_assert_uint_eq(r.st.rflags & RFLAGS_RF, RFLAGS_RF);
	}
	o->close(o);
}

START_TEST(test_emu_delivers_gp_np_ss_with_the_selector)
{
	segment_faults("emu", all_modes[1 + _i]);
}
END_TEST

START_TEST(test_kvm_delivers_gp_np_ss_with_the_selector)
{
	segment_faults("kvm", all_modes[1 + _i]);
}
END_TEST

/* Long mode: reads and writes where no page is mapped give #PF with P clear and W/R as the
 * access, CR2 the address and RIP on the instruction; the next snippet's fault (a #DE) reports
 * CR2 as the machine started, not the page fault's. */
static void page_faults(const char *engine)
{
	/* mov rbx, 0x123456789008; mov rax, [rbx] | mov [rbx], rax */
	uint8_t code[] = { 0x48, 0xbb, 0x08, 0x90, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00,
			   0x48, 0x8b, 0x03 };
	const uint8_t div[] = { 0xf7, 0xf1 }; /* div ecx */
	struct fz_oracle *o;
	struct fz_snippet s;
	struct fz_state in;
	struct fz_result r;
	uint64_t cr2;

	OPEN_OR_SKIP(o, engine, TV_MODE_LONG);
	start(&in, TV_MODE_LONG);
	snippet(&s, TV_MODE_LONG, div, sizeof(div), false);
	run(o, &s, &in, &r); /* the CR2 the machine starts with */
	ck_assert_int_eq(r.vector, 0);
	cr2 = r.system.cr2;
	ck_assert_uint_ne(cr2, 0x123456789008ull);
	for (int write = 0; write < 2; write++) {
		code[11] = write ? 0x89 : 0x8b;
		snippet(&s, TV_MODE_LONG, code, sizeof(code), false);
		s.ninsn = 2;
		s.off[1] = 10;
		s.off[2] = s.len;
		run(o, &s, &in, &r);
		ck_assert_msg(r.vector == 14, "%s: vector %d", engine, r.vector);
		check_frame(engine, TV_MODE_LONG, &r);
		ck_assert_uint_eq(r.error_code, write ? 2 : 0);
		ck_assert(r.has_system);
		ck_assert_uint_eq(r.system.cr2, 0x123456789008ull);
		ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR + 10);
		ck_assert_uint_eq(r.st.gpr[FZ_RBX], 0x123456789008ull);
		ck_assert_uint_eq(r.st.rflags & RFLAGS_RF, RFLAGS_RF);
	}
	snippet(&s, TV_MODE_LONG, div, sizeof(div), false);
	run(o, &s, &in, &r);
	ck_assert_int_eq(r.vector, 0);
	ck_assert_msg(r.system.cr2 == cr2, "%s: the #DE after a #PF reports CR2 0x%llx", engine,
		      (unsigned long long)r.system.cr2);
	o->close(o);
}

START_TEST(test_emu_delivers_a_page_fault_with_cr2)
{
	page_faults("emu");
}
END_TEST

START_TEST(test_kvm_delivers_a_page_fault_with_cr2)
{
	page_faults("kvm");
}
END_TEST

/* int3 is a trap: the frame's RIP is after it and RF is clear. KVM's instruction emulator on
 * kvm-pvm refuses int3 outside real mode (-ENOTSUP), which is then skipped. */
static void breakpoint_traps(const char *engine, enum tv_mode mode)
{
	const uint8_t int3[] = { 0xcc };
	struct fz_oracle *o;
	struct fz_snippet s;
	struct fz_state in;
	struct fz_result r;
	int rc;

	OPEN_OR_SKIP(o, engine, mode);
	start(&in, mode);
	snippet(&s, mode, int3, sizeof(int3), false);
	rc = o->run(o, &s, &in, &r);
	o->close(o);
	if (rc == -ENOTSUP) {
		char why[512];

		ck_assert_msg(tv_test_host_limit(engine, mode, tv_last_error(), why, sizeof(why)),
			      "%s/%s: int3: %s", engine, tv_mode_name(mode), tv_last_error());
		TV_SKIP("%s/%s: int3: %s", engine, tv_mode_name(mode), why);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(r.vector, 3);
	check_frame(engine, mode, &r);
	ck_assert_uint_eq(r.st.rip, fz_code_start(s.bits) + 1);
	ck_assert_uint_eq(r.st.rflags & RFLAGS_RF, 0);
}

START_TEST(test_emu_takes_int3_as_a_trap_in_every_mode)
{
	breakpoint_traps("emu", all_modes[_i]);
}
END_TEST

START_TEST(test_kvm_takes_int3_as_a_trap_where_it_can)
{
	breakpoint_traps("kvm", all_modes[_i]);
}
END_TEST

#ifdef TWINVM_HAVE_ZYDIS
/* Whether a form of the exceptions class (gen.c's comment on it) may end in vector v on engine
 * (-1: it ran to its end): the SDM's vectors, and the known differences the README lists, the
 * emulator's (as vectors, or -1 where it does not fault) and the kvm oracle's on this host. */
static bool expected(const char *engine, enum tv_mode mode, const char *form, int v)
{
	static const struct {
		const char *prefix;
		int sdm[4];   /* ended by -2 */
		int emu, kvm; /* a known difference, or -2 */
	} forms[] = {
		{ "div ", { 0, -2 }, -2, -2 },
		{ "idiv ", { 0, -2 }, -2, -2 },
		{ "ud", { 6, -2 }, -2, -2 },
		{ "syscall", { 6, -2 }, -1, -2 }, /* Unicorn runs it as a hook, with EFER.SCE clear */
		{ "lock ", { 6, -2 }, -1, -2 },   /* TCG: lock mov, lock xor r, r */
		{ "int3", { 3, -2 }, -2, -2 },
		{ "int imm8", { 3, -2 }, -2, -2 },
		{ "int1", { 1, -2 }, 6, -2 },     /* Unicorn: #UD for ICEBP */
		{ "bound ", { 5, -2 }, -2, -2 },
		{ "mov cr", { 13, -2 }, -1, -1 }, /* TCG: NW, CR4 bits; both: bits 63:32 */
		{ "mov sreg", { 11, 12, 13, -2 }, -1, -2 }, /* TCG: null SS with RPL 3 (64-bit) */
		{ "(#UD", { 6, -2 }, -2, -2 },
		{ "into", { 4, -2 }, -2, -2 },
	};
	const char *ud = strstr(form, "(#UD");
	const bool emu = strcmp(engine, "emu") == 0;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (strncmp(ud ? ud : form, forms[i].prefix, strlen(forms[i].prefix)) != 0)
			continue;
		if (v == (emu ? forms[i].emu : forms[i].kvm))
			return true;
		for (int k = 0; forms[i].sdm[k] != -2; k++)
			if (forms[i].sdm[k] == v)
				return true;
		return false;
	}
	/* a memory access: #GP, #SS (TCG: #GP), #PF; below long mode TCG checks no segment limit
	 * nor null segment */
	if (v == -1)
		return emu && mode != TV_MODE_LONG;
	return v == 12 || v == 13 || v == 14;
}

/* The exceptions class on engine in mode: every snippet the engine runs ends in a fault of its
 * form, through the fuzzer's table (check_frame), or runs to its end only where a known difference
 * says so; and at least half fault (real mode on the emulator: 55%). */
static void exceptions_class_faults(const char *engine, enum tv_mode mode)
{
	const unsigned bits = (unsigned)tv_mode_bits(mode);
	struct fz_gen_opts g = { .min_len = 1, .max_len = 4, .classes = FZ_CLASS_EXCEPTIONS,
				 .bits = bits, .system = true };
	unsigned faulted = 0, ran = 0;
	uint64_t rng = 5;
	struct fz_oracle *o;

	OPEN_OR_SKIP(o, engine, mode);
	for (int i = 0; i < 400; i++) {
		struct fz_snippet s;
		struct fz_state in;
		struct fz_result r;
		char text[512], form[96];
		unsigned last;
		int rc;

		ck_assert_int_eq(fz_generate(&rng, &g, &s, &in), 0);
		rc = o->run(o, &s, &in, &r);
		if (rc == -ENOTSUP)
			continue; /* KVM's instruction emulator refused it */
		ck_assert_msg(rc == 0, "%s/%s: %s", engine, tv_mode_name(mode), tv_last_error());
		ran++;
		last = s.ninsn - 1u;
		fz_disasm(s.code, s.len, bits, text, sizeof(text));
		fz_insn_form(s.code + s.off[last], s.off[last + 1] - s.off[last], bits, form,
			     sizeof(form));
		ck_assert_msg(expected(engine, mode, form, r.vector),
			      "%s/%s: '%s' ended in vector %d", engine, tv_mode_name(mode), text,
			      r.vector);
		if (r.vector < 0)
			continue;
		faulted++;
		check_frame(engine, mode, &r);
		if (r.vector != 3 && r.vector != 1 && r.vector != 4) /* faults: RIP on the last */
			ck_assert_msg(r.st.rip == fz_code_start(bits) + s.off[last],
				      "%s/%s: '%s': vector %d at 0x%llx", engine, tv_mode_name(mode),
				      text, r.vector, (unsigned long long)r.st.rip);
		else /* traps: after it */
			ck_assert_uint_eq(r.st.rip, fz_code_start(bits) + s.len);
	}
	o->close(o);
	ck_assert_msg(ran >= 200 && faulted * 2 >= ran, "%s/%s: %u of the %u that ran faulted",
		      engine, tv_mode_name(mode), faulted, ran);
}

START_TEST(test_emu_exceptions_class_faults_in_every_mode)
{
	exceptions_class_faults("emu", all_modes[_i]);
}
END_TEST

START_TEST(test_kvm_exceptions_class_faults_in_every_mode_it_can)
{
	exceptions_class_faults("kvm", all_modes[_i]);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("fuzz_faults");
	TCase *t = tcase_create("faults");

	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, test_emu_delivers_gp_np_ss_with_the_selector, 0, 3);
	tcase_add_loop_test(t, test_kvm_delivers_gp_np_ss_with_the_selector, 0, 3);
	tcase_add_test(t, test_emu_delivers_a_page_fault_with_cr2);
	tcase_add_test(t, test_kvm_delivers_a_page_fault_with_cr2);
	tcase_add_loop_test(t, test_emu_takes_int3_as_a_trap_in_every_mode, 0, 4);
	tcase_add_loop_test(t, test_kvm_takes_int3_as_a_trap_where_it_can, 0, 4);
#ifdef TWINVM_HAVE_ZYDIS
	tcase_add_loop_test(t, test_emu_exceptions_class_faults_in_every_mode, 0, 4);
	tcase_add_loop_test(t, test_kvm_exceptions_class_faults_in_every_mode_it_can, 0, 4);
#endif
	suite_add_tcase(s, t);
	return tv_test_main(s);
}
