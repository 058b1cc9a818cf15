/* The CPU models' CPUID answers the build measured (backend/emu/emu_cpu_gen.c): a process on the
 * Unicorn they were measured on makes its first VM without opening a scratch instance per
 * model, and the table answers what a fresh measurement on this Unicorn does, every model and
 * every query, and leads to the same default, so a stale table fails here. */
#include <string.h>

#include "cli.h"
#include "emu/emu.h"
#include "tv_test.h"

START_TEST(test_first_vm_and_model_list_open_no_scratch_instance)
{
	const struct tv_backend_ops *be = tv_backend_find("emu");
	struct tv_run_options o;
	struct tv_cpu_model m;

	tv_run_options_default(&o);
	o.backend = "emu";
	o.mode = TV_MODE_PROTECTED;
	o.guest = "hello";
	o.timeout_s = 60;
	ck_assert_int_eq(tv_run_guest(&o), 0);
	ck_assert_ptr_nonnull(be);
	for (size_t i = 0; be->cpu_model(i, &m) == 0; i++)
		ck_assert_msg(m.features > 0, "%s: %s", m.name, m.extra); /* measured */
	ck_assert_uint_eq(emu_cpu_measured_count(), 0);
}
END_TEST

START_TEST(test_table_answers_as_a_fresh_measurement)
{
	static struct emu_cpu_answers fresh[EMU_CPU_NMODELS];
	int def = emu_cpu_resolve(EMU_MODEL_DEFAULT); /* from the table */
	char error[200];
	uint32_t out[4];

	ck_assert_uint_eq(emu_cpu_measured_count(), 0);
	emu_cpu_measure_all(fresh, error, sizeof(error));
	ck_assert_msg(error[0] == '\0', "%s", error);
	ck_assert_uint_eq(emu_cpu_measured_count(), EMU_CPU_NMODELS);
	for (int i = 0; i < EMU_CPU_NMODELS; i++) {
		for (int q = 0; q < EMU_CPU_QUERIES; q++) {
			uint32_t leaf = emu_cpu_queries[q][0], sub = emu_cpu_queries[q][1];
			const uint32_t *f = fresh[i].out[q];

			ck_assert_msg(emu_cpu_leaf(i, leaf, sub, out), "%s: no leaf %#x",
				      emu_cpu_models[i].name, leaf);
			ck_assert_msg(memcmp(out, f, sizeof(out)) == 0,
				      "%s leaf %#x.%u: table %08x %08x %08x %08x, measured %08x %08x "
				      "%08x %08x", emu_cpu_models[i].name, leaf, sub, out[0], out[1],
				      out[2], out[3], f[0], f[1], f[2], f[3]);
		}
	}
	ck_assert_int_eq(def, (int)emu_cpu_default_of(fresh));
}
END_TEST

static Suite *cpu_table_suite(void)
{
	Suite *s = suite_create("cpu_table");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_first_vm_and_model_list_open_no_scratch_instance);
	tcase_add_test(tc, test_table_answers_as_a_fresh_measurement);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tv_test_main(cpu_table_suite());
}
