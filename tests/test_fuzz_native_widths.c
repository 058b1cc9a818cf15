/* The fuzzer's native oracle below 64 bits: 32-bit code in compatibility mode and 16-bit code in
 * an LDT segment, on the host CPU in user mode. Each width must give the architecture's results,
 * written out here, report a fault as an outcome at the snippet's own RIP (IP), hand the caller
 * back its segments, and refuse what it cannot run. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asm/ldt.h>

#include "fz.h"
#include "native_ctx.h"
#include "native_oracle.h"
#include "tv_test.h"

START_TEST(test_native_32bit_runs_0x40_as_inc_eax)
{
	static const uint8_t inc[] = { 0x40 }; /* inc eax; a REX prefix in 64-bit code */
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	OPEN_NATIVE_OR_SKIP(o, 32);

	start_state(&in, 32);
	in.gpr[FZ_RAX] = 0x55555555ffffffffull; /* the upper half is not the snippet's */
	in.gpr[FZ_R9] = 0x99;
	snippet_bits(&s, inc, sizeof(inc), 32);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 0);
	ck_assert_uint_eq(r.st.rflags & 0x40, 0x40); /* ZF */
	ck_assert_uint_eq(r.st.gpr[FZ_R9], 0);       /* no r8-r15 below 64 bits */
	ck_assert_uint_eq(r.st.gpr[FZ_RSP], FZ_SCRATCH_ADDR + 0x800);
	ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR + 1);
	o->close(o);
}
END_TEST

START_TEST(test_native_32bit_push_pop_use_esp_with_4_byte_slots)
{
	static const uint8_t push[] = { 0x50 }, pop[] = { 0x59 }; /* push eax; pop ecx */
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	OPEN_NATIVE_OR_SKIP(o, 32);

	start_state(&in, 32);
	in.gpr[FZ_RAX] = 0x11223344;
	snippet_bits(&s, push, sizeof(push), 32);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RSP], FZ_SCRATCH_ADDR + 0x7fc);
	ck_assert_mem_eq(r.st.scratch + 0x7fc, "\x44\x33\x22\x11", 4);
	ck_assert_uint_eq(r.st.scratch[0x7fb], 0);
	in = r.st;
	snippet_bits(&s, pop, sizeof(pop), 32);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_uint_eq(r.st.gpr[FZ_RCX], 0x11223344);
	ck_assert_uint_eq(r.st.gpr[FZ_RSP], FZ_SCRATCH_ADDR + 0x800);
	o->close(o);
}
END_TEST

START_TEST(test_native_16bit_mov_ax_keeps_the_upper_half_of_eax)
{
	static const uint8_t mov[] = { 0xb8, 0x34, 0x12 }; /* mov ax, 0x1234 */
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	OPEN_NATIVE_OR_SKIP(o, 16);

	start_state(&in, 16);
	in.gpr[FZ_RAX] = 0xaaaabbbb;
	snippet_bits(&s, mov, sizeof(mov), 16);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 0xaaaa1234);
	ck_assert_uint_eq(r.st.rip, 3); /* IP, from 0 in its code segment */
	o->close(o);
}
END_TEST

START_TEST(test_native_16bit_push_moves_sp_by_2_at_scratch_offset_sp)
{
	static const uint8_t push[] = { 0x50 }; /* push ax */
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	OPEN_NATIVE_OR_SKIP(o, 16);

	start_state(&in, 16);
	in.gpr[FZ_RSP] = 0x00010800; /* a 16-bit stack uses SP and keeps ESP's upper half */
	in.gpr[FZ_RAX] = 0xdeadbeef;
	snippet_bits(&s, push, sizeof(push), 16);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RSP], 0x000107fe);
	ck_assert_mem_eq(r.st.scratch + 0x7fe, "\xef\xbe", 2);
	ck_assert_uint_eq(r.st.scratch[0x7fd], 0);
	o->close(o);
}
END_TEST

START_TEST(test_native_16bit_disp16_store_lands_at_scratch_plus_disp)
{
	static const uint8_t store[] = { 0x89, 0x06, 0x10, 0x00 }; /* mov [0x10], ax */
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	OPEN_NATIVE_OR_SKIP(o, 16);

	start_state(&in, 16);
	in.gpr[FZ_RAX] = 0x5678;
	snippet_bits(&s, store, sizeof(store), 16);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_mem_eq(r.st.scratch + 0x10, "\x78\x56", 2);
	ck_assert_uint_eq(r.st.scratch[0x12], 0);
	o->close(o);
}
END_TEST

/* ud2, a #DE after one instruction, and a store past the scratch mapping, each a fault at the
 * snippet's own rip; then a snippet that runs to its end. The store's bytes are bits' own. */
static void faults_are_outcomes(struct fz_oracle *o, unsigned bits, const uint8_t *store,
				size_t store_len)
{
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	static const uint8_t div0[] = { 0x40, 0xf7, 0xf1 }; /* inc (e)ax; div (e)cx */
	uint64_t start = fz_code_start(bits);
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;

	start_state(&in, bits);
	in.gpr[FZ_RAX] = 5;
	snippet_bits(&s, ud2, sizeof(ud2), bits);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, 6); /* #UD */
	ck_assert_uint_eq(r.st.rip, start);
	ck_assert(!r.error_code_known);

	snippet_bits(&s, div0, sizeof(div0), bits);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, 0); /* #DE */
	ck_assert_uint_eq(r.st.rip, start + 1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 6);
	ck_assert_uint_eq(r.st.gpr[FZ_RSP], in.gpr[FZ_RSP]);
	for (int i = 8; i < FZ_NGPR; i++)
		ck_assert_uint_eq(r.st.gpr[i], 0);

	snippet_bits(&s, store, store_len, bits);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, 14); /* #PF */
	ck_assert_uint_eq(r.st.rip, start);
	ck_assert(!r.error_code_known);

	/* And the oracle still runs snippets after its faults. */
	in.gpr[FZ_RCX] = 2;
	in.gpr[FZ_RAX] = 8;
	snippet_bits(&s, div0, sizeof(div0), bits);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 4);
	ck_assert_uint_eq(r.st.gpr[FZ_RDX], 1);
	ck_assert_uint_eq(r.st.rip, start + sizeof(div0));
}

START_TEST(test_native_32bit_faults_are_outcomes_at_the_snippets_rip)
{
	/* mov [0x41000], eax: the page after the scratch area */
	static const uint8_t store[] = { 0x89, 0x05, 0x00, 0x10, 0x04, 0x00 };
	OPEN_NATIVE_OR_SKIP(o, 32);

	faults_are_outcomes(o, 32, store, sizeof(store));
	o->close(o);
}
END_TEST

START_TEST(test_native_16bit_faults_are_outcomes_at_the_snippets_ip)
{
	/* mov [0x2000], ax: inside the data segment's limit, past the scratch mapping */
	static const uint8_t store[] = { 0x89, 0x06, 0x00, 0x20 };
	OPEN_NATIVE_OR_SKIP(o, 16);

	faults_are_outcomes(o, 16, store, sizeof(store));
	o->close(o);
}
END_TEST

/* SS, DS and ES as this process has them; the kernel would quietly mend a wrong SS at the next
 * system call, so they are read right after a run. */
static uint64_t data_segments(void)
{
	uint16_t ss, ds, es;

	__asm__ volatile("mov %%ss, %0; mov %%ds, %1; mov %%es, %2" : "=r"(ss), "=r"(ds), "=r"(es));
	return (uint64_t)ss << 32 | (uint64_t)ds << 16 | es;
}

START_TEST(test_native_gives_the_caller_back_its_segments_after_a_run_and_a_fault)
{
	static const uint8_t inc[] = { 0x40 }, ud2[] = { 0x0f, 0x0b };
	const uint64_t before = data_segments();
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;

	for (unsigned bits = 32; bits >= 16; bits -= 16) {
		char why[512];
		struct fz_oracle *o = open_native_bits(bits, why, sizeof(why));
		uint64_t after_run, after_fault;

		if (!o)
			TV_SKIP("native/%u: %s", bits, why);
		start_state(&in, bits);
		snippet_bits(&s, inc, sizeof(inc), bits);
		ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
		after_run = data_segments();
		snippet_bits(&s, ud2, sizeof(ud2), bits);
		ck_assert_int_eq(o->run(o, &s, &in, &r), 0);
		after_fault = data_segments();
		ck_assert_int_eq(r.vector, 6);
		ck_assert_uint_eq(after_run, before);
		ck_assert_uint_eq(after_fault, before);
		o->close(o);
	}
}
END_TEST

START_TEST(test_native_runs_64bit_code_after_a_32_and_a_16bit_oracle)
{
	static const uint8_t inc[] = { 0x40 };
	static const uint8_t add[] = { 0x48, 0x01, 0xd8 }; /* add rax, rbx */
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	char why[512];

	for (unsigned bits = 32; bits >= 16; bits -= 16) {
		struct fz_oracle *o = open_native_bits(bits, why, sizeof(why));

		if (!o) {
			printf("(native/%u not run: %s)\n", bits, why);
			continue;
		}
		start_state(&in, bits);
		snippet_bits(&s, inc, sizeof(inc), bits);
		ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
		ck_assert_uint_eq(r.st.gpr[FZ_RAX], 1);
		o->close(o);
	}
	struct fz_oracle *o = open_native();

	start_state(&in, 64);
	in.gpr[FZ_RAX] = 0x100000000ull;
	in.gpr[FZ_RBX] = 0x100000000ull;
	in.gpr[FZ_R15] = 0x1515;
	snippet(&s, add, sizeof(add));
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_int_eq(r.vector, -1);
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 0x200000000ull);
	ck_assert_uint_eq(r.st.gpr[FZ_R15], 0x1515);
	ck_assert_uint_eq(r.st.rip, FZ_CODE_ADDR + sizeof(add));
	o->close(o);
}
END_TEST

START_TEST(test_native_refuses_a_snippet_of_another_width)
{
	static const uint8_t inc[] = { 0x40 };
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	OPEN_NATIVE_OR_SKIP(o, 32);

	start_state(&in, 32);
	snippet_bits(&s, inc, sizeof(inc), 16);
	ck_assert_int_eq(o->run(o, &s, &in, &r), -EINVAL);
	snippet_bits(&s, inc, sizeof(inc), 64);
	ck_assert_int_eq(o->run(o, &s, &in, &r), -EINVAL);
	o->close(o);
}
END_TEST

/* In a child whose modify_ldt fails with err (a kernel without it, a seccomp filter): the 16-bit
 * oracle's open must say so as the host limit it is. The child's exit status: 0 when it did, 1
 * when the open did not give -ENOTSUP, 2 when its reason is not the host limit's, 3 when the
 * filter could not be installed. */
static int open_16bit_without_modify_ldt(int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_modify_ldt, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	struct fz_oracle *o = NULL;
	char why[512];
	int rc;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		return 3;
	rc = fz_native_open(16, &o, why, sizeof(why));
	printf("errno %d: open gave %d: %s\n", err, rc, why);
	fflush(stdout);
	if (rc != -ENOTSUP || o)
		return 1;
	return tv_test_host_limit("native", TV_MODE_REAL, why, why, sizeof(why)) &&
			       strstr(why, "[host limit: native-no-16bit]")
		       ? 0
		       : 2;
}

START_TEST(test_native_16bit_without_modify_ldt_is_the_no_16bit_host_limit)
{
	static const int errs[] = { ENOSYS, EPERM };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(open_16bit_without_modify_ldt(errs[i]));
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "errno %d: child status 0x%x (see open_16bit_without_modify_ldt)",
			      errs[i], status);
	}
}
END_TEST

/* A way in that faults (here: the 16-bit code segment taken away under the oracle; on a host
 * without compatibility mode, the far jump to 0x23) is the oracle's error, not a crash, and not a
 * snippet's fault. */
START_TEST(test_native_a_faulting_far_jump_in_is_an_error_not_a_crash)
{
	static const uint8_t inc[] = { 0x40 };
	struct user_desc gone = { .entry_number = FZ_LDT_CODE16, .read_exec_only = 1,
				  .seg_not_present = 1 };
	struct fz_state in;
	struct fz_result r;
	struct fz_snippet s;
	OPEN_NATIVE_OR_SKIP(o, 16);

	start_state(&in, 16);
	snippet_bits(&s, inc, sizeof(inc), 16);
	ck_assert_int_eq(syscall(SYS_modify_ldt, 0x11, &gone, sizeof(gone)), 0);
	ck_assert_int_eq(o->run(o, &s, &in, &r), -EIO);
	ck_assert_msg(strstr(tv_last_error(), "far jump into the 16-bit code segment"), "%s",
		      tv_last_error());
	o->close(o);
	/* The process goes on: a 64-bit oracle after it. */
	o = open_native();
	snippet(&s, (const uint8_t[]){ 0x48, 0xff, 0xc0 }, 3); /* inc rax */
	start_state(&in, 64);
	ck_assert_msg(o->run(o, &s, &in, &r) == 0, "%s", tv_last_error());
	ck_assert_uint_eq(r.st.gpr[FZ_RAX], 1);
	o->close(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz_native_widths");
	TCase *tc = tcase_create("native_widths");

	tcase_add_test(tc, test_native_32bit_runs_0x40_as_inc_eax);
	tcase_add_test(tc, test_native_32bit_push_pop_use_esp_with_4_byte_slots);
	tcase_add_test(tc, test_native_16bit_mov_ax_keeps_the_upper_half_of_eax);
	tcase_add_test(tc, test_native_16bit_push_moves_sp_by_2_at_scratch_offset_sp);
	tcase_add_test(tc, test_native_16bit_disp16_store_lands_at_scratch_plus_disp);
	tcase_add_test(tc, test_native_32bit_faults_are_outcomes_at_the_snippets_rip);
	tcase_add_test(tc, test_native_16bit_faults_are_outcomes_at_the_snippets_ip);
	tcase_add_test(tc, test_native_gives_the_caller_back_its_segments_after_a_run_and_a_fault);
	tcase_add_test(tc, test_native_runs_64bit_code_after_a_32_and_a_16bit_oracle);
	tcase_add_test(tc, test_native_refuses_a_snippet_of_another_width);
	tcase_add_test(tc, test_native_16bit_without_modify_ldt_is_the_no_16bit_host_limit);
	tcase_add_test(tc, test_native_a_faulting_far_jump_in_is_an_error_not_a_crash);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
