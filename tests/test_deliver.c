/* The emulator's exception delivery (backend/emu/emu_deliver.h) with no engine: a CPU state and
 * RAM built here, the frame and the handler's state checked against the SDM (Vol. 3, 6.12-6.14,
 * 6.15's #DF rules). The engines' own runs of the same rules are in test_exceptions_raw_*.c. */
#include <stdlib.h>
#include <string.h>

#include "emu/emu_deliver.h"
#include "tv_test.h"

#define RAM_SIZE 0x40000u
#define IDT 0x1000u
#define GDT 0x2000u
#define TSS 0x3000u
#define SEL_CODE 0x08u
#define SEL_DATA 0x10u
#define SEL_CODE64 0x18u
#define SEL_USER_CODE 0x1bu /* index 3, RPL 3 */
#define SEL_USER_DATA 0x23u
#define HANDLER 0x5000u

#define FLAT_CODE32 0x00cf9a000000ffffull
#define FLAT_DATA32 0x00cf92000000ffffull
#define FLAT_CODE64 0x00af9a000000ffffull
#define USER_CODE32 0x00cffa000000ffffull
#define USER_DATA32 0x00cff2000000ffffull

static struct tv_ram ram;
static struct emu_cpu cpu;
static char why[200];

static void put(uint32_t gpa, const void *v, size_t n)
{
	ck_assert(gpa + n <= ram.size);
	memcpy(ram.host + gpa, v, n);
}

static uint64_t get(uint64_t gpa, size_t n)
{
	uint64_t v = 0;

	ck_assert(gpa + n <= ram.size);
	memcpy(&v, ram.host + gpa, n);
	return v;
}

static void put64(uint32_t gpa, uint64_t v)
{
	put(gpa, &v, 8);
}

/* A 32-bit gate (8 bytes): type 0xe interrupt, 0xf trap; dpl; present. */
static void gate32(unsigned vector, uint32_t offset, uint16_t sel, unsigned type, unsigned dpl,
		   bool present)
{
	uint64_t g = (offset & 0xffff) | (uint64_t)sel << 16 | (uint64_t)type << 40 |
		     (uint64_t)dpl << 45 | (uint64_t)present << 47 |
		     (uint64_t)(offset >> 16) << 48;

	put64(IDT + vector * 8, g);
}

/* A 64-bit gate (16 bytes) with an IST index. */
static void gate64(unsigned vector, uint64_t offset, unsigned ist, unsigned type)
{
	uint64_t lo = (offset & 0xffff) | (uint64_t)SEL_CODE64 << 16 | (uint64_t)ist << 32 |
		      (uint64_t)type << 40 | 1ull << 47 | ((offset >> 16) & 0xffff) << 48;

	put64(IDT + vector * 16, lo);
	put64(IDT + vector * 16 + 8, offset >> 32);
}

static struct emu_seg seg(uint32_t selector, uint64_t desc)
{
	return (struct emu_seg){ .selector = selector, .base = 0, .limit = 0xffffffff,
				 .flags = (uint32_t)(desc >> 32) };
}

/* Protected mode, CPL 0, flat segments, an IDT of 256 gates and a GDT with user segments. */
static void protected_setup(void)
{
	ram.size = RAM_SIZE;
	ram.host = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(ram.host);
	memset(&cpu, 0, sizeof(cpu));
	put64(GDT + SEL_CODE, FLAT_CODE32);
	put64(GDT + SEL_DATA, FLAT_DATA32);
	put64(GDT + (SEL_USER_CODE & ~3u), USER_CODE32);
	put64(GDT + (SEL_USER_DATA & ~3u), USER_DATA32);
	cpu.cr0 = 0x11;
	cpu.gdt_base = GDT;
	cpu.gdt_limit = 0x2f;
	cpu.idt_base = IDT;
	cpu.idt_limit = 256 * 8 - 1;
	cpu.tr_base = TSS;
	cpu.tr_limit = 0x67;
	cpu.tr_selector = 0x28;
	cpu.tr_flags = 0xbu << TV_DESC_TYPE_SHIFT;
	cpu.seg[EMU_R_CS] = seg(SEL_CODE, FLAT_CODE32);
	cpu.seg[EMU_R_SS] = seg(SEL_DATA, FLAT_DATA32);
	cpu.rip = 0x4000;
	cpu.rsp = 0x9000;
	cpu.rflags = 0x202;
}

static void teardown(void)
{
	free(ram.host);
	ram.host = NULL;
}

static enum emu_deliver_end deliver(unsigned vector, bool software, uint32_t error)
{
	struct emu_event ev = { .vector = vector, .software = software, .error = error,
				.insn_rip = software ? cpu.rip - 2 : cpu.rip };

	return emu_deliver(&ram, 36, &cpu, &ev, why, sizeof(why));
}

START_TEST(test_gp_pushes_eflags_with_rf_cs_eip_and_error_code)
{
	gate32(13, HANDLER, SEL_CODE, 0xe, 0, true);
	ck_assert_int_eq(deliver(13, false, 0x28), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rip, HANDLER);
	ck_assert_uint_eq(cpu.rsp, 0x9000 - 16);
	ck_assert_uint_eq(get(0x9000 - 4, 4), 0x202 | TV_RFLAGS_RF);
	ck_assert_uint_eq(get(0x9000 - 8, 4), SEL_CODE);
	ck_assert_uint_eq(get(0x9000 - 12, 4), 0x4000);
	ck_assert_uint_eq(get(0x9000 - 16, 4), 0x28);
	ck_assert_uint_eq(cpu.rflags & TV_RFLAGS_IF, 0); /* an interrupt gate */
}
END_TEST

START_TEST(test_trap_gate_keeps_if_and_int_n_pushes_no_error_code)
{
	gate32(13, HANDLER, SEL_CODE, 0xf, 0, true);
	cpu.rflags |= TV_RFLAGS_TF;
	ck_assert_int_eq(deliver(13, true, 0), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rsp, 0x9000 - 12); /* software INT 13: no error code */
	ck_assert_uint_eq(get(0x9000 - 4, 4), 0x202 | TV_RFLAGS_TF); /* no RF for INT n */
	ck_assert_uint_eq(cpu.rflags & TV_RFLAGS_IF, TV_RFLAGS_IF);
	ck_assert_uint_eq(cpu.rflags & TV_RFLAGS_TF, 0);
}
END_TEST

START_TEST(test_int_n_through_a_gate_below_cpl_is_gp_on_the_int)
{
	gate32(0x80, HANDLER, SEL_CODE, 0xe, 0, true); /* DPL 0: user code may not INT 0x80 */
	gate32(13, HANDLER + 0x100, SEL_CODE, 0xe, 0, true);
	put64(TSS + 4, 0x8000 | (uint64_t)SEL_DATA << 32); /* ESP0, SS0 */
	cpu.seg[EMU_R_CS] = seg(SEL_USER_CODE, USER_CODE32);
	cpu.seg[EMU_R_SS] = seg(SEL_USER_DATA, USER_DATA32);
	cpu.cpl = 3;
	cpu.rip = 0x4002; /* past the int */
	ck_assert_int_eq(deliver(0x80, true, 0), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rip, HANDLER + 0x100);
	ck_assert_uint_eq(get(0x8000 - 24, 4), 0x80 * 8 + 2); /* EXT clear: a software int */
	ck_assert_uint_eq(get(0x8000 - 20, 4), 0x4000);       /* the #GP is the int's own */
}
END_TEST

START_TEST(test_cpl3_to_cpl0_switches_to_the_tss_stack)
{
	gate32(14, HANDLER, SEL_CODE, 0xe, 0, true);
	put64(TSS + 4, 0x8000 | (uint64_t)SEL_DATA << 32);
	cpu.seg[EMU_R_CS] = seg(SEL_USER_CODE, USER_CODE32);
	cpu.seg[EMU_R_SS] = seg(SEL_USER_DATA, USER_DATA32);
	cpu.cpl = 3;
	ck_assert_int_eq(deliver(14, false, 0x6), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.cpl, 0);
	ck_assert_uint_eq(cpu.seg[EMU_R_SS].selector, SEL_DATA);
	ck_assert_uint_eq(cpu.seg[EMU_R_CS].selector, SEL_CODE);
	ck_assert_uint_eq(cpu.rsp, 0x8000 - 24);
	ck_assert_uint_eq(get(0x8000 - 4, 4), SEL_USER_DATA);
	ck_assert_uint_eq(get(0x8000 - 8, 4), 0x9000);
	ck_assert_uint_eq(get(0x8000 - 16, 4), SEL_USER_CODE);
	ck_assert_uint_eq(get(0x8000 - 20, 4), 0x4000);
	ck_assert_uint_eq(get(0x8000 - 24, 4), 0x6);
}
END_TEST

START_TEST(test_gp_whose_gate_is_absent_becomes_df_with_error_0)
{
	gate32(13, HANDLER, SEL_CODE, 0xe, 0, false);
	gate32(8, HANDLER + 0x80, SEL_CODE, 0xe, 0, true);
	ck_assert_int_eq(deliver(13, false, 0), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rip, HANDLER + 0x80);
	ck_assert_uint_eq(get(0x9000 - 16, 4), 0);
	ck_assert_uint_eq(get(0x9000 - 12, 4), 0x4000);
}
END_TEST

START_TEST(test_ud_whose_gate_is_absent_is_np_not_df)
{
	gate32(6, HANDLER, SEL_CODE, 0xe, 0, false);
	gate32(11, HANDLER + 0x40, SEL_CODE, 0xe, 0, true);
	ck_assert_int_eq(deliver(6, false, 0), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rip, HANDLER + 0x40);
	ck_assert_uint_eq(get(0x9000 - 16, 4), 6 * 8 + 2 + 1); /* EXT: during an exception */
}
END_TEST

START_TEST(test_no_idt_is_a_triple_fault_with_rip_unchanged)
{
	cpu.idt_limit = 0;
	ck_assert_int_eq(deliver(6, false, 0), EMU_TRIPLE_FAULT);
	ck_assert_uint_eq(cpu.rip, 0x4000);
	ck_assert_ptr_nonnull(
		strstr(why, "#UD then #GP(0x33) then #GP(0x6b) then #DF(0x0) then #GP(0x43)"));
}
END_TEST

START_TEST(test_task_gate_is_refused_with_the_reason)
{
	gate32(13, 0, 0x30, 0x5, 0, true);
	ck_assert_int_eq(deliver(13, false, 0), EMU_DELIVER_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(why, "task gate"));
}
END_TEST

START_TEST(test_real_mode_pushes_flags_cs_ip_and_clears_if)
{
	uint16_t entry[2] = { 0x1234, 0x0700 };

	cpu.cr0 = 0;
	cpu.idt_base = 0;
	cpu.idt_limit = 0x3ff;
	cpu.seg[EMU_R_CS] = (struct emu_seg){ .selector = 0x100, .base = 0x1000, .limit = 0xffff };
	cpu.seg[EMU_R_SS] = (struct emu_seg){ .selector = 0x200, .base = 0x2000, .limit = 0xffff };
	cpu.rip = 0x10;
	cpu.rsp = 0x4;
	put(0x21 * 4, entry, 4);
	ck_assert_int_eq(deliver(0x21, true, 0), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rip, 0x1234);
	ck_assert_uint_eq(cpu.seg[EMU_R_CS].base, 0x7000);
	ck_assert_uint_eq(cpu.rsp, 0xfffe); /* SP wrapped below 0 within its 64 KiB */
	ck_assert_uint_eq(get(0x2000 + 0x2, 2), 0x202);
	ck_assert_uint_eq(get(0x2000 + 0x0, 2), 0x100);
	ck_assert_uint_eq(get(0x2000 + 0xfffe, 2), 0x10);
	ck_assert_uint_eq(cpu.rflags & TV_RFLAGS_IF, 0);
}
END_TEST

/* Long mode on protected_setup's state: 64-bit code, the first 2 MiB identity-mapped. */
static void long_mode(void)
{
	cpu.efer = 0x500;
	cpu.cr0 = 0x80000011;
	cpu.idt_limit = 256 * 16 - 1;
	put64(GDT + SEL_CODE64, FLAT_CODE64);
	cpu.seg[EMU_R_CS] = seg(SEL_CODE64, FLAT_CODE64);
	cpu.cr3 = 0x10000;
	put64(0x10000, 0x11000 | 3);
	put64(0x11000, 0x12000 | 3);
	put64(0x12000, 0x83);
}

START_TEST(test_long_mode_ist_stack_is_aligned_and_frame_has_ss_rsp)
{
	long_mode();
	gate64(8, HANDLER, 1, 0xe);
	put64(TSS + 0x24, 0xa008); /* IST1 */
	ck_assert_int_eq(deliver(8, false, 0), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rsp, 0xa000 - 48);
	ck_assert_uint_eq(get(0xa000 - 8, 8), SEL_DATA);  /* SS */
	ck_assert_uint_eq(get(0xa000 - 16, 8), 0x9000);   /* RSP */
	ck_assert_uint_eq(get(0xa000 - 40, 8), 0x4000);   /* RIP */
	ck_assert_uint_eq(get(0xa000 - 48, 8), 0);        /* #DF's error code */
}
END_TEST

START_TEST(test_stack_push_that_page_faults_sets_cr2_and_gives_df_for_pf)
{
	long_mode();
	gate64(14, HANDLER, 0, 0xe);
	gate64(8, HANDLER + 0x10, 1, 0xe);
	put64(TSS + 0x24, 0xa000);
	cpu.rsp = 0x40000000; /* 1 GiB: PDPT entry 1 is not present */
	ck_assert_int_eq(deliver(14, false, 0), EMU_DELIVERED);
	ck_assert_uint_eq(cpu.rip, HANDLER + 0x10); /* #PF while delivering #PF: #DF */
	ck_assert_uint_eq(cpu.cr2, 0x40000000 - 8);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("deliver");
	TCase *t = tcase_create("sdm");

	tcase_add_checked_fixture(t, protected_setup, teardown);
	tcase_add_test(t, test_gp_pushes_eflags_with_rf_cs_eip_and_error_code);
	tcase_add_test(t, test_trap_gate_keeps_if_and_int_n_pushes_no_error_code);
	tcase_add_test(t, test_int_n_through_a_gate_below_cpl_is_gp_on_the_int);
	tcase_add_test(t, test_cpl3_to_cpl0_switches_to_the_tss_stack);
	tcase_add_test(t, test_gp_whose_gate_is_absent_becomes_df_with_error_0);
	tcase_add_test(t, test_ud_whose_gate_is_absent_is_np_not_df);
	tcase_add_test(t, test_no_idt_is_a_triple_fault_with_rip_unchanged);
	tcase_add_test(t, test_task_gate_is_refused_with_the_reason);
	tcase_add_test(t, test_real_mode_pushes_flags_cs_ip_and_clears_if);
	tcase_add_test(t, test_long_mode_ist_stack_is_aligned_and_frame_has_ss_rsp);
	tcase_add_test(t, test_stack_push_that_page_faults_sets_cr2_and_gives_df_for_pf);
	suite_add_tcase(s, t);
	return tv_test_main(s);
}
