/* The fuzzer's generator (core/fuzz/gen.h): every class makes code that decodes back to itself
 * and stays in the scratch area (gen_check.h), the system class only what a guest may run, the
 * exceptions class its faults; generated snippets run without faults on the host CPU and run on
 * the emulator. (The analysis: test_fuzz_analyze.c.) */
#include <Zydis/Zydis.h>
#include <errno.h>
#include <string.h>

#include "fz.h"
#include "gen.h"
#include "gen_check.h"
#include "hypercalls.h"
#include "layout.h"
#include "tv_test.h"

START_TEST(test_every_class_in_every_width_decodes_back_to_itself_inside_scratch)
{
	static const unsigned widths[] = { 16, 32, 64 };

	for (unsigned w = 0; w < 3; w++) {
		unsigned bits = widths[w];

		for (unsigned c = 0; c < FZ_CLASS_COUNT; c++) {
			struct fz_gen_opts o = { .min_len = 1, .max_len = 4, .classes = 1u << c,
						 .bits = bits, .system = true };
			uint64_t rng = 1000 + c;

			if (o.classes == FZ_CLASS_EXCEPTIONS)
				continue; /* it reaches out on purpose: its own test below */
			for (int i = 0; i < 600; i++) {
				struct fz_snippet s, t;
				struct fz_state in;

				ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), 0);
				ck_assert_uint_ge(s.ninsn, 1);
				ck_assert_uint_eq(s.bits, bits);
				ck_assert(s.system == (o.classes == FZ_CLASS_SYSTEM));
				ck_assert_int_eq(fz_analyze(s.code, s.len, bits, &t), 0);
				ck_assert_uint_eq(t.ninsn, s.ninsn);
				ck_assert_uint_eq(t.len, s.len);
				ck_assert_mem_eq(t.off, s.off, sizeof(s.off));
				ck_assert_mem_eq(t.code, s.code, s.len);
				ck_assert_uint_eq(t.rflags_undefined, s.rflags_undefined);
				ck_assert_uint_eq(t.gpr_undefined, s.gpr_undefined);
				ck_assert(t.system == s.system);
				ck_assert_uint_eq(in.gpr[FZ_RSP], fz_scratch_start(bits) + 0x800);
				ck_assert_uint_eq(in.rip, fz_code_start(bits));
				for (int r = 0; r < FZ_NGPR; r++) {
					ck_assert_uint_eq(in.gpr[r] & ~fz_gpr_mask(bits), 0);
					if (r >= fz_gprs(bits))
						ck_assert_uint_eq(in.gpr[r], 0);
				}
				ck_assert_uint_eq(in.rflags & ~(FZ_RFLAGS_START_MASK | FZ_RFLAGS_FIXED), 0);
				check_instructions(&s, &in, fz_class_name(1u << c));
			}
		}
	}
}
END_TEST

/* Real mode reads C4/C5 as LES/LDS (SDM Vol. 2, 2.3): 16-bit BMI snippets are legacy-encoded
 * adcx/adox only, while 32-bit ones do hold VEX (the check below can see it). */
START_TEST(test_bmi_class_in_16_bit_code_holds_no_vex)
{
	for (unsigned bits = 16; bits <= 32; bits += 16) {
		struct fz_gen_opts o = { .min_len = 1, .max_len = 4, .classes = FZ_CLASS_BMI,
					 .bits = bits };
		uint64_t rng = 3;
		bool vex = false;

		for (int i = 0; i < 500; i++) {
			struct fz_snippet s;
			struct fz_state in;

			ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), 0);
			for (unsigned k = 0; k < s.ninsn; k++) {
				struct insn d;
				uint8_t opcode;

				decode_at(&s, k, &d);
				opcode = s.code[s.off[k] + d.in.raw.prefix_count];
				vex |= d.in.encoding == ZYDIS_INSTRUCTION_ENCODING_VEX;
				if (bits == 16)
					ck_assert(opcode != 0xc4 && opcode != 0xc5 &&
						  (d.in.mnemonic == ZYDIS_MNEMONIC_ADCX ||
						   d.in.mnemonic == ZYDIS_MNEMONIC_ADOX));
			}
		}
		ck_assert(vex == (bits == 32));
	}
}
END_TEST

/* The ports the system class must leave alone: twinvm's hypercalls and devices an engine might
 * model. */
static bool busy_port(uint64_t port)
{
	static const uint16_t busy[][2] = {
		{ 0x20, 0x21 }, { 0x40, 0x43 },	  { 0x60, 0x64 },   { 0x70, 0x71 },
		{ 0xa0, 0xa1 }, { TV_HC_PRINT8BIT, TV_HC_GVATOHVA }, { 0x3f8, 0x3ff }, { 0xcf8, 0xcff },
	};

	for (unsigned i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
		if (port >= busy[i][0] && port <= busy[i][1])
			return true;
	return false;
}

START_TEST(test_system_class_needs_the_option_and_stays_safe)
{
	const uint64_t cr0_ok = 0x8 /* TS */ | TV_CR0_MP | TV_CR0_NE | TV_CR0_WP | TV_CR0_AM;
	const uint64_t cr4_ok = 0x4 /* TSD */ | 0x8 /* DE */ | 0x100 /* PCE */ | TV_CR4_OSFXSR |
				TV_CR4_OSXMMEXCPT;

	for (unsigned bits = 16; bits <= 64; bits *= 2) {
		struct fz_gen_opts o = { .min_len = 1, .max_len = 4, .classes = FZ_CLASS_SYSTEM,
					 .bits = bits };
		unsigned toggles = 0, ports = 0, loads = 0;
		uint64_t rng = 5;

		ck_assert_int_eq(fz_generate(&rng, &o, &(struct fz_snippet){ 0 },
					     &(struct fz_state){ 0 }), -EINVAL);
		o.system = true;
		for (int i = 0; i < 2000; i++) {
			struct fz_snippet s;
			struct fz_state in;
			struct known k = { 0 };
			struct insn d[3] = { 0 }; /* this instruction and the two before */
			char text[1024];

			ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), 0);
			ck_assert(s.system);
			fz_disasm(s.code, s.len, bits, text, sizeof(text));
			for (unsigned n = 0; n < s.ninsn; n++) {
				const ZydisDecodedOperand *op = d[0].op;
				ZydisRegisterClass dst;

				d[2] = d[1];
				d[1] = d[0];
				decode_at(&s, n, &d[0]);
				dst = op[0].type == ZYDIS_OPERAND_TYPE_REGISTER
					      ? ZydisRegisterGetClass(op[0].reg.value)
					      : ZYDIS_REGCLASS_INVALID;
				if (d[0].in.mnemonic == ZYDIS_MNEMONIC_MOV && dst == ZYDIS_REGCLASS_CONTROL &&
				    op[0].reg.value != ZYDIS_REGISTER_CR2) {
					/* mov r, crN; xor r, bits; mov crN, r: only the safe bits */
					uint64_t ok = op[0].reg.value == ZYDIS_REGISTER_CR0   ? cr0_ok
						      : op[0].reg.value == ZYDIS_REGISTER_CR4 ? cr4_ok
											      : 0;

					ck_assert_msg(ok && n >= 2 &&
							      d[1].in.mnemonic == ZYDIS_MNEMONIC_XOR &&
							      d[1].op[0].reg.value == op[1].reg.value &&
							      d[1].op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
							      (d[1].op[1].imm.value.u & ~ok) == 0 &&
							      d[2].op[1].reg.value == op[0].reg.value &&
							      d[2].op[0].reg.value == op[1].reg.value,
						      "%u: '%s' writes more than a safe bit", bits, text);
					toggles++;
				} else if (d[0].in.mnemonic == ZYDIS_MNEMONIC_IN ||
					   d[0].in.mnemonic == ZYDIS_MNEMONIC_OUT) {
					const ZydisDecodedOperand *p = &op[d[0].in.mnemonic ==
									ZYDIS_MNEMONIC_IN];
					uint64_t port = p->type == ZYDIS_OPERAND_TYPE_IMMEDIATE
								? p->imm.value.u
								: known_value(&k, p->reg.value, text);

					ck_assert_msg(!busy_port(port), "%u: '%s' uses port 0x%llx", bits,
						      text, (unsigned long long)port);
					ports++;
				} else if (d[0].in.mnemonic == ZYDIS_MNEMONIC_MOV &&
					   dst == ZYDIS_REGCLASS_SEGMENT) {
					uint64_t sel = known_value(&k, op[1].reg.value, text);
					bool fs_gs = op[0].reg.value == ZYDIS_REGISTER_FS ||
						     op[0].reg.value == ZYDIS_REGISTER_GS;

					if (bits == 16 && !fs_gs)
						ck_assert_uint_eq(sel, FZ_SCRATCH_ADDR >> 4);
					if (bits > 16 && op[0].reg.value == ZYDIS_REGISTER_SS)
						ck_assert_uint_eq(sel, TV_SEL_DATA);
					loads++;
				}
				track(&k, &d[0], bits);
			}
		}
		ck_assert(toggles && ports && loads);
	}
}
END_TEST

/* The family of an exceptions snippet's last instruction, from its form (fz_insn_form): what
 * the class makes in each width (gen.c's comment on the class), or NULL for anything else. */
static const char *exception_family(const char *form, unsigned bits)
{
	static const struct {
		const char *prefix;
		unsigned widths; /* 16 | 32 | 64 as bits 0, 1, 2 */
		const char *family;
	} families[] = {
		{ "div ", 7, "#DE" },	       { "idiv ", 7, "#DE" },
		{ "ud2", 7, "#UD" },	       { "ud1 ", 7, "#UD" },
		{ "syscall", 7, "#UD" },       { "lock ", 7, "#UD" },
		{ "mov cs, r16 (#UD", 7, "#UD" },
		{ "arpl r16, r16 (#UD in 16-bit", 1, "#UD" }, { "sldt r16 (#UD in 16", 1, "#UD" },
		{ "str r16 (#UD in 16", 1, "#UD" },	       { "lar r16, r16 (#UD in 16", 1, "#UD" },
		{ "into (#UD in 64-bit code)", 4, "#UD" },
		{ "int3", 7, "#BP" },	       { "int imm8", 7, "#BP" },
		{ "int1", 7, "#DB" },	       { "into", 3, "#OF" },
		{ "bound ", 3, "#BR" },	       { "mov cr0, ", 7, "#GP" },
		{ "mov cr4, ", 7, "#GP" },     { "mov sreg, r16", 6, "segment" },
		{ "push r", 4, "address" },    { "pop r", 4, "address" },
		{ "mov r", 7, "address" },     { "mov m", 4, "address" },
		{ "mov ax, m", 7, "address" }, { "mov eax, m", 7, "address" },
		{ "mov al, m", 6, "address" },
		{ "add m", 4, "address" },     { "xor m", 4, "address" },
		{ "inc m", 4, "address" },     { "not m", 4, "address" },
		{ "mov rax, m", 4, "address" },
	};
	const unsigned w = bits == 16 ? 1 : bits == 32 ? 2 : 4;

	/* the one-byte opcodes 64-bit code dropped, and its aam/aad */
	if (bits == 64 && strstr(form, " (#UD in 64-bit code)"))
		return "#UD";
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if ((families[i].widths & w) &&
		    strncmp(form, families[i].prefix, strlen(families[i].prefix)) == 0)
			return families[i].family;
	return NULL;
}

/* The exceptions class (engine oracles only) in each width: every snippet decodes back to itself,
 * the invalid encodings it ends in included; every instruction before the last is set-up that
 * stays in the scratch area (memory operands absolute, inside it) and does not fault; the last is
 * one of the faulting forms the width has; and over a thousand snippets each family shows up. */
START_TEST(test_exceptions_class_in_every_width_ends_each_snippet_in_its_fault)
{
	static const char *const wanted[3][8] = {
		{ "#DE", "#UD", "#BP", "#DB", "#OF", "#BR", "#GP", "address" },
		{ "#DE", "#UD", "#BP", "#DB", "#OF", "#BR", "#GP", "segment" },
		{ "#DE", "#UD", "#BP", "#DB", "#GP", "segment", "address", NULL },
	};
	static const unsigned widths[] = { 16, 32, 64 };

	for (unsigned w = 0; w < 3; w++) {
		struct fz_gen_opts o = { .min_len = 1, .max_len = 4, .classes = FZ_CLASS_EXCEPTIONS,
					 .bits = widths[w], .system = true };
		const int64_t lo = (int64_t)fz_scratch_start(o.bits), hi = lo + FZ_SCRATCH_SIZE;
		char seen[256] = "", text[1024], form[96];
		uint64_t rng = 77 + w;

		for (int i = 0; i < 1000; i++) {
			struct fz_snippet s, t;
			struct fz_state in;
			const char *family;
			unsigned last;

			ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), 0);
			ck_assert_uint_ge(s.ninsn, 1);
			ck_assert_int_eq(fz_analyze(s.code, s.len, o.bits, &t), 0);
			ck_assert_uint_eq(t.ninsn, s.ninsn);
			ck_assert_mem_eq(t.off, s.off, sizeof(s.off));
			ck_assert_uint_eq(t.rflags_undefined, s.rflags_undefined);
			ck_assert_uint_eq(t.gpr_undefined, s.gpr_undefined);
			ck_assert(t.system == s.system);
			ck_assert_int_eq(fz_disasm(s.code, s.len, o.bits, text, sizeof(text)), 0);
			last = s.ninsn - 1u;
			ck_assert_int_eq(fz_insn_form(s.code + s.off[last], s.off[last + 1] - s.off[last],
						      o.bits, form, sizeof(form)), 0);
			family = exception_family(form, o.bits);
			ck_assert_msg(family, "%u: '%s' ends in '%s', not a form of the class", o.bits,
				      text, form);
			if (!strstr(seen, family)) {
				strcat(seen, family);
				strcat(seen, " ");
			}
			for (unsigned k = 0; k < last; k++) {
				struct insn d;

				decode_at(&s, k, &d);
				ck_assert_msg(d.in.mnemonic == ZYDIS_MNEMONIC_MOV ||
						      d.in.mnemonic == ZYDIS_MNEMONIC_OR ||
						      d.in.mnemonic == ZYDIS_MNEMONIC_ADD ||
						      d.in.mnemonic == ZYDIS_MNEMONIC_SUB ||
						      d.in.meta.category == ZYDIS_CATEGORY_CONVERT,
					      "%u: '%s': set-up instruction %u is not a mov, or, add, "
					      "sub or sign extension", o.bits, text, k);
				for (unsigned j = 0; j < d.in.operand_count_visible; j++) {
					const ZydisDecodedOperand *op = &d.op[j];

					if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
						continue;
					ck_assert_msg(op->mem.base == ZYDIS_REGISTER_NONE &&
							      op->mem.disp.value >= lo &&
							      op->mem.disp.value + op->size / 8 <= hi,
						      "%u: '%s': set-up instruction %u reaches outside "
						      "the scratch area", o.bits, text, k);
				}
			}
		}
		for (unsigned f = 0; f < 8 && wanted[w][f]; f++)
			ck_assert_msg(strstr(seen, wanted[w][f]), "%u-bit: no %s form in 1000 snippets "
				      "(seen: %s)", o.bits, wanted[w][f], seen);
	}
}
END_TEST

START_TEST(test_same_seed_same_snippets)
{
	struct fz_gen_opts o = { .min_len = 1, .max_len = 8, .classes = FZ_CLASS_USER };
	uint64_t a = 42, b = 42;

	for (int i = 0; i < 200; i++) {
		struct fz_snippet sa, sb;
		struct fz_state ia, ib;

		ck_assert_int_eq(fz_generate(&a, &o, &sa, &ia), 0);
		ck_assert_int_eq(fz_generate(&b, &o, &sb, &ib), 0);
		ck_assert_mem_eq(&sa, &sb, sizeof(sa));
		ck_assert_mem_eq(&ia, &ib, sizeof(ia));
	}
	ck_assert_uint_ne(a, 43);
}
END_TEST

START_TEST(test_options_and_class_names)
{
	struct fz_gen_opts o = { .min_len = 1, .max_len = 4, .classes = FZ_CLASS_SYSTEM };
	struct fz_snippet s;
	struct fz_state in;
	uint64_t rng = 1;
	uint32_t mask = 0;

	ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), -EINVAL); /* system without KVM */
	o.classes = FZ_CLASS_EXCEPTIONS;
	ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), -EINVAL); /* nor exceptions */
	o.classes = FZ_CLASS_ALU;
	o.max_len = FZ_INSN_MAX + 1;
	ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), -EINVAL);
	o.max_len = 4;
	o.min_len = 0;
	ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), -EINVAL);
	o.min_len = 1;
	o.bits = 8; /* not a code width */
	ck_assert_int_eq(fz_generate(&rng, &o, &s, &in), -EINVAL);
	ck_assert_int_eq(fz_analyze((const uint8_t[]){ 0x90 }, 1, 8, &s), -EINVAL);
	ck_assert_int_eq(fz_class_parse("alu,shift,muldiv", &mask), 0);
	ck_assert_uint_eq(mask, FZ_CLASS_ALU | FZ_CLASS_SHIFT | FZ_CLASS_MULDIV);
	ck_assert_int_eq(fz_class_parse("user", &mask), 0);
	ck_assert_uint_eq(mask, FZ_CLASS_USER);
	ck_assert_int_eq(fz_class_parse("alu,", &mask), -EINVAL);
	ck_assert_int_eq(fz_class_parse("alux", &mask), -EINVAL);
	ck_assert_str_eq(fz_class_name(FZ_CLASS_STRING), "string");
	ck_assert_int_eq(fz_class_parse("exceptions", &mask), 0);
	ck_assert_uint_eq(mask, FZ_CLASS_EXCEPTIONS);
	ck_assert_int_eq(fz_class_parse("all", &mask), 0);
	ck_assert_uint_eq(mask & FZ_CLASS_ENGINE, FZ_CLASS_SYSTEM | FZ_CLASS_EXCEPTIONS);
	ck_assert_ptr_null(fz_class_name(FZ_CLASS_ALU | FZ_CLASS_BIT));
	for (unsigned c = 0; c < FZ_CLASS_COUNT; c++) {
		ck_assert_int_eq(fz_class_parse(fz_class_name(1u << c), &mask), 0);
		ck_assert_uint_eq(mask, 1u << c);
	}
}
END_TEST

START_TEST(test_native_runs_every_user_class_without_a_fault)
{
	struct fz_oracle *o = NULL;
	char why[256], text[1024];

	ck_assert_msg(fz_native_open(64, &o, why, sizeof(why)) == 0, "%s", why);
	for (unsigned c = 0; c < FZ_CLASS_COUNT; c++) {
		struct fz_gen_opts g = { .min_len = 1, .max_len = 6, .classes = 1u << c };
		uint64_t rng = 7 * c;

		if (!(g.classes & FZ_CLASS_USER))
			continue;
		for (int i = 0; i < 3000; i++) {
			struct fz_snippet s;
			struct fz_state in;
			struct fz_result r;

			ck_assert_int_eq(fz_generate(&rng, &g, &s, &in), 0);
			ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
			fz_disasm(s.code, s.len, 64, text, sizeof(text));
			ck_assert_msg(r.vector == -1, "%s: '%s' raised vector %d at 0x%llx",
				      fz_class_name(1u << c), text, r.vector,
				      (unsigned long long)r.st.rip);
			ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR + s.len);
		}
	}
	o->close(o);
}
END_TEST

START_TEST(test_emu_runs_every_user_class)
{
	const struct tv_backend_ops *be;
	struct fz_oracle *o = NULL;
	char why[512];

	be = tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why));
	if (!be)
		TV_SKIP("emu/long: %s", why);
	ck_assert_msg(fz_engine_open(be, TV_MODE_LONG, NULL, &o, why, sizeof(why)) == 0, "%s", why);
	for (unsigned c = 0; c < FZ_CLASS_COUNT; c++) {
		struct fz_gen_opts g = { .min_len = 1, .max_len = 4, .classes = 1u << c };
		uint64_t rng = 11 * c;

		if (!(g.classes & FZ_CLASS_USER))
			continue;
		for (int i = 0; i < 300; i++) {
			struct fz_snippet s;
			struct fz_state in;
			struct fz_result r;

			ck_assert_int_eq(fz_generate(&rng, &g, &s, &in), 0);
			/* The results are the comparison's business (the default CPU model lacks
			 * popcnt and BMI today); the oracle must run the snippet. */
			ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
		}
	}
	o->close(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_gen");
	TCase *tc = tcase_create("gen");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_every_class_in_every_width_decodes_back_to_itself_inside_scratch);
	tcase_add_test(tc, test_bmi_class_in_16_bit_code_holds_no_vex);
	tcase_add_test(tc, test_system_class_needs_the_option_and_stays_safe);
	tcase_add_test(tc, test_exceptions_class_in_every_width_ends_each_snippet_in_its_fault);
	tcase_add_test(tc, test_same_seed_same_snippets);
	tcase_add_test(tc, test_options_and_class_names);
	tcase_add_test(tc, test_native_runs_every_user_class_without_a_fault);
	tcase_add_test(tc, test_emu_runs_every_user_class);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
