/* --platform pc's APIC page, IA32_APIC_BASE and QEMU's pc-testdev, on both engines: guests that
 * check each register and end the run through isa-debug-exit with 0x40 (status 129) when every
 * check held, or with the number of the first that failed (status 2n + 1; twinvm's own 1, a
 * guest that ended any other way, is none of them). Without the devices
 * the reads are all ones and the first check fails. Then the handlers called directly, on a
 * machine without an engine, with the accesses no engine makes: wrong sizes, offsets at and
 * past the ends. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run_binary.h"
#include "tv_test.h"

#define LE16(v) ((v) & 0xff), (((v) >> 8) & 0xff)
#define LE32(v) ((v) & 0xff), (((v) >> 8) & 0xff), (((v) >> 16) & 0xff), (((v) >> 24) & 0xffu)

/* What every check ends in: equal (ZF) jumps over the exit with code n. */
#define OR_EXIT(n) 0x74, 0x04, /* je +4 */ 0xb0, (n), 0xe6, 0xf4 /* mov al, n; out 0xf4, al */
#define PASS 0xb0, 0x40, 0xe6, 0xf4, 0xf4 /* exit code 0x40; hlt */
#define PASSED 129                        /* (0x40 << 1) | 1 */

/* 16-bit code needs the operand-size prefix where 32-bit code has none. */
#define O16 0x66,
#define O32

#define APIC 0xfee00000u
#define WINDOW 0xff000000u
#define BUF 0x2000u /* guest RAM the guests use */

/* IA32_APIC_BASE: 0xfee00900 at start, the same written back, the enable bit cleared and set
 * again, each read back; CPUID offers no x2APIC (which neither engine has here). O: as above;
 * WIDE: checks after the first RDMSR (long mode: RAX and RDX's high halves were cleared). */
#define MSR_GUEST(O, WIDE)                                                                 \
	O 0xb9, LE32(0x1b),                 /* mov ecx, IA32_APIC_BASE */                  \
	0x0f, 0x32,                         /* rdmsr */                                    \
	WIDE                                                                                \
	O 0x3d, LE32(0xfee00900u), OR_EXIT(1), /* cmp eax, BSP | EN | 0xfee00000 */        \
	O 0x85, 0xd2, OR_EXIT(2),           /* test edx, edx */                            \
	0x0f, 0x30,                         /* wrmsr: the same value */                    \
	O 0x25, LE32(0xfffff7ffu),          /* and eax, ~EN */                             \
	0x0f, 0x30, 0x0f, 0x32,             /* wrmsr; rdmsr */                             \
	O 0x3d, LE32(0xfee00100u), OR_EXIT(3),                                              \
	O 0x0d, LE32(0x800),                /* or eax, EN */                               \
	0x0f, 0x30, 0x0f, 0x32,             /* wrmsr; rdmsr */                             \
	O 0x3d, LE32(0xfee00900u), OR_EXIT(4),                                              \
	O 0xb8, LE32(1), 0x0f, 0xa2,        /* mov eax, 1; cpuid */                        \
	O 0x0f, 0xba, 0xe1, 0x15,           /* bt ecx, 21 (x2APIC) */                      \
	0x73, 0x04, 0xb0, 0x05, 0xe6, 0xf4, /* jnc +4; exit 5 */                           \
	PASS

/* Long mode: RAX and RDX all ones before, their high halves zero after. */
#define MSR_WIDE                                                                            \
	0x48, 0x89, 0xc3, 0x48, 0xc1, 0xeb, 0x20, /* mov rbx, rax; shr rbx, 32 */           \
	0x85, 0xdb, OR_EXIT(6),                   /* test ebx, ebx */                       \
	0x48, 0x89, 0xd3, 0x48, 0xc1, 0xeb, 0x20, /* mov rbx, rdx; shr rbx, 32 */           \
	0x85, 0xdb, OR_EXIT(7),

static const uint8_t msr_real[] = { MSR_GUEST(O16, ) };
static const uint8_t msr_protected[] = { MSR_GUEST(O32, ) };
static const uint8_t msr_long[] = {
	0x48, 0xc7, 0xc0, LE32(0xffffffffu), /* mov rax, -1 */
	0x48, 0xc7, 0xc2, LE32(0xffffffffu), /* mov rdx, -1 */
	MSR_GUEST(O32, MSR_WIDE)
};

/* Real mode with CS 0x100: a far jump to 0x100:0, where msr_real is copied (0x1000 on). */
static uint8_t msr_real_cs[0x1000 + sizeof(msr_real)] = { 0xea, LE16(0), LE16(0x100) };

static const char *const engines[] = { "emu", "kvm" };

/* image run with --platform pc in mode on engine into *r; false, with why, where the engine
 * cannot run the mode. pc: false to run it without the platform. */
static bool run_image(const char *engine, enum tv_mode mode, bool pc, const uint8_t *image,
		      size_t size, struct result *r, char *why, size_t len)
{
	char path[64];
	FILE *f;

	if (!tv_test_engine(engine, mode, why, len))
		return false;
	f = fopen(tv_temp_path(path, sizeof(path), ".bin"), "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(image, 1, size, f), size);
	fclose(f);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", engine, "--mode",
				   tv_mode_name(mode), "--platform", pc ? "pc" : "none",
				   "--guest", path, NULL }, r);
	unlink(path);
	return true;
}

/* Runs the guest on engine _i % 2 and asserts every check held. */
#define RUN_PASSES(i, mode, image)                                                          \
	do {                                                                                \
		const char *engine = engines[(i) % 2];                                      \
		struct result r;                                                            \
		char why[512];                                                              \
                                                                                            \
		if (!run_image(engine, mode, true, image, sizeof(image), &r, why, sizeof(why))) \
			TV_SKIP("%s: %s", engine, why);                                     \
		ck_assert_msg(r.status == PASSED, "%s, %s mode: status %d (check %d failed): %s", \
			      engine, tv_mode_name(mode), r.status, r.status / 2, r.err);   \
	} while (0)

static const enum tv_mode msr_modes[] = { TV_MODE_REAL, TV_MODE_PROTECTED, TV_MODE_LONG };
static const uint8_t *const msr_images[] = { msr_real, msr_protected, msr_long };
static const size_t msr_sizes[] = { sizeof(msr_real), sizeof(msr_protected), sizeof(msr_long) };

/* _i: engine _i % 2, mode _i / 2 of msr_modes. */
START_TEST(test_apic_base_msr_reads_bsp_enabled_and_takes_writes_without_x2apic)
{
	const char *engine = engines[_i % 2];
	enum tv_mode mode = msr_modes[_i / 2];
	struct result r;
	char why[512];

	if (!run_image(engine, mode, true, msr_images[_i / 2], msr_sizes[_i / 2], &r, why,
		       sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_msg(r.status == PASSED, "%s, %s mode: status %d (check %d failed): %s", engine,
		      tv_mode_name(mode), r.status, r.status / 2, r.err);
}
END_TEST

/* The emulator finds the instruction by its linear address and starts its block again at
 * that less CS's base. */
START_TEST(test_apic_base_msr_in_real_mode_with_cs_not_0)
{
	memcpy(msr_real_cs + 0x1000, msr_real, sizeof(msr_real));
	RUN_PASSES(_i, TV_MODE_REAL, msr_real_cs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("platform_devices");
	TCase *tc = tcase_create("devices");

	tcase_add_loop_test(tc, test_apic_base_msr_reads_bsp_enabled_and_takes_writes_without_x2apic,
			    0, 6);
	tcase_add_loop_test(tc, test_apic_base_msr_in_real_mode_with_cs_not_0, 0, 2);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
