/* The software page walk (x86/pagewalk.c) on entries with a reserved bit set, in every
 * entry form, and with any MAXPHYADDR: the tables of walk_tables.h, one bit set at a time. */
#include "pagewalk.h"
#include "tv_test.h"
#include "walk_tables.h"

/* --- reserved bits ----------------------------------------------------------------------------
 *
 * One case per bit per entry form: the tables above, one bit set in one entry on the way to gva.
 * A reserved bit is a fault to the CPU (#PF with RSVD; #GP for a PAE PDPTE), so the walk must
 * say TV_WALK_RESERVED. An address bit is reserved only at or above MAXPHYADDR: at `wide` bits
 * the same entry is no longer refused for it. Bits the CPU ignores or reads as PAT must leave the
 * translation as it was. */

enum form { PAGED32_4M, PAE, LONG };

struct rsvd_case {
	const char *entry_name;
	enum form form;
	uint64_t entry; /* its guest-physical address */
	uint64_t gva;
	unsigned bit;
	bool nxe;          /* EFER.NXE: without it bit 63 is reserved */
	unsigned maxphy;   /* MAXPHYADDR for the walk */
	bool reserved;     /* the expected answer: refused, or translated as before */
	unsigned wide;     /* an address bit: a MAXPHYADDR at which it is not reserved; 0 if none */
};

#define PAE_PDPTE (T0 + 0x20 + 8 * 1)
#define RSVD(form, entry, gva, bit, maxphy, wide) \
	{ #entry, form, entry, gva, bit, true, maxphy, true, wide }
#define RSVD_NO_NXE(form, entry, gva) { #entry, form, entry, gva, 63, false, 36, true, 0 }
#define NOT_RSVD(form, entry, gva, bit) { #entry, form, entry, gva, bit, true, 36, false, 0 }

static const struct rsvd_case rsvd_cases[] = {
	/* 32-bit paging, a 4 MiB PDE: bit 21 always; bits 20..13 are physical bits 39..32, reserved
	 * from min(MAXPHYADDR, 40) up. A 4 KiB PDE or PTE has no reserved bits. */
	RSVD(PAGED32_4M, T0 + 4 * 2, 0x00812345, 21, 40, 0),
	RSVD(PAGED32_4M, T0 + 4 * 2, 0x00812345, 17, 36, 37),
	RSVD(PAGED32_4M, T0 + 4 * 2, 0x00812345, 20, 39, 52),
	/* PAE, the PDPTE: R/W, U/S, bits 8..5 (PS among them) and 63..MAXPHYADDR, NXE or not. */
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 1, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 2, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 5, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 6, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 7, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 8, 36, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 36, 36, 40),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 52, 52, 0),
	RSVD(PAE, PAE_PDPTE, PAE_GVA_4K, 63, 36, 0),
	/* PAE, a 2 MiB PDE: bits 20..13, 62..MAXPHYADDR, 63 without NXE. */
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 13, 36, 0),
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 20, 36, 0),
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 36, 36, 40),
	RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 62, 52, 0),
	RSVD_NO_NXE(PAE, T2 + 8 * 5, PAE_GVA_2M),
	NOT_RSVD(PAE, T2 + 8 * 5, PAE_GVA_2M, 12), /* PAT */
	/* PAE, a PDE to a page table and a PTE: 62..MAXPHYADDR, 63 without NXE. */
	RSVD(PAE, T2 + 8 * 3, PAE_GVA_4K, 36, 36, 40),
	RSVD(PAE, T2 + 8 * 3, PAE_GVA_4K, 62, 52, 0),
	RSVD_NO_NXE(PAE, T2 + 8 * 3, PAE_GVA_4K),
	RSVD(PAE, T3 + 8 * 4, PAE_GVA_4K, 36, 36, 40),
	RSVD(PAE, T3 + 8 * 4, PAE_GVA_4K, 55, 52, 0),
	RSVD_NO_NXE(PAE, T3 + 8 * 4, PAE_GVA_4K),
	/* Long mode, the PML4E: PS, 51..MAXPHYADDR, 63 without NXE; 62..52 are ignored. */
	RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 7, 36, 0),
	RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 36, 36, 40),
	RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 51, 48, 52),
	RSVD_NO_NXE(LONG, T0 + 8 * 1, LONG_GVA_4K),
	NOT_RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 52),
	NOT_RSVD(LONG, T0 + 8 * 1, LONG_GVA_4K, 62),
	/* A 1 GiB PDPTE: bits 29..13 too. */
	RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 13, 36, 0),
	RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 29, 36, 0),
	RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 36, 36, 40),
	RSVD_NO_NXE(LONG, T1 + 8 * 5, LONG_GVA_1G),
	NOT_RSVD(LONG, T1 + 8 * 5, LONG_GVA_1G, 12), /* PAT */
	/* A PDPTE to a page directory. */
	RSVD(LONG, T1 + 8 * 2, LONG_GVA_4K, 36, 36, 40),
	RSVD(LONG, T1 + 8 * 2, LONG_GVA_4K, 51, 36, 52),
	RSVD_NO_NXE(LONG, T1 + 8 * 2, LONG_GVA_4K),
	/* A 2 MiB PDE: bits 20..13 too. */
	RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 13, 36, 0),
	RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 20, 36, 0),
	RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 36, 36, 40),
	RSVD_NO_NXE(LONG, T2 + 8 * 6, LONG_GVA_2M),
	NOT_RSVD(LONG, T2 + 8 * 6, LONG_GVA_2M, 12), /* PAT */
	/* A PDE to a page table, and a PTE. */
	RSVD(LONG, T2 + 8 * 3, LONG_GVA_4K, 36, 36, 40),
	RSVD_NO_NXE(LONG, T2 + 8 * 3, LONG_GVA_4K),
	RSVD(LONG, T3 + 8 * 4, LONG_GVA_4K, 36, 36, 40),
	RSVD(LONG, T3 + 8 * 4, LONG_GVA_4K, 51, 36, 52),
	RSVD_NO_NXE(LONG, T3 + 8 * 4, LONG_GVA_4K),
	NOT_RSVD(LONG, T3 + 8 * 4, LONG_GVA_4K, 58),
};

/* The form's tables and registers; without NXE, with bit 63 cleared in every entry that has it,
 * so that only the case's own bit can make the walk refuse. */
static struct tv_sregs rsvd_tables(const struct rsvd_case *c)
{
	static const uint64_t with_nx[] = { T3 + 8 * 4, T2 + 8 * 6 };
	struct tv_sregs s;

	if (c->form == PAGED32_4M) {
		put32(T0 + 4 * 2, 0x00c00000 | PTE | TV_PTE_PS);
		return paged32_sregs(T0, true);
	}
	s = c->form == PAE ? pae_tables() : long_tables();
	if (!c->nxe) {
		s.efer &= ~TV_EFER_NXE;
		for (size_t i = 0; i < sizeof(with_nx) / sizeof(with_nx[0]); i++)
			put64(with_nx[i], get64(with_nx[i]) & ~TV_PTE_XD);
	}
	return s;
}

static enum tv_walk_result walk_at(const struct tv_sregs *s, unsigned m, uint64_t gva,
				   uint64_t *gpa)
{
	return tv_gva_to_gpa(&ram, s, m, gva, gpa);
}

START_TEST(test_entry_with_a_reserved_bit_is_a_fault)
{
	const struct rsvd_case *c = &rsvd_cases[_i];
	const char *form = c->form == PAGED32_4M ? "paged32" : c->form == PAE ? "pae" : "long";
	struct tv_sregs s = rsvd_tables(c);
	uint64_t before = 0, gpa = 0;
	enum tv_walk_result r;

	/* Without the bit the gva translates: the verdict below is the bit's. */
	r = walk_at(&s, c->maxphy, c->gva, &before);
	ck_assert_msg(r == TV_WALK_OK, "%s %s: %s before the bit was set", form, c->entry_name,
		      tv_walk_result_name(r));
	if (c->form == PAGED32_4M)
		put32(c->entry, (uint32_t)(get64(c->entry) | 1ull << c->bit));
	else
		put64(c->entry, get64(c->entry) | 1ull << c->bit);

	r = walk_at(&s, c->maxphy, c->gva, &gpa);
	if (c->reserved)
		ck_assert_msg(r == TV_WALK_RESERVED,
			      "%s %s with bit %u (MAXPHYADDR %u, EFER.NXE %d): \"%s\", gpa 0x%llx",
			      form, c->entry_name, c->bit, c->maxphy, c->nxe,
			      tv_walk_result_name(r), (unsigned long long)gpa);
	else
		ck_assert_msg(r == TV_WALK_OK && gpa == before,
			      "%s %s with bit %u: \"%s\", gpa 0x%llx, expected 0x%llx as without it",
			      form, c->entry_name, c->bit, tv_walk_result_name(r),
			      (unsigned long long)gpa, (unsigned long long)before);
	if (c->wide) {
		r = walk_at(&s, c->wide, c->gva, &gpa);
		ck_assert_msg(r != TV_WALK_RESERVED,
			      "%s %s with bit %u is refused at MAXPHYADDR %u too: it is an address bit "
			      "there", form, c->entry_name, c->bit, c->wide);
	}
}
END_TEST

/* The walk takes any MAXPHYADDR without undefined shifts: out-of-range values are clamped. */
START_TEST(test_maxphyaddr_out_of_range_is_clamped)
{
	struct tv_sregs s = long_tables();
	uint64_t gpa;

	ck_assert_int_eq(tv_gva_to_gpa(&ram, &s, 0, LONG_GVA_4K, &gpa), TV_WALK_OK);
	ck_assert_int_eq(tv_gva_to_gpa(&ram, &s, 200, LONG_GVA_4K, &gpa), TV_WALK_OK);
	put64(T3 + 8 * 4, get64(T3 + 8 * 4) | 1ull << 51);
	ck_assert_int_eq(tv_gva_to_gpa(&ram, &s, 0, LONG_GVA_4K, &gpa), TV_WALK_RESERVED);
	ck_assert_int_ne(tv_gva_to_gpa(&ram, &s, 200, LONG_GVA_4K, &gpa), TV_WALK_RESERVED);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagewalk_reserved");
	TCase *pure = tcase_create("pure");

	tcase_add_checked_fixture(pure, guarded_ram_setup, guarded_ram_teardown);
	tcase_add_loop_test(pure, test_entry_with_a_reserved_bit_is_a_fault, 0,
			    sizeof(rsvd_cases) / sizeof(rsvd_cases[0]));
	tcase_add_test(pure, test_maxphyaddr_out_of_range_is_clamped);
	suite_add_tcase(s, pure);
	return tv_test_main(s);
}
