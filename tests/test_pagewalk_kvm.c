/* The software page walk (x86/pagewalk.c) held to KVM's own (KVM_TRANSLATE) on a live vCPU,
 * in every mode this host's KVM runs: identity-mapped and remapped addresses, 1 GiB pages, the NX
 * bit and reserved bits. */
#include <errno.h>

#include "devices.h"
#include "layout.h"
#include "pagewalk.h"
#include "run_guest.h"
#include "tv_test.h"
#include "walk_tables.h"

/* --- cross-check with KVM_TRANSLATE ----------------------------------------------------------- */

/* In long mode, gva 0x200000..0x3fffff goes through a 4 KiB page table at 0x20000 whose entries
 * point away from identity, with one hole. */
#define XPT 0x20000ull
static const struct {
	unsigned index;
	uint64_t pte;
} remap[] = {
	{ 0, 0x30000 | PTE }, { 1, 0x5000 | PTE }, { 2, 0x6000 | TV_PTE_RW /* not present */ },
	{ 3, 0x1ff000 | PTE | TV_PTE_XD }, { 511, 0x100000 | TV_PTE_P }, { 100, 0x7fff0000 | PTE },
};

static void remap_long(struct tv_machine *m)
{
	uint64_t pde = XPT | PTE;

	for (size_t i = 0; i < sizeof(remap) / sizeof(remap[0]); i++) {
		uint64_t at = XPT + 8 * remap[i].index;

		ck_assert_int_eq(tv_ram_write(&m->ram, at, &remap[i].pte, 8), 0);
	}
	ck_assert_int_eq(tv_ram_write(&m->ram, TV_PD64 + 8 * 1, &pde, 8), 0);
}

/* Mapped and unmapped, identity and remapped. No non-canonical address: KVM_TRANSLATE indexes
 * with bits 47..0 and ignores the rest (0x8000000000000400 comes back as 0x400 on this host),
 * where the CPU raises #GP; test_long_noncanonical_address covers the walk's answer. */
static const uint64_t cross_probe[] = {
	0x0, 0x400, 0x1234, TV_SCRATCH + 0x10, 0x1fffff,
	0x200000, 0x200abc, 0x201008, 0x202000, 0x203fff, 0x264010, 0x3ff123, 0x3ff000 + 0xfff,
	0x400000, 0x40000000, 0x40012345, 0x7fffffff, 0xfffff000, 0xffffffff, 0x100000000ull,
	0x7fffffff0000ull, 0xffff800000000000ull,
};

/* A machine on KVM in mode with a hlt at 0 and, in long mode, the remapped tables. nxe sets
 * EFER.NXE, which makes the NX bit in the remapped entries legal; run_once runs the hlt first. */
static const struct tv_backend_ops *kvm_machine(struct tv_machine *m, enum tv_mode mode, bool nxe,
						bool run_once, char *why, size_t len)
{
	static const uint8_t hlt[] = { 0xf4 };
	const struct tv_backend_ops *be = tv_test_engine("kvm", mode, why, len);
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT };
	struct tv_sregs s;
	struct tv_exit e;

	if (!be)
		return NULL;
	/* The KVM backend has KVM_TRANSLATE: losing it is a regression, not a host limit. */
	ck_assert_msg(be->translate != NULL, "the kvm backend has no translate hook");
	ck_assert_msg(tv_machine_boot(m, &opt, hlt, sizeof(hlt), mode) == 0, "boot: %s",
		      tv_last_error());
	if (mode == TV_MODE_LONG)
		remap_long(m);
	if (nxe) {
		ck_assert_int_eq(m->be->get_sregs(m->vcpu, &s), 0);
		s.efer |= TV_EFER_NXE;
		ck_assert_msg(m->be->set_sregs(m->vcpu, &s) == 0, "EFER.NXE: %s", tv_last_error());
	}
	if (run_once) {
		ck_assert_msg(tv_machine_run(m, 30, &e) == 0, "run: %s", tv_last_error());
		ck_assert_int_eq(e.reason, TV_EXIT_HLT);
	}
	return be;
}

/* Compares the walk with KVM_TRANSLATE at gva. */
static void compare_one(struct tv_machine *m, const struct tv_sregs *s, uint64_t gva)
{
	uint64_t ours = 0, theirs = 0;
	enum tv_walk_result r = tv_gva_to_gpa(&m->ram, s, m->maxphyaddr, gva, &ours);
	int k = m->be->translate(m->vcpu, gva, &theirs);

	if (r == TV_WALK_OK) {
		ck_assert_msg(k == 0, "gva 0x%llx: the walk says 0x%llx, KVM_TRANSLATE fails (%s)",
			      (unsigned long long)gva, (unsigned long long)ours, tv_last_error());
		ck_assert_msg(ours == theirs, "gva 0x%llx: the walk says 0x%llx, KVM 0x%llx",
			      (unsigned long long)gva, (unsigned long long)ours,
			      (unsigned long long)theirs);
	} else {
		ck_assert_msg(r == TV_WALK_NOT_PRESENT || r == TV_WALK_RESERVED,
			      "gva 0x%llx: the walk says %s",
			      (unsigned long long)gva, tv_walk_result_name(r));
		ck_assert_msg(k == -EFAULT, "gva 0x%llx: the walk says %s, KVM 0x%llx (rc %d)",
			      (unsigned long long)gva, tv_walk_result_name(r),
			      (unsigned long long)theirs, k);
	}
}

/* Compares the walk with KVM_TRANSLATE at every probe address. KVM_TRANSLATE takes a linear
 * address; DS.base is 0 in every mode twinvm sets up, so the two agree on what gva means. */
static void compare_with_kvm(struct tv_machine *m)
{
	struct tv_sregs s;

	ck_assert_int_eq(m->be->get_sregs(m->vcpu, &s), 0);
	ck_assert_uint_eq(s.ds.base, 0);
	for (size_t i = 0; i < sizeof(cross_probe) / sizeof(cross_probe[0]); i++) {
		/* Outside long mode an address has 32 bits; KVM_TRANSLATE would take more. */
		if (m->mode == TV_MODE_LONG || cross_probe[i] <= 0xffffffffu)
			compare_one(m, &s, cross_probe[i]);
	}
}

/* KVM_TRANSLATE before the vCPU has ever run answers from the registers set by KVM_SET_SREGS;
 * on this host it agrees with the answer after a run, and both tests hold it to that. */
static void walk_agrees_with_kvm(enum tv_mode mode, bool run_once)
{
	struct tv_machine m;
	char why[256];

	if (!kvm_machine(&m, mode, true, run_once, why, sizeof(why)))
		TV_SKIP("kvm/%s: %s", tv_mode_name(mode), why);
	compare_with_kvm(&m);
	tv_machine_destroy(&m);
}

START_TEST(test_walk_agrees_with_kvm_translate_before_first_run)
{
	walk_agrees_with_kvm((enum tv_mode)_i, false);
}
END_TEST

START_TEST(test_walk_agrees_with_kvm_translate_after_a_run)
{
	walk_agrees_with_kvm((enum tv_mode)_i, true);
}
END_TEST

/* CPUID 0x80000001 EDX bit 26 of a long-mode guest on be: 1 GiB pages. Without it PS in a PDPTE
 * is a reserved bit and the CPU faults. */
static bool guest_has_1g_pages(const struct tv_backend_ops *be)
{
	static const uint8_t cpuid[] = {
		0xb8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
		0x0f, 0xa2,                   /* cpuid */
		0xf4,                         /* hlt */
	};
	struct tv_test_run t;
	bool has;

	tv_test_run(&t, be, TV_MODE_LONG, cpuid, sizeof(cpuid), NULL, 30);
	ck_assert_int_eq(t.last.reason, TV_EXIT_HLT);
	has = t.regs.rdx & (1u << 26);
	tv_test_run_end(&t);
	return has;
}

/* A 1 GiB page at gva 1 GiB -> physical 0, where the guest's CPU offers them. */
static void one_gib_page_agrees_with_kvm(void)
{
	uint64_t pdpte = 0 | PTE | TV_PTE_PS;
	struct tv_machine m;
	struct tv_sregs s;
	char why[256];

	if (!kvm_machine(&m, TV_MODE_LONG, true, true, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	if (!guest_has_1g_pages(m.be)) {
		tv_machine_destroy(&m);
		ck_assert(tv_test_host_limit("kvm", TV_MODE_LONG, "the guest's CPUID has no 1 GiB "
					     "pages (CPUID 0x80000001 EDX bit 26 clear), so a PDPTE "
					     "with PS is a reserved-bit fault to KVM", why, sizeof(why)));
		TV_SKIP("kvm/long: %s", why);
	}
	ck_assert_int_eq(tv_ram_write(&m.ram, TV_PDPT + 8 * 1, &pdpte, 8), 0);
	ck_assert_int_eq(m.be->get_sregs(m.vcpu, &s), 0);
	compare_one(&m, &s, 0x40000000);
	compare_one(&m, &s, 0x4abcdef0);
	tv_machine_destroy(&m);
}

START_TEST(test_1g_page_agrees_with_kvm_translate) { one_gib_page_agrees_with_kvm(); }
END_TEST

/* twinvm's long mode leaves EFER.NXE clear, so bit 63 of an entry is reserved and the CPU faults
 * on an access through it: the walk must not translate what the guest itself cannot reach. */
START_TEST(test_walk_agrees_with_kvm_when_the_nx_bit_is_reserved)
{
	struct tv_machine m;
	struct tv_sregs s;
	char why[256];

	if (!kvm_machine(&m, TV_MODE_LONG, false, true, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	ck_assert_int_eq(m.be->get_sregs(m.vcpu, &s), 0);
	ck_assert_uint_eq(s.efer & TV_EFER_NXE, 0);
	compare_one(&m, &s, 0x203fff); /* PTE 3 has NX */
	tv_machine_destroy(&m);
}
END_TEST

/* Entries with reserved bits, in the remapped page table and next to it, on a live vCPU: the walk
 * and KVM's own walk must both refuse them, at the MAXPHYADDR the vCPU's CPUID gives. */
START_TEST(test_walk_agrees_with_kvm_on_reserved_bits)
{
	struct tv_machine m;
	struct tv_sregs s;
	char why[256];
	const struct {
		uint64_t at, entry, gva;
	} bad[] = {
		{ XPT + 8 * 4, 0x31000 | PTE | 1ull << 51, 0x204000 },      /* PTE, bit 51 */
		{ XPT + 8 * 5, 0x32000 | PTE, 0x205000 },                  /* PTE, bit MAXPHYADDR */
		{ TV_PD64 + 8 * 2, 0x400000 | PTE | TV_PTE_PS | 1ull << 13, 0x400000 }, /* 2 MiB */
		{ TV_PD64 + 8 * 3, 0x600000 | PTE | TV_PTE_PS | 1ull << 20, 0x6abcde },
	};

	if (!kvm_machine(&m, TV_MODE_LONG, true, true, why, sizeof(why)))
		TV_SKIP("kvm/long: %s", why);
	ck_assert_uint_ge(m.maxphyaddr, TV_MAXPHYADDR_MIN);
	ck_assert_uint_le(m.maxphyaddr, 51);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t e = bad[i].entry | (i == 1 ? 1ull << m.maxphyaddr : 0);

		ck_assert_int_eq(tv_ram_write(&m.ram, bad[i].at, &e, 8), 0);
	}
	ck_assert_int_eq(m.be->get_sregs(m.vcpu, &s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t gpa;

		ck_assert_int_eq(tv_gva_to_gpa(&m.ram, &s, m.maxphyaddr, bad[i].gva, &gpa),
				 TV_WALK_RESERVED);
		compare_one(&m, &s, bad[i].gva);
	}
	tv_machine_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagewalk_kvm");
	TCase *kvm = tcase_create("kvm_translate");

	tcase_set_timeout(kvm, 60);
	tcase_add_loop_test(kvm, test_walk_agrees_with_kvm_translate_before_first_run, 0,
			    TV_MODE_COUNT);
	tcase_add_loop_test(kvm, test_walk_agrees_with_kvm_translate_after_a_run, 0, TV_MODE_COUNT);
	tcase_add_test(kvm, test_1g_page_agrees_with_kvm_translate);
	tcase_add_test(kvm, test_walk_agrees_with_kvm_when_the_nx_bit_is_reserved);
	tcase_add_test(kvm, test_walk_agrees_with_kvm_on_reserved_bits);
	suite_add_tcase(s, kvm);
	return tv_test_main(s);
}
