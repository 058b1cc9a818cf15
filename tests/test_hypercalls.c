/* The six hypercalls (core/machine/hypercalls.c) in every mode on both engines: tiny hand-assembled guests
 * for each call, the demo guest `hypercalls` line by line, exit counts checked against a trace of
 * the same run, and hostile arguments, which must print nothing, leave the failure and its reason
 * in m.hc, and let the guest go on to its next instruction. */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "layout.h"
#include "run_guest.h"
#include "trace.h"
#include "trace_lines.h"
#include "tv_test.h"

/* The ABI as the README gives it, written here as literals rather than taken from core's headers,
 * so that a change to the code cannot carry the tests' expectations along with it. */
#define HC_PORT_PRINT8BIT 0xE9
#define HC_PORT_PRINT32BIT 0xEA
#define HC_PORT_NUMEXITS 0xEB
#define HC_PORT_PRINTSTR 0xEC
#define HC_PORT_NUMEXITSBYTYPE 0xED
#define HC_PORT_GVATOHVA 0xEE
#define HC_STR_MAX 4096     /* the longest string HC_printStr prints */
#define HC_SCRATCH 0xF000u  /* where HC_numExitsByType leaves its text */

/* --- guest code ----------------------------------------------------------------------------------
 *
 * Each guest is written once, as 32-bit code. O stands where 16-bit code needs the operand-size
 * prefix 0x66 to make the same instruction 32 bits wide; GUEST() builds the 16-bit image with
 * O = 0x66 and the 32-bit one with O empty. The 64-bit image is the 32-bit one: these encodings
 * mean the same in 64-bit code (in/out take EAX, a 32-bit mov zero-extends into the 64-bit
 * register). Each body takes one argument A: an address or a value. */
#define O16 0x66,
#define O32
#define LE32(v) ((v) & 0xff), (((v) >> 8) & 0xff), (((v) >> 16) & 0xff), (((v) >> 24) & 0xffu)

struct guest {
	const uint8_t *code[2]; /* [0] 16-bit, [1] 32- and 64-bit */
	size_t len[2];
};

#define GUEST(name, BODY, A)                                                                  \
	static const uint8_t name##_16[] = { BODY(O16, A) };                                  \
	static const uint8_t name##_32[] = { BODY(O32, A) };                                  \
	static const struct guest name = { { name##_16, name##_32 },                          \
					   { sizeof(name##_16), sizeof(name##_32) } }

/* Guest-physical (and, identity-mapped, guest-virtual) addresses the tests use. */
#define DATA 0x800u              /* a string the test writes, just past the code */
#define LONG_STR 0x20000u        /* a 4 KiB string, in the RAM free for the guest */
#define RAM_END ((uint32_t)TV_RAM_DEFAULT)
#define OUTSIDE 0x7fff0000u      /* identity-mapped, far above RAM */
#define ALIAS 0x400000u          /* a large page the paged tests map at physical 0, or split */
#define SPLIT_PT 0x22000u        /* the 4 KiB page table that splits it */
#define SPLIT_STR (ALIAS + 0xff8u) /* a string across the split's two pages */
#define MARKER 0x600du           /* ECX after the hypercall: the guest went on */

/* The paged-only tests loop from TV_MODE_PAGED32 to the end. */
_Static_assert(TV_MODE_PAGED32 + 2 == TV_MODE_COUNT && TV_MODE_LONG + 1 == TV_MODE_COUNT,
	       "the paged modes are the last two");

/* HC_print8bit: "Hi" with out, then the 4 bytes at A with one rep outsb (string OUT prints every
 * element; in 16-bit code it takes SI and CX, which hold the same values). */
#define PRINT8BIT(O, A)                                                                       \
	0xb0, 'H',            /* mov al, 'H' */                                               \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	0xb0, 'i',            /* mov al, 'i' */                                               \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	O 0xba, LE32(0xe9),   /* mov edx, 0xe9 */                                             \
	O 0xbe, LE32(A),      /* mov esi, A */                                                \
	O 0xb9, LE32(4),      /* mov ecx, 4 */                                                \
	0xf3, 0x6e,           /* rep outsb */                                                 \
	0xf4                  /* hlt */
GUEST(print8bit, PRINT8BIT, DATA);

/* HC_print32bit: A, 0 and the largest value. */
#define PRINT32BIT(O, A)                                                                      \
	O 0xb8, LE32(A),          /* mov eax, A */                                            \
	O 0xe7, 0xea,             /* out 0xea, eax */                                         \
	O 0xb8, LE32(0),          /* mov eax, 0 */                                            \
	O 0xe7, 0xea,             /* out 0xea, eax */                                         \
	O 0xb8, LE32(0xffffffff), /* mov eax, 0xffffffff */                                   \
	O 0xe7, 0xea,             /* out 0xea, eax */                                         \
	0xf4                      /* hlt */
GUEST(print32bit, PRINT32BIT, 1234567890);

/* HC_numExits twice with one other exit (printing the character A) between. */
#define NUMEXITS(O, A)                                                                        \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	O 0x89, 0xc3,         /* mov ebx, eax */                                              \
	0xb0, A,              /* mov al, A */                                                 \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	0xf4                  /* hlt */
GUEST(numexits, NUMEXITS, 'x');

/* HC_printStr of the string at A, then a marker that shows the guest went on. */
#define PRINTSTR(O, A)                                                                        \
	O 0xb8, LE32(A),      /* mov eax, A */                                                \
	O 0xe7, 0xec,         /* out 0xec, eax */                                             \
	O 0xb9, LE32(MARKER), /* mov ecx, MARKER */                                           \
	0xf4                  /* hlt */
GUEST(printstr_data, PRINTSTR, DATA);
GUEST(printstr_long, PRINTSTR, LONG_STR);
GUEST(printstr_at_ram_end, PRINTSTR, RAM_END - 16);
GUEST(printstr_outside_ram, PRINTSTR, OUTSIDE);
GUEST(printstr_alias, PRINTSTR, ALIAS + DATA);
GUEST(printstr_split, PRINTSTR, SPLIT_STR);

/* HC_numExitsByType after one OUT, then HC_printStr of the text it returned. */
#define NUMEXITSBYTYPE(O, A)                                                                  \
	0xb0, A,              /* mov al, A */                                                 \
	0xe6, 0xe9,           /* out 0xe9, al */                                              \
	O 0xe5, 0xed,         /* in eax, 0xed */                                              \
	O 0xe7, 0xec,         /* out 0xec, eax */                                             \
	0xf4                  /* hlt */
GUEST(numexitsbytype, NUMEXITSBYTYPE, 'x');

/* HC_gvaToHva of 0x400 (result kept in EDX) and of A, then a marker. */
#define GVATOHVA(O, A)                                                                        \
	O 0xbb, LE32(0x400),  /* mov ebx, 0x400 */                                            \
	O 0xe5, 0xee,         /* in eax, 0xee */                                              \
	O 0x89, 0xc2,         /* mov edx, eax */                                              \
	O 0xbb, LE32(A),      /* mov ebx, A */                                                \
	O 0xe5, 0xee,         /* in eax, 0xee */                                              \
	O 0xb9, LE32(MARKER), /* mov ecx, MARKER */                                           \
	0xf4                  /* hlt */
GUEST(gvatohva_last_byte, GVATOHVA, RAM_END - 1);
GUEST(gvatohva_past_ram, GVATOHVA, RAM_END);
GUEST(gvatohva_alias, GVATOHVA, ALIAS + DATA);

/* HC_numExits, HC_printStr of the string at A, HC_numExits; EAX = the difference. */
#define NUMEXITS_AROUND_PRINTSTR(O, A)                                                        \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	O 0x89, 0xc3,         /* mov ebx, eax */                                              \
	O 0xb8, LE32(A),      /* mov eax, A */                                                \
	O 0xe7, 0xec,         /* out 0xec, eax */                                             \
	O 0xe5, 0xeb,         /* in eax, 0xeb */                                              \
	O 0x29, 0xd8,         /* sub eax, ebx */                                              \
	0xf4                  /* hlt */
GUEST(numexits_around_printstr, NUMEXITS_AROUND_PRINTSTR, DATA);

/* A flood: one rep outsb of A bytes to HC_print32bit's port, which takes only a 32-bit OUT. */
#define FLOOD(O, A)                                                                           \
	O 0xba, LE32(0xea),   /* mov edx, 0xea */                                             \
	O 0xbe, LE32(0),      /* mov esi, 0 */                                                \
	O 0xb9, LE32(A),      /* mov ecx, A */                                                \
	0xf3, 0x6e,           /* rep outsb */                                                 \
	0xf4                  /* hlt */
GUEST(flood, FLOOD, 1000);

/* 64-bit code only: HC_gvaToHva of a non-canonical address, which needs all of RBX. */
static const uint8_t gvatohva_noncanonical_64[] = {
	0x48, 0xbb, 0x00, 0x04, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, /* mov rbx, 0x800000000400 */
	0xe5, 0xee,                                                 /* in eax, 0xee */
	0xb9, LE32(MARKER),                                         /* mov ecx, MARKER */
	0xf4,                                                       /* hlt */
};

/* --- running them ----------------------------------------------------------------------------- */

static const uint8_t *guest_code(const struct guest *g, enum tv_mode mode)
{
	return g->code[tv_mode_bits(mode) == 16 ? 0 : 1];
}

static size_t guest_len(const struct guest *g, enum tv_mode mode)
{
	return g->len[tv_mode_bits(mode) == 16 ? 0 : 1];
}

/* The probes' answers, asked once by main() before Check forks the tests: a probe runs a guest,
 * and on the emulator that costs as much as the test itself. */
static const char *const engines[] = { "kvm", "emu" };
static struct {
	const struct tv_backend_ops *be;
	char why[256];
} probed[2][TV_MODE_COUNT];

static void probe_all(void)
{
	for (int e = 0; e < 2; e++)
		for (int mode = 0; mode < TV_MODE_COUNT; mode++)
			probed[e][mode].be = tv_test_engine(engines[e], (enum tv_mode)mode,
							    probed[e][mode].why,
							    sizeof(probed[e][mode].why));
}

/* tv_test_engine(), answered from the probes main() ran. */
static const struct tv_backend_ops *engine_for(const char *engine, enum tv_mode mode, char *why,
					       size_t why_len)
{
	int e = strcmp(engine, "kvm") == 0 ? 0 : 1;

	ck_assert_str_eq(engine, engines[e]);
	snprintf(why, why_len, "%s", probed[e][mode].why);
	return probed[e][mode].be;
}

/* A machine on engine in mode with image loaded, not yet run, for the test to set up RAM first;
 * false, with the probe's reason in why, when the engine cannot run the mode. */
static bool prepare(struct tv_test_run *t, const char *engine, enum tv_mode mode,
		    const uint8_t *image, size_t len, FILE *trace, char *why, size_t why_len)
{
	const struct tv_backend_ops *be = engine_for(engine, mode, why, why_len);

	if (!be)
		return false;
	tv_test_prepare(t, be, mode, image, len, trace);
	return true;
}

static bool prepare_guest(struct tv_test_run *t, const char *engine, enum tv_mode mode,
			  const struct guest *g, FILE *trace, char *why, size_t why_len)
{
	return prepare(t, engine, mode, guest_code(g, mode), guest_len(g, mode), trace, why,
		       why_len);
}

/* Runs the prepared machine to its end and reads the registers and the console. */
static void run(struct tv_test_run *t)
{
	tv_test_finish(t, 30);
}

static void poke(struct tv_test_run *t, uint64_t gpa, const void *data, size_t len)
{
	ck_assert_int_eq(tv_ram_write(&t->m.ram, gpa, data, len), 0);
}

static void poke_str(struct tv_test_run *t, uint64_t gpa, const char *s)
{
	poke(t, gpa, s, strlen(s) + 1);
}

/* The guest ran to its last instruction, the hlt, and halted there. */
static void expect_halted_at_end(const struct tv_test_run *t, size_t len)
{
	ck_assert_msg(t->last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t->last.reason), t->last.detail);
	ck_assert_uint_eq(t->regs.rip, len);
}

/* HC_gvaToHva's answer for gpa: guest RAM starts at a 4 GiB-aligned host address (the README's
 * ABI), so the low 32 bits of the host address are the RAM offset itself. */
#define hva32(gpa) ((uint32_t)(gpa))

/* test_<what>_kvm and test_<what>_emu, loop tests over modes that call fn(engine, mode). */
#define ON_EACH_ENGINE(what, fn)                                                              \
	START_TEST(test_##what##_kvm) { fn("kvm", (enum tv_mode)_i); }                        \
	END_TEST                                                                              \
	START_TEST(test_##what##_emu) { fn("emu", (enum tv_mode)_i); }                        \
	END_TEST

#define ADD_ON_EACH_ENGINE(tc, what, first_mode)                                              \
	do {                                                                                  \
		tcase_add_loop_test(tc, test_##what##_kvm, first_mode, TV_MODE_COUNT);        \
		tcase_add_loop_test(tc, test_##what##_emu, first_mode, TV_MODE_COUNT);        \
	} while (0)

/* --- each hypercall --------------------------------------------------------------------------- */

static void print8bit_prints_bytes(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &print8bit, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	poke(&t, DATA, "abc\n", 4);
	run(&t);
	expect_halted_at_end(&t, guest_len(&print8bit, mode));
	ck_assert_str_eq(t.console, "Hiabc\n");
	ck_assert_uint_eq(t.regs.rcx & 0xffff, 0);         /* rep ran to the end */
	ck_assert_uint_eq(t.regs.rsi & 0xffff, DATA + 4);
	ck_assert_str_eq(t.m.hc.name, "HC_print8bit");
	ck_assert(!t.m.hc.failed);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(print8bit_prints_each_byte_of_out_and_rep_outsb, print8bit_prints_bytes)

static void print32bit_prints_decimal(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &print32bit, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_halted_at_end(&t, guest_len(&print32bit, mode));
	ck_assert_str_eq(t.console, "1234567890\n0\n4294967295\n");
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 0xffffffff);
	ck_assert_str_eq(t.m.hc.name, "HC_print32bit");
	ck_assert(t.m.hc.has_arg);
	ck_assert_uint_eq(t.m.hc.arg, 0xffffffff);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(print32bit_prints_unsigned_decimal_lines, print32bit_prints_decimal)

static void numexits_counts_itself(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &numexits, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_halted_at_end(&t, guest_len(&numexits, mode));
	ck_assert_str_eq(t.console, "x");
	ck_assert_uint_eq(t.regs.rbx & 0xffffffff, 1); /* the first exit, itself */
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 3); /* in, out, in */
	ck_assert_uint_eq(t.m.stats.total, 4);         /* and the hlt */
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexits_counts_every_exit_including_itself, numexits_counts_itself)

static void printstr_prints_string(const char *engine, enum tv_mode mode)
{
	const char *text = "Hello from HC_printStr\n";
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_data, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	poke_str(&t, DATA, text);
	run(&t);
	expect_halted_at_end(&t, guest_len(&printstr_data, mode));
	ck_assert_str_eq(t.console, text);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, DATA);
	ck_assert_uint_eq(t.regs.rcx & 0xffffffff, MARKER);
	ck_assert(!t.m.hc.failed);
	ck_assert_uint_eq(t.m.hc.result, strlen(text));
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_prints_the_string, printstr_prints_string)

/* Exactly HC_STR_MAX bytes before the NUL is still allowed. */
static void printstr_prints_longest_string(const char *engine, enum tv_mode mode)
{
	static char text[HC_STR_MAX + 1];
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_long, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	memset(text, 'L', HC_STR_MAX);
	text[HC_STR_MAX] = '\0';
	poke_str(&t, LONG_STR, text);
	run(&t);
	expect_halted_at_end(&t, guest_len(&printstr_long, mode));
	ck_assert_uint_eq(t.console_len, HC_STR_MAX);
	ck_assert_str_eq(t.console, text);
	ck_assert(!t.m.hc.failed);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_prints_a_string_of_exactly_the_limit, printstr_prints_longest_string)

static void numexitsbytype_counts_in_and_out(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256], scratch[32];

	if (!prepare_guest(&t, engine, mode, &numexitsbytype, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_halted_at_end(&t, guest_len(&numexitsbytype, mode));
	/* The IN is counted in its own answer; the printStr that follows is not yet. */
	ck_assert_str_eq(t.console, "xIO in: 1\nIO out: 1\n");
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, HC_SCRATCH);
	ck_assert_int_eq(tv_ram_read(&t.m.ram, HC_SCRATCH, scratch, sizeof(scratch)), 0);
	ck_assert_str_eq(scratch, "IO in: 1\nIO out: 1\n");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexitsbytype_returns_counts_so_far_in_scratch, numexitsbytype_counts_in_and_out)

static void gvatohva_returns_host_address(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &gvatohva_last_byte, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_halted_at_end(&t, guest_len(&gvatohva_last_byte, mode));
	ck_assert_str_eq(t.console, "");
	ck_assert_uint_eq(t.regs.rdx & 0xffffffff, hva32(0x400));
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, hva32(RAM_END - 1));
	ck_assert(!t.m.hc.failed);
	ck_assert_uint_eq(t.m.hc.arg, RAM_END - 1);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_returns_low_32_bits_of_host_address, gvatohva_returns_host_address)

static void numexits_differ_by_two(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &numexits_around_printstr, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	poke_str(&t, DATA, "between\n");
	run(&t);
	expect_halted_at_end(&t, guest_len(&numexits_around_printstr, mode));
	ck_assert_str_eq(t.console, "between\n");
	ck_assert_uint_eq(t.regs.rbx & 0xffffffff, 1);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 2); /* the printStr and the second numExits */
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexits_differ_by_two_around_one_printstr, numexits_differ_by_two)

/* --- the handler alone, with exits no engine here makes ------------------------------------------
 *
 * Both engines on this host split rep outsb into one exit per byte, so a batched string OUT
 * (count > 1), which KVM may report, is handed to tv_hypercall() directly. These calls read no
 * guest registers, so a machine with no engine will do. */

struct bare {
	struct tv_machine m;
	char *console;
	size_t console_len;
};

static void bare_start(struct bare *b)
{
	memset(b, 0, sizeof(*b));
	b->m.opt.console = open_memstream(&b->console, &b->console_len);
	ck_assert_ptr_nonnull(b->m.opt.console);
}

static void bare_end(struct bare *b)
{
	fclose(b->m.opt.console);
	free(b->console);
}

static struct tv_exit io_exit(uint16_t port, uint8_t dir, uint8_t size, uint32_t count,
			      void *data)
{
	struct tv_exit e = { .reason = TV_EXIT_IO };

	e.io.port = port;
	e.io.direction = dir;
	e.io.size = size;
	e.io.count = count;
	e.io.data = data;
	return e;
}

START_TEST(test_print8bit_prints_every_element_of_a_batched_string_out)
{
	uint8_t bytes[] = { 'a', 'b', 'c' };
	uint8_t words[] = { 'd', 0x11, 'e', 0x22 }; /* outsw: each element's low byte prints */
	struct tv_exit e;
	struct bare b;

	bare_start(&b);
	e = io_exit(HC_PORT_PRINT8BIT, TV_IO_OUT, 1, 3, bytes);
	ck_assert(tv_hypercall(&b.m, &e));
	e = io_exit(HC_PORT_PRINT8BIT, TV_IO_OUT, 2, 2, words);
	ck_assert(tv_hypercall(&b.m, &e));
	fflush(b.m.opt.console);
	ck_assert_str_eq(b.console, "abcde");
	bare_end(&b);
}
END_TEST

START_TEST(test_print32bit_refuses_a_byte_wide_out)
{
	uint8_t byte[] = { 7 };
	struct tv_exit e = io_exit(HC_PORT_PRINT32BIT, TV_IO_OUT, 1, 1, byte);
	struct bare b;

	bare_start(&b);
	ck_assert(tv_hypercall(&b.m, &e));
	fflush(b.m.opt.console);
	ck_assert_str_eq(b.console, "");
	ck_assert(b.m.hc.failed);
	ck_assert_ptr_nonnull(strstr(b.m.hc.error, "expects one 32-bit OUT"));
	bare_end(&b);
}
END_TEST

START_TEST(test_numexits_answers_a_16_bit_in_with_the_low_half)
{
	uint8_t data[4] = { 0xff, 0xff, 0xff, 0xff };
	struct tv_exit e = io_exit(HC_PORT_NUMEXITS, TV_IO_IN, 2, 1, data);
	struct bare b;

	bare_start(&b);
	b.m.stats.total = 0x12345;
	ck_assert(tv_hypercall(&b.m, &e));
	ck_assert_uint_eq(data[0], 0x45);
	ck_assert_uint_eq(data[1], 0x23);
	ck_assert_uint_eq(data[2], 0xff); /* beyond the access: untouched */
	bare_end(&b);
}
END_TEST

START_TEST(test_other_ports_are_not_hypercalls)
{
	uint8_t data[1] = { 0 };
	struct tv_exit e = io_exit(0xe8, TV_IO_OUT, 1, 1, data);
	struct bare b;

	bare_start(&b);
	ck_assert(!tv_hypercall(&b.m, &e));
	e.io.port = 0xef;
	ck_assert(!tv_hypercall(&b.m, &e));
	bare_end(&b);
}
END_TEST

/* --- the handler with guest registers from a fake engine ----------------------------------------
 *
 * HC_printStr and HC_gvaToHva read the guest's registers. A fake engine that answers get_regs and
 * get_sregs from a struct lets a test set states the built-in modes never use (a data segment
 * whose base is not page aligned) on every host, with no engine at all. */

static struct tv_regs fake_regs;
static struct tv_sregs fake_sregs;

static int fake_get_regs(struct tv_vcpu *v, struct tv_regs *r)
{
	(void)v;
	*r = fake_regs;
	return 0;
}

static int fake_get_sregs(struct tv_vcpu *v, struct tv_sregs *s)
{
	(void)v;
	*s = fake_sregs;
	return 0;
}

static const struct tv_backend_ops fake_engine = {
	.name = "fake",
	.get_regs = fake_get_regs,
	.get_sregs = fake_get_sregs,
};

/* A bare machine on the fake engine with the default RAM in mode (tables and GDT written). */
static void fake_start(struct bare *b, enum tv_mode mode)
{
	struct tv_regs r;

	bare_start(b);
	b->m.be = &fake_engine;
	ck_assert_int_eq(tv_ram_alloc(&b->m.ram, TV_RAM_DEFAULT), 0);
	ck_assert_int_eq(tv_mode_setup(mode, b->m.ram.host, b->m.ram.size, &fake_sregs, &r), 0);
	memset(&fake_regs, 0, sizeof(fake_regs));
	b->m.mode = mode;
}

static void fake_end(struct bare *b)
{
	tv_ram_free(&b->m.ram);
	bare_end(b);
}

static void fake_poke(struct bare *b, uint64_t gpa, const void *data, size_t len)
{
	ck_assert_int_eq(tv_ram_write(&b->m.ram, gpa, data, len), 0);
}

/* With DS.base = ALIAS + 0x800, offset 0x7f8 is linear ALIAS + 0xff8: the string's last 8 bytes
 * before the linear page boundary are on one split page and the rest on the other, which is
 * physically *below* it. Split at the offset's page boundary (0x1000) instead, the walk would read
 * on from 0x31ff8 into physical 0x32000, the page after it in RAM. */
START_TEST(test_printstr_splits_at_linear_page_boundaries_with_an_unaligned_ds_base)
{
	const uint32_t pte0 = 0x31000 | TV_PTE_P | TV_PTE_RW, pte1 = 0x30000 | TV_PTE_P | TV_PTE_RW;
	const uint32_t pde = SPLIT_PT | TV_PTE_P | TV_PTE_RW;
	uint32_t offset = 0x7f8;
	struct tv_exit e = io_exit(HC_PORT_PRINTSTR, TV_IO_OUT, 4, 1, &offset);
	struct bare b;

	fake_start(&b, TV_MODE_PAGED32);
	fake_poke(&b, SPLIT_PT, &pte0, 4);
	fake_poke(&b, SPLIT_PT + 4, &pte1, 4);
	fake_poke(&b, TV_PD32 + 4 * (ALIAS >> 22), &pde, 4);
	fake_poke(&b, 0x31ff8, "01234567", 8);
	fake_poke(&b, 0x30000, "89\n", 4);
	fake_poke(&b, 0x32000, "physically next\n", 17);
	fake_sregs.ds.base = ALIAS + 0x800;
	ck_assert(tv_hypercall(&b.m, &e));
	fflush(b.m.opt.console);
	ck_assert_msg(!b.m.hc.failed, "failed: %s", b.m.hc.error);
	ck_assert_str_eq(b.console, "0123456789\n");
	fake_end(&b);
}
END_TEST

/* --- throttled failure messages --------------------------------------------------------------- */

/* Failure messages go to stderr: a test takes fd 2 over with a temporary file while it runs. */
struct captured {
	FILE *f;
	int saved;
	char text[8192];
};

static void capture_stderr(struct captured *c)
{
	fflush(stderr);
	c->f = tmpfile();
	ck_assert_ptr_nonnull(c->f);
	c->saved = dup(2);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_ge(dup2(fileno(c->f), 2), 0);
}

/* What was written to stderr so far, in c->text. */
static const char *captured_text(struct captured *c)
{
	ssize_t n;

	fflush(stderr);
	n = pread(fileno(c->f), c->text, sizeof(c->text) - 1, 0);
	ck_assert_int_ge(n, 0);
	c->text[n] = '\0';
	return c->text;
}

/* Gives fd 2 back, leaving what was written in c->text. */
static void release_stderr(struct captured *c)
{
	captured_text(c);
	ck_assert_int_ge(dup2(c->saved, 2), 0);
	close(c->saved);
	fclose(c->f);
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* One rep outsb of 1,000 bytes to port 0xEA, where HC_print32bit takes only a 32-bit OUT: a
 * thousand failures of one kind, ten of which are printed; three of another kind, all printed; and
 * at the machine's end one line for the rest. */
START_TEST(test_failure_messages_are_throttled_after_ten_of_a_kind)
{
	uint8_t byte[1] = { 7 };
	struct captured c;
	struct bare b;

	bare_start(&b);
	capture_stderr(&c);
	for (int i = 0; i < 1000; i++) {
		struct tv_exit e = io_exit(HC_PORT_PRINT32BIT, TV_IO_OUT, 1, 1, byte);

		ck_assert(tv_hypercall(&b.m, &e));
		ck_assert(b.m.hc.failed); /* every one fails, printed or not */
	}
	for (int i = 0; i < 3; i++) {
		struct tv_exit e = io_exit(HC_PORT_NUMEXITS, TV_IO_OUT, 4, 1, byte);

		ck_assert(tv_hypercall(&b.m, &e));
	}
	captured_text(&c);
	ck_assert_int_eq(count_lines_with(c.text, "twinvm: HC_print32bit: expects one 32-bit OUT"),
			 10);
	ck_assert_int_eq(count_lines_with(c.text, "twinvm: HC_numExits: expects one IN"), 3);
	ck_assert_int_eq(count_lines_with(c.text, "suppressed"), 0);
	tv_machine_destroy(&b.m);
	release_stderr(&c);
	ck_assert_int_eq(count_lines_with(c.text, "\n"), 14);
	ck_assert_int_eq(count_lines_with(c.text, "suppressed"), 1);
	ck_assert_msg(strstr(c.text, "twinvm: HC_print32bit: expects one 32-bit OUT (outl) on port 0xea, "
				     "got OUT of size 1 count 1 (990 more like this suppressed)\n"),
		      "%s", c.text);
	bare_end(&b);
}
END_TEST

/* A refused HC_numExitsByType (an OUT, or a string IN) has no effect: the scratch page keeps
 * what it held, and the guest's IN buffer what it held. */
START_TEST(test_refused_numexitsbytype_leaves_the_scratch_page_alone)
{
	uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, scratch[32], want[32];
	struct tv_exit out = io_exit(HC_PORT_NUMEXITSBYTYPE, TV_IO_OUT, 4, 1, data);
	struct tv_exit rep_in = io_exit(HC_PORT_NUMEXITSBYTYPE, TV_IO_IN, 1, 8, data);
	struct bare b;

	bare_start(&b);
	b.m.opt.quiet = true;
	ck_assert_int_eq(tv_ram_alloc(&b.m.ram, TV_RAM_DEFAULT), 0);
	memset(want, 0xa5, sizeof(want));
	ck_assert_int_eq(tv_ram_write(&b.m.ram, HC_SCRATCH, want, sizeof(want)), 0);
	b.m.stats.io_in = 3;

	ck_assert(tv_hypercall(&b.m, &out));
	ck_assert(b.m.hc.failed);
	ck_assert(tv_hypercall(&b.m, &rep_in));
	ck_assert(b.m.hc.failed);
	ck_assert_int_eq(tv_ram_read(&b.m.ram, HC_SCRATCH, scratch, sizeof(scratch)), 0);
	ck_assert_mem_eq(scratch, want, sizeof(want));
	ck_assert_uint_eq(data[0], 1);
	tv_ram_free(&b.m.ram);
	bare_end(&b);
}
END_TEST

/* --- through the guest's own page tables (paged modes) ---------------------------------------- */

/* Maps the large page at ALIAS (4 MiB in paged32, 2 MiB in long mode) to physical 0, present or
 * not: the entry differs from twinvm's identity tables only in where it points. */
static void map_alias(struct tv_test_run *t, enum tv_mode mode, bool present)
{
	uint64_t e = TV_PTE_RW | TV_PTE_PS | (present ? TV_PTE_P : 0);
	uint32_t e32 = (uint32_t)e;

	if (mode == TV_MODE_PAGED32)
		poke(t, TV_PD32 + 4 * (ALIAS >> 22), &e32, sizeof(e32));
	else
		poke(t, TV_PD64 + 8 * (ALIAS >> 21), &e, sizeof(e));
}

/* Splits the large page at ALIAS into 4 KiB pages through a page table at SPLIT_PT whose first two
 * entries are in reverse order: ALIAS -> physical 0x31000, ALIAS + 0x1000 -> 0x30000. */
static void map_split(struct tv_test_run *t, enum tv_mode mode)
{
	const uint64_t pte0 = 0x31000 | TV_PTE_P | TV_PTE_RW, pte1 = 0x30000 | TV_PTE_P | TV_PTE_RW;
	const uint64_t pde = SPLIT_PT | TV_PTE_P | TV_PTE_RW;

	if (mode == TV_MODE_PAGED32) {
		const uint32_t p0 = (uint32_t)pte0, p1 = (uint32_t)pte1, d = (uint32_t)pde;

		poke(t, SPLIT_PT, &p0, 4);
		poke(t, SPLIT_PT + 4, &p1, 4);
		poke(t, TV_PD32 + 4 * (ALIAS >> 22), &d, 4);
	} else {
		poke(t, SPLIT_PT, &pte0, 8);
		poke(t, SPLIT_PT + 8, &pte1, 8);
		poke(t, TV_PD64 + 8 * (ALIAS >> 21), &pde, 8);
	}
}

static void printstr_through_alias(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	map_alias(&t, mode, true);
	poke_str(&t, DATA, "through the alias\n");
	run(&t);
	expect_halted_at_end(&t, guest_len(&printstr_alias, mode));
	ck_assert_str_eq(t.console, "through the alias\n");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_reads_through_the_guest_page_tables, printstr_through_alias)

static void printstr_across_split_pages(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_split, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	map_split(&t, mode);
	poke(&t, 0x31ff8, "01234567", 8); /* the last 8 bytes of the first virtual page */
	poke_str(&t, 0x30000, "89\n");    /* the start of the second */
	run(&t);
	expect_halted_at_end(&t, guest_len(&printstr_split, mode));
	ck_assert_str_eq(t.console, "0123456789\n");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_follows_a_string_across_noncontiguous_pages, printstr_across_split_pages)

static void gvatohva_through_alias(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &gvatohva_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	map_alias(&t, mode, true);
	run(&t);
	expect_halted_at_end(&t, guest_len(&gvatohva_alias, mode));
	ck_assert_str_eq(t.console, "");
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, hva32(DATA));
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_translates_through_the_guest_page_tables, gvatohva_through_alias)

/* --- the demo guest `hypercalls` -------------------------------------------------------------- */

/* Runs the built-in hypercalls guest; false with the reason when engine cannot run mode. */
static bool run_demo(struct tv_test_run *t, const char *engine, enum tv_mode mode, FILE *trace,
		     char *why, size_t why_len)
{
	const struct tv_builtin *g = tv_builtin_find("hypercalls");
	const uint8_t *image;
	size_t len;

	ck_assert_ptr_nonnull(g);
	tv_builtin_image(g, mode, &image, &len);
	if (!prepare(t, engine, mode, image, len, trace, why, why_len))
		return false;
	run(t);
	ck_assert_msg(t->last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t->last.reason), t->last.detail);
	return true;
}

/* Compares line by line, so a failure names the first line that differs. */
static void expect_lines(const char *got, const char *want)
{
	int line = 1;

	while (*got || *want) {
		size_t g = strcspn(got, "\n"), w = strcspn(want, "\n");

		ck_assert_msg(g == w && memcmp(got, want, g) == 0 && got[g] == want[w],
			      "line %d: got \"%.*s\", expected \"%.*s\"", line, (int)g, got, (int)w,
			      want);
		got += g + (got[g] != '\0');
		want += w + (want[w] != '\0');
		line++;
	}
}

static void demo_prints_exactly(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256], want[1024];

	if (!run_demo(&t, engine, mode, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	snprintf(want, sizeof(want),
		 "HC_print32bit(1234567890):\n"
		 "1234567890\n"
		 "HC_printStr between two HC_numExits\n"
		 "numExits before: 3\n"
		 "numExits after: 5\n"
		 "difference: 2\n"
		 "HC_numExitsByType:\n"
		 "IO in: 3\n"
		 "IO out: 10\n"
		 "HC_gvaToHva(0x400): %" PRIu32 "\n"
		 "HC_gvaToHva(0xfffff000): Invalid GVA\n"
		 "0\n",
		 hva32(0x400));
	expect_lines(t.console, want);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, 0);
	ck_assert_uint_eq(t.m.stats.total, 21); /* 20 hypercalls and the hlt */
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(demo_guest_prints_exactly_the_expected_lines, demo_prints_exactly)

/* --- against a trace of the same run ---------------------------------------------------------- */

#define MAX_RECORDS 64

struct trace {
	json_t *rec[MAX_RECORDS];
	int n;
};

/* Parses every exit record of the trace file f, which it closes. The closing {"ram": ...} line
 * (guest RAM's size and hash) is checked for its place and left out. */
static void trace_load(struct trace *tr, FILE *f)
{
	struct tv_trace_reader in = { .f = f, .name = "the trace" };
	bool ram_seen = false;
	json_t *rec;

	rewind(f);
	tr->n = 0;
	while ((rec = tv_test_trace_next(&in))) {
		ck_assert_msg(!ram_seen, "a line after the closing RAM line");
		if (json_object_get(rec, "ram")) {
			ram_seen = true;
			json_decref(rec);
			continue;
		}
		ck_assert_int_lt(tr->n, MAX_RECORDS);
		tr->rec[tr->n++] = rec;
	}
	fclose(f);
}

static void trace_free(struct trace *tr)
{
	for (int i = 0; i < tr->n; i++)
		json_decref(tr->rec[i]);
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static uint64_t hex_of(const json_t *obj, const char *key)
{
	uint64_t v = 0;

	ck_assert_msg(tv_trace_hex(obj, key, &v) == 0, "\"%s\" is missing or not hex", key);
	return v;
}

/* Runs the demo guest with a trace; false with the reason when engine cannot run mode. */
static bool traced_demo(struct tv_test_run *t, struct trace *tr, const char *engine,
			enum tv_mode mode, char *why, size_t why_len)
{
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	if (!run_demo(t, engine, mode, f, why, why_len)) {
		fclose(f);
		return false;
	}
	trace_load(tr, f);
	return true;
}

static void numexitsbytype_matches_trace(const char *engine, enum tv_mode mode)
{
	unsigned long in = 0, out = 0, said_in, said_out;
	struct tv_test_run t;
	struct trace tr;
	const char *text;
	char why[256];
	int i;

	if (!traced_demo(&t, &tr, engine, mode, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	text = strstr(t.console, "HC_numExitsByType:\n");
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "HC_numExitsByType:\nIO in: %lu\nIO out: %lu\n", &said_in,
				&said_out), 2);

	for (i = 0; i < tr.n; i++) {
		const json_t *io = json_object_get(tr.rec[i], "io");
		const json_t *hc = json_object_get(tr.rec[i], "hypercall");

		if (io && strcmp(str_of(io, "dir"), "in") == 0)
			in++;
		else if (io)
			out++;
		if (hc && strcmp(str_of(hc, "name"), "HC_numExitsByType") == 0)
			break;
	}
	ck_assert_msg(i < tr.n, "no HC_numExitsByType exit in the trace");
	ck_assert_uint_eq(said_in, in);
	ck_assert_uint_eq(said_out, out);
	trace_free(&tr);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(numexitsbytype_matches_the_io_exits_in_the_trace, numexitsbytype_matches_trace)

static const char *const hc_names[] = {
	[HC_PORT_PRINT8BIT - 0xe9] = "HC_print8bit",
	[HC_PORT_PRINT32BIT - 0xe9] = "HC_print32bit",
	[HC_PORT_NUMEXITS - 0xe9] = "HC_numExits",
	[HC_PORT_PRINTSTR - 0xe9] = "HC_printStr",
	[HC_PORT_NUMEXITSBYTYPE - 0xe9] = "HC_numExitsByType",
	[HC_PORT_GVATOHVA - 0xe9] = "HC_gvaToHva",
};

/* The first (up to) four bytes of a trace's io.data, which is hex in memory order. */
static uint32_t data_le32(const char *hex)
{
	uint32_t value = 0;

	ck_assert_ptr_nonnull(hex);
	for (int i = 0; i < 4 && hex[2 * i] && hex[2 * i + 1]; i++) {
		char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

		value |= (uint32_t)strtoul(byte, NULL, 16) << (8 * i);
	}
	return value;
}

/* Checks one IO record's "hypercall" object against the record's own port, data and registers. */
static void expect_hypercall_record(const json_t *rec)
{
	const json_t *io = json_object_get(rec, "io"), *hc = json_object_get(rec, "hypercall");
	const json_t *regs = json_object_get(rec, "regs");
	json_int_t port = json_integer_value(json_object_get(io, "port"));
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	uint32_t value = data_le32(str_of(io, "data"));

	ck_assert_msg(hc, "exit %" PRIu64 " on port 0x%x has no hypercall object", seq, (int)port);
	ck_assert_int_ge(port, 0xe9);
	ck_assert_int_le(port, 0xee);
	ck_assert_str_eq(str_of(hc, "name"), hc_names[port - 0xe9]);

	switch (port) {
	case HC_PORT_PRINT8BIT:
		ck_assert_uint_eq(hex_of(hc, "arg"), value & 0xff);
		break;
	case HC_PORT_PRINT32BIT:
	case HC_PORT_PRINTSTR:
		ck_assert_uint_eq(hex_of(hc, "arg"), value);
		ck_assert_uint_eq(hex_of(hc, "arg"), hex_of(regs, "rax") & 0xffffffff);
		break;
	case HC_PORT_NUMEXITS:
		ck_assert_uint_eq(hex_of(hc, "result"), seq); /* exits so far, this one too */
		ck_assert_uint_eq(hex_of(hc, "result"), hex_of(regs, "rax") & 0xffffffff);
		break;
	case HC_PORT_NUMEXITSBYTYPE:
		ck_assert_uint_eq(hex_of(hc, "result"), HC_SCRATCH);
		ck_assert_uint_eq(hex_of(regs, "rax") & 0xffffffff, HC_SCRATCH);
		break;
	case HC_PORT_GVATOHVA:
		ck_assert_uint_eq(hex_of(hc, "arg"), hex_of(regs, "rbx"));
		ck_assert_uint_eq(hex_of(hc, "result"), hex_of(regs, "rax") & 0xffffffff);
		ck_assert_uint_eq(hex_of(hc, "result"), value);
		/* the demo's second call is the invalid one, and only it carries an error */
		ck_assert_int_eq(json_object_get(hc, "error") != NULL,
				 hex_of(hc, "arg") == 0xfffff000);
		break;
	}
	if (port != HC_PORT_GVATOHVA)
		ck_assert_ptr_null(json_object_get(hc, "error"));
}

static void trace_records_hypercalls(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	struct trace tr;
	char why[256];

	if (!traced_demo(&t, &tr, engine, mode, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	ck_assert_int_eq(tr.n, 21);
	for (int i = 0; i < tr.n; i++) {
		if (strcmp(str_of(tr.rec[i], "reason"), "IO") == 0)
			expect_hypercall_record(tr.rec[i]);
		else
			ck_assert_ptr_null(json_object_get(tr.rec[i], "hypercall"));
	}
	ck_assert_str_eq(str_of(tr.rec[tr.n - 1], "reason"), "HLT");
	trace_free(&tr);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(trace_records_name_arg_and_result_of_each_hypercall, trace_records_hypercalls)

static void trace_records_failure(const char *engine, enum tv_mode mode)
{
	FILE *f = tmpfile();
	struct tv_test_run t;
	const json_t *hc;
	struct trace tr;
	char why[256];

	ck_assert_ptr_nonnull(f);
	if (!prepare_guest(&t, engine, mode, &printstr_outside_ram, f, why, sizeof(why))) {
		fclose(f);
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	}
	run(&t);
	expect_halted_at_end(&t, guest_len(&printstr_outside_ram, mode));
	trace_load(&tr, f);
	ck_assert_int_eq(tr.n, 2);
	hc = json_object_get(tr.rec[0], "hypercall");
	ck_assert_str_eq(str_of(hc, "name"), "HC_printStr");
	ck_assert_uint_eq(hex_of(hc, "arg"), OUTSIDE);
	ck_assert_ptr_null(json_object_get(hc, "result"));
	ck_assert_str_eq(str_of(hc, "error"), t.m.hc.error);
	ck_assert_ptr_nonnull(strstr(str_of(hc, "error"), "outside guest RAM"));
	trace_free(&tr);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(trace_records_the_error_of_a_failed_hypercall, trace_records_failure)

/* --- hostile arguments ------------------------------------------------------------------------ */

/* The hypercall failed with an error that names the address and the reason, printed nothing
 * (the caller checks the console), and the guest ran on to its marker and the hlt after it. */
static void expect_refused(const struct tv_test_run *t, size_t len, const char *name,
			   const char *addr, const char *reason)
{
	expect_halted_at_end(t, len);
	ck_assert_uint_eq(t->regs.rcx & 0xffffffff, MARKER);
	ck_assert_str_eq(t->m.hc.name, name);
	ck_assert_msg(t->m.hc.failed, "%s did not fail", name);
	ck_assert_msg(strstr(t->m.hc.error, addr) && strstr(t->m.hc.error, reason),
		      "%s failed with \"%s\", expected \"%s\" and \"%s\" in it", name,
		      t->m.hc.error, addr, reason);
}

static void printstr_refuses_unterminated(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_at_ram_end, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	poke(&t, RAM_END - 16, "AAAAAAAAAAAAAAAA", 16); /* no NUL up to the last byte */
	run(&t);
	expect_refused(&t, guest_len(&printstr_at_ram_end, mode), "HC_printStr", "0x1ffff0",
		       "runs to the end of guest RAM or of its mapping (0x200000) with no NUL");
	ck_assert_str_eq(t.console, "");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_refuses_string_running_off_the_end_of_ram, printstr_refuses_unterminated)

static void printstr_refuses_outside(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_outside_ram, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_refused(&t, guest_len(&printstr_outside_ram, mode), "HC_printStr", "0x7fff0000",
		       "outside guest RAM");
	ck_assert_str_eq(t.console, "");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_refuses_pointer_past_ram, printstr_refuses_outside)

static void printstr_refuses_unmapped(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	map_alias(&t, mode, false); /* the same entry that works above, P clear */
	poke_str(&t, DATA, "must not be printed\n");
	run(&t);
	expect_refused(&t, guest_len(&printstr_alias, mode), "HC_printStr", "0x400800",
		       "not mapped");
	ck_assert_str_eq(t.console, "");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_refuses_pointer_whose_translation_faults, printstr_refuses_unmapped)

static void printstr_refuses_too_long(const char *engine, enum tv_mode mode)
{
	static char text[HC_STR_MAX + 2];
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &printstr_long, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	memset(text, 'L', HC_STR_MAX + 1); /* one byte more than the limit, then the NUL */
	text[HC_STR_MAX + 1] = '\0';
	poke_str(&t, LONG_STR, text);
	run(&t);
	expect_refused(&t, guest_len(&printstr_long, mode), "HC_printStr", "0x20000",
		       "longer than 4096 bytes");
	ck_assert_str_eq(t.console, "");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_refuses_string_longer_than_the_limit, printstr_refuses_too_long)

static void expect_invalid_gva(const struct tv_test_run *t, size_t len, const char *addr,
			       const char *reason)
{
	expect_refused(t, len, "HC_gvaToHva", addr, reason);
	ck_assert_str_eq(t->console, "Invalid GVA\n");
	ck_assert_uint_eq(t->regs.rax & 0xffffffff, 0);
	ck_assert_uint_eq(t->regs.rdx & 0xffffffff, hva32(0x400)); /* the valid call before */
	ck_assert(t->m.hc.has_result);
	ck_assert_uint_eq(t->m.hc.result, 0);
}

static void gvatohva_refuses_past_ram(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &gvatohva_past_ram, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_invalid_gva(&t, guest_len(&gvatohva_past_ram, mode), "0x200000",
			   "outside guest RAM");
	ck_assert_uint_eq(t.m.hc.arg, RAM_END);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_refuses_pointer_past_ram, gvatohva_refuses_past_ram)

static void gvatohva_refuses_unmapped(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &gvatohva_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	map_alias(&t, mode, false);
	run(&t);
	expect_invalid_gva(&t, guest_len(&gvatohva_alias, mode), "0x400800", "not mapped");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_refuses_pointer_whose_translation_faults, gvatohva_refuses_unmapped)

/* The alias's large-page entry with a bit the CPU reserves (bit 21 of a 4 MiB PDE, bit 13 of a
 * 2 MiB one): the guest would fault on the address, so the hypercall must not translate it. */
static void gvatohva_refuses_reserved(const char *engine, enum tv_mode mode)
{
	uint64_t e = TV_PTE_P | TV_PTE_RW | TV_PTE_PS | (mode == TV_MODE_PAGED32 ? 1u << 21 : 1u << 13);
	uint32_t e32 = (uint32_t)e;
	struct tv_test_run t;
	char why[256];

	if (!prepare_guest(&t, engine, mode, &gvatohva_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	if (mode == TV_MODE_PAGED32)
		poke(&t, TV_PD32 + 4 * (ALIAS >> 22), &e32, sizeof(e32));
	else
		poke(&t, TV_PD64 + 8 * (ALIAS >> 21), &e, sizeof(e));
	run(&t);
	expect_invalid_gva(&t, guest_len(&gvatohva_alias, mode), "0x400800", "reserved bit");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_refuses_pointer_through_an_entry_with_a_reserved_bit,
	       gvatohva_refuses_reserved)

/* The page walk's MAXPHYADDR is what the guest's own cpuid instruction reports (leaf 0x80000008,
 * EAX[7:0]), on each engine. */
static const uint8_t cpuid_maxphyaddr_64[] = {
	0xb8, LE32(0x80000008u), /* mov eax, 0x80000008 */
	0x0f, 0xa2,              /* cpuid */
	0xf4,                    /* hlt */
};

static void maxphyaddr_is_the_guests(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare(&t, engine, mode, cpuid_maxphyaddr_64, sizeof(cpuid_maxphyaddr_64), NULL, why,
		     sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_halted_at_end(&t, sizeof(cpuid_maxphyaddr_64));
	ck_assert_uint_eq(t.m.maxphyaddr, t.regs.rax & 0xff);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(page_walk_maxphyaddr_is_the_guests_cpuid, maxphyaddr_is_the_guests)

/* A guest's rep outsb of 1,000 bytes to a hypercall port that refuses each one prints ten lines
 * and, when the machine ends, one with the count of the rest. */
static void flood_is_throttled(const char *engine, enum tv_mode mode)
{
	char why[256], want[128];
	struct tv_test_run t;
	struct captured c;
	uint64_t outs;

	if (!prepare_guest(&t, engine, mode, &flood, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	capture_stderr(&c);
	run(&t);
	expect_halted_at_end(&t, guest_len(&flood, mode));
	outs = t.m.stats.io_out;
	tv_test_run_end(&t);
	release_stderr(&c);
	/* Both engines here make one exit per element; a batched one would be a single failure. */
	ck_assert_uint_eq(outs, 1000);
	ck_assert_int_eq(count_lines_with(c.text, "\n"), 11);
	ck_assert_int_eq(count_lines_with(c.text, "twinvm: HC_print32bit: expects one 32-bit OUT"),
			 11);
	snprintf(want, sizeof(want), "(%" PRIu64 " more like this suppressed)\n", outs - 10);
	ck_assert_msg(strstr(c.text, want), "no \"%s\" in:\n%s", want, c.text);
}
ON_EACH_ENGINE(a_flood_of_failed_hypercalls_prints_ten_lines_and_a_count, flood_is_throttled)

/* Long mode only: the loop runs over the one mode. */
static void gvatohva_refuses_noncanonical(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!prepare(&t, engine, mode, gvatohva_noncanonical_64, sizeof(gvatohva_noncanonical_64),
		     NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	run(&t);
	expect_refused(&t, sizeof(gvatohva_noncanonical_64), "HC_gvaToHva", "0x800000000400",
		       "not a canonical 64-bit address");
	ck_assert_uint_eq(t.m.hc.arg, 0x800000000400ull);
	ck_assert_str_eq(t.console, "Invalid GVA\n");
	ck_assert_uint_eq(t.regs.rax, 0);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_refuses_noncanonical_address, gvatohva_refuses_noncanonical)

int main(void)
{
	Suite *s = suite_create("hypercalls");
	TCase *each = tcase_create("each_hypercall");
	TCase *handler = tcase_create("handler");
	TCase *paged = tcase_create("guest_page_tables");
	TCase *demo = tcase_create("demo_guest");
	TCase *hostile = tcase_create("hostile");

	probe_all();

	tcase_set_timeout(each, 120);
	ADD_ON_EACH_ENGINE(each, print8bit_prints_each_byte_of_out_and_rep_outsb, 0);
	ADD_ON_EACH_ENGINE(each, print32bit_prints_unsigned_decimal_lines, 0);
	ADD_ON_EACH_ENGINE(each, numexits_counts_every_exit_including_itself, 0);
	ADD_ON_EACH_ENGINE(each, printstr_prints_the_string, 0);
	ADD_ON_EACH_ENGINE(each, printstr_prints_a_string_of_exactly_the_limit, 0);
	ADD_ON_EACH_ENGINE(each, numexitsbytype_returns_counts_so_far_in_scratch, 0);
	ADD_ON_EACH_ENGINE(each, gvatohva_returns_low_32_bits_of_host_address, 0);
	ADD_ON_EACH_ENGINE(each, numexits_differ_by_two_around_one_printstr, 0);
	suite_add_tcase(s, each);

	tcase_add_test(handler, test_print8bit_prints_every_element_of_a_batched_string_out);
	tcase_add_test(handler, test_print32bit_refuses_a_byte_wide_out);
	tcase_add_test(handler, test_numexits_answers_a_16_bit_in_with_the_low_half);
	tcase_add_test(handler, test_other_ports_are_not_hypercalls);
	tcase_add_test(handler, test_printstr_splits_at_linear_page_boundaries_with_an_unaligned_ds_base);
	tcase_add_test(handler, test_failure_messages_are_throttled_after_ten_of_a_kind);
	tcase_add_test(handler, test_refused_numexitsbytype_leaves_the_scratch_page_alone);
	suite_add_tcase(s, handler);

	tcase_set_timeout(paged, 120);
	ADD_ON_EACH_ENGINE(paged, printstr_reads_through_the_guest_page_tables, TV_MODE_PAGED32);
	ADD_ON_EACH_ENGINE(paged, printstr_follows_a_string_across_noncontiguous_pages,
			   TV_MODE_PAGED32);
	ADD_ON_EACH_ENGINE(paged, gvatohva_translates_through_the_guest_page_tables,
			   TV_MODE_PAGED32);
	suite_add_tcase(s, paged);

	tcase_set_timeout(demo, 120);
	ADD_ON_EACH_ENGINE(demo, demo_guest_prints_exactly_the_expected_lines, 0);
	ADD_ON_EACH_ENGINE(demo, numexitsbytype_matches_the_io_exits_in_the_trace, 0);
	ADD_ON_EACH_ENGINE(demo, trace_records_name_arg_and_result_of_each_hypercall, 0);
	ADD_ON_EACH_ENGINE(demo, trace_records_the_error_of_a_failed_hypercall, 0);
	suite_add_tcase(s, demo);

	tcase_set_timeout(hostile, 120);
	ADD_ON_EACH_ENGINE(hostile, printstr_refuses_string_running_off_the_end_of_ram, 0);
	ADD_ON_EACH_ENGINE(hostile, printstr_refuses_pointer_past_ram, 0);
	ADD_ON_EACH_ENGINE(hostile, printstr_refuses_pointer_whose_translation_faults,
			   TV_MODE_PAGED32);
	ADD_ON_EACH_ENGINE(hostile, printstr_refuses_string_longer_than_the_limit, 0);
	ADD_ON_EACH_ENGINE(hostile, gvatohva_refuses_pointer_past_ram, 0);
	ADD_ON_EACH_ENGINE(hostile, gvatohva_refuses_pointer_whose_translation_faults,
			   TV_MODE_PAGED32);
	ADD_ON_EACH_ENGINE(hostile, gvatohva_refuses_noncanonical_address, TV_MODE_LONG);
	ADD_ON_EACH_ENGINE(hostile, gvatohva_refuses_pointer_through_an_entry_with_a_reserved_bit,
			   TV_MODE_PAGED32);
	ADD_ON_EACH_ENGINE(hostile, page_walk_maxphyaddr_is_the_guests_cpuid, TV_MODE_LONG);
	ADD_ON_EACH_ENGINE(hostile, a_flood_of_failed_hypercalls_prints_ten_lines_and_a_count, 0);
	suite_add_tcase(s, hostile);
	return tv_test_main(s);
}
