/* Hostile hypercall arguments on both engines: they must print nothing, leave the failure and its
 * reason in m.hc, and let the guest go on to its next instruction; a flood of them is throttled.
 * Helpers and guests: hc_test.h. */
#include <inttypes.h>
#include <string.h>

#include "hc_test.h"
#include "tv_test.h"

/* 64-bit code only: HC_gvaToHva of a non-canonical address, which needs all of RBX. */
static const uint8_t gvatohva_noncanonical_64[] = {
	0x48, 0xbb, 0x00, 0x04, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, /* mov rbx, 0x800000000400 */
	0xe5, 0xee,                                                 /* in eax, 0xee */
	0xb9, LE32(MARKER),                                         /* mov ecx, MARKER */
	0xf4,                                                       /* hlt */
};

/* --- hostile arguments ------------------------------------------------------------------------ */

/* The hypercall failed with an error that names the address and the reason, printed nothing
 * (the caller checks the console), and the guest ran on to its marker and the hlt after it. */
static void expect_refused(const struct tv_test_run *t, size_t len, const char *name,
			   const char *addr, const char *reason)
{
	hc_expect_halted_at_end(t, len);
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

	if (!hc_prepare_guest(&t, engine, mode, &printstr_at_ram_end, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_poke(&t, RAM_END - 16, "AAAAAAAAAAAAAAAA", 16); /* no NUL up to the last byte */
	hc_run(&t);
	expect_refused(&t, hc_guest_len(&printstr_at_ram_end, mode), "HC_printStr", "0x1ffff0",
		       "runs to the end of guest RAM or of its mapping (0x200000) with no NUL");
	ck_assert_str_eq(t.console, "");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_refuses_string_running_off_the_end_of_ram, printstr_refuses_unterminated)

static void printstr_refuses_outside(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &printstr_outside_ram, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
	expect_refused(&t, hc_guest_len(&printstr_outside_ram, mode), "HC_printStr", "0x7fff0000",
		       "outside guest RAM");
	ck_assert_str_eq(t.console, "");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_refuses_pointer_past_ram, printstr_refuses_outside)

static void printstr_refuses_unmapped(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &printstr_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_map_alias(&t, mode, false); /* the same entry that works above, P clear */
	hc_poke_str(&t, DATA, "must not be printed\n");
	hc_run(&t);
	expect_refused(&t, hc_guest_len(&printstr_alias, mode), "HC_printStr", "0x400800",
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

	if (!hc_prepare_guest(&t, engine, mode, &printstr_long, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	memset(text, 'L', HC_STR_MAX + 1); /* one byte more than the limit, then the NUL */
	text[HC_STR_MAX + 1] = '\0';
	hc_poke_str(&t, LONG_STR, text);
	hc_run(&t);
	expect_refused(&t, hc_guest_len(&printstr_long, mode), "HC_printStr", "0x20000",
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

	if (!hc_prepare_guest(&t, engine, mode, &gvatohva_past_ram, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
	expect_invalid_gva(&t, hc_guest_len(&gvatohva_past_ram, mode), "0x200000",
			   "outside guest RAM");
	ck_assert_uint_eq(t.m.hc.arg, RAM_END);
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_refuses_pointer_past_ram, gvatohva_refuses_past_ram)

static void gvatohva_refuses_unmapped(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &gvatohva_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_map_alias(&t, mode, false);
	hc_run(&t);
	expect_invalid_gva(&t, hc_guest_len(&gvatohva_alias, mode), "0x400800", "not mapped");
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

	if (!hc_prepare_guest(&t, engine, mode, &gvatohva_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	if (mode == TV_MODE_PAGED32)
		hc_poke(&t, TV_PD32 + 4 * (ALIAS >> 22), &e32, sizeof(e32));
	else
		hc_poke(&t, TV_PD64 + 8 * (ALIAS >> 21), &e, sizeof(e));
	hc_run(&t);
	expect_invalid_gva(&t, hc_guest_len(&gvatohva_alias, mode), "0x400800", "reserved bit");
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

	if (!hc_prepare(&t, engine, mode, cpuid_maxphyaddr_64, sizeof(cpuid_maxphyaddr_64), NULL, why,
		     sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
	hc_expect_halted_at_end(&t, sizeof(cpuid_maxphyaddr_64));
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
	struct hc_captured c;
	uint64_t outs;

	if (!hc_prepare_guest(&t, engine, mode, &flood, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_capture_stderr(&c);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&flood, mode));
	outs = t.m.stats.io_out;
	tv_test_run_end(&t);
	hc_release_stderr(&c);
	/* Both engines here make one exit per element; a batched one would be a single failure. */
	ck_assert_uint_eq(outs, 1000);
	ck_assert_int_eq(hc_count_lines_with(c.text, "\n"), 11);
	ck_assert_int_eq(hc_count_lines_with(c.text, "twinvm: HC_print32bit: expects one 32-bit OUT"),
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

	if (!hc_prepare(&t, engine, mode, gvatohva_noncanonical_64, sizeof(gvatohva_noncanonical_64),
		     NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_run(&t);
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
	Suite *s = suite_create("hypercalls_hostile");
	TCase *hostile = tcase_create("hostile");

	hc_probe_all();

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
