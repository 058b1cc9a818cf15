/* HC_printStr and HC_gvaToHva through the guest's own page tables (paged modes), on both
 * engines: an alias of a large page, and a string across two pages mapped out of order.
 * Helpers and guests: hc_test.h. */
#include <string.h>

#include "hc_test.h"
#include "tv_test.h"


static void printstr_through_alias(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &printstr_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_map_alias(&t, mode, true);
	hc_poke_str(&t, DATA, "through the alias\n");
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&printstr_alias, mode));
	ck_assert_str_eq(t.console, "through the alias\n");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_reads_through_the_guest_page_tables, printstr_through_alias)

static void printstr_across_split_pages(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &printstr_split, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_map_split(&t, mode);
	hc_poke(&t, 0x31ff8, "01234567", 8); /* the last 8 bytes of the first virtual page */
	hc_poke_str(&t, 0x30000, "89\n");    /* the start of the second */
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&printstr_split, mode));
	ck_assert_str_eq(t.console, "0123456789\n");
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(printstr_follows_a_string_across_noncontiguous_pages, printstr_across_split_pages)

static void gvatohva_through_alias(const char *engine, enum tv_mode mode)
{
	struct tv_test_run t;
	char why[256];

	if (!hc_prepare_guest(&t, engine, mode, &gvatohva_alias, NULL, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	hc_map_alias(&t, mode, true);
	hc_run(&t);
	hc_expect_halted_at_end(&t, hc_guest_len(&gvatohva_alias, mode));
	ck_assert_str_eq(t.console, "");
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, hva32(DATA));
	tv_test_run_end(&t);
}
ON_EACH_ENGINE(gvatohva_translates_through_the_guest_page_tables, gvatohva_through_alias)

int main(void)
{
	Suite *s = suite_create("hypercalls_paged");
	TCase *paged = tcase_create("guest_page_tables");

	hc_probe_all();

	tcase_set_timeout(paged, 120);
	ADD_ON_EACH_ENGINE(paged, printstr_reads_through_the_guest_page_tables, TV_MODE_PAGED32);
	ADD_ON_EACH_ENGINE(paged, printstr_follows_a_string_across_noncontiguous_pages,
			   TV_MODE_PAGED32);
	ADD_ON_EACH_ENGINE(paged, gvatohva_translates_through_the_guest_page_tables,
			   TV_MODE_PAGED32);
	suite_add_tcase(s, paged);
	return tv_test_main(s);
}
