/* The matrix's device in front of a VM's own devices (core/services/sched_exits.c). */
#include <stdlib.h>

#include "layout.h"
#include "scheduler.h"
#include "tv_test.h"

#define QUANTUM_S 0.02

/* A matrix VM's hypercalls go through the matrix's device to the hypercall device behind it: a
 * refused one (HC_print32bit as a byte) is recorded and the VM goes on, and the right one prints.
 * The matrix's device must hand each port's own device its own state. */
static void refused_hypercall_in_a_matrix_vm(const char *engine)
{
	/* mov al, 7; out 0xea, al; mov eax, 42; out 0xea, eax; hlt */
	static const uint8_t image[] = { 0xb0, 0x07, 0xe6, 0xea, 0x66, 0xb8, 0x2a, 0x00, 0x00, 0x00,
					 0x66, 0xe7, 0xea, 0xf4 };
	struct tv_sched_opts opt = { .policy = TV_POLICY_IO, .quantum_s = QUANTUM_S };
	struct tv_machine_opts mopt = { .ram_size = TV_RAM_DEFAULT };
	char why[256], *out = NULL;
	size_t out_len = 0;
	struct tv_sched s;

	mopt.backend = tv_test_engine(engine, TV_MODE_REAL, why, sizeof(why));
	if (!mopt.backend)
		TV_SKIP("%s: %s", engine, why);
	mopt.console = open_memstream(&out, &out_len);
	ck_assert_ptr_nonnull(mopt.console);
	ck_assert_int_eq(tv_sched_init(&s, &opt, 1), 0);
	snprintf(s.vms[0].name, sizeof(s.vms[0].name), "refused");
	s.vms[0].weight = 1;
	ck_assert_msg(tv_sched_boot_vm(&s, 0, &mopt, image, sizeof(image)) == 0, "%s",
		      tv_last_error());
	ck_assert_msg(tv_sched_run(&s) == 0, "%s", tv_last_error());
	ck_assert_int_eq(s.vms[0].last.reason, TV_EXIT_HLT);
	ck_assert_uint_eq(s.vms[0].m.stats.io_out, 2);
	tv_sched_free(&s);
	fclose(mopt.console);
	ck_assert_str_eq(out, "42\n");
	free(out);
}

START_TEST(test_refused_hypercall_in_a_matrix_vm_kvm)
{
	refused_hypercall_in_a_matrix_vm("kvm");
}
END_TEST

START_TEST(test_refused_hypercall_in_a_matrix_vm_emu)
{
	refused_hypercall_in_a_matrix_vm("emu");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("matrix_devices");
	TCase *tc = tcase_create("devices");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_refused_hypercall_in_a_matrix_vm_kvm);
	tcase_add_test(tc, test_refused_hypercall_in_a_matrix_vm_emu);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
