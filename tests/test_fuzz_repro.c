/* A divergence on disk (core/fuzz/repro.c): the JSON record reads back what it holds, in every
 * mode, and the reproducer image of each mode, run as a raw guest, prints the snippet's end state.
 * The snippets are hand-made with end states worked out here, not by an oracle. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "layout.h"
#include "repro.h"
#include "run_binary.h"
#include "run_guest.h"
#include "tv_test.h"

#define RF_CF 0x001u
#define RF_ZF 0x040u
#define RF_SF 0x080u
#define RF_DF 0x400u
#define RF_OF 0x800u

/* Per width, the same three instructions, then (16-bit) a push:
 *   add cx, [scratch+0x20]    a read through DS: the scratch bytes were copied, DS is right
 *   add ax, bx                from 0x7ff0 + 0x11 at the width: the sign flips (OF SF), no CF,
 *                             low byte 0x01 (odd: no PF), no carry out of bit 3 (no AF), not 0
 *   mov [scratch+0x10], ax    a store through DS, at FZ_SCRATCH_ADDR + 0x10
 *   push dx                   (16-bit) a store through SS, at FZ_SCRATCH_ADDR + SP - 2 */
static const uint8_t code64[] = { 0x48, 0x03, 0x0c, 0x25, 0x20, 0x00, 0x04, 0x00, 0x48, 0x01, 0xd8,
				  0x48, 0x89, 0x04, 0x25, 0x10, 0x00, 0x04, 0x00 };
static const uint8_t code32[] = { 0x03, 0x0d, 0x20, 0x00, 0x04, 0x00, 0x01, 0xd8,
				  0xa3, 0x10, 0x00, 0x04, 0x00 };
static const uint8_t code16[] = { 0x03, 0x0e, 0x20, 0x00, 0x01, 0xd8, 0xa3, 0x10, 0x00, 0x52 };
#define END_RFLAGS (RF_OF | RF_SF | RF_DF) /* the start's CF and ZF cleared, its DF kept */

/* The case of mode's snippet: every register distinct (a lost or swapped one shows), RFLAGS with
 * CF, ZF and DF, and every field printed. */
static void case_of(struct fz_case *c, enum tv_mode mode)
{
	unsigned bits = (unsigned)tv_mode_bits(mode);
	const uint8_t *code = bits == 64 ? code64 : bits == 32 ? code32 : code16;

	memset(c, 0, sizeof(*c));
	c->mode = mode;
	c->s.bits = (uint8_t)bits;
	c->s.len = bits == 64 ? sizeof(code64) : bits == 32 ? sizeof(code32) : sizeof(code16);
	memcpy(c->s.code, code, c->s.len);
	for (int i = 0; i < FZ_NGPR; i++)
		c->in.gpr[i] = 0x1111111111111111ull * (uint64_t)(i + 1);
	/* 0x7ff0 at the add's width; above it, what 16-bit code keeps or 32-bit code never sees. */
	c->in.gpr[FZ_RAX] = bits == 64 ? 0x7ffffffffffffff0ull
			  : bits == 32 ? 0xdeadbeef7ffffff0ull : 0xabcd7ff0ull;
	c->in.gpr[FZ_RBX] = bits == 64 ? 0x11 : bits == 32 ? 0x5a5a5a5a00000011ull : 0x5a5a0011ull;
	c->in.gpr[FZ_RSP] = bits == 16 ? 0x14 : FZ_SCRATCH_ADDR + 0x800;
	c->in.rflags = FZ_RFLAGS_FIXED | RF_CF | RF_ZF | RF_DF;
	for (unsigned i = 0; i < FZ_SCRATCH_SIZE; i++)
		c->in.scratch[i] = (uint8_t)(i * 7 + 3);
	c->diff.fields = (uint32_t)((1u << fz_gprs(bits)) - 1) | FZ_F_RFLAGS | FZ_F_SCRATCH;
	c->diff.scratch_at = 0x13; /* printed from 0x10: the 8 (long) or 4 bytes holding it */
}

/* v with its low `width` bits replaced by those of w. */
static uint64_t set_low(uint64_t v, uint64_t w, unsigned width)
{
	uint64_t m = width == 64 ? ~0ull : (1ull << width) - 1;

	return (v & ~m) | (w & m);
}

/* The end state of case_of's snippet, worked out by hand. */
static void end_of(const struct fz_case *c, struct fz_state *end)
{
	unsigned w = c->s.bits; /* the operand width */
	uint64_t mem = 0;

	*end = c->in;
	memcpy(&mem, c->in.scratch + 0x20, w / 8);
	end->gpr[FZ_RCX] = set_low(c->in.gpr[FZ_RCX], c->in.gpr[FZ_RCX] + mem, w);
	end->gpr[FZ_RAX] = set_low(c->in.gpr[FZ_RAX], c->in.gpr[FZ_RAX] + c->in.gpr[FZ_RBX], w);
	end->rflags = END_RFLAGS;
	memcpy(end->scratch + 0x10, &end->gpr[FZ_RAX], w / 8);
	if (w == 16) {
		end->gpr[FZ_RSP] = set_low(c->in.gpr[FZ_RSP], c->in.gpr[FZ_RSP] - 2, 16);
		memcpy(end->scratch + 0x12, &c->in.gpr[FZ_RDX], 2);
	}
}

/* What the image prints for end with every field differing: each register's low dword (and its
 * high one in long mode), RFLAGS, then the scratch bytes from 0x10, a dword at a time. */
static void expected_print(const struct fz_case *c, const struct fz_state *end, char *buf,
			   size_t len)
{
	unsigned dwords = c->s.bits == 64 ? 2 : 1;
	size_t n = 0;
	uint32_t v;

	for (int i = 0; i < fz_gprs(c->s.bits); i++) {
		n += (size_t)snprintf(buf + n, len - n, "%s=", fz_gpr_name(i));
		for (unsigned h = 0; h < dwords; h++)
			n += (size_t)snprintf(buf + n, len - n, "%u\n",
					      (unsigned)(end->gpr[i] >> (32 * h)));
	}
	n += (size_t)snprintf(buf + n, len - n, "rflags=%u\nscratch+0x10=", (unsigned)end->rflags);
	for (unsigned h = 0; h < dwords; h++) {
		memcpy(&v, end->scratch + 0x10 + 4 * h, 4);
		n += (size_t)snprintf(buf + n, len - n, "%u\n", v);
	}
	ck_assert_uint_lt(n, len);
}

/* Builds c's image, runs it on engine in c's mode and checks it prints c's end state and leaves
 * the snippet's stores in guest RAM at FZ_SCRATCH_ADDR. */
static void check_image(const struct fz_case *c, const struct tv_backend_ops *be)
{
	static uint8_t img[0x4000];
	char want[2048];
	struct fz_state end;
	struct tv_test_run t;
	uint8_t ram[8];
	size_t len;

	ck_assert_int_eq(fz_repro_image(c, img, sizeof(img), &len), 0);
	end_of(c, &end);
	expected_print(c, &end, want, sizeof(want));
	tv_test_run(&t, be, c->mode, img, len, NULL, 10.0);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "%s on %s: ended in %s", tv_mode_name(c->mode),
		      be->name, tv_exit_reason_name(t.last.reason));
	ck_assert_msg(strcmp(t.console, want) == 0, "%s on %s: printed\n%s\nwant\n%s",
		      tv_mode_name(c->mode), be->name, t.console, want);
	ck_assert_int_eq(tv_ram_read(&t.m.ram, FZ_SCRATCH_ADDR + 0x10, ram, sizeof(ram)), 0);
	ck_assert_mem_eq(ram, end.scratch + 0x10, sizeof(ram));
	tv_test_run_end(&t);
}

/* _i is the mode: real, protected, paged32, long. The emulator runs every mode everywhere. */
START_TEST(test_image_prints_the_snippets_end_state_on_the_emulator)
{
	struct fz_case c;
	char why[512];

	case_of(&c, (enum tv_mode)_i);
	check_image(&c, tv_test_engine("emu", (enum tv_mode)_i, why, sizeof(why)));
}
END_TEST

/* The same images on KVM, where the host runs the mode: the image is x86, not Unicorn's idea. */
START_TEST(test_image_prints_the_snippets_end_state_on_kvm)
{
	const struct tv_backend_ops *be;
	struct fz_case c;
	char why[512];

	be = tv_test_engine("kvm", (enum tv_mode)_i, why, sizeof(why));
	if (!be)
		TV_SKIP("kvm/%s: %s", tv_mode_name((enum tv_mode)_i), why);
	case_of(&c, (enum tv_mode)_i);
	check_image(&c, be);
}
END_TEST

/* A case where a side faulted: its image catches the fault as the fuzzer's machine does and
 * prints the vector, the error code, the saved RIP, CS and RFLAGS (RF set: a fault; real mode
 * pushes 16-bit FLAGS) and, in the paged modes, CR2 (both halves in long mode); long mode takes it
 * on IST1. Here a divide by zero in each mode, and a load of a selector past the GDT's limit,
 * #GP(selector). */
static void check_fault_image(enum tv_mode mode, const struct tv_backend_ops *be)
{
	static const uint8_t div[] = { 0xf7, 0xf1 };                       /* div ecx (cx) */
	static const uint8_t load[] = { 0x66, 0xb8, 0x38, 0x12, 0x8e, 0xd8 }; /* mov ds, 0x1238 */
	static uint8_t img[0x4000];
	const bool real = mode == TV_MODE_REAL;
	const unsigned cs = real ? FZ_CODE_ADDR >> 4 : mode == TV_MODE_LONG ? 0x18 : 0x8;
	struct fz_case c;
	struct tv_test_run t;
	char want[256];
	size_t len;

	for (int k = 0; k < (real ? 1 : 2); k++) {
		case_of(&c, mode);
		c.s.len = k ? sizeof(load) : sizeof(div);
		memcpy(c.s.code, k ? load : div, c.s.len);
		c.in.gpr[FZ_RCX] = 0;
		c.emu = c.oracle = (struct fz_result){ .st = c.in, .vector = k ? 13 : 0 };
		c.diff.fields = FZ_F_FAULT;
		ck_assert_int_eq(fz_repro_image(&c, img, sizeof(img), &len), 0);
		snprintf(want, sizeof(want), "vector=%d\nerror=%u\nrip=%u\ncs=%u\nrflags=%u\n%s",
			 k ? 13 : 0, k ? 0x1238u : 0u,
			 (unsigned)(fz_code_start(c.s.bits) + (k ? 4 : 0)), cs,
			 (unsigned)((c.in.rflags & FZ_RFLAGS_START_MASK) | 0x2 | (real ? 0 : 0x10000)),
			 mode == TV_MODE_LONG ? "cr2=0\n0\n" : mode == TV_MODE_PAGED32 ? "cr2=0\n" : "");
		tv_test_run(&t, be, mode, img, len, NULL, 10.0);
		ck_assert_msg(t.last.reason == TV_EXIT_HLT && strcmp(t.console, want) == 0,
			      "%s on %s (%s): %s, printed\n%s\nwant\n%s", tv_mode_name(mode), be->name,
			      k ? "mov ds" : "div", tv_exit_reason_name(t.last.reason), t.console,
			      want);
		tv_test_run_end(&t);
	}
}

START_TEST(test_fault_image_prints_the_fault_on_the_emulator)
{
	char why[512];

	check_fault_image((enum tv_mode)_i, tv_test_engine("emu", (enum tv_mode)_i, why,
							   sizeof(why)));
}
END_TEST

START_TEST(test_fault_image_prints_the_fault_on_kvm)
{
	const struct tv_backend_ops *be;
	char why[512];

	be = tv_test_engine("kvm", (enum tv_mode)_i, why, sizeof(why));
	if (!be)
		TV_SKIP("kvm/%s: %s", tv_mode_name((enum tv_mode)_i), why);
	check_fault_image((enum tv_mode)_i, be);
}
END_TEST

START_TEST(test_image_of_a_case_whose_mode_and_width_disagree_is_refused)
{
	static uint8_t img[0x4000];
	struct fz_case c;
	size_t len;

	case_of(&c, TV_MODE_PROTECTED);
	c.mode = TV_MODE_REAL; /* 32-bit code in a real-mode image would run as 16-bit code */
	ck_assert_int_eq(fz_repro_image(&c, img, sizeof(img), &len), -EINVAL);
	c.mode = TV_MODE_COUNT;
	ck_assert_int_eq(fz_repro_image(&c, img, sizeof(img), &len), -EINVAL);
}
END_TEST

/* Reads path into a JSON record. */
static json_t *load(const char *path)
{
	json_error_t err;
	json_t *rec = json_load_file(path, 0, &err);

	ck_assert_msg(rec != NULL, "%s: %s", path, err.text);
	return rec;
}

/* Reads path's whole contents into buf; its length. */
static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	ck_assert_msg(f != NULL, "%s", path);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Every record in dir is a long-mode case (its "mode" "long"; with named_mode false it may also
 * be absent) that rebuilds, with the verdict the fuzzer had, the image beside it byte for byte.
 * How many. */
static int records_rebuild_their_images(const char *dir, bool named_mode)
{
	static uint8_t img[0x4000], bin[0x8000];
	char oracle[16], why[256];
	struct dirent *e;
	struct fz_case c;
	int n = 0;
	DIR *d = opendir(dir);

	ck_assert_msg(d != NULL, "%s", dir);
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name), len;
		const char *mode;
		char path[4400];
		json_t *rec;

		if (nl < 6 || strcmp(e->d_name + nl - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		rec = load(path);
		mode = json_string_value(json_object_get(rec, "mode"));
		ck_assert_msg((!named_mode && !mode) || (mode && strcmp(mode, "long") == 0),
			      "%s: mode %s", path, mode ? mode : "absent");
		ck_assert_msg(!fz_case_from_json(rec, &c, oracle, sizeof(oracle), why, sizeof(why)),
			      "%s: %s", path, why);
		json_decref(rec);
		ck_assert_int_eq(c.mode, TV_MODE_LONG);
		ck_assert_uint_eq(c.s.bits, 64);
		ck_assert(fz_compare(&c.s, &c.emu, &c.oracle, &c.diff));
		ck_assert_int_eq(fz_repro_image(&c, img, sizeof(img), &len), 0);
		snprintf(path + strlen(path) - 5, 6, ".bin");
		ck_assert_uint_eq(slurp(path, bin, sizeof(bin)), len);
		ck_assert_msg(memcmp(img, bin, len) == 0, "%s differs", path);
		n++;
	}
	closedir(d);
	return n;
}

/* tests/divergences holds long-mode reproducers, most written before the other modes: their
 * records (no "mode") still load as long mode, and every one, the later ones (with a fault catcher)
 * too, rebuilds the committed image byte for byte. */
START_TEST(test_committed_long_records_rebuild_their_images_byte_for_byte)
{
	const char *src = getenv("TWINVM_SRC");
	char dir[4096];

	ck_assert_msg(src != NULL, "TWINVM_SRC is not set (run through meson test)");
	snprintf(dir, sizeof(dir), "%s/tests/divergences", src);
	ck_assert_int_ge(records_rebuild_their_images(dir, false), 5);
}
END_TEST

/* A paged32 case whose emulator run faulted with an error code and whose oracle reported an
 * unnamed fault (KVM's SHUTDOWN), both with system state. */
static void faulted_case(struct fz_case *c)
{
	case_of(c, TV_MODE_PAGED32);
	c->emu = c->oracle = (struct fz_result){ .st = c->in };
	c->emu.vector = 14;
	c->emu.error_code = 0x6;
	c->emu.error_code_known = true;
	c->emu.has_system = true;
	c->emu.system.cr0 = 0x80010033;
	c->emu.system.cr2 = 0xdeadbeef;
	c->emu.system.cr3 = 0x11000;
	c->emu.system.cr4 = 0x10;
	c->emu.system.efer = 0;
	c->emu.system.cs = (struct tv_segment){
		.base = 0x1000, .limit = 0xfffff, .selector = 8, .type = 0xb, .present = 1, .db = 1,
		.s = 1, .g = 1,
	};
	c->emu.system.fs = (struct tv_segment){
		.base = 0xffffffff00000000ull, .selector = 0xfffb, .type = 3, .dpl = 3, .l = 1,
		.avl = 1, .unusable = 1,
	};
	c->emu.has_frame = true;
	c->emu.frame_cs = 0x8;
	c->oracle.vector = FZ_VECTOR_UNKNOWN;
}

START_TEST(test_record_round_trips_mode_fault_error_code_frame_and_system_state)
{
	struct fz_case c, back;
	char oracle[16], why[256];
	json_t *rec;

	faulted_case(&c);
	rec = fz_case_json(&c, "key", "kvm", NULL);
	ck_assert_ptr_nonnull(rec);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "mode")), "paged32");
	ck_assert_msg(fz_case_from_json(rec, &back, oracle, sizeof(oracle), why, sizeof(why)) == 0,
		      "%s", why);
	ck_assert_int_eq(back.mode, TV_MODE_PAGED32);
	ck_assert_uint_eq(back.s.bits, 32);
	ck_assert_int_eq(back.emu.vector, 14);
	ck_assert(back.emu.error_code_known);
	ck_assert_uint_eq(back.emu.error_code, 0x6);
	ck_assert(back.emu.has_system);
	ck_assert_mem_eq(&back.emu.system, &c.emu.system, sizeof(c.emu.system));
	ck_assert(back.emu.has_frame);
	ck_assert_uint_eq(back.emu.frame_cs, 0x8);
	ck_assert_uint_eq(back.emu.frame_ss, 0);
	ck_assert_int_eq(back.oracle.vector, FZ_VECTOR_UNKNOWN);
	ck_assert(!back.oracle.error_code_known);
	ck_assert(!back.oracle.has_system);
	ck_assert(!back.oracle.has_frame);
	json_decref(rec);
}
END_TEST

/* Sets rec's member at path ("emu.system.cs.dpl") to v (stolen). */
static void set_at(json_t *rec, const char *path, json_t *v)
{
	char buf[128], *dot, *p = buf;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(p, '.'))) {
		*dot = '\0';
		rec = json_object_get(rec, p);
		ck_assert_ptr_nonnull(rec);
		p = dot + 1;
	}
	json_object_set_new(rec, p, v);
}

/* Each malformed field is refused with why naming it: _i indexes the table. */
static const struct {
	const char *path;
	const char *value; /* JSON text */
	const char *named;
} malformed[] = {
	{ "mode", "\"bogus\"", "\"mode\"" },
	{ "mode", "3", "\"mode\"" },
	{ "emu.error_code", "6", "\"error_code\"" },
	{ "emu.system", "[]", "\"system\"" },
	{ "emu.system.cr2", "\"0xzz\"", "\"system.cr2\"" },
	{ "emu.system.cs", "1", "\"system.cs\"" },
	{ "emu.system.cs.dpl", "4", "\"system.cs.dpl\"" },
	{ "emu.system.fs.unusable", "\"1\"", "\"system.fs.unusable\"" },
	{ "emu.system.ss.selector", "\"0x10000\"", "\"system.ss.selector\"" },
	{ "emu.system.gs.limit", "\"0x100000000\"", "\"system.gs.limit\"" },
	{ "emu.frame", "[]", "\"frame\"" },
	{ "emu.frame.cs", "\"0x10000\"", "\"frame.cs\"" },
	{ "emu.frame.ss", "8", "\"frame.ss\"" },
};

START_TEST(test_record_with_a_malformed_field_is_refused_naming_it)
{
	struct fz_case c, back;
	char oracle[16], why[256];
	json_error_t err;
	json_t *rec;

	faulted_case(&c);
	rec = fz_case_json(&c, "key", "kvm", NULL);
	ck_assert_ptr_nonnull(rec);
	set_at(rec, malformed[_i].path, json_loads(malformed[_i].value, JSON_DECODE_ANY, &err));
	ck_assert_int_eq(fz_case_from_json(rec, &back, oracle, sizeof(oracle), why, sizeof(why)),
			 -EINVAL);
	ck_assert_msg(strstr(why, malformed[_i].named) != NULL, "%s = %s: %s",
		      malformed[_i].path, malformed[_i].value, why);
	json_decref(rec);
}
END_TEST

START_TEST(test_record_without_mode_loads_as_long)
{
	struct fz_case c, back;
	char oracle[16], why[256];
	json_t *rec;

	case_of(&c, TV_MODE_REAL);
	rec = fz_case_json(&c, "key", "native", NULL);
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(json_object_del(rec, "mode"), 0);
	ck_assert_msg(fz_case_from_json(rec, &back, oracle, sizeof(oracle), why, sizeof(why)) == 0,
		      "%s", why);
	ck_assert_int_eq(back.mode, TV_MODE_LONG);
	ck_assert_uint_eq(back.s.bits, 64);
	json_decref(rec);
}
END_TEST

#ifdef TWINVM_HAVE_ZYDIS
/* What `twinvm fuzz --out` writes, minimised cases included: records that name the mode the
 * snippets ran in, each with the image it rebuilds. */
START_TEST(test_fuzz_records_name_their_mode_and_rebuild_their_images)
{
	char out[] = "/tmp/twinvm-repro-XXXXXX", cmd[128];
	struct result r;

	ck_assert_ptr_nonnull(mkdtemp(out));
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "fuzz", "--oracle", "native", "--seed",
							    "7", "--count", "20000", "--out", out,
							    NULL }, &r);
	ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
	ck_assert_int_gt(records_rebuild_their_images(out, true), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("fuzz_repro");
	TCase *tc = tcase_create("repro");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_image_prints_the_snippets_end_state_on_the_emulator, 0,
			    TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_image_prints_the_snippets_end_state_on_kvm, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_fault_image_prints_the_fault_on_the_emulator, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_fault_image_prints_the_fault_on_kvm, 0, TV_MODE_COUNT);
	tcase_add_test(tc, test_image_of_a_case_whose_mode_and_width_disagree_is_refused);
	tcase_add_test(tc, test_committed_long_records_rebuild_their_images_byte_for_byte);
	tcase_add_test(tc, test_record_round_trips_mode_fault_error_code_frame_and_system_state);
	tcase_add_loop_test(tc, test_record_with_a_malformed_field_is_refused_naming_it, 0,
			    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, test_record_without_mode_loads_as_long);
#ifdef TWINVM_HAVE_ZYDIS
	tcase_add_test(tc, test_fuzz_records_name_their_mode_and_rebuild_their_images);
#endif
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
