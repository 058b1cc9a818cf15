/* The fuzzer's judgement, without a generator: the comparison and its masks, the minimiser and
 * the buckets (core/fuzz/compare.c, minimize.c, bucket.c), on hand-made snippets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bucket.h"
#include "compare.h"
#include "minimize.h"
#include "repro.h"
#include "run_binary.h"
#include "tv_test.h"

#define RF_CF 0x001u
#define RF_ZF 0x040u
#define RF_OF 0x800u

START_TEST(test_compare_masks_an_undefined_flag_and_reports_a_defined_one)
{
	struct fz_snippet s = { .rflags_undefined = RF_OF, .bits = 64 };
	struct fz_result a = { .vector = -1 }, b = { .vector = -1 };
	struct fz_diff d;
	char text[128];

	a.st.rflags = 0x2 | RF_OF; /* planted: OF differs, and the snippet leaves OF undefined */
	b.st.rflags = 0x2;
	ck_assert(!fz_compare(&s, &a, &b, &d));
	a.st.rflags |= RF_ZF; /* planted: ZF differs, and ZF is defined */
	ck_assert(fz_compare(&s, &a, &b, &d));
	ck_assert_uint_eq(d.fields, FZ_F_RFLAGS);
	ck_assert_uint_eq(d.rflags_bits, RF_ZF);
	fz_diff_fields(&d, text, sizeof(text));
	ck_assert_str_eq(text, "rflags.zf");
}
END_TEST

START_TEST(test_compare_masks_an_undefined_register_and_names_the_rest)
{
	struct fz_snippet s = { .gpr_undefined = 1u << FZ_RDX, .bits = 64 };
	struct fz_result a = { .vector = -1 }, b = { .vector = -1 };
	struct fz_diff d;
	char text[128];

	a.st.gpr[FZ_RDX] = 7;
	ck_assert(!fz_compare(&s, &a, &b, &d));
	a.st.gpr[FZ_R9] = 1;
	a.st.scratch[0x20] = 1;
	b.vector = 6;
	ck_assert(fz_compare(&s, &a, &b, &d));
	ck_assert_uint_eq(d.scratch_at, 0x20);
	fz_diff_fields(&d, text, sizeof(text));
	ck_assert_str_eq(text, "fault, r9, scratch");
}
END_TEST

/* ---- The minimiser, with a planted divergence --------------------------------------------
 * Ten 3-byte instructions; a "broken engine" that is the host CPU except that after
 * `xor r15, r15` (4d 31 ff) it flips bit 0 of RAX. The minimiser must cut the snippet to that
 * one instruction. */
static const uint8_t ten[] = {
	0x48, 0x01, 0xd8, /* add rax, rbx */
	0x48, 0x29, 0xc8, /* sub rax, rcx */
	0x48, 0x31, 0xd2, /* xor rdx, rdx */
	0x48, 0xff, 0xc3, /* inc rbx */
	0x48, 0x09, 0xce, /* or rsi, rcx */
	0x4d, 0x31, 0xff, /* xor r15, r15: the planted one */
	0x48, 0x21, 0xf8, /* and rax, rdi */
	0x48, 0x87, 0xd9, /* xchg rcx, rbx */
	0x48, 0xff, 0xc8, /* dec rax */
	0x48, 0x01, 0xc0, /* add rax, rax */
};

/* Every instruction above is 3 bytes and leaves nothing undefined. */
static int analyze_3byte(const uint8_t *code, size_t len, unsigned bits, struct fz_snippet *s)
{
	memset(s, 0, sizeof(*s));
	s->bits = (uint8_t)bits;
	if (len % 3 || len / 3 > FZ_INSN_MAX)
		return -EINVAL;
	memcpy(s->code, code, len);
	s->len = (uint16_t)len;
	s->ninsn = (uint8_t)(len / 3);
	for (unsigned i = 0; i <= s->ninsn; i++)
		s->off[i] = (uint16_t)(3 * i);
	return 0;
}

struct planted {
	struct fz_oracle o;
	struct fz_oracle *native;
};

static int planted_run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
		       struct fz_result *out)
{
	struct planted *p = (struct planted *)o;
	int rc = p->native->run(p->native, s, in, out);

	for (unsigned i = 0; !rc && i < s->ninsn; i++)
		if (memcmp(s->code + s->off[i], "\x4d\x31\xff", 3) == 0)
			out->st.gpr[FZ_RAX] ^= 1;
	return rc;
}

START_TEST(test_minimizer_cuts_a_planted_divergence_to_its_instruction)
{
	struct planted p = { .o = { .name = "planted", .run = planted_run } };
	struct fz_case c = { .mode = TV_MODE_LONG };
	struct fz_oracle *native;
	char why[256], key[256];
	uint64_t runs = 0;

	ck_assert_msg(fz_native_open(64, &native, why, sizeof(why)) == 0, "%s", why);
	p.native = native;
	ck_assert_int_eq(analyze_3byte(ten, sizeof(ten), 64, &c.s), 0);
	for (int i = 0; i < FZ_NGPR; i++)
		c.in.gpr[i] = 0x1000u * (unsigned)i + 3;
	c.in.gpr[FZ_RSP] = FZ_SCRATCH_ADDR + 0x800;
	ck_assert_int_eq(p.o.run(&p.o, &c.s, &c.in, &c.emu), 0);
	ck_assert_int_eq(native->run(native, &c.s, &c.in, &c.oracle), 0);
	ck_assert(fz_compare(&c.s, &c.emu, &c.oracle, &c.diff));

	ck_assert_int_eq(fz_minimize(&p.o, native, analyze_3byte, &c, &runs), 0);
	ck_assert_uint_eq(c.s.ninsn, 1);
	ck_assert_mem_eq(c.s.code, "\x4d\x31\xff", 3);
	ck_assert_uint_eq(c.diff.fields, 1u << FZ_RAX);
	ck_assert_uint_gt(runs, 0);
	/* Its bucket, with a form function that names the bytes. */
	ck_assert_int_eq(fz_case_key(&c, NULL, NULL, key, sizeof(key)), -EINVAL);
	native->close(native);
}
END_TEST

/* An oracle that cannot run xchg rcx, rbx (as KVM's instruction emulator cannot run some). */
static int refusing_run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
			struct fz_result *out)
{
	struct planted *p = (struct planted *)o;

	for (unsigned i = 0; i < s->ninsn; i++)
		if (memcmp(s->code + s->off[i], "\x48\x87\xd9", 3) == 0)
			return -ENOTSUP;
	return p->native->run(p->native, s, in, out);
}

/* A window the oracle cannot run is not a candidate, and not an error that ends the fuzz run. */
START_TEST(test_minimizer_passes_over_windows_the_oracle_cannot_run)
{
	struct planted p = { .o = { .name = "planted", .run = planted_run } };
	struct planted refusing = { .o = { .name = "refusing", .run = refusing_run } };
	struct fz_case c = { .mode = TV_MODE_LONG };
	struct fz_oracle *native;
	char why[256];

	ck_assert_msg(fz_native_open(64, &native, why, sizeof(why)) == 0, "%s", why);
	p.native = refusing.native = native;
	/* dec rax; xor r15, r15 (the planted one); xchg rcx, rbx; add rax, rax */
	ck_assert_int_eq(analyze_3byte((const uint8_t *)"\x48\xff\xc8\x4d\x31\xff\x48\x87\xd9"
				       "\x48\x01\xc0", 12, 64, &c.s), 0);
	c.in.gpr[FZ_RSP] = FZ_SCRATCH_ADDR + 0x800;
	ck_assert_int_eq(p.o.run(&p.o, &c.s, &c.in, &c.emu), 0);
	ck_assert_int_eq(native->run(native, &c.s, &c.in, &c.oracle), 0);
	ck_assert(fz_compare(&c.s, &c.emu, &c.oracle, &c.diff));

	ck_assert_int_eq(fz_minimize(&p.o, &refusing.o, analyze_3byte, &c, NULL), 0);
	ck_assert_uint_eq(c.s.ninsn, 1);
	ck_assert_mem_eq(c.s.code, "\x4d\x31\xff", 3);
	native->close(native);
}
END_TEST

static int form_by_bytes(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n)
{
	(void)bits;
	snprintf(buf, n, "insn%zu-%02x", len, code[len - 1]);
	return 0;
}

START_TEST(test_buckets_count_a_key_once)
{
	struct fz_buckets b = { 0 };
	struct fz_case c = { .mode = TV_MODE_LONG };
	char key[256];

	ck_assert_int_eq(analyze_3byte(ten, 6, 64, &c.s), 0);
	c.diff.fields = 1u << FZ_RAX | FZ_F_RFLAGS;
	c.diff.rflags_bits = RF_CF;
	ck_assert_int_eq(fz_case_key(&c, form_by_bytes, NULL, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "...; insn3-c8 -> rax, rflags");
	ck_assert(fz_buckets_add(&b, key));
	ck_assert(!fz_buckets_add(&b, key));
	ck_assert(fz_buckets_has(&b, key));
	ck_assert(!fz_buckets_has(&b, "insn3-d8 -> rax"));
	ck_assert_uint_eq(b.n, 1);
	fz_buckets_free(&b);
}
END_TEST

/* Both faulted with another exception: the key names the exceptions, the oracle's first, not the
 * instruction's form (one bug, many forms); a selector error code is "sel", its value being the
 * snippet's; the same exception with another error code is keyed alike; one fault alone keeps
 * the form. */
START_TEST(test_bucket_of_another_exception_names_the_exceptions)
{
	struct fz_case c = { .mode = TV_MODE_PROTECTED };
	char key[256];

	ck_assert_int_eq(analyze_3byte(ten, 6, 32, &c.s), 0);
	c.oracle = (struct fz_result){ .vector = 12, .error_code_known = true };
	c.emu = (struct fz_result){ .vector = 13, .error_code_known = true };
	c.diff.fields = FZ_F_FAULT;
	ck_assert_int_eq(fz_case_key(&c, form_by_bytes, NULL, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "protected: #SS(0) raised as #GP(0) -> fault");
	c.oracle.vector = 14;
	c.oracle.error_code = 2;
	c.emu.vector = 14;
	c.diff.fields = FZ_F_ERROR_CODE;
	ck_assert_int_eq(fz_case_key(&c, form_by_bytes, NULL, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "protected: #PF(2) raised as #PF(0) -> error_code");
	c.oracle = (struct fz_result){ .vector = 11, .error_code = 0x20, .error_code_known = true };
	c.emu = (struct fz_result){ .vector = 13, .error_code = 0x20, .error_code_known = true };
	c.mode = TV_MODE_LONG;
	c.diff.fields = FZ_F_FAULT;
	ck_assert_int_eq(fz_case_key(&c, form_by_bytes, NULL, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "#NP(sel) raised as #GP(sel) -> fault");
	c.emu = (struct fz_result){ .vector = -1 };
	c.diff.fields = FZ_F_FAULT | FZ_F_RIP;
	ck_assert_int_eq(fz_case_key(&c, form_by_bytes, NULL, key, sizeof(key)), 0);
	ck_assert_str_eq(key, "...; insn3-c8 -> fault, rip");
}
END_TEST

/* A fault both engines took through an exception frame compares the frame: every RFLAGS bit the
 * CPU saved (RF: a fault, not a trap), and the saved CS and SS; a fault one side saw without a
 * frame (the native oracle's signal) compares as before. */
START_TEST(test_compare_sees_the_exception_frame_where_both_have_one)
{
	struct fz_snippet s = { .bits = 64 };
	struct fz_result a = { .vector = 13, .has_frame = true, .frame_cs = 0x18, .frame_ss = 0x10 };
	struct fz_result b = a;
	struct fz_diff d;
	char text[128];

	a.st.rflags = 0x10002;
	b.st.rflags = 0x2;
	ck_assert(fz_compare(&s, &a, &b, &d));
	fz_diff_fields(&d, text, sizeof(text));
	ck_assert_str_eq(text, "rflags.rf");
	b.st.rflags = a.st.rflags;
	b.frame_cs = 0x8;
	ck_assert(fz_compare(&s, &a, &b, &d));
	ck_assert_uint_eq(d.fields, FZ_F_FRAME);
	b.has_frame = false;
	b.st.rflags = 0x2;
	ck_assert(!fz_compare(&s, &a, &b, &d));
}
END_TEST

/* ---- A divergence on disk ------------------------------------------------------------------ */

/* A case as the fuzzer would have it: the snippet `add rax, rbx; mov [0x40010], rax` run
 * natively from a start state, and an "emulator" result with rax off by one. */
static struct fz_oracle *case_of_add(struct fz_case *c)
{
	static const uint8_t code[] = { 0x48, 0x01, 0xd8, 0x48, 0x89, 0x04, 0x25, 0x10, 0x00, 0x04, 0x00 };
	struct fz_oracle *native;
	char why[256];

	ck_assert_msg(fz_native_open(64, &native, why, sizeof(why)) == 0, "%s", why);
	memset(c, 0, sizeof(*c));
	c->mode = TV_MODE_LONG;
	c->s.bits = 64;
	memcpy(c->s.code, code, sizeof(code));
	c->s.len = sizeof(code);
	c->s.rflags_undefined = RF_OF;
	c->in.gpr[FZ_RAX] = 0x1122334455667788ull;
	c->in.gpr[FZ_RBX] = 0x0101010101010101ull;
	c->in.gpr[FZ_RSP] = FZ_SCRATCH_ADDR + 0x800;
	c->in.rflags = 0x2 | RF_CF;
	for (unsigned i = 0; i < FZ_SCRATCH_SIZE; i++)
		c->in.scratch[i] = (uint8_t)(i * 7);
	ck_assert_int_eq(native->run(native, &c->s, &c->in, &c->oracle), 0);
	c->emu = c->oracle;
	c->emu.st.gpr[FZ_RAX] ^= 1;
	c->emu.st.scratch[0x10] ^= 1;
	ck_assert(fz_compare(&c->s, &c->emu, &c->oracle, &c->diff));
	return native;
}

START_TEST(test_record_reads_back_what_was_written)
{
	struct fz_case c, back;
	struct fz_oracle *native = case_of_add(&c);
	char oracle[16], why[256];
	json_t *rec = fz_case_json(&c, "add r64, r64; mov m64, r64 -> rax, scratch", "native",
				   "add rax, rbx; mov [0x40010], rax");

	ck_assert_ptr_nonnull(rec);
	ck_assert_msg(fz_case_from_json(rec, &back, oracle, sizeof(oracle), why, sizeof(why)) == 0,
		      "%s", why);
	ck_assert_str_eq(oracle, "native");
	ck_assert_uint_eq(back.s.len, c.s.len);
	ck_assert_mem_eq(back.s.code, c.s.code, c.s.len);
	ck_assert_uint_eq(back.s.rflags_undefined, RF_OF);
	ck_assert_mem_eq(&back.in, &c.in, sizeof(c.in));
	ck_assert_mem_eq(&back.emu.st, &c.emu.st, sizeof(c.emu.st));
	ck_assert_mem_eq(&back.oracle.st, &c.oracle.st, sizeof(c.oracle.st));
	ck_assert_int_eq(back.oracle.vector, -1);
	/* A malformed field is named, not crashed on. */
	json_object_set_new(json_object_get(rec, "in"), "rbx", json_integer(3));
	ck_assert_int_eq(fz_case_from_json(rec, &back, oracle, sizeof(oracle), why, sizeof(why)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "\"rbx\""));
	json_decref(rec);
	native->close(native);
}
END_TEST

/* The reproducer runs under `twinvm run` and prints the diverging fields as the engine computes
 * them: here the real result, which the native oracle gave. */
START_TEST(test_reproducer_image_prints_the_diverging_values)
{
	struct fz_case c;
	struct fz_oracle *native = case_of_add(&c);
	char dir[] = "/tmp/twinvm-repro-XXXXXX", bin[128], want[256], why[256];
	struct result r;

	native->close(native);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_msg(fz_case_write(dir, "case", &c, "key", "native", NULL, why, sizeof(why)) == 0,
		      "%s", why);
	snprintf(bin, sizeof(bin), "%s/case.bin", dir);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--mode",
							    "long", "--guest", bin, NULL }, &r);
	ck_assert_msg(r.status == 0, "status %d: %s%s", r.status, r.out, r.err);
	snprintf(want, sizeof(want), "rax=%u\n%u\nscratch+0x10=%u\n%u\n",
		 (unsigned)c.oracle.st.gpr[FZ_RAX], (unsigned)(c.oracle.st.gpr[FZ_RAX] >> 32),
		 (unsigned)c.oracle.st.gpr[FZ_RAX], (unsigned)(c.oracle.st.gpr[FZ_RAX] >> 32));
	ck_assert_str_eq(r.out, want);
	snprintf(bin, sizeof(bin), "%s/case.bin", dir);
	remove(bin);
	snprintf(bin, sizeof(bin), "%s/case.json", dir);
	remove(bin);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_core");
	TCase *tc = tcase_create("judgement");

	tcase_add_test(tc, test_compare_masks_an_undefined_flag_and_reports_a_defined_one);
	tcase_add_test(tc, test_compare_masks_an_undefined_register_and_names_the_rest);
	tcase_add_test(tc, test_minimizer_cuts_a_planted_divergence_to_its_instruction);
	tcase_add_test(tc, test_minimizer_passes_over_windows_the_oracle_cannot_run);
	tcase_add_test(tc, test_buckets_count_a_key_once);
	tcase_add_test(tc, test_bucket_of_another_exception_names_the_exceptions);
	tcase_add_test(tc, test_compare_sees_the_exception_frame_where_both_have_one);
	tcase_add_test(tc, test_record_reads_back_what_was_written);
	tcase_add_test(tc, test_reproducer_image_prints_the_diverging_values);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
