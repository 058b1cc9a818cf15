/* The access-checked walk (tv_linear_access, x86/pagewalk.c) the emulator uses for the CPU's
 * own accesses: the rights of SDM Vol. 3, 4.6, the #PF error code of 4.7 and the accessed and
 * dirty bits of 4.8, in every paging form and page size. The expected error codes are written as
 * numbers, from the SDM's table, not from the walk's own constants. Page tables are built by hand
 * in a RAM buffer with an inaccessible page on each side (guarded_ram.h). (The CPU's own answer,
 * where KVM runs: test_pagewalk_access_cpu.c.) */
#include <string.h>

#include "guarded_ram.h"
#include "layout.h"
#include "pagewalk.h"
#include "tv_test.h"

#define RAM_SIZE (1ull << 20)
#define MAXPHY 36
#define T0 0x10000ull /* the top table; the next levels follow a page apart */

/* One linear address for every form: PDE 0x101 and PTE 0x204 in 32-bit paging; PML4E 0 (in long
 * mode), PDPTE 1, PDE 3 and PTE 4 with 64-bit entries. */
#define GVA 0x40604abcull

static struct tv_ram ram;

static void guarded_ram_setup(void)
{
	tv_guarded_ram_alloc(&ram, RAM_SIZE);
}

static void guarded_ram_teardown(void)
{
	tv_guarded_ram_free(&ram);
}

/* A paging form and page size: levels 2 (32-bit), 3 (PAE) or 4 (4-level); the page is mapped by
 * the entry at level leaf (1: 4 KiB, 2: 2 or 4 MiB, 3: 1 GiB), whose reserved bit rsvd (0: the
 * form has none there) makes a walk fault. */
struct form {
	const char *name;
	int levels, leaf;
	unsigned rsvd;
};

enum { F32_4K, F32_4M, PAE_4K, PAE_2M, LONG_4K, LONG_2M, LONG_1G, FORMS };

static const struct form forms[FORMS] = {
	[F32_4K] = { "32-bit, 4 KiB", 2, 1, 0 },   [F32_4M] = { "32-bit, 4 MiB", 2, 2, 21 },
	[PAE_4K] = { "PAE, 4 KiB", 3, 1, 51 },     [PAE_2M] = { "PAE, 2 MiB", 3, 2, 13 },
	[LONG_4K] = { "4-level, 4 KiB", 4, 1, 51 }, [LONG_2M] = { "4-level, 2 MiB", 4, 2, 13 },
	[LONG_1G] = { "4-level, 1 GiB", 4, 3, 13 },
};

/* The forms a test applies to, for loop tests over them. Only a 32-bit 4 KiB mapping has no
 * reserved bit; only 64-bit entries have XD; a 4 MiB PDE and a PAE 2 MiB PDE have no entry
 * above them that grants rights (the PAE PDPTE grants none). */
static const int with_rsvd[] = { F32_4M, PAE_4K, PAE_2M, LONG_4K, LONG_2M, LONG_1G };
static const int with_xd[] = { PAE_4K, PAE_2M, LONG_4K, LONG_2M, LONG_1G };
static const int with_upper[] = { F32_4K, PAE_4K, LONG_4K, LONG_2M, LONG_1G };
static const int with_xd_upper[] = { PAE_4K, LONG_4K, LONG_2M, LONG_1G };
#define COUNT(a) (int)(sizeof(a) / sizeof(a[0]))

/* The tables map_gva built: the entries the CPU keeps A in, top first (not the PAE PDPTE), the
 * size of each, and where GVA lands. */
static uint64_t entry_at[4];
static unsigned entries, entry_size;
static uint64_t want_gpa;

static uint64_t get(uint64_t gpa)
{
	uint64_t v = 0;

	ck_assert_int_eq(tv_ram_read(&ram, gpa, &v, entry_size), 0);
	return v;
}

static void put(uint64_t gpa, uint64_t v)
{
	ck_assert_int_eq(tv_ram_write(&ram, gpa, &v, entry_size), 0);
}

/* Builds tables from T0 that map GVA in form f: the entry that maps the page has leaf (and PS
 * above level 1), every entry above it upper; the PAE PDPTE has P only, its R/W and U/S being
 * reserved. The registers: CR0.WP set, EFER.NXE set with 64-bit entries, 64-bit code in long
 * mode. */
static struct tv_sregs map_gva(const struct form *f, uint64_t upper, uint64_t leaf)
{
	struct tv_sregs s = { .cr0 = TV_CR0_PE | TV_CR0_PG | TV_CR0_WP, .cr3 = T0 };
	uint64_t table = T0;

	memset(ram.host, 0, ram.size);
	entries = 0;
	entry_size = f->levels == 2 ? 4 : 8;
	for (int level = f->levels;; level--, table += 0x1000) {
		unsigned shift = 12 + (f->levels == 2 ? 10 : 9) * (level - 1);
		uint64_t at = table + entry_size * ((GVA >> shift) & (f->levels == 2 ? 0x3ff : 0x1ff));

		if (level == f->leaf) {
			uint64_t base = level == 1 ? 0x50000 : 2ull << shift;

			put(at, base | leaf | (level > 1 ? TV_PTE_PS : 0));
			entry_at[entries++] = at;
			want_gpa = base | (GVA & ((1ull << shift) - 1));
			break;
		}
		if (f->levels == 3 && level == 3) {
			put(at, (table + 0x1000) | TV_PTE_P);
		} else {
			put(at, (table + 0x1000) | upper);
			entry_at[entries++] = at;
		}
	}
	if (f->levels == 2) {
		s.cr4 = TV_CR4_PSE;
	} else {
		s.cr4 = TV_CR4_PAE;
		s.efer = TV_EFER_NXE | (f->levels == 4 ? TV_EFER_LME | TV_EFER_LMA : 0);
		s.cs.l = f->levels == 4;
	}
	return s;
}

#define ALL (TV_PTE_P | TV_PTE_RW | TV_PTE_US)

static const char *acc_name(unsigned acc)
{
	static const char *const names[] = {
		"supervisor read", "supervisor write", "user read", "user write",
		"supervisor fetch", "?", "user fetch", "?",
	};

	return names[acc & 7];
}

static void expect_ok(const struct form *f, const struct tv_sregs *s, unsigned acc)
{
	uint64_t gpa = 0;
	uint32_t pf = 0xdead;
	enum tv_walk_result r = tv_linear_access(&ram, s, MAXPHY, GVA, acc, false, &gpa, &pf);

	ck_assert_msg(r == TV_WALK_OK && gpa == want_gpa && pf == 0,
		      "%s, %s: \"%s\", gpa 0x%llx, error 0x%x; expected ok, 0x%llx", f->name,
		      acc_name(acc), tv_walk_result_name(r), (unsigned long long)gpa, pf,
		      (unsigned long long)want_gpa);
}

static void expect_pf(const struct form *f, const struct tv_sregs *s, unsigned acc,
		      enum tv_walk_result want, uint32_t error)
{
	uint64_t gpa = 0;
	uint32_t pf = 0xdead;
	enum tv_walk_result r = tv_linear_access(&ram, s, MAXPHY, GVA, acc, true, &gpa, &pf);

	ck_assert_msg(r == want && pf == error, "%s, %s: \"%s\", error 0x%x; expected \"%s\", 0x%x",
		      f->name, acc_name(acc), tv_walk_result_name(r), pf,
		      tv_walk_result_name(want), error);
}

/* --- what is allowed -------------------------------------------------------------------------- */

START_TEST(test_full_rights_allow_every_access_in_every_form)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	for (unsigned acc = 0; acc <= (TV_ACC_FETCH | TV_ACC_USER); acc++)
		if (acc_name(acc)[0] != '?')
			expect_ok(f, &s, acc);
}
END_TEST

START_TEST(test_without_paging_every_access_is_allowed_and_wraps_at_4g)
{
	struct tv_sregs s = { .cr0 = TV_CR0_PE | TV_CR0_WP, .cr4 = TV_CR4_SMEP | TV_CR4_SMAP };
	uint64_t gpa = 0;
	uint32_t pf = 0xdead;
	uint64_t hash = tv_ram_hash(&ram);

	for (unsigned acc = 0; acc <= 7; acc++) {
		ck_assert_int_eq(tv_linear_access(&ram, &s, MAXPHY, 0x100001234ull, acc, true, &gpa,
						  &pf), TV_WALK_OK);
		ck_assert_uint_eq(gpa, 0x1234);
		ck_assert_uint_eq(pf, 0);
	}
	ck_assert_uint_eq(tv_ram_hash(&ram), hash); /* no table, no accessed bit */
}
END_TEST

/* --- P: not present --------------------------------------------------------------------------- */

START_TEST(test_not_present_read_by_supervisor_is_error_0)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	for (unsigned i = 0; i < entries; i++) {
		uint64_t e = get(entry_at[i]);

		put(entry_at[i], e & ~TV_PTE_P);
		expect_pf(f, &s, 0, TV_WALK_NOT_PRESENT, 0x0);
		expect_pf(f, &s, TV_ACC_USER | TV_ACC_WRITE, TV_WALK_NOT_PRESENT, 0x6);
		put(entry_at[i], e);
	}
}
END_TEST

START_TEST(test_not_present_pae_pdpte_is_a_page_fault)
{
	const struct form *f = &forms[PAE_4K];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	put(T0 + 8 * 1, 0); /* PDPTE 1 */
	expect_pf(f, &s, TV_ACC_WRITE, TV_WALK_NOT_PRESENT, 0x2);
}
END_TEST

/* --- W/R: read-only pages --------------------------------------------------------------------- */

START_TEST(test_user_write_to_read_only_page_is_error_7_even_without_wp)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, TV_PTE_P | TV_PTE_US);

	expect_pf(f, &s, TV_ACC_USER | TV_ACC_WRITE, TV_WALK_PROTECTION, 0x7);
	s.cr0 &= ~TV_CR0_WP;
	expect_pf(f, &s, TV_ACC_USER | TV_ACC_WRITE, TV_WALK_PROTECTION, 0x7);
	expect_ok(f, &s, TV_ACC_USER); /* reading it is fine */
}
END_TEST

START_TEST(test_supervisor_write_to_read_only_page_faults_only_with_wp)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, TV_PTE_P);

	expect_pf(f, &s, TV_ACC_WRITE, TV_WALK_PROTECTION, 0x3);
	s.cr0 &= ~TV_CR0_WP;
	expect_ok(f, &s, TV_ACC_WRITE);
}
END_TEST

/* The levels above the leaf count too: R/W or U/S clear in the entry just above the one that maps
 * the page (the PDE, for 4 KiB pages; the PDPTE for 2 MiB, the PML4E for 1 GiB) forbids what the
 * leaf allows. map_gva with every right, then bit cleared in that entry. */
static struct tv_sregs map_without_above_leaf(const struct form *f, uint64_t bit)
{
	struct tv_sregs s = map_gva(f, ALL, ALL);

	ck_assert_uint_ge(entries, 2);
	put(entry_at[entries - 2], get(entry_at[entries - 2]) & ~bit);
	return s;
}

START_TEST(test_rw_clear_above_the_leaf_makes_the_page_read_only)
{
	const struct form *f = &forms[with_upper[_i]];
	struct tv_sregs s = map_without_above_leaf(f, TV_PTE_RW);

	expect_pf(f, &s, TV_ACC_USER | TV_ACC_WRITE, TV_WALK_PROTECTION, 0x7);
	expect_pf(f, &s, TV_ACC_WRITE, TV_WALK_PROTECTION, 0x3);
	expect_ok(f, &s, TV_ACC_USER);
}
END_TEST

/* --- U/S: supervisor pages -------------------------------------------------------------------- */

START_TEST(test_us_clear_above_the_leaf_blocks_a_user_access_the_leaf_allows)
{
	const struct form *f = &forms[with_upper[_i]];
	struct tv_sregs s = map_without_above_leaf(f, TV_PTE_US);

	expect_pf(f, &s, TV_ACC_USER, TV_WALK_PROTECTION, 0x5);
	expect_pf(f, &s, TV_ACC_USER | TV_ACC_WRITE, TV_WALK_PROTECTION, 0x7);
	expect_ok(f, &s, 0); /* the supervisor still reads and writes it */
	expect_ok(f, &s, TV_ACC_WRITE);
}
END_TEST

START_TEST(test_us_clear_in_the_top_entry_blocks_a_user_access)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	put(entry_at[0], get(entry_at[0]) & ~TV_PTE_US);
	expect_pf(f, &s, TV_ACC_USER, TV_WALK_PROTECTION, 0x5);
}
END_TEST

/* --- RSVD ------------------------------------------------------------------------------------- */

START_TEST(test_reserved_bit_is_error_9_with_w_and_u_as_the_access_was)
{
	const struct form *f = &forms[with_rsvd[_i]];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	put(entry_at[entries - 1], get(entry_at[entries - 1]) | 1ull << f->rsvd);
	expect_pf(f, &s, 0, TV_WALK_RESERVED, 0x9);
	expect_pf(f, &s, TV_ACC_WRITE, TV_WALK_RESERVED, 0xb);
	expect_pf(f, &s, TV_ACC_USER, TV_WALK_RESERVED, 0xd);
	expect_pf(f, &s, TV_ACC_USER | TV_ACC_WRITE, TV_WALK_RESERVED, 0xf);
}
END_TEST

/* A reserved bit wins over a protection fault: the CPU stops the walk at the entry. */
START_TEST(test_reserved_bit_in_a_read_only_page_is_a_reserved_fault)
{
	const struct form *f = &forms[LONG_4K];
	struct tv_sregs s = map_gva(f, ALL, TV_PTE_P | TV_PTE_US | 1ull << 51);

	expect_pf(f, &s, TV_ACC_USER | TV_ACC_WRITE, TV_WALK_RESERVED, 0xf);
}
END_TEST

/* --- I/D: fetches ----------------------------------------------------------------------------- */

START_TEST(test_fetch_from_xd_page_with_nxe_is_error_0x11)
{
	const struct form *f = &forms[with_xd[_i]];
	struct tv_sregs s = map_gva(f, ALL, ALL | TV_PTE_XD);

	expect_pf(f, &s, TV_ACC_FETCH, TV_WALK_PROTECTION, 0x11);
	expect_pf(f, &s, TV_ACC_FETCH | TV_ACC_USER, TV_WALK_PROTECTION, 0x15);
	expect_ok(f, &s, TV_ACC_WRITE); /* data accesses ignore XD */
}
END_TEST

START_TEST(test_xd_above_the_leaf_forbids_a_fetch)
{
	const struct form *f = &forms[with_xd_upper[_i]];
	struct tv_sregs s = map_gva(f, ALL | TV_PTE_XD, ALL);

	expect_pf(f, &s, TV_ACC_FETCH, TV_WALK_PROTECTION, 0x11);
}
END_TEST

START_TEST(test_fetch_fault_sets_i_d_only_with_nx_or_smep)
{
	const struct form *f32 = &forms[F32_4K], *pae = &forms[PAE_4K];
	struct tv_sregs s = map_gva(f32, ALL, ALL & ~TV_PTE_P);

	expect_pf(f32, &s, TV_ACC_FETCH, TV_WALK_NOT_PRESENT, 0x0);
	s.efer = TV_EFER_NXE; /* 32-bit paging has no XD: NXE alone does not make it I/D */
	expect_pf(f32, &s, TV_ACC_FETCH, TV_WALK_NOT_PRESENT, 0x0);
	s.cr4 |= TV_CR4_SMEP;
	expect_pf(f32, &s, TV_ACC_FETCH, TV_WALK_NOT_PRESENT, 0x10);

	s = map_gva(pae, ALL, ALL & ~TV_PTE_P);
	expect_pf(pae, &s, TV_ACC_FETCH | TV_ACC_USER, TV_WALK_NOT_PRESENT, 0x14);
	s.efer &= ~TV_EFER_NXE;
	expect_pf(pae, &s, TV_ACC_FETCH | TV_ACC_USER, TV_WALK_NOT_PRESENT, 0x4);
}
END_TEST

START_TEST(test_reserved_fault_on_a_fetch_is_error_0x19)
{
	const struct form *f = &forms[with_xd[_i]];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	put(entry_at[entries - 1], get(entry_at[entries - 1]) | 1ull << f->rsvd);
	expect_pf(f, &s, TV_ACC_FETCH, TV_WALK_RESERVED, 0x19);
}
END_TEST

/* --- SMEP and SMAP: supervisor accesses to user pages ----------------------------------------- */

START_TEST(test_smep_forbids_a_supervisor_fetch_from_a_user_page)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	expect_ok(f, &s, TV_ACC_FETCH);
	s.cr4 |= TV_CR4_SMEP;
	expect_pf(f, &s, TV_ACC_FETCH, TV_WALK_PROTECTION, 0x11);
	expect_ok(f, &s, TV_ACC_FETCH | TV_ACC_USER);
	expect_ok(f, &s, TV_ACC_WRITE); /* SMEP is about fetches only */
	put(entry_at[0], get(entry_at[0]) & ~TV_PTE_US); /* a supervisor page */
	expect_ok(f, &s, TV_ACC_FETCH);
}
END_TEST

START_TEST(test_smap_forbids_supervisor_data_accesses_to_a_user_page)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, ALL);

	expect_ok(f, &s, 0);
	s.cr4 |= TV_CR4_SMAP;
	expect_pf(f, &s, 0, TV_WALK_PROTECTION, 0x1);
	expect_pf(f, &s, TV_ACC_WRITE, TV_WALK_PROTECTION, 0x3);
	expect_ok(f, &s, TV_ACC_USER | TV_ACC_WRITE);
	expect_ok(f, &s, TV_ACC_FETCH); /* SMAP is about data only */
	put(entry_at[0], get(entry_at[0]) & ~TV_PTE_US);
	expect_ok(f, &s, TV_ACC_WRITE);
}
END_TEST

/* --- accessed and dirty bits ------------------------------------------------------------------ */

/* A in every entry used, D in the leaf for a write only, both only with set_ad and on success;
 * the PAE PDPTE, which has neither, is left as it was. */
START_TEST(test_accessed_and_dirty_bits_set_on_success_with_set_ad)
{
	const struct form *f = &forms[_i];
	struct tv_sregs s = map_gva(f, ALL, TV_PTE_P | TV_PTE_RW);
	uint64_t pdpte = f->levels == 3 ? get(T0 + 8 * 1) : 0, hash = tv_ram_hash(&ram), gpa;
	uint32_t pf;

	ck_assert_int_eq(tv_linear_access(&ram, &s, MAXPHY, GVA, TV_ACC_WRITE, false, &gpa, &pf),
			 TV_WALK_OK);
	ck_assert_uint_eq(tv_ram_hash(&ram), hash);
	expect_pf(f, &s, TV_ACC_USER, TV_WALK_PROTECTION, 0x5); /* with set_ad */
	ck_assert_uint_eq(tv_ram_hash(&ram), hash);

	ck_assert_int_eq(tv_linear_access(&ram, &s, MAXPHY, GVA, 0, true, &gpa, &pf), TV_WALK_OK);
	for (unsigned i = 0; i < entries; i++)
		ck_assert_msg((get(entry_at[i]) & (TV_PTE_A | TV_PTE_D)) == TV_PTE_A,
			      "%s: entry %u of %u is 0x%llx after a read", f->name, i + 1, entries,
			      (unsigned long long)get(entry_at[i]));
	ck_assert_int_eq(tv_linear_access(&ram, &s, MAXPHY, GVA, TV_ACC_WRITE, true, &gpa, &pf),
			 TV_WALK_OK);
	for (unsigned i = 0; i < entries; i++)
		ck_assert_msg((get(entry_at[i]) & (TV_PTE_A | TV_PTE_D)) ==
				      (i == entries - 1 ? TV_PTE_A | TV_PTE_D : TV_PTE_A),
			      "%s: entry %u of %u is 0x%llx after a write", f->name, i + 1, entries,
			      (unsigned long long)get(entry_at[i]));
	if (f->levels == 3)
		ck_assert_uint_eq(get(T0 + 8 * 1), pdpte);
}
END_TEST

/* --- what is not a page fault ----------------------------------------------------------------- */

START_TEST(test_noncanonical_and_tables_outside_ram_have_no_error_code)
{
	const struct form *f = &forms[LONG_4K];
	struct tv_sregs s = map_gva(f, ALL, ALL);
	uint64_t gpa;
	uint32_t pf = 0xdead;

	ck_assert_int_eq(tv_linear_access(&ram, &s, MAXPHY, 0x0000800000000000ull, TV_ACC_WRITE,
					  true, &gpa, &pf), TV_WALK_NONCANONICAL);
	ck_assert_uint_eq(pf, 0);
	s.cr3 = RAM_SIZE;
	pf = 0xdead;
	ck_assert_int_eq(tv_linear_access(&ram, &s, MAXPHY, GVA, TV_ACC_WRITE, true, &gpa, &pf),
			 TV_WALK_TABLE_OUTSIDE);
	ck_assert_uint_eq(pf, 0);
	ck_assert_str_ne(tv_walk_result_name(TV_WALK_PROTECTION), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagewalk_access");
	TCase *tc = tcase_create("pure");

	tcase_add_checked_fixture(tc, guarded_ram_setup, guarded_ram_teardown);
	tcase_add_loop_test(tc, test_full_rights_allow_every_access_in_every_form, 0, FORMS);
	tcase_add_test(tc, test_without_paging_every_access_is_allowed_and_wraps_at_4g);
	tcase_add_loop_test(tc, test_not_present_read_by_supervisor_is_error_0, 0, FORMS);
	tcase_add_test(tc, test_not_present_pae_pdpte_is_a_page_fault);
	tcase_add_loop_test(tc, test_user_write_to_read_only_page_is_error_7_even_without_wp, 0,
			    FORMS);
	tcase_add_loop_test(tc, test_supervisor_write_to_read_only_page_faults_only_with_wp, 0,
			    FORMS);
	tcase_add_loop_test(tc, test_rw_clear_above_the_leaf_makes_the_page_read_only, 0,
			    COUNT(with_upper));
	tcase_add_loop_test(tc, test_us_clear_above_the_leaf_blocks_a_user_access_the_leaf_allows,
			    0, COUNT(with_upper));
	tcase_add_loop_test(tc, test_us_clear_in_the_top_entry_blocks_a_user_access, 0, FORMS);
	tcase_add_loop_test(tc, test_reserved_bit_is_error_9_with_w_and_u_as_the_access_was, 0,
			    COUNT(with_rsvd));
	tcase_add_test(tc, test_reserved_bit_in_a_read_only_page_is_a_reserved_fault);
	tcase_add_loop_test(tc, test_fetch_from_xd_page_with_nxe_is_error_0x11, 0, COUNT(with_xd));
	tcase_add_loop_test(tc, test_xd_above_the_leaf_forbids_a_fetch, 0, COUNT(with_xd_upper));
	tcase_add_test(tc, test_fetch_fault_sets_i_d_only_with_nx_or_smep);
	tcase_add_loop_test(tc, test_reserved_fault_on_a_fetch_is_error_0x19, 0, COUNT(with_xd));
	tcase_add_loop_test(tc, test_smep_forbids_a_supervisor_fetch_from_a_user_page, 0, FORMS);
	tcase_add_loop_test(tc, test_smap_forbids_supervisor_data_accesses_to_a_user_page, 0, FORMS);
	tcase_add_loop_test(tc, test_accessed_and_dirty_bits_set_on_success_with_set_ad, 0, FORMS);
	tcase_add_test(tc, test_noncanonical_and_tables_outside_ram_have_no_error_code);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
