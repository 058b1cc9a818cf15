/* Many VMs in one process: the matrix, diff and bench create and destroy VMs by the hundred, so
 * each one must give back what it took. Unicorn 2.1.1 kept about 512 KiB per VM when the
 * emulator opened the instance for the guest's mode before closing the real-mode one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "devices.h"
#include "guestmem.h"
#include "tv_test.h"

#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer holds freed memory back (256 MiB by default) to catch use after free; here
 * that would be counted as growth. ASAN_OPTIONS from the environment still apply on top. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=0";
}
#endif

#define CYCLES 200
#define WARM_UP 5
#define MAX_GROWTH_KIB (8 * 1024)

/* Resident set size in KiB, from /proc/self/statm (pages). */
static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, resident = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * 4;
}

/* One VM's whole life with the hello guest; api_log: its --trace-api lines, or NULL. */
static void one_vm(const struct tv_backend_ops *be, enum tv_mode mode, FILE *console,
		   FILE *api_log)
{
	const struct tv_builtin *g = tv_builtin_find("hello");
	struct tv_machine_opts opt = { .backend = be, .ram_size = 2 << 20, .console = console,
				       .api_log = api_log };
	const uint8_t *image;
	struct tv_machine m;
	struct tv_exit last;
	size_t len;

	ck_assert(tv_builtin_image(g, mode, &image, &len));
	ck_assert_msg(tv_machine_boot(&m, &opt, image, len, mode) == 0, "boot: %s", tv_last_error());
	ck_assert_msg(tv_machine_run(&m, 30, &last) == 0, "run: %s", tv_last_error());
	ck_assert_int_eq(last.reason, TV_EXIT_HLT);
	tv_machine_destroy(&m);
}

/* _i: the mode. */
START_TEST(test_200_emu_vms_give_their_memory_back)
{
	const struct tv_backend_ops *be;
	enum tv_mode mode = (enum tv_mode)_i;
	FILE *console = fopen("/dev/null", "w");
	char why[512];
	long before;

	be = tv_test_engine("emu", mode, why, sizeof(why));
	if (!be)
		TV_SKIP("emu/%s: %s", tv_mode_name(mode), why);
	ck_assert_ptr_nonnull(console);
	/* The first VMs size the process: the translation buffer, the allocator's arenas. */
	for (int i = 0; i < WARM_UP; i++)
		one_vm(be, mode, console, NULL);
	before = rss_kib();
	for (int i = 0; i < CYCLES; i++)
		one_vm(be, mode, console, NULL);
	ck_assert_msg(rss_kib() - before < MAX_GROWTH_KIB,
		      "%s: %d VMs grew the resident set from %ld KiB to %ld KiB",
		      tv_mode_name(mode), CYCLES, before, rss_kib());
	fclose(console);
}
END_TEST

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* _i: the mode. A VM's start-up and tear-down pay for one uc_open (in the guest's mode, not
 * real mode first and the guest's after) and no translation-cache flush before uc_close (which
 * zeroes the whole cache). Counted in the --trace-api lines of one VM's whole life. */
START_TEST(test_emu_vm_opens_once_and_closes_without_a_flush)
{
	enum tv_mode mode = (enum tv_mode)_i;
	FILE *console = fopen("/dev/null", "w"), *api_log;
	const struct tv_backend_ops *be;
	char why[512], *log = NULL;
	size_t log_len = 0;

	be = tv_test_engine("emu", mode, why, sizeof(why));
	if (!be)
		TV_SKIP("emu/%s: %s", tv_mode_name(mode), why);
	ck_assert_ptr_nonnull(console);
	api_log = open_memstream(&log, &log_len);
	ck_assert_ptr_nonnull(api_log);
	one_vm(be, mode, console, api_log);
	fclose(api_log);
	ck_assert_msg(count_lines_with(log, "uc_open(") == 1, "%s: uc_open %d times",
		      tv_mode_name(mode), count_lines_with(log, "uc_open("));
	ck_assert_msg(count_lines_with(log, "TB_FLUSH") == 0, "%s: %d flushes", tv_mode_name(mode),
		      count_lines_with(log, "TB_FLUSH"));
	free(log);
	fclose(console);
}
END_TEST

static int count_outs(void *ctx, struct tv_exit *e)
{
	(*(int *)ctx) += e->reason == TV_EXIT_IO;
	return TV_IO_CONTINUE;
}

/* One vCPU of an emulator VM run in the precise mode, destroyed, and a new one made on the same
 * VM: the new one runs the guest again from the start (the cached blocks that called the first
 * vCPU's code hook are dropped before, not at its destruction). */
START_TEST(test_emu_vcpu_replaced_on_a_live_vm_runs)
{
	static const uint8_t guest[] = { 0xe6, 0x80, 0xe6, 0x80, 0xf4 }; /* out 0x80 ×2; hlt */
	const struct tv_backend_ops *be = tv_backend_find("emu");
	unsigned flags[2] = { TV_RUN_PRECISE, 0 };
	struct tv_engine *e;
	struct tv_vm *vm;
	struct tv_ram ram;

	if (!be)
		TV_SKIP("emu: not built");
	ck_assert_int_eq(tv_ram_alloc(&ram, 1 << 20), 0);
	memcpy(ram.host, guest, sizeof(guest));
	ck_assert_int_eq(be->open(&e, NULL), 0);
	ck_assert_int_eq(be->vm_create(e, ram.host, ram.size, &vm), 0);
	for (int i = 0; i < 2; i++) {
		int outs = 0;
		struct tv_vcpu_config cfg = { .on_io = count_outs, .ctx = &outs };
		struct tv_regs r = { .rip = 0, .rsp = 0xf000, .rflags = 2 };
		struct tv_vcpu *v;
		struct tv_exit x;

		ck_assert_msg(be->vcpu_create(vm, &cfg, &v) == 0, "vcpu %d: %s", i, tv_last_error());
		ck_assert_int_eq(be->set_run_flags(v, flags[i]), 0);
		ck_assert_int_eq(be->set_regs(v, &r), 0);
		do
			ck_assert_msg(be->run(v, &x) == 0, "run: %s", tv_last_error());
		while (x.reason == TV_EXIT_IO);
		ck_assert_int_eq(x.reason, TV_EXIT_HLT);
		ck_assert_int_eq(outs, 2);
		be->vcpu_destroy(v);
	}
	be->vm_destroy(vm);
	be->close(e);
	tv_ram_free(&ram);
}
END_TEST

/* A machine that failed to be made (here: a VM the engine refuses, from RAM of a size no engine
 * takes) leaves nothing behind, and destroying it afterwards, as a tool's clean-up path does,
 * frees nothing twice (the sanitizer build would say so). */
START_TEST(test_failed_create_then_destroy_frees_nothing_twice)
{
	struct tv_machine_opts opt = { .backend = tv_backend_find("emu"), .ram_size = 4096 + 1 };
	struct tv_machine m;

	ck_assert_ptr_nonnull(opt.backend);
	ck_assert_int_ne(tv_machine_create(&m, &opt), 0);
	ck_assert_ptr_null(m.be);
	tv_machine_destroy(&m);
	tv_machine_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm_lifecycle");
	TCase *tc = tcase_create("memory");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_200_emu_vms_give_their_memory_back, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_emu_vm_opens_once_and_closes_without_a_flush, 0, TV_MODE_COUNT);
	tcase_add_test(tc, test_emu_vcpu_replaced_on_a_live_vm_runs);
	tcase_add_test(tc, test_failed_create_then_destroy_frees_nothing_twice);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
