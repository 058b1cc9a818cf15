/* What diff --step learns from an instruction's bytes: the arithmetic flags it leaves undefined
 * (not compared until an instruction writes them) and those it writes. */
#include <string.h>

#include "disasm.h"
#include "tv_test.h"

#define CF (1u << 0)
#define PF (1u << 2)
#define AF (1u << 4)
#define ZF (1u << 6)
#define SF (1u << 7)
#define OF (1u << 11)

START_TEST(test_shl_leaves_af_undefined_and_writes_the_rest)
{
	static const uint8_t shl_ebx_16[] = { 0xc1, 0xe3, 0x10 }; /* shl ebx, 0x10 */
	uint64_t undef, defined;

	if (tv_insn_flag_effects(shl_ebx_16, sizeof(shl_ebx_16), 32, &undef, &defined) != 0)
		TV_SKIP("%s", tv_disasm_none());
	ck_assert_uint_eq(undef & AF, AF);
	ck_assert_uint_eq(defined & (CF | ZF | SF | PF), CF | ZF | SF | PF);
	ck_assert_uint_eq(defined & AF, 0);
}
END_TEST

START_TEST(test_add_defines_every_flag_and_mov_none)
{
	static const uint8_t add_eax_ecx[] = { 0x01, 0xc8 }; /* add eax, ecx */
	static const uint8_t mov_edi_ecx[] = { 0x89, 0xcf }; /* mov edi, ecx */
	uint64_t undef, defined;

	if (tv_insn_flag_effects(add_eax_ecx, sizeof(add_eax_ecx), 64, &undef, &defined) != 0)
		TV_SKIP("%s", tv_disasm_none());
	ck_assert_uint_eq(undef, 0);
	ck_assert_uint_eq(defined, CF | PF | AF | ZF | SF | OF);
	ck_assert_int_eq(
		tv_insn_flag_effects(mov_edi_ecx, sizeof(mov_edi_ecx), 64, &undef, &defined), 0);
	ck_assert_uint_eq(undef | defined, 0);
}
END_TEST

START_TEST(test_undecodable_bytes_say_so)
{
	static const uint8_t lone_prefix[] = { 0x66 };
	uint64_t undef = 1, defined = 1;

	ck_assert_int_eq(
		tv_insn_flag_effects(lone_prefix, sizeof(lone_prefix), 64, &undef, &defined), -1);
	ck_assert_uint_eq(undef | defined, 0);
}
END_TEST

/* Start-up does not load Capstone (its relocations were a third of a plain run's start-up): the
 * first disassembly does. */
START_TEST(test_capstone_is_loaded_by_the_first_disassembly)
{
	static const uint8_t cpuid[] = { 0x0f, 0xa2 };
	char text[64];

	ck_assert_msg(!tv_test_mapped("libcapstone"), "Capstone is mapped before any disassembly");
	if (tv_disasm(cpuid, sizeof(cpuid), 64, 0, text, sizeof(text)) == 0) {
		ck_assert_msg(strstr(tv_disasm_none(), "Capstone") != NULL, "%s", tv_disasm_none());
		return; /* built without it, or it could not be loaded: the reason says which */
	}
	ck_assert_str_eq(text, "cpuid");
	ck_assert(tv_test_mapped("libcapstone"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("disasm");
	TCase *t = tcase_create("flags");

	tcase_add_test(t, test_shl_leaves_af_undefined_and_writes_the_rest);
	tcase_add_test(t, test_add_defines_every_flag_and_mov_none);
	tcase_add_test(t, test_undecodable_bytes_say_so);
	tcase_add_test(t, test_capstone_is_loaded_by_the_first_disassembly);
	suite_add_tcase(s, t);
	return tv_test_main(s);
}
