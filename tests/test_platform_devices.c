/* --platform pc's APIC page, IA32_APIC_BASE and QEMU's pc-testdev, on both engines: guests that
 * check each register and end the run through isa-debug-exit with 0x40 (status 129) when every
 * check held, or with the number of the first that failed (status 2n + 1; twinvm's own 1, a
 * guest that ended any other way, is none of them). Without the devices the reads are all ones
 * and the first check fails. Then the handlers called directly, on a machine without an engine,
 * with the accesses no engine makes: wrong sizes, offsets at and past the ends. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "run_binary.h"
#include "tv_test.h"

#define LE16(v) ((v) & 0xff), (((v) >> 8) & 0xff)
#define LE32(v) ((v) & 0xff), (((v) >> 8) & 0xff), (((v) >> 16) & 0xff), (((v) >> 24) & 0xffu)

/* What every check ends in: ZF (equal, or a zero result) jumps over the exit with code n. */
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

/* Protected mode: CPUID's initial APIC ID is the APIC's ID register's, 0. */
static const uint8_t apic_id_guest[] = {
	0xb8, LE32(1), 0x0f, 0xa2,           /* mov eax, 1; cpuid */
	0xc1, 0xeb, 0x18, OR_EXIT(1),     /* shr ebx, 24 */
	0xa1, LE32(0xfee00020u), 0xc1, 0xe8, 0x18, OR_EXIT(2), /* the ID register's ID */
	PASS
};

/* 32-bit code: the dword at absolute address a is v, or exit n. */
#define CHECK32(a, v, n) 0xa1, LE32(a), 0x3d, LE32(v), OR_EXIT(n) /* mov eax, [a]; cmp */
/* mov dword [a], v */
#define WRITE32(a, v) 0xc7, 0x05, LE32(a), LE32(v)
#define APIC_CHECK(off, v, n) CHECK32(APIC + (off), v, n)
#define APIC_WRITE(off, v) WRITE32(APIC + (off), v)

/* Protected mode: the APIC's registers at reset, then each written and read back. */
static const uint8_t apic_guest[] = {
	APIC_CHECK(0x20, 0, 1),                /* ID */
	APIC_CHECK(0x30, 0x00050014u, 2),      /* version */
	APIC_CHECK(0xe0, 0xffffffffu, 3),      /* DFR: flat */
	APIC_CHECK(0xf0, 0xff, 4),             /* SPIV: software-disabled */
	APIC_CHECK(0x320, 0x10000, 5),         /* LVT timer: masked */
	APIC_CHECK(0x370, 0x10000, 6),         /* LVT error: masked */
	APIC_WRITE(0x80, 0x20),
	APIC_CHECK(0x80, 0x20, 7),             /* TPR */
	APIC_WRITE(0xd0, 0x01000000u),
	APIC_CHECK(0xd0, 0x01000000u, 8),      /* LDR */
	APIC_WRITE(0xe0, 0x0fffffffu),
	APIC_CHECK(0xe0, 0x0fffffffu, 9),      /* DFR: cluster */
	APIC_WRITE(0xf0, 0x1ff),
	APIC_CHECK(0xf0, 0x1ff, 10),           /* SPIV: enabled, as kvm-unit-tests sets it */
	APIC_WRITE(0x310, 0x01000000u),
	APIC_CHECK(0x310, 0x01000000u, 11),    /* ICR high */
	APIC_WRITE(0x300, 0x000c5500u),        /* INIT to all but self, delivery status set */
	APIC_CHECK(0x300, 0x000c4500u, 12),    /* sent (to no CPU): the status reads idle */
	APIC_WRITE(0x320, 0x000200efu),
	APIC_CHECK(0x320, 0x000200efu, 13),    /* LVT timer: periodic, vector 0xef */
	APIC_WRITE(0x380, 0x12345678u),
	APIC_CHECK(0x380, 0x12345678u, 14),    /* timer initial count */
	/* its current count: counting down, 1 to the initial count (mov eax, [a]; dec eax;
	 * cmp eax, initial - 1; jbe: an unsigned range check) */
	0xa1, LE32(APIC + 0x390), 0x48, 0x3d, LE32(0x12345677u), 0x76, 0x04, 0xb0, 15, 0xe6, 0xf4,
	APIC_WRITE(0x3e0, 0xb),
	APIC_CHECK(0x3e0, 0xb, 16),            /* divide configuration */
	APIC_WRITE(0x380, 0),                  /* the timer stopped... */
	APIC_CHECK(0x390, 0, 19),              /* ...reads 0 */
	APIC_WRITE(0xb0, 0),                   /* EOI */
	APIC_CHECK(0x100, 0, 17),              /* ISR */
	APIC_CHECK(0x200, 0, 18),              /* IRR */
	PASS
};

/* Protected mode, pc-testdev's port: 8-, 16- and 32-bit OUTs read back at the same width and
 * byte by byte at 0xe1-0xe3, an 8-bit OUT into byte 2, then string I/O element by element. */
static const uint8_t testdev_port_guest[] = {
	0xb0, 0x11, 0xe6, 0xe0,                       /* mov al, 0x11; out 0xe0, al */
	0xb0, 0x00, 0xe4, 0xe0, 0x3c, 0x11, OR_EXIT(1), /* in al, 0xe0; cmp al, 0x11 */
	0x66, 0xb8, LE16(0x2233), 0x66, 0xe7, 0xe0,   /* out 0xe0, ax */
	0x66, 0x31, 0xc0, 0x66, 0xe5, 0xe0,           /* xor ax, ax; in ax, 0xe0 */
	0x66, 0x3d, LE16(0x2233), OR_EXIT(2),
	0xb8, LE32(0x44556677u), 0xe7, 0xe0,          /* out 0xe0, eax */
	0x31, 0xc0, 0xe5, 0xe0, 0x3d, LE32(0x44556677u), OR_EXIT(3), /* in eax, 0xe0 */
	0xe4, 0xe1, 0x3c, 0x66, OR_EXIT(4),           /* in al, 0xe1: byte 1 */
	0xe4, 0xe3, 0x3c, 0x44, OR_EXIT(5),           /* in al, 0xe3: byte 3 */
	0xb0, 0x99, 0xe6, 0xe2,                       /* out 0xe2, al: byte 2 only */
	0xe5, 0xe0, 0x3d, LE32(0x44996677u), OR_EXIT(6),
	WRITE32(BUF, 0x64636261u),                    /* "abcd" */
	0xbe, LE32(BUF), 0xb9, LE32(4), 0xba, LE32(0xe0), /* esi, ecx, edx */
	0xf3, 0x6e,                                   /* rep outsb: the last wins */
	0xe4, 0xe0, 0x3c, 'd', OR_EXIT(7),
	0xbf, LE32(BUF + 0x10), 0xb9, LE32(3),        /* edi, ecx */
	0xf3, 0x6c,                                   /* rep insb: "ddd" */
	CHECK32(BUF + 0x10, 0x00646464u, 8),
	PASS
};

#define W(off) (WINDOW + (off))

/* Protected mode, pc-testdev's MMIO window as RAM: written and read at 1, 2, 4 and 8 bytes,
 * ADD and CMPXCHG8B on it (read, then write), MOVSD from it and into it, its last dword. */
static const uint8_t testdev_mem_guest[] = {
	WRITE32(W(0), 0x11223344u),
	CHECK32(W(0), 0x11223344u, 1),
	0xc6, 0x05, LE32(W(1)), 0xaa,                 /* mov byte [W+1], 0xaa */
	CHECK32(W(0), 0x1122aa44u, 2),
	0x66, 0xc7, 0x05, LE32(W(2)), LE16(0xbeef),   /* mov word [W+2], 0xbeef */
	CHECK32(W(0), 0xbeefaa44u, 3),
	0xa0, LE32(W(3)), 0x3c, 0xbe, OR_EXIT(4),     /* mov al, [W+3] */
	0x66, 0xa1, LE32(W(1)), 0x66, 0x3d, LE16(0xefaa), OR_EXIT(5), /* mov ax, [W+1] */
	0xb8, LE32(0x01010101u), 0x01, 0x05, LE32(W(0)), /* add [W], eax */
	CHECK32(W(0), 0xbff0ab45u, 6),
	0x31, 0xc0, 0x31, 0xd2,                       /* edx:eax = 0, what W+8 holds */
	0xbb, LE32(0x55667788u), 0xb9, LE32(0x11223344u), /* ecx:ebx */
	0x0f, 0xc7, 0x0d, LE32(W(8)),                 /* cmpxchg8b [W+8]: equal, stores */
	OR_EXIT(7),                                   /* ZF: it compared equal */
	CHECK32(W(8), 0x55667788u, 8),
	CHECK32(W(12), 0x11223344u, 9),
	0xbe, LE32(W(0)), 0xbf, LE32(BUF), 0xa5,      /* movsd: window to RAM */
	CHECK32(BUF, 0xbff0ab45u, 10),
	WRITE32(BUF + 4, 0x64636261u),
	0xbe, LE32(BUF + 4), 0xbf, LE32(W(0x100)), 0xa5, /* movsd: RAM to window */
	CHECK32(W(0x100), 0x64636261u, 11),
	WRITE32(W(0xfffc), 0xcafef00du),
	CHECK32(W(0xfffc), 0xcafef00du, 12),          /* the window's last dword */
	PASS
};

/* Long mode: an 8-byte write and read of the window, and one byte of it. */
static const uint8_t testdev_mem64_guest[] = {
	0xbf, LE32(WINDOW),                           /* mov edi, WINDOW (zero-extended) */
	0x48, 0xb8, LE32(0x55667788u), LE32(0x11223344u), /* movabs rax */
	0x48, 0x89, 0x47, 0x10,                       /* mov [rdi + 0x10], rax */
	0x48, 0x8b, 0x4f, 0x10,                       /* mov rcx, [rdi + 0x10] */
	0x48, 0x39, 0xc1, OR_EXIT(1),                 /* cmp rcx, rax */
	0x8a, 0x4f, 0x17, 0x80, 0xf9, 0x11, OR_EXIT(2), /* mov cl, [rdi + 0x17]; cmp cl, 0x11 */
	PASS
};

static const char *const engines[] = { "emu", "kvm" };

/* Runs the guest on engine _i % 2 and asserts every check held. */
#define RUN_PASSES(i, mode, image)                                                          \
	do {                                                                                \
		const char *engine = engines[(i) % 2];                                      \
		struct result r;                                                            \
		char why[512];                                                              \
                                                                                            \
		if (!tv_run_image(engine, mode, "pc", image, sizeof(image), &r, why, sizeof(why))) \
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

	if (!tv_run_image(engine, mode, "pc", msr_images[_i / 2], msr_sizes[_i / 2], &r, why,
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

/* On every host CPU this test may run on: KVM took leaf 1 from the CPU that asked for it. */
START_TEST(test_cpuid_initial_apic_id_is_0_on_every_host_cpu)
{
	const char *engine = engines[_i];
	cpu_set_t all, one;
	struct result r;
	char why[512];

	ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
		if (!tv_run_image(engine, TV_MODE_PROTECTED, "pc", apic_id_guest, sizeof(apic_id_guest),
			       &r, why, sizeof(why))) {
			sched_setaffinity(0, sizeof(all), &all);
			TV_SKIP("%s: %s", engine, why);
		}
		ck_assert_msg(r.status == PASSED, "%s on host CPU %d: status %d (check %d failed): %s",
			      engine, cpu, r.status, r.status / 2, r.err);
	}
	ck_assert_int_eq(sched_setaffinity(0, sizeof(all), &all), 0);
}
END_TEST

START_TEST(test_apic_registers_read_back_on_both_engines)
{
	RUN_PASSES(_i, TV_MODE_PROTECTED, apic_guest);
}
END_TEST

START_TEST(test_testdev_port_echoes_every_width_and_string_io)
{
	RUN_PASSES(_i, TV_MODE_PROTECTED, testdev_port_guest);
}
END_TEST

START_TEST(test_testdev_window_is_ram_for_every_width_and_read_modify_write)
{
	RUN_PASSES(_i, TV_MODE_PROTECTED, testdev_mem_guest);
}
END_TEST

START_TEST(test_testdev_window_takes_8_byte_accesses_in_long_mode)
{
	RUN_PASSES(_i, TV_MODE_LONG, testdev_mem64_guest);
}
END_TEST

/* The same guests without --platform pc: the empty bus's all ones fail their first check, so
 * the checks above are the devices'. (The exit port is no device then: the guest halts.) */
START_TEST(test_without_the_platform_the_first_check_fails)
{
	static const struct {
		const uint8_t *image;
		size_t size;
	} guests[] = {
		{ apic_guest, sizeof(apic_guest) },
		{ testdev_port_guest, sizeof(testdev_port_guest) },
		{ testdev_mem_guest, sizeof(testdev_mem_guest) },
	};
	struct result r;
	char why[512];

	for (size_t g = 0; g < sizeof(guests) / sizeof(guests[0]); g++) {
		ck_assert(tv_run_image("emu", TV_MODE_PROTECTED, "none", guests[g].image,
				    guests[g].size, &r, why, sizeof(why)));
		ck_assert_msg(r.status == 0 && strstr(r.err, "port 0xf4 has no device") &&
			      strstr(r.err, "guest halted"), "guest %zu: %d %s", g, r.status,
			      r.err);
	}
}
END_TEST

/* A machine with the two devices and no engine. */
static void machine_with_devices(struct tv_machine *m)
{
	memset(m, 0, sizeof(*m));
	ck_assert_int_eq(tv_machine_init_devices(m), 0);
	ck_assert_int_eq(tv_apic_attach(m), 0);
	ck_assert_int_eq(tv_testdev_attach(m), 0);
}

/* One MMIO access through the machine's table: the 8 data bytes (a write's in, a read's out,
 * which start as all ones as the engines give them). */
static uint64_t mmio(struct tv_machine *m, uint64_t addr, uint32_t len, bool write, uint64_t v)
{
	struct tv_exit e = { .reason = TV_EXIT_MMIO };

	e.mmio.addr = addr;
	e.mmio.len = len;
	e.mmio.is_write = write;
	if (write)
		memcpy(e.mmio.data, &v, sizeof(v));
	else
		memset(e.mmio.data, 0xff, sizeof(e.mmio.data));
	ck_assert_int_eq(tv_machine_io(m, &e), TV_IO_CONTINUE);
	memcpy(&v, e.mmio.data, sizeof(v));
	return v;
}

/* The handler registered for the MMIO range that holds addr, called with addr as it is (the
 * table would send an address outside the range elsewhere). */
static uint64_t mmio_direct(struct tv_machine *m, uint64_t range, uint64_t addr, uint32_t len)
{
	struct tv_exit e = { .reason = TV_EXIT_MMIO };
	uint64_t v;

	for (unsigned i = 0; i < m->nmmio; i++) {
		if (range - m->mmio[i].first < m->mmio[i].count) {
			e.mmio.addr = addr;
			e.mmio.len = len;
			memset(e.mmio.data, 0xff, sizeof(e.mmio.data));
			ck_assert_int_eq(m->mmio[i].fn(m->mmio[i].ctx, m, &e), TV_IO_CONTINUE);
			memcpy(&v, e.mmio.data, sizeof(v));
			return v;
		}
	}
	ck_abort_msg("no MMIO device at 0x%llx", (unsigned long long)range);
	return 0;
}

START_TEST(test_apic_takes_only_aligned_dwords_of_its_registers)
{
	struct tv_machine m;

	machine_with_devices(&m);
	ck_assert_uint_eq(mmio(&m, APIC + 0x30, 4, false, 0), 0x00050014u);
	ck_assert_uint_eq(mmio(&m, APIC + 0x30, 2, false, 0), 0);  /* a word of it */
	ck_assert_uint_eq(mmio(&m, APIC + 0x30, 8, false, 0), 0);  /* two registers' worth */
	ck_assert_uint_eq(mmio(&m, APIC + 0x34, 4, false, 0), 0);  /* inside its 16 bytes */
	ck_assert_uint_eq(mmio(&m, APIC + 0x31, 4, false, 0), 0);  /* unaligned */
	mmio(&m, APIC + 0x80, 1, true, 0x30);                      /* a byte of TPR: dropped */
	mmio(&m, APIC + 0x84, 4, true, 0x30);                      /* past TPR: dropped */
	ck_assert_uint_eq(mmio(&m, APIC + 0x80, 4, false, 0), 0);
	mmio(&m, APIC + 0x80, 4, true, 0x1234);                    /* TPR keeps its low byte */
	ck_assert_uint_eq(mmio(&m, APIC + 0x80, 4, false, 0), 0x34);
	mmio(&m, APIC + 0x20, 4, true, 0x05000000u);               /* ID reads 0 */
	ck_assert_uint_eq(mmio(&m, APIC + 0x20, 4, false, 0), 0);
	ck_assert_uint_eq(mmio(&m, APIC + 0x3f0, 4, false, 0), 0); /* no register */
	ck_assert_uint_eq(mmio(&m, APIC + 0xff0, 4, false, 0), 0);
	ck_assert_uint_eq(mmio(&m, APIC + 0xffc, 8, false, 0), 0); /* runs past the page */
	ck_assert_uint_eq(mmio(&m, APIC + 0xff0, 100, false, 0), 0); /* no engine's length */
	/* Addresses the table never sends it: below and past the page. */
	ck_assert_uint_eq(mmio_direct(&m, APIC, APIC - 0x10, 4), 0);
	ck_assert_uint_eq(mmio_direct(&m, APIC, APIC + 0x1030, 4), 0);
	ck_assert_uint_eq(mmio_direct(&m, APIC, UINT64_MAX - 3, 4), 0);
	tv_machine_destroy(&m);
}
END_TEST

START_TEST(test_testdev_window_keeps_its_bytes_and_drops_what_lies_past_it)
{
	struct tv_machine m;

	machine_with_devices(&m);
	mmio(&m, WINDOW + 0xfffc, 8, true, 0x1122334455667788ull); /* half past the end */
	ck_assert_uint_eq(mmio(&m, WINDOW + 0xfffc, 8, false, 0), 0xffffffff55667788ull);
	ck_assert_uint_eq(mmio(&m, WINDOW + 0xffff, 2, false, 0) & 0xffff, 0xff55);
	mmio(&m, WINDOW + 8, 16, true, 0x0102030405060708ull); /* no engine's length: 8 of it */
	ck_assert_uint_eq(mmio(&m, WINDOW + 8, 8, false, 0), 0x0102030405060708ull);
	ck_assert_uint_eq(mmio(&m, WINDOW + 9, 3, false, 0) & 0xffffff, 0x050607);
	ck_assert_uint_eq(mmio(&m, WINDOW + 16, 1, false, 0) & 0xff, 0); /* never written */
	/* An access that begins outside the window, which the table never sends it, is none of
	 * its: all ones. */
	ck_assert_uint_eq(mmio_direct(&m, WINDOW, WINDOW - 4, 8), UINT64_MAX);
	ck_assert_uint_eq(mmio_direct(&m, WINDOW, UINT64_MAX - 2, 8), UINT64_MAX);
	ck_assert_uint_eq(mmio(&m, WINDOW, 4, false, 0) & 0xffffffff, 0); /* and kept nothing */
	tv_machine_destroy(&m);
}
END_TEST

/* One port access through the machine's table: count elements of size bytes in buf. */
static void pio(struct tv_machine *m, uint16_t port, uint8_t size, uint32_t count, bool out,
		uint8_t *buf)
{
	struct tv_exit e = { .reason = TV_EXIT_IO };

	e.io.direction = out ? TV_IO_OUT : TV_IO_IN;
	e.io.size = size;
	e.io.port = port;
	e.io.count = count;
	e.io.data = buf;
	ck_assert_int_eq(tv_machine_io(m, &e), TV_IO_CONTINUE);
}

START_TEST(test_testdev_port_is_four_bytes_and_string_io_goes_in_order)
{
	struct tv_machine m;
	uint8_t out[6] = { 1, 2, 3, 4, 5, 6 }, in[8];

	machine_with_devices(&m);
	pio(&m, 0xe0, 2, 3, true, out);  /* three words: the last, 0x0605, stays */
	memset(in, 0, sizeof(in));
	pio(&m, 0xe0, 4, 1, false, in);
	ck_assert_mem_eq(in, ((uint8_t[]){ 5, 6, 0, 0 }), 4);
	pio(&m, 0xe2, 4, 1, true, (uint8_t[]){ 7, 8, 9, 10 }); /* 9 and 10 go past 0xe3 */
	memset(in, 0, sizeof(in));
	pio(&m, 0xe2, 4, 2, false, in);  /* 0xe4 and 0xe5 are no device's */
	ck_assert_mem_eq(in, ((uint8_t[]){ 7, 8, 0xff, 0xff, 7, 8, 0xff, 0xff }), 8);
	memset(in, 0, sizeof(in));
	pio(&m, 0xe0, 4, 1, false, in);
	ck_assert_mem_eq(in, ((uint8_t[]){ 5, 6, 7, 8 }), 4);
	tv_machine_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("platform_devices");
	TCase *tc = tcase_create("devices");

	tcase_add_loop_test(tc, test_apic_base_msr_reads_bsp_enabled_and_takes_writes_without_x2apic,
			    0, 6);
	tcase_add_loop_test(tc, test_apic_base_msr_in_real_mode_with_cs_not_0, 0, 2);
	tcase_add_loop_test(tc, test_cpuid_initial_apic_id_is_0_on_every_host_cpu, 0, 2);
	tcase_add_loop_test(tc, test_apic_registers_read_back_on_both_engines, 0, 2);
	tcase_add_loop_test(tc, test_testdev_port_echoes_every_width_and_string_io, 0, 2);
	tcase_add_loop_test(tc, test_testdev_window_is_ram_for_every_width_and_read_modify_write,
			    0, 2);
	tcase_add_loop_test(tc, test_testdev_window_takes_8_byte_accesses_in_long_mode, 0, 2);
	tcase_add_test(tc, test_without_the_platform_the_first_check_fails);
	tcase_add_test(tc, test_apic_takes_only_aligned_dwords_of_its_registers);
	tcase_add_test(tc, test_testdev_window_keeps_its_bytes_and_drops_what_lies_past_it);
	tcase_add_test(tc, test_testdev_port_is_four_bytes_and_string_io_goes_in_order);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
