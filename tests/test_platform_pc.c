/* --platform pc: the 16550 UART at COM1 prints what the guest writes to THR (and not the divisor
 * it sets with DLAB), reports the line ready in LSR; isa-debug-exit at 0xf4 ends the run with
 * (value << 1) | 1; fw_cfg and the PICs' masks answer. Without the flag those ports are the empty
 * bus, as before. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run_binary.h"
#include "tv_test.h"

/* Real mode: set the divisor (DLAB, DLL 1: must not print), 8N1, read LSR (0x60, or the fail
 * path), print "OK\n" through THR, a 16-bit OUT of 'A' + IER 0 (THR and IER at once), then exit
 * with code 5 through isa-debug-exit. The fail path exits with 0x7f. */
static const uint8_t guest[] = {
	0xba, 0xfb, 0x03, 0xb0, 0x80, 0xee,       /* mov dx, 0x3fb; mov al, 0x80; out dx, al */
	0xba, 0xf8, 0x03, 0xb0, 0x01, 0xee,       /* mov dx, 0x3f8; mov al, 1; out dx, al (DLL) */
	0xba, 0xfb, 0x03, 0xb0, 0x03, 0xee,       /* mov dx, 0x3fb; mov al, 3; out dx, al (8N1) */
	0xba, 0xfd, 0x03, 0xec,                   /* mov dx, 0x3fd; in al, dx (LSR) */
	0x3c, 0x60, 0x75, 0x15,                   /* cmp al, 0x60; jne fail */
	0xba, 0xf8, 0x03,                         /* mov dx, 0x3f8 */
	0xb0, 0x4f, 0xee, 0xb0, 0x4b, 0xee,       /* 'O', 'K' */
	0xb0, 0x0a, 0xee,                         /* '\n' */
	0xb8, 0x41, 0x00, 0xef,                   /* mov ax, 'A'; out dx, ax: THR 'A', IER 0 */
	0xb0, 0x05, 0xe6, 0xf4, 0xf4,             /* mov al, 5; out 0xf4, al; hlt */
	0xb0, 0x7f, 0xe6, 0xf4, 0xf4,             /* fail: mov al, 0x7f; out 0xf4, al; hlt */
};

/* Real mode: fw_cfg's CPU count (key 5: 1, two bytes) and signature ("Q..."), then the master
 * PIC initialised (ICW1 0x11, ICW2-4) and masked with 0xfb, the mask read back; exit code 0x40
 * (status 129: a SHUTDOWN is status 1) when all three are right, 0x7f otherwise. */
static const uint8_t fw_cfg_pic_guest[] = {
	0xba, 0x10, 0x05, 0xb8, 0x05, 0x00, 0xef, /* mov dx, 0x510; mov ax, 5; out dx, ax */
	0x42, 0xec, 0x88, 0xc3, 0xec, 0x88, 0xc7, /* inc dx; in al, dx -> bl; in al, dx -> bh */
	0x4a, 0x31, 0xc0, 0xef,                   /* dec dx; xor ax, ax; out dx, ax (signature) */
	0x42, 0xec, 0x88, 0xc1,                   /* inc dx; in al, dx -> cl */
	0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x20, 0xe6, 0x21, /* ICW1, ICW2 */
	0xb0, 0x04, 0xe6, 0x21, 0xb0, 0x01, 0xe6, 0x21, /* ICW3, ICW4 */
	0xb0, 0xfb, 0xe6, 0x21, 0xe4, 0x21, 0x88, 0xc5, /* mask 0xfb; in al, 0x21 -> ch */
	0x83, 0xfb, 0x01, 0x75, 0x0f,             /* cmp bx, 1; jne fail */
	0x80, 0xf9, 0x51, 0x75, 0x0a,             /* cmp cl, 'Q'; jne fail */
	0x80, 0xfd, 0xfb, 0x75, 0x05,             /* cmp ch, 0xfb; jne fail */
	0xb0, 0x40, 0xe6, 0xf4, 0xf4,             /* exit code 0x40; hlt */
	0xb0, 0x7f, 0xe6, 0xf4, 0xf4,             /* fail: exit code 0x7f; hlt */
};

/* The UART guest in a temporary file, for a run with twinvm's default platform. */
static const char *write_guest(char *path, size_t len)
{
	FILE *f = fopen(tv_temp_path(path, len, ".bin"), "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(guest, 1, sizeof(guest), f), sizeof(guest));
	fclose(f);
	return path;
}

static const char *const engines[] = { "emu", "kvm" };

START_TEST(test_uart_prints_and_debug_exit_ends_the_run)
{
	const char *engine = engines[_i];
	struct result r;
	char why[512];

	if (!tv_run_image(engine, TV_MODE_REAL, "pc", guest, sizeof(guest), &r, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_msg(r.status == 11, "%s: status %d: %s", engine, r.status, r.err);
	ck_assert_msg(!strcmp(r.out, "OK\nA"), "%s: stdout '%s'", engine, r.out);
	ck_assert_msg(strstr(r.err, "twinvm: the guest exited through isa-debug-exit: status 11"),
		      "%s", r.err);
}
END_TEST

/* fw_cfg says one CPU and "QEMU"; the PIC's mask reads back after its initialisation words. */
START_TEST(test_fw_cfg_and_pic_answer)
{
	const char *engine = engines[_i];
	struct result r;
	char why[512];

	if (!tv_run_image(engine, TV_MODE_REAL, "pc", fw_cfg_pic_guest, sizeof(fw_cfg_pic_guest), &r,
			  why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_msg(r.status == 129, "%s: status %d (255: a check failed): %s", engine, r.status,
		      r.err);
}
END_TEST

START_TEST(test_without_the_platform_the_ports_are_the_empty_bus)
{
	struct result r;
	char path[64];

	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", "emu", "--mode",
				   "real", "--guest", write_guest(path, sizeof(path)), NULL }, &r);
	unlink(path);
	/* LSR reads all ones: the fail path, whose exit port is no device either; then the HLT */
	ck_assert_msg(r.status == 0 && r.out[0] == '\0', "status %d, stdout '%s'", r.status, r.out);
	ck_assert_msg(strstr(r.err, "port 0x3f8 has no device") &&
		      strstr(r.err, "port 0xf4 has no device"), "%s", r.err);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--platform", "isa", NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "--platform 'isa': give none or pc") &&
		      tv_count_lines(r.err) == 1, "%s", r.err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("platform_pc");
	TCase *tc = tcase_create("pc");

	tcase_add_loop_test(tc, test_uart_prints_and_debug_exit_ends_the_run, 0, 2);
	tcase_add_loop_test(tc, test_fw_cfg_and_pic_answer, 0, 2);
	tcase_add_test(tc, test_without_the_platform_the_ports_are_the_empty_bus);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
