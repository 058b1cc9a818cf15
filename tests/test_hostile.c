/* Hostile guests: each one aims at a way a guest could reach host memory outside its RAM, or
 * make twinvm lose track of it, and must only ever end its own run. Each runs on both engines
 * and, where it can, under --trace too (the trace rebuilds the state at every exit). */
#include <stdio.h>
#include <string.h>

#include "guestmem.h"
#include "layout.h"
#include "run_guest.h"
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

static void gdt_at_top_stays_in_ram(const char *engine, bool traced)
{
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	FILE *trace = NULL;
	char why[512];

	be = tv_test_engine(engine, TV_MODE_LONG, why, sizeof(why));
	if (!be)
		TV_SKIP("%s: %s", engine, why);
	if (traced) {
		trace = tmpfile();
		ck_assert_ptr_nonnull(trace);
	}
	tv_test_prepare(&t, be, TV_MODE_LONG, gdt_at_top, sizeof(gdt_at_top), trace);
	map_top_gdt(&t.m.ram);
	tv_test_finish(&t, 30);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_str_eq(t.console, "GDT");
	tv_test_run_end(&t);
	if (trace)
		fclose(trace);
}

START_TEST(test_gdt_at_top_of_address_space_kvm) { gdt_at_top_stays_in_ram("kvm", false); }
END_TEST
START_TEST(test_gdt_at_top_of_address_space_emu) { gdt_at_top_stays_in_ram("emu", false); }
END_TEST
START_TEST(test_gdt_at_top_of_address_space_traced_kvm) { gdt_at_top_stays_in_ram("kvm", true); }
END_TEST
START_TEST(test_gdt_at_top_of_address_space_traced_emu) { gdt_at_top_stays_in_ram("emu", true); }
END_TEST

int main(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_gdt_at_top_of_address_space_kvm);
	tcase_add_test(tc, test_gdt_at_top_of_address_space_emu);
	tcase_add_test(tc, test_gdt_at_top_of_address_space_traced_kvm);
	tcase_add_test(tc, test_gdt_at_top_of_address_space_traced_emu);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
