/* The fuzzer's instruction analysis (core/fuzz/gen.h): the masks say what the manuals leave
 * undefined and no more, in every width; the invalid encodings the exceptions class ends in are
 * instructions; the forms and texts name what they should. The instruction bytes below are
 * written out with their meaning. */
#include <errno.h>
#include <string.h>

#include "fz.h"
#include "gen.h"
#include "tv_test.h"

#define OF 0x800u
#define SF 0x80u
#define ZF 0x40u
#define AF 0x10u
#define PF 0x4u
#define CF 0x1u

static struct fz_snippet analyzed(const uint8_t *code, size_t len, int want_rc)
{
	struct fz_snippet s;

	ck_assert_int_eq(fz_analyze(code, len, 64, &s), want_rc);
	return s;
}

/* Whether two end states differ where the snippet's masks let them be compared: what the lead's
 * compare does with s->rflags_undefined and s->gpr_undefined. */
static bool differs(const struct fz_snippet *s, const struct fz_state *a, const struct fz_state *b)
{
	uint64_t keep = FZ_RFLAGS_COMPARED & ~s->rflags_undefined;

	if ((a->rflags & keep) != (b->rflags & keep))
		return true;
	for (int i = 0; i < FZ_NGPR; i++)
		if (!(s->gpr_undefined & (1u << i)) && a->gpr[i] != b->gpr[i])
			return true;
	return false;
}

/* A system instruction defines what it writes (and mov cr leaves the arithmetic flags undefined,
 * as the SDM says); an undefined value into a segment register has no mask, so it is refused like
 * one into memory. */
START_TEST(test_system_instructions_define_and_refuse_undefined_input)
{
	static const uint8_t read_cr0[] = { 0x0f, 0x20, 0xc0 };        /* mov eax, cr0 */
	static const uint8_t load_ds[] = { 0x0f, 0xbc, 0xc3,           /* bsf eax, ebx: eax undefined */
					   0x8e, 0xd8 };               /* mov ds, ax */
	static const uint8_t read_ds[] = { 0x0f, 0xbc, 0xc3, 0x8c, 0xd8 }; /* ...; mov eax, ds */
	static const uint8_t add[] = { 0x01, 0xd8 };                    /* add eax, ebx */
	struct fz_snippet s;

	ck_assert_int_eq(fz_analyze(read_cr0, sizeof(read_cr0), 32, &s), 0);
	ck_assert(s.system);
	ck_assert_uint_eq(s.gpr_undefined, 0);
	ck_assert_uint_eq(s.rflags_undefined, OF | SF | ZF | AF | PF | CF);
	ck_assert_int_eq(fz_analyze(load_ds, sizeof(load_ds), 32, &s), -ENOTSUP);
	ck_assert(s.system);
	ck_assert_int_eq(fz_analyze(read_ds, sizeof(read_ds), 32, &s), 0);
	ck_assert_uint_eq(s.gpr_undefined, 0);
	ck_assert_int_eq(fz_analyze(add, sizeof(add), 32, &s), 0);
	ck_assert(!s.system);
}
END_TEST

static struct fz_snippet analyzed_bits(const uint8_t *code, size_t len, unsigned bits, int want_rc)
{
	struct fz_snippet s;

	ck_assert_int_eq(fz_analyze(code, len, bits, &s), want_rc);
	ck_assert_uint_eq(s.bits, bits);
	return s;
}

START_TEST(test_32_bit_code_keeps_the_shift_and_bsf_rules)
{
	static const uint8_t shl_cl[] = { 0xd3, 0xe0 };             /* shl eax, cl */
	static const uint8_t shl_1[] = { 0xd1, 0xe0 };              /* shl eax, 1 */
	static const uint8_t bsf[] = { 0x0f, 0xbc, 0xc3 };          /* bsf eax, ebx */
	static const uint8_t guarded[] = { 0x83, 0xcb, 0x10,        /* or ebx, 0x10 */
					   0x0f, 0xbc, 0xc3 };      /* bsf eax, ebx */
	static const uint8_t rex[] = { 0x48, 0xd3, 0xe0 };          /* dec eax; shl eax, cl */
	struct fz_snippet s;

	s = analyzed_bits(shl_cl, sizeof(shl_cl), 32, 0);
	ck_assert_uint_eq(s.rflags_undefined, OF | AF);
	s = analyzed_bits(shl_1, sizeof(shl_1), 32, 0);
	ck_assert_uint_eq(s.rflags_undefined, AF);
	s = analyzed_bits(bsf, sizeof(bsf), 32, 0);
	ck_assert_uint_eq(s.gpr_undefined, 1u << FZ_RAX);
	ck_assert_uint_eq(s.rflags_undefined & ZF, 0);
	s = analyzed_bits(guarded, sizeof(guarded), 32, 0);
	ck_assert_uint_eq(s.gpr_undefined, 0);
	s = analyzed_bits(rex, sizeof(rex), 32, 0); /* 0x48 is no REX in 32-bit code */
	ck_assert_uint_eq(s.ninsn, 2);
	ck_assert_uint_eq(s.rflags_undefined, OF | AF);
}
END_TEST

START_TEST(test_16_bit_code_keeps_the_16_bit_rules)
{
	static const uint8_t shl_cl[] = { 0xd3, 0xe0 };       /* shl ax, cl: CF too (count >= 16) */
	static const uint8_t shl32_cl[] = { 0x66, 0xd3, 0xe0 }; /* shl eax, cl */
	static const uint8_t shld_cl[] = { 0x0f, 0xa5, 0xd8 };  /* shld ax, bx, cl: count may pass 16 */
	static const uint8_t pushf[] = { 0x9c,                  /* pushf */
					 0x67, 0x81, 0x24, 0x24, 0xd5, 0x0c }; /* and word [esp], 0xcd5 */
	struct fz_snippet s;

	s = analyzed_bits(shl_cl, sizeof(shl_cl), 16, 0);
	ck_assert_uint_eq(s.rflags_undefined, OF | AF | CF);
	s = analyzed_bits(shl32_cl, sizeof(shl32_cl), 16, 0);
	ck_assert_uint_eq(s.rflags_undefined, OF | AF);
	s = analyzed_bits(shld_cl, sizeof(shld_cl), 16, 0);
	ck_assert_uint_eq(s.gpr_undefined, 1u << FZ_RAX);
	ck_assert_uint_eq(s.rflags_undefined, OF | SF | ZF | AF | PF | CF);
	analyzed_bits(pushf, sizeof(pushf), 16, 0);
	analyzed_bits(pushf, 1, 16, -ENOTSUP);
}
END_TEST

START_TEST(test_shl_by_cl_leaves_of_undefined_and_by_1_defines_it)
{
	static const uint8_t shl_cl[] = { 0x48, 0xd3, 0xe0 }; /* shl rax, cl */
	static const uint8_t shl_1[] = { 0x48, 0xd1, 0xe0 };  /* shl rax, 1 */
	static const uint8_t shl_0[] = { 0x48, 0xf7, 0xe3,    /* mul rbx: SF ZF AF PF undefined */
					 0x48, 0xc1, 0xe0, 0x00 }; /* shl rax, 0: flags kept */
	static const uint8_t shl8_cl[] = { 0xd2, 0xe0 };      /* shl al, cl: CF too (count >= 8) */
	struct fz_snippet s;

	s = analyzed(shl_cl, sizeof(shl_cl), 0);
	ck_assert_uint_eq(s.rflags_undefined, OF | AF);
	ck_assert_uint_eq(s.gpr_undefined, 0);
	s = analyzed(shl_1, sizeof(shl_1), 0);
	ck_assert_uint_eq(s.rflags_undefined, AF);
	s = analyzed(shl_0, sizeof(shl_0), 0);
	ck_assert_uint_eq(s.rflags_undefined, SF | ZF | AF | PF);
	s = analyzed(shl8_cl, sizeof(shl8_cl), 0);
	ck_assert_uint_eq(s.rflags_undefined, OF | AF | CF);
}
END_TEST

START_TEST(test_planted_differences_undefined_hidden_defined_reported)
{
	static const uint8_t shl_cl[] = { 0x48, 0xd3, 0xe0 }; /* shl rax, cl */
	struct fz_snippet s = analyzed(shl_cl, sizeof(shl_cl), 0);
	struct fz_state a = { 0 }, b = { 0 };

	b.rflags ^= OF;
	ck_assert(!differs(&s, &a, &b));
	b.rflags ^= CF;
	ck_assert(differs(&s, &a, &b));
	b = a;
	b.gpr[FZ_RAX] = 1;
	ck_assert(differs(&s, &a, &b));
}
END_TEST

/* A rep string instruction whose count may be 0 leaves the flags as they were: AF left undefined
 * by a shift stays undefined through `repe scasb` (a false positive the fuzzer once reported). */
START_TEST(test_rep_string_keeps_an_earlier_undefined_flag)
{
	static const uint8_t code[] = {
		0x66, 0xd3, 0xe2,             /* shl dx, cl: AF undefined */
		0xb9, 0x00, 0x00, 0x00, 0x00, /* mov ecx, 0 */
		0xf3, 0xae,                   /* repe scasb: no iteration */
	};
	struct fz_snippet s;

	ck_assert_int_eq(fz_analyze(code, sizeof(code), 64, &s), 0);
	ck_assert_uint_eq(s.ninsn, 3);
	ck_assert_uint_ne(s.rflags_undefined & 0x10, 0);
}
END_TEST

START_TEST(test_mul_leaves_sf_zf_af_pf_undefined)
{
	static const uint8_t mul[] = { 0x48, 0xf7, 0xe3 }; /* mul rbx */
	static const uint8_t mul_add[] = { 0x48, 0xf7, 0xe3, /* mul rbx */
					   0x48, 0x01, 0xd8 }; /* add rax, rbx: all defined again */
	struct fz_snippet s = analyzed(mul, sizeof(mul), 0);

	ck_assert_uint_eq(s.rflags_undefined, SF | ZF | AF | PF);
	ck_assert_uint_eq(s.gpr_undefined, 0);
	s = analyzed(mul_add, sizeof(mul_add), 0);
	ck_assert_uint_eq(s.rflags_undefined, 0);
}
END_TEST

START_TEST(test_reading_an_undefined_flag_masks_what_it_writes)
{
	static const uint8_t cmov[] = { 0x48, 0xf7, 0xe3,        /* mul rbx */
					0x48, 0x0f, 0x48, 0xc3 }; /* cmovs rax, rbx */
	static const uint8_t setz[] = { 0x48, 0xf7, 0xe3,        /* mul rbx */
					0x0f, 0x94, 0xc1 };      /* setz cl */
	static const uint8_t cmovc[] = { 0x48, 0xf7, 0xe3,       /* mul rbx: CF defined */
					 0x48, 0x0f, 0x42, 0xc3 }; /* cmovb rax, rbx */
	struct fz_snippet s = analyzed(cmov, sizeof(cmov), 0);

	ck_assert_uint_eq(s.gpr_undefined, 1u << FZ_RAX);
	s = analyzed(setz, sizeof(setz), 0);
	ck_assert_uint_eq(s.gpr_undefined, 1u << FZ_RCX);
	s = analyzed(cmovc, sizeof(cmovc), 0);
	ck_assert_uint_eq(s.gpr_undefined, 0);
}
END_TEST

START_TEST(test_bsf_of_a_maybe_zero_source_masks_the_destination)
{
	static const uint8_t bsf[] = { 0x48, 0x0f, 0xbc, 0xc3 }; /* bsf rax, rbx */
	static const uint8_t guarded[] = { 0x48, 0x83, 0xcb, 0x10, /* or rbx, 0x10 */
					   0x48, 0x0f, 0xbc, 0xc3 }; /* bsf rax, rbx */
	static const uint8_t high_guard[] = { 0x48, 0x0d, 0x00, 0x00, 0x01, 0x00, /* or rax, 0x10000 */
					      0x66, 0x0f, 0xbd, 0xd8 }; /* bsr bx, ax: low 16 may be 0 */
	struct fz_snippet s = analyzed(bsf, sizeof(bsf), 0);

	ck_assert_uint_eq(s.gpr_undefined, 1u << FZ_RAX);
	ck_assert_uint_eq(s.rflags_undefined & ZF, 0); /* ZF says whether the source was 0 */
	s = analyzed(guarded, sizeof(guarded), 0);
	ck_assert_uint_eq(s.gpr_undefined, 0);
	s = analyzed(high_guard, sizeof(high_guard), 0);
	ck_assert_uint_eq(s.gpr_undefined, 1u << FZ_RBX);
}
END_TEST

START_TEST(test_undefined_value_into_memory_is_refused)
{
	static const uint8_t store[] = { 0x48, 0x0f, 0xbc, 0xc3, /* bsf rax, rbx */
					 0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x04, 0x00 };
					 /* mov [0x40000], rax */
	static const uint8_t pushf[] = { 0x9c }; /* pushfq: IF and IOPL on the stack */
	static const uint8_t masked[] = { 0x9c, 0x48, 0x81, 0x24, 0x24, 0xd5, 0x0c, 0x00, 0x00 };
					 /* pushfq; and qword [rsp], 0xcd5 */
	static const uint8_t after_mul[] = { 0x48, 0xf7, 0xe3, /* mul rbx: SF ZF AF PF undefined */
					     0x9c, 0x48, 0x81, 0x24, 0x24, 0xd5, 0x0c, 0x00, 0x00 };
	static const uint8_t after_mul_ok[] = { 0x48, 0xf7, 0xe3, 0x9c, /* mul rbx; pushfq */
						0x48, 0x81, 0x24, 0x24, 0x01, 0x0c, 0x00, 0x00 };
						/* and qword [rsp], 0xc01: CF DF OF */
	struct fz_snippet s;

	s = analyzed(store, sizeof(store), -ENOTSUP);
	ck_assert_uint_eq(s.ninsn, 2);
	analyzed(pushf, sizeof(pushf), -ENOTSUP);
	analyzed(masked, sizeof(masked), 0);
	analyzed(after_mul, sizeof(after_mul), -ENOTSUP);
	analyzed(after_mul_ok, sizeof(after_mul_ok), 0);
}
END_TEST

/* What Zydis will not decode because the CPU raises #UD for it in that width is an instruction
 * to the analysis, with a form and a text that name it; the same bytes mean something else in
 * another width, and a half instruction still does not decode. */
START_TEST(test_invalid_encodings_are_instructions_that_raise_ud)
{
	static const uint8_t aaa[] = { 0x37 };                      /* aaa: gone from 64-bit */
	static const uint8_t aam[] = { 0xd4, 0x0a };                /* aam 10 */
	static const uint8_t arpl[] = { 0x63, 0xc8 };               /* arpl ax, cx */
	static const uint8_t mov_cs[] = { 0x8e, 0xc8 };             /* mov cs, ax */
	static const uint8_t lock_add[] = { 0xf0, 0x01, 0xd8 };     /* lock add eax, ebx */
	static const uint8_t setup_then_ud[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
						 0x37 };
	char buf[96];
	struct fz_snippet s;

	s = analyzed_bits(aaa, sizeof(aaa), 64, 0);
	ck_assert_uint_eq(s.ninsn, 1);
	ck_assert_int_eq(fz_insn_form(aaa, sizeof(aaa), 64, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "aaa (#UD in 64-bit code)");
	ck_assert_int_eq(fz_insn_form(aaa, sizeof(aaa), 32, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "aaa");
	s = analyzed_bits(aam, sizeof(aam), 64, 0);
	ck_assert_uint_eq(s.off[1], 2);
	ck_assert_int_eq(fz_analyze(aam, 1, 64, &s), -EINVAL); /* its imm8 is missing */
	s = analyzed_bits(arpl, sizeof(arpl), 16, 0);
	ck_assert_int_eq(fz_insn_form(arpl, sizeof(arpl), 16, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "arpl r16, r16 (#UD in 16-bit code)");
	s = analyzed_bits(mov_cs, sizeof(mov_cs), 32, 0);
	ck_assert_int_eq(fz_disasm(mov_cs, sizeof(mov_cs), 32, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "mov cs, r16 (#UD)");
	s = analyzed_bits(lock_add, sizeof(lock_add), 32, 0);
	ck_assert_uint_eq(s.off[1], 3);
	ck_assert_int_eq(fz_insn_form(lock_add, sizeof(lock_add), 32, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "lock add r32, r32");
	ck_assert_int_eq(fz_disasm(lock_add, sizeof(lock_add), 32, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "lock add eax, ebx");
	ck_assert_uint_eq(fz_explicit_gprs(lock_add, sizeof(lock_add), 32),
			  (1u << FZ_RAX) | (1u << FZ_RBX));
	s = analyzed_bits(setup_then_ud, sizeof(setup_then_ud), 64, 0);
	ck_assert_uint_eq(s.ninsn, 2);
	ck_assert_int_eq(fz_disasm(setup_then_ud, sizeof(setup_then_ud), 64, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "mov eax, 0x01; aaa (#UD)");
}
END_TEST

START_TEST(test_analyze_refuses_what_does_not_decode)
{
	static const uint8_t cut[] = { 0x48, 0xf7 }; /* half of mul */
	uint8_t many[FZ_INSN_MAX + 1];
	struct fz_snippet s;

	ck_assert_int_eq(fz_analyze(cut, sizeof(cut), 64, &s), -EINVAL);
	memset(many, 0x90, sizeof(many)); /* nop * 17 */
	ck_assert_int_eq(fz_analyze(many, sizeof(many), 64, &s), -EINVAL);
	ck_assert_int_eq(fz_analyze(many, FZ_INSN_MAX, 64, &s), 0);
	ck_assert_uint_eq(s.ninsn, FZ_INSN_MAX);
}
END_TEST

static void form_is(const uint8_t *code, size_t len, const char *want)
{
	char buf[64];

	ck_assert_int_eq(fz_insn_form(code, len, 64, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_insn_form_names_kinds_not_registers)
{
	static const uint8_t shld[] = { 0x48, 0x0f, 0xa5, 0xd8 }; /* shld rax, rbx, cl */
	static const uint8_t popcnt[] = { 0x66, 0xf3, 0x0f, 0xb8, 0x04, 0x25, 0x00, 0x00, 0x04, 0x00 };
	static const uint8_t adc_r8[] = { 0x80, 0xd3, 0x05 }; /* adc bl, 5 */
	static const uint8_t adc_al[] = { 0x14, 0x05 };       /* adc al, 5 */
	static const uint8_t lock_add[] = { 0xf0, 0x83, 0x04, 0x25, 0x00, 0x00, 0x04, 0x00, 0x05 };
	static const uint8_t shl_1[] = { 0xd1, 0xe3 };        /* shl ebx, 1 */
	static const uint8_t rep_movsq[] = { 0xf3, 0x48, 0xa5 };
	char small[8];

	form_is(shld, sizeof(shld), "shld r64, r64, cl");
	form_is(popcnt, sizeof(popcnt), "popcnt r16, m16");
	form_is(adc_r8, sizeof(adc_r8), "adc r8, imm8");
	form_is(adc_al, sizeof(adc_al), "adc al, imm8");
	form_is(lock_add, sizeof(lock_add), "lock add m32, imm8");
	form_is(shl_1, sizeof(shl_1), "shl r32, 1");
	form_is(rep_movsq, sizeof(rep_movsq), "rep movsq");
	ck_assert_int_eq(fz_insn_form(shld, sizeof(shld), 64, small, sizeof(small)), -ENOSPC);
	ck_assert_int_eq(fz_insn_form(shld, sizeof(shld) - 1, 64, small, sizeof(small)), -EINVAL);
}
END_TEST

START_TEST(test_disasm_joins_instructions)
{
	static const uint8_t code[] = { 0x48, 0x01, 0xd8, 0x48, 0xd3, 0xe0 };
	char buf[64], small[8];

	ck_assert_int_eq(fz_disasm(code, sizeof(code), 64, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "add rax, rbx; shl rax, cl");
	ck_assert_int_eq(fz_disasm(code, sizeof(code), 64, small, sizeof(small)), -ENOSPC);
	ck_assert_int_eq(fz_disasm(code, sizeof(code) - 1, 64, buf, sizeof(buf)), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_analyze");
	TCase *tc = tcase_create("analyze");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_system_instructions_define_and_refuse_undefined_input);
	tcase_add_test(tc, test_32_bit_code_keeps_the_shift_and_bsf_rules);
	tcase_add_test(tc, test_16_bit_code_keeps_the_16_bit_rules);
	tcase_add_test(tc, test_shl_by_cl_leaves_of_undefined_and_by_1_defines_it);
	tcase_add_test(tc, test_planted_differences_undefined_hidden_defined_reported);
	tcase_add_test(tc, test_mul_leaves_sf_zf_af_pf_undefined);
	tcase_add_test(tc, test_rep_string_keeps_an_earlier_undefined_flag);
	tcase_add_test(tc, test_reading_an_undefined_flag_masks_what_it_writes);
	tcase_add_test(tc, test_bsf_of_a_maybe_zero_source_masks_the_destination);
	tcase_add_test(tc, test_undefined_value_into_memory_is_refused);
	tcase_add_test(tc, test_invalid_encodings_are_instructions_that_raise_ud);
	tcase_add_test(tc, test_analyze_refuses_what_does_not_decode);
	tcase_add_test(tc, test_insn_form_names_kinds_not_registers);
	tcase_add_test(tc, test_disasm_joins_instructions);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
