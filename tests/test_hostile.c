/* Hostile guests: each one aims at a way a guest could reach host memory outside its RAM, or
 * make twinvm lose track of it, and must only ever end its own run. Each runs on both engines
 * and, where it can, under --trace too (the trace rebuilds the state at every exit). */
#include <stdio.h>
#include <string.h>

#include "guestmem.h"
#include "layout.h"
#include "run_guest.h"
#include "trace_lines.h"
#include "tv_test.h"

/* ---- A GDT at the top of the 64-bit address space ------------------------------------------
 * The descriptor for selector 8 sits at linear 0xfffffffffffffff8, where "base + index * 8 + 8"
 * wraps to 0. The emulator's segment rebuild once checked exactly that sum against the RAM size,
 * passed, and read the 8 bytes just below guest RAM. Long mode:
 *   lgdt [rip + 14]        ; limit 0xf, base 0xfffffffffffffff0
 *   mov ax, 8
 *   mov fs, ax             ; the CPU reads the descriptor through the page tables
 *   mov eax, 31
 *   out 0xec, eax          ; HC_printStr("GDT"): the hypercall reads the segments
 *   hlt
 *   gdtr: dw 0xf; dq 0xfffffffffffffff0
 *   db "GDT", 0 */
static const uint8_t gdt_at_top[] = {
	0x0f, 0x01, 0x15, 0x0e, 0x00, 0x00, 0x00,
	0x66, 0xb8, 0x08, 0x00,
	0x8e, 0xe0,
	0xb8, 0x1f, 0x00, 0x00, 0x00,
	0xe7, 0xec,
	0xf4,
	0x0f, 0x00, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	'G', 'D', 'T', 0,
};

#define TOP_PDPT 0x20000ull
#define TOP_PD 0x21000ull

static void put64(struct tv_ram *ram, uint64_t gpa, uint64_t value)
{
	ck_assert_int_eq(tv_ram_write(ram, gpa, &value, sizeof(value)), 0);
}

/* Maps the top 2 MiB of the address space onto guest-physical 0 (PML4[511], PDPT[511], PD[511])
 * and writes a flat data descriptor where selector 8 of the top GDT lands: 0x1ffff8. */
static void map_top_gdt(struct tv_ram *ram)
{
	put64(ram, TV_PML4 + 511 * 8, TOP_PDPT | 3);
	put64(ram, TOP_PDPT + 511 * 8, TOP_PD | 3);
	put64(ram, TOP_PD + 511 * 8, 0x83); /* P, R/W, PS: a 2 MiB page at 0 */
	put64(ram, 0x1ffff8, 0x00cf93000000ffffull);
}

/* ---- A real-mode guest that enters protected mode and runs above 64 KiB --------------------
 * Precise runs (--trace, diff, the io policy) re-enter Unicorn after every exit; an instance
 * opened in UC_MODE_16 takes its start address as CS * 16 + a 16-bit IP, so EIP 0x20004 came
 * back as 0x0004. Real mode, at 0:
 *   cli
 *   lgdt [0x120]                 ; the image's own GDT: null, flat code32, flat data
 *   mov eax, cr0
 *   or al, 1
 *   mov cr0, eax
 *   jmp dword 0x08:0x20000
 * and at 0x20000, in 32-bit code (put there by the test, above the image limit):
 *   mov ax, 0x10
 *   mov ds, ax
 *   mov al, 'A'
 *   out 0xe9, al
 *   mov al, 'B'
 *   out 0xe9, al
 *   hlt */
static const uint8_t to_protected_high[] = {
	0xfa,
	0x0f, 0x01, 0x16, 0x20, 0x01,
	0x0f, 0x20, 0xc0,
	0x0c, 0x01,
	0x0f, 0x22, 0xc0,
	0x66, 0xea, 0x00, 0x00, 0x02, 0x00, 0x08, 0x00,
};
static const uint8_t high_code32[] = {
	0x66, 0xb8, 0x10, 0x00,
	0x8e, 0xd8,
	0xb0, 'A',
	0xe6, 0xe9,
	0xb0, 'B',
	0xe6, 0xe9,
	0xf4,
};
#define HIGH_CODE 0x20000ull
#define OWN_GDT 0x100ull

/* ---- The other directions: protected to real, long to compatibility mode -------------------
 * Both re-enter at the address the current mode uses: IP with CS * 16 in real mode, RIP with
 * the compatibility segment's base of 0. Protected mode, at 0:
 *   lgdt [0x120]              ; null, code32, data, code16 (base 0, limit 0xffff)
 *   jmp 0x18:0x0e             ; into 16-bit protected mode
 *   mov eax, cr0              ; (16-bit code from here)
 *   and al, 0xfe
 *   mov cr0, eax              ; real mode
 *   jmp 0x1000:0x0000         ; linear 0x10000
 * and at 0x10000: mov al, 'R'; out 0xe9, al; mov al, 'M'; out 0xe9, al; hlt */
static const uint8_t to_real[] = {
	0x0f, 0x01, 0x15, 0x20, 0x01, 0x00, 0x00,
	0xea, 0x0e, 0x00, 0x00, 0x00, 0x18, 0x00,
	0x0f, 0x20, 0xc0,
	0x24, 0xfe,
	0x0f, 0x22, 0xc0,
	0xea, 0x00, 0x00, 0x00, 0x10,
};
static const uint8_t real_tail[] = { 0xb0, 'R', 0xe6, 0xe9, 0xb0, 'M', 0xe6, 0xe9, 0xf4 };

/* Long mode, at 0:
 *   jmp far [0x7]             ; m16:32 -> 0x08:0x20000, the layout's 32-bit code segment
 *   farptr: dd 0x20000; dw 0x08
 * and at 0x20000 (compatibility mode): mov al, 'C'; out 0xe9, al; hlt */
static const uint8_t to_compat[] = {
	0xff, 0x2c, 0x25, 0x07, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x00, 0x08, 0x00,
};
static const uint8_t compat_tail[] = { 0xb0, 'C', 0xe6, 0xe9, 0xf4 };

/* ---- The runner ------------------------------------------------------------------------------ */

/* One hostile guest: the image at 0, more code placed in RAM above the image limit (tail), a
 * GDT of its own in the image, or a setup that writes page tables; and how it must end. */
struct hostile {
	const char *name;
	enum tv_mode mode;
	const uint8_t *image;
	size_t len;
	bool own_gdt; /* null, flat code32, flat data, code16 at OWN_GDT; GDTR image at 0x120 */
	uint64_t tail_at;
	const uint8_t *tail;
	size_t tail_len;
	void (*setup)(struct tv_ram *ram);
	const char *console; /* what it prints before its HLT */
	uint64_t rip;        /* at the end, as the mode counts it */
};

static const struct hostile cases[] = {
	{ "gdt at the top of the address space", TV_MODE_LONG, gdt_at_top, sizeof(gdt_at_top),
	  false, 0, NULL, 0, map_top_gdt, "GDT", 21 /* past the hlt */ },
	{ "real to protected, code above 64 KiB", TV_MODE_REAL, to_protected_high,
	  sizeof(to_protected_high), true, HIGH_CODE, high_code32, sizeof(high_code32), NULL, "AB",
	  HIGH_CODE + sizeof(high_code32) },
	{ "protected to real", TV_MODE_PROTECTED, to_real, sizeof(to_real), true, 0x10000,
	  real_tail, sizeof(real_tail), NULL, "RM", sizeof(real_tail) },
	{ "long to compatibility mode", TV_MODE_LONG, to_compat, sizeof(to_compat), false, 0x20000,
	  compat_tail, sizeof(compat_tail), NULL, "C", 0x20000 + sizeof(compat_tail) },
};

/* Runs c on engine, traced (into a temporary file) or not, and asserts it halted as it must. */
static void hostile_run(const char *engine, const struct hostile *c, bool traced)
{
	const uint64_t gdt[4] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull,
				  0x00009a000000ffffull };
	const uint8_t gdtr[6] = { 0x1f, 0x00, OWN_GDT & 0xff, OWN_GDT >> 8, 0, 0 };
	uint8_t image[0x200] = { 0 };
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	FILE *trace = NULL;
	char why[512];

	be = tv_test_engine(engine, c->mode, why, sizeof(why));
	if (!be)
		TV_SKIP("%s: %s/%s: %s", c->name, engine, tv_mode_name(c->mode), why);
	ck_assert_uint_le(c->len, OWN_GDT);
	memcpy(image, c->image, c->len);
	if (c->own_gdt) {
		memcpy(image + OWN_GDT, gdt, sizeof(gdt));
		memcpy(image + 0x120, gdtr, sizeof(gdtr));
	}
	if (traced) {
		trace = tmpfile();
		ck_assert_ptr_nonnull(trace);
	}
	tv_test_prepare(&t, be, c->mode, image, c->own_gdt ? sizeof(image) : c->len, trace);
	if (c->tail)
		ck_assert_int_eq(tv_ram_write(&t.m.ram, c->tail_at, c->tail, c->tail_len), 0);
	if (c->setup)
		c->setup(&t.m.ram);
	tv_test_finish(&t, 30);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "%s on %s: ended in %s: %s", c->name, engine,
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_str_eq(t.console, c->console);
	ck_assert_uint_eq(t.regs.rip, c->rip);
	tv_test_run_end(&t);
	if (trace)
		fclose(trace);
}

/* _i: the entry of cases. */
START_TEST(test_hostile_guest_kvm) { hostile_run("kvm", &cases[_i], false); }
END_TEST
START_TEST(test_hostile_guest_emu) { hostile_run("emu", &cases[_i], false); }
END_TEST
START_TEST(test_hostile_guest_traced_kvm) { hostile_run("kvm", &cases[_i], true); }
END_TEST
START_TEST(test_hostile_guest_traced_emu) { hostile_run("emu", &cases[_i], true); }
END_TEST

/* ---- One instruction, 189 exits ------------------------------------------------------------
 * fxsave64 into MMIO writes its 512-byte area as 189 MMIO exits on the emulator. The trace once
 * kept 64 per instruction and let the rest go while the run still counted them. (KVM's
 * instruction emulator cannot do fxsave into MMIO: INTERNAL_ERROR, no exits.) Long mode:
 *   mov eax, 0x300000          ; above the 2 MiB of RAM: MMIO
 *   fxsave64 [rax]
 *   hlt */
static const uint8_t fxsave_to_mmio[] = {
	0xb8, 0x00, 0x00, 0x30, 0x00,
	0x48, 0x0f, 0xae, 0x00,
	0xf4,
};

/* Trace records of an exit of reason (the closing RAM line is not one). */
static uint64_t trace_count(FILE *trace, const char *reason)
{
	struct tv_trace_reader in = { .f = trace, .name = "the trace" };
	uint64_t n = 0;
	json_t *rec;

	fflush(trace);
	rewind(trace);
	while ((rec = tv_test_trace_record(&in))) {
		const char *r = json_string_value(json_object_get(rec, "reason"));

		n += r && strcmp(r, reason) == 0;
		json_decref(rec);
	}
	return n;
}

static void every_exit_is_traced(const char *engine)
{
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	FILE *trace = tmpfile();
	char why[512];

	be = tv_test_engine(engine, TV_MODE_LONG, why, sizeof(why));
	if (!be)
		TV_SKIP("%s: %s", engine, why);
	ck_assert_ptr_nonnull(trace);
	tv_test_prepare(&t, be, TV_MODE_LONG, fxsave_to_mmio, sizeof(fxsave_to_mmio), trace);
	tv_test_finish(&t, 30);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_uint_gt(t.m.stats.by_reason[TV_EXIT_MMIO], 64);
	ck_assert_uint_eq(trace_count(trace, "MMIO"), t.m.stats.by_reason[TV_EXIT_MMIO]);
	tv_test_run_end(&t);
	fclose(trace);
}

START_TEST(test_fxsave_to_mmio_every_exit_traced_emu) { every_exit_is_traced("emu"); }
END_TEST

int main(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	const int n = (int)(sizeof(cases) / sizeof(cases[0]));

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_hostile_guest_kvm, 0, n);
	tcase_add_loop_test(tc, test_hostile_guest_emu, 0, n);
	tcase_add_loop_test(tc, test_hostile_guest_traced_kvm, 0, n);
	tcase_add_loop_test(tc, test_hostile_guest_traced_emu, 0, n);
	tcase_add_test(tc, test_fxsave_to_mmio_every_exit_traced_emu);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
