/* Self-modifying code: a guest rewrites a block of its own code and runs it again. On the emulator
 * this needs backend/emu/emu_smc.c's workaround for Unicorn's stale blocks (unicorn#2367): the
 * rewrite's first store hits the block before the rewritten one, and Unicorn 2.1.1 checks no
 * later store to that page. Each guest runs on both engines and must end with AX = 2; and a
 * guest that rewrites its code tens of thousands of times must see each version, without
 * crashing twinvm. */
#include <string.h>
#include <unistd.h>

#include "run_binary.h"
#include "run_guest.h"
#include "tv_test.h"

/* protected mode (real mode below: the same code, 16-bit):
 * 0x00  xor edx, edx
 *       jmp buf                 ; the first time: AX = 1
 * back: test edx, edx
 *       jnz done
 *       inc edx
 *       mov esi, new
 *       mov edi, buf
 *       mov ecx, 16
 * 1:    mov al, [esi]           ; new over buf, byte by byte from buf's first
 *       mov [edi], al
 *       inc esi
 *       inc edi
 *       dec ecx
 *       jnz 1b
 *       jmp buf                 ; the second time: AX = 2, if the block at buf + 8 is new
 * done: hlt
 * buf (0x30): jmp buf + 8; nop x 6; buf + 8: mov eax, 1; jmp back; nop
 * new (0x40): the same with mov eax, 2 */
static const uint8_t rewrite32[] = {
	0x31, 0xd2, 0xeb, 0x2c, 0x85, 0xd2, 0x75, 0x1b, 0x42, 0xbe, 0x40, 0x00, 0x00, 0x00,
	0xbf, 0x30, 0x00, 0x00, 0x00, 0xb9, 0x10, 0x00, 0x00, 0x00, 0x8a, 0x06, 0x88, 0x07,
	0x46, 0x47, 0x49, 0x75, 0xf7, 0xeb, 0x0d, 0xf4,
	0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, /* to 0x30 */
	0xeb, 0x06, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xeb, 0xc5, 0x90,
	0xeb, 0x06, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xb8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0xc5, 0x90,
};

/* real mode: the same with 16-bit registers; buf at 0x20, new at 0x30, buf + 6 the block. */
static const uint8_t rewrite16[] = {
	0x31, 0xd2, 0xeb, 0x1c, 0x85, 0xd2, 0x75, 0x15, 0x42, 0xbe, 0x30, 0x00, 0xbf, 0x20, 0x00,
	0xb9, 0x10, 0x00, 0x8a, 0x04, 0x88, 0x05, 0x46, 0x47, 0x49, 0x75, 0xf7, 0xeb, 0x03, 0xf4,
	0x90, 0x90, /* to 0x20 */
	0xeb, 0x04, 0x90, 0x90, 0x90, 0x90, 0xb8, 0x01, 0x00, 0xeb, 0xd9, 0x90, 0x90, 0x90, 0x90, 0x90,
	0xeb, 0x04, 0x90, 0x90, 0x90, 0x90, 0xb8, 0x02, 0x00, 0xeb, 0xd9, 0x90, 0x90, 0x90, 0x90, 0x90,
};

static void rewritten_block_runs(const char *engine, enum tv_mode mode, const uint8_t *image,
				 size_t len)
{
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, mode, image, len);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_uint_eq(t.regs.rdx & 0xffff, 1); /* the rewrite ran once */
	ck_assert_msg((t.regs.rax & 0xffff) == 2, "AX = %#llx: the block's old code ran",
		      (unsigned long long)(t.regs.rax & 0xffff));
	tv_test_run_end(&t);
}

START_TEST(test_rewritten_block_runs_protected_emu)
{
	rewritten_block_runs("emu", TV_MODE_PROTECTED, rewrite32, sizeof(rewrite32));
}
END_TEST
START_TEST(test_rewritten_block_runs_protected_kvm)
{
	rewritten_block_runs("kvm", TV_MODE_PROTECTED, rewrite32, sizeof(rewrite32));
}
END_TEST
START_TEST(test_rewritten_block_runs_real_emu)
{
	rewritten_block_runs("emu", TV_MODE_REAL, rewrite16, sizeof(rewrite16));
}
END_TEST
START_TEST(test_rewritten_block_runs_real_kvm)
{
	rewritten_block_runs("kvm", TV_MODE_REAL, rewrite16, sizeof(rewrite16));
}
END_TEST

/* The gap the first check leaves, which emu_smc.c's second check (a machine with a platform)
 * closes. Real mode: block X (0x40: mov ax, 1; jmp back) runs; then a store to data beside it,
 * which hits no block (Unicorn stops watching the page), and a store of 2 over X's immediate;
 * X runs again, before any block of the page is translated again, and AL leaves through
 * isa-debug-exit: status 5 (AL 2), or 3 when X's old code ran. */
static const uint8_t rewrite_beside[] = {
	0x31, 0xd2, 0xeb, 0x3c, 0x85, 0xd2, 0x75, 0x0d, 0x42, 0xc6, 0x06, 0x45, /* ... jnz done */
	0x00, 0x00, 0xc6, 0x06, 0x41, 0x00, 0x02, 0xeb, 0x2b, 0xe6, 0xf4, 0xf4, /* data; X + 1 */
	[0x40] = 0xb8, 0x01, 0x00, 0xeb, 0xbf, 0x00,				/* X; data */
};

START_TEST(test_rewrite_beside_data_runs_new_code)
{
	const char *engine = _i ? "kvm" : "emu";
	char why[256];
	struct result r;

	if (!tv_run_image(engine, TV_MODE_REAL, "pc", rewrite_beside, sizeof(rewrite_beside), &r, why,
			  sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_msg(r.status == 5, "%s: status %d (3: X's old code ran): %s", engine, r.status,
		      r.err);
}
END_TEST

/* A loop that rewrites the immediate of the code it calls, REWRITES times, in long mode (paging):
 *   0x00  xor ebx, ebx
 *   loop: mov [0x101], ebx      ; buf's immediate = the count
 *         call buf              ; EAX = the count, if buf's new code ran
 *         cmp eax, ebx
 *         jne fail
 *         inc ebx
 *         cmp ebx, REWRITES
 *         jb loop
 *         hlt                   ; RBX = REWRITES
 *   fail: mov eax, -1 ; hlt
 *   buf (0x100): mov eax, imm32 ; ret
 * Each rewrite makes the emulator's translation hook find buf translated again. Unicorn 2.1.1's
 * range invalidation (uc_ctl_remove_cache), which emu_smc.c used there, left a freed block in
 * the page's list, and twinvm died of SIGSEGV on this guest between 25000 and 30000 rounds
 * (the emulator's rounds are flushes now: a few seconds). */
#define REWRITES 40000
static const uint8_t rewrite_loop[0x106] = {
	0x31, 0xdb, 0x89, 0x1c, 0x25, 0x01, 0x01, 0x00, 0x00, 0xe8, 0xf2, 0x00, 0x00, 0x00,
	0x39, 0xd8, 0x75, 0x0b, 0xff, 0xc3, 0x81, 0xfb, REWRITES & 0xff, (REWRITES >> 8) & 0xff,
	(REWRITES >> 16) & 0xff, 0x00,
	0x72, 0xe6, 0xf4, 0xb8, 0xff, 0xff, 0xff, 0xff, 0xf4,
	[0x100] = 0xb8, 0x00, 0x00, 0x00, 0x00, 0xc3,
};

START_TEST(test_code_rewritten_in_a_loop_runs_each_version)
{
	const char *engine = _i ? "kvm" : "emu";
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, TV_MODE_LONG, rewrite_loop, sizeof(rewrite_loop));
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "%s ended in %s: %s", engine,
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_msg(t.regs.rbx == REWRITES && t.regs.rax == REWRITES - 1,
		      "%s: RBX %llu, RAX %#llx: an old version ran", engine,
		      (unsigned long long)t.regs.rbx, (unsigned long long)t.regs.rax);
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("self_modifying");
	TCase *tc = tcase_create("rewrite");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rewritten_block_runs_protected_emu);
	tcase_add_test(tc, test_rewritten_block_runs_protected_kvm);
	tcase_add_test(tc, test_rewritten_block_runs_real_emu);
	tcase_add_test(tc, test_rewritten_block_runs_real_kvm);
	tcase_add_loop_test(tc, test_rewrite_beside_data_runs_new_code, 0, 2);
	tcase_add_loop_test(tc, test_code_rewritten_in_a_loop_runs_each_version, 0, 2);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
