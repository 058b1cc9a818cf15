/* The access-checked walk (tv_linear_access, x86/pagewalk.c) held to the CPU's own answer
 * where KVM runs: a long-mode guest makes the access, and the #PF it takes (error code from the
 * frame, through the fuzzer's trap table) or the A and D bits it leaves must be the walk's. The
 * cases without a CPU: test_pagewalk_access.c. */
#include "layout.h"
#include "machine.h"
#include "pagewalk.h"
#include "traps.h"
#include "tv_test.h"

/* --- the CPU's own answer, on KVM --------------------------------------------------------------
 *
 * twinvm's long mode (CR0.WP set) with EFER.NXE, the fuzzer's trap table, and gva 0x200000 (PDE 1)
 * mapped through a page table at XPT whose entry 0 the case writes, onto a page holding a hlt. */

#define XPT 0x20000ull
#define XPAGE 0x30000ull
#define XGVA 0x200000ull
#define COUNT(a) (int)(sizeof(a) / sizeof(a[0]))

struct cpu_case {
	const char *what;
	unsigned acc;
	uint64_t pte;
	bool rsvd; /* the PTE also has bit MAXPHYADDR set */
};

static const struct cpu_case cpu_cases[] = {
	{ "read, not present", 0, XPAGE | TV_PTE_RW, false },
	{ "write, not present", TV_ACC_WRITE, XPAGE | TV_PTE_RW, false },
	{ "fetch, not present", TV_ACC_FETCH, XPAGE | TV_PTE_RW, false },
	{ "write, read-only with WP", TV_ACC_WRITE, XPAGE | TV_PTE_P, false },
	{ "read, reserved bit", 0, XPAGE | TV_PTE_P | TV_PTE_RW, true },
	{ "write, reserved bit", TV_ACC_WRITE, XPAGE | TV_PTE_P | TV_PTE_RW, true },
	{ "fetch, reserved bit", TV_ACC_FETCH, XPAGE | TV_PTE_P | TV_PTE_RW, true },
	{ "fetch, XD", TV_ACC_FETCH, XPAGE | TV_PTE_P | TV_PTE_RW | TV_PTE_XD, false },
	{ "read, allowed", 0, XPAGE | TV_PTE_P, false },
	{ "write, allowed", TV_ACC_WRITE, XPAGE | TV_PTE_P | TV_PTE_RW, false },
	{ "fetch, allowed", TV_ACC_FETCH, XPAGE | TV_PTE_P, false },
};

/* The guest: one access to XGVA, then hlt. */
static const struct {
	uint8_t bytes[9];
	size_t len;
} guest_code[] = {
	/* mov al, [XGVA]; hlt */
	[0] = { { 0x8a, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4 }, 8 },
	/* mov byte [XGVA], 1; hlt */
	[TV_ACC_WRITE] = { { 0xc6, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x01, 0xf4 }, 9 },
	/* mov eax, XGVA; jmp rax (to the hlt at XGVA) */
	[TV_ACC_FETCH] = { { 0xb8, 0x00, 0x00, 0x20, 0x00, 0xff, 0xe0 }, 7 },
};

/* The tables as the case starts: PDE 1 -> XPT, PTE 0 the case's, both with A and D clear. */
static void cpu_tables(struct tv_machine *m, const struct cpu_case *c)
{
	uint64_t pde = XPT | TV_PTE_P | TV_PTE_RW;
	uint64_t pte = c->pte | (c->rsvd ? 1ull << m->maxphyaddr : 0);

	ck_assert_int_eq(tv_ram_write(&m->ram, TV_PD64 + 8 * 1, &pde, 8), 0);
	ck_assert_int_eq(tv_ram_write(&m->ram, XPT, &pte, 8), 0);
}

/* The A and D bits of the PDE and the PTE, as 0xPPTT. */
static unsigned cpu_ad(struct tv_machine *m)
{
	uint64_t pde, pte;

	ck_assert_int_eq(tv_ram_read(&m->ram, TV_PD64 + 8 * 1, &pde, 8), 0);
	ck_assert_int_eq(tv_ram_read(&m->ram, XPT, &pte, 8), 0);
	return (unsigned)((pde & (TV_PTE_A | TV_PTE_D)) << 8 | (pte & (TV_PTE_A | TV_PTE_D)));
}

/* Runs the case on m's vCPU: its #PF error code, or -1 when the guest reached its hlt. s gets the
 * registers it ran with. */
static long long cpu_access(struct tv_machine *m, const struct cpu_case *c, struct tv_sregs *s)
{
	const uint8_t hlt = 0xf4;
	struct fz_trap_frame f;
	struct tv_regs r;
	struct tv_exit e;
	int vector;

	ck_assert_int_eq(tv_machine_load(m, guest_code[c->acc].bytes, guest_code[c->acc].len), 0);
	ck_assert_msg(tv_machine_enter_mode(m, TV_MODE_LONG) == 0, "mode: %s", tv_last_error());
	ck_assert_int_eq(m->be->get_sregs(m->vcpu, s), 0);
	ck_assert_int_eq(fz_traps_install(&m->ram, TV_MODE_LONG, s), 0);
	s->efer |= TV_EFER_NXE;
	ck_assert_msg(m->be->set_sregs(m->vcpu, s) == 0, "sregs: %s", tv_last_error());
	ck_assert_uint_ne(s->cr0 & TV_CR0_WP, 0);
	cpu_tables(m, c);
	ck_assert_int_eq(tv_ram_write(&m->ram, XPAGE, &hlt, 1), 0);

	ck_assert_msg(tv_machine_run(m, 30, &e) == 0, "run: %s", tv_last_error());
	ck_assert_msg(e.reason == TV_EXIT_HLT, "%s: %s", c->what, tv_exit_reason_name(e.reason));
	ck_assert_int_eq(m->be->get_regs(m->vcpu, &r), 0);
	vector = fz_traps_vector(TV_MODE_LONG, r.rip);
	if (vector < 0)
		return -1;
	ck_assert_msg(vector == 14, "%s: vector %d, not #PF", c->what, vector);
	ck_assert_int_eq(fz_trap_frame(&m->ram, TV_MODE_LONG, vector, r.rsp, 0, &f), 0);
	return (long long)f.error_code;
}

START_TEST(test_walk_agrees_with_the_cpu_on_error_code_and_ad_bits)
{
	const struct cpu_case *c = &cpu_cases[_i];
	struct tv_machine_opts opt = { .ram_size = TV_RAM_DEFAULT };
	struct tv_machine m;
	struct tv_sregs s;
	uint64_t gpa = 0;
	uint32_t pf;
	unsigned cpu_bits;
	long long cpu;
	enum tv_walk_result r;
	char why[256];

	opt.backend = tv_test_engine("kvm", TV_MODE_LONG, why, sizeof(why));
	if (!opt.backend)
		TV_SKIP("kvm/long: %s", why);
	ck_assert_msg(tv_machine_create(&m, &opt) == 0, "create: %s", tv_last_error());
	ck_assert_uint_lt(m.maxphyaddr, 52);
	cpu = cpu_access(&m, c, &s);
	cpu_bits = cpu_ad(&m);

	cpu_tables(&m, c); /* as they were before the run */
	r = tv_linear_access(&m.ram, &s, m.maxphyaddr, XGVA, c->acc, true, &gpa, &pf);
	if (cpu < 0) {
		ck_assert_msg(r == TV_WALK_OK && gpa == XPAGE, "%s: the CPU allowed it, the walk: %s",
			      c->what, tv_walk_result_name(r));
		ck_assert_msg(cpu_ad(&m) == cpu_bits,
			      "%s: A/D of the PDE and the PTE: the CPU 0x%04x, the walk 0x%04x",
			      c->what, cpu_bits, cpu_ad(&m));
	} else {
		ck_assert_msg(r != TV_WALK_OK && pf == (uint32_t)cpu,
			      "%s: the CPU's #PF error code is 0x%llx, the walk says \"%s\", 0x%x",
			      c->what, cpu, tv_walk_result_name(r), pf);
	}
	tv_machine_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pagewalk_access_cpu");
	TCase *cpu = tcase_create("cpu");

	tcase_set_timeout(cpu, 60);
	tcase_add_loop_test(cpu, test_walk_agrees_with_the_cpu_on_error_code_and_ad_bits, 0,
			    COUNT(cpu_cases));
	suite_add_tcase(s, cpu);
	return tv_test_main(s);
}
