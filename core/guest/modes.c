/* Mode setup: GDT, page tables and the register state for each of the four modes. */
#include "modes.h"

#include <errno.h>
#include <string.h>

#include "layout.h"

static const char *const mode_names[TV_MODE_COUNT] = {
	[TV_MODE_REAL] = "real",
	[TV_MODE_PROTECTED] = "protected",
	[TV_MODE_PAGED32] = "paged32",
	[TV_MODE_LONG] = "long",
};

const char *tv_mode_name(enum tv_mode mode)
{
	return (unsigned)mode < TV_MODE_COUNT ? mode_names[mode] : "unknown";
}

bool tv_mode_parse(const char *name, enum tv_mode *mode)
{
	for (int m = 0; m < TV_MODE_COUNT; m++) {
		if (strcmp(name, mode_names[m]) == 0) {
			*mode = (enum tv_mode)m;
			return true;
		}
	}
	return false;
}

bool tv_mode_paged(enum tv_mode mode)
{
	return mode == TV_MODE_PAGED32 || mode == TV_MODE_LONG;
}

int tv_mode_bits(enum tv_mode mode)
{
	switch (mode) {
	case TV_MODE_REAL: return 16;
	case TV_MODE_LONG: return 64;
	default: return 32;
	}
}

static void put64(uint8_t *ram, uint64_t gpa, uint64_t value)
{
	memcpy(ram + gpa, &value, sizeof(value));
}

static void put32(uint8_t *ram, uint64_t gpa, uint32_t value)
{
	memcpy(ram + gpa, &value, sizeof(value));
}

/* The 8-byte GDT descriptor for a segment, so the table in memory and the cached segment state in
 * sregs cannot disagree (the emulator loads segments from the table; KVM takes sregs). */
static uint64_t gdt_descriptor(const struct tv_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t d = 0;

	d |= limit & 0xffff;
	d |= (s->base & 0xffffff) << 16;
	d |= (uint64_t)(s->type & 0xf) << 40;
	d |= (uint64_t)(s->s & 1) << 44;
	d |= (uint64_t)(s->dpl & 3) << 45;
	d |= (uint64_t)(s->present & 1) << 47;
	d |= ((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)(s->avl & 1) << 52;
	d |= (uint64_t)(s->l & 1) << 53;
	d |= (uint64_t)(s->db & 1) << 54;
	d |= (uint64_t)(s->g & 1) << 55;
	d |= ((s->base >> 24) & 0xff) << 56;
	return d;
}

static struct tv_segment real_segment(uint8_t type)
{
	return (struct tv_segment){
		.base = 0, .limit = 0xffff, .selector = 0, .type = type, .present = 1, .s = 1,
	};
}

/* Flat 4 GiB segment with granularity in pages; code64 sets L and clears D/B as long mode needs. */
static struct tv_segment flat_segment(uint16_t selector, uint8_t type, bool code64)
{
	return (struct tv_segment){
		.base = 0, .limit = 0xffffffff, .selector = selector, .type = type, .present = 1,
		.s = 1, .db = code64 ? 0 : 1, .l = code64 ? 1 : 0, .g = 1,
	};
}

/* TR and LDT as the CPU has them after reset: VMX refuses to enter with anything less. */
static void system_segments(struct tv_sregs *s)
{
	s->tr = (struct tv_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	s->ldt = (struct tv_segment){ .limit = 0xffff, .type = 0x2, .present = 1 };
}

static void set_data_segments(struct tv_sregs *s, struct tv_segment data)
{
	s->ds = s->es = s->fs = s->gs = s->ss = data;
}

static void write_gdt(uint8_t *ram, struct tv_sregs *s)
{
	const struct tv_segment code32 = flat_segment(TV_SEL_CODE32, 0xb, false);
	const struct tv_segment data = flat_segment(TV_SEL_DATA, 0x3, false);
	const struct tv_segment code64 = flat_segment(TV_SEL_CODE64, 0xb, true);

	memset(ram + TV_GDT, 0, TV_PAGE_SIZE);
	put64(ram, TV_GDT + TV_SEL_CODE32, gdt_descriptor(&code32));
	put64(ram, TV_GDT + TV_SEL_DATA, gdt_descriptor(&data));
	put64(ram, TV_GDT + TV_SEL_CODE64, gdt_descriptor(&code64));
	s->gdt.base = TV_GDT;
	s->gdt.limit = TV_GDT_ENTRIES * 8 - 1;
}

/* One page directory of 4 MiB pages identity-maps all 4 GiB. */
static void write_paged32_tables(uint8_t *ram)
{
	for (uint32_t i = 0; i < 1024; i++)
		put32(ram, TV_PD32 + 4ull * i, (i << 22) | TV_PTE_P | TV_PTE_RW | TV_PTE_PS);
}

/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages: 4 GiB identity. */
static void write_long_tables(uint8_t *ram)
{
	memset(ram + TV_PML4, 0, 2 * TV_PAGE_SIZE);
	put64(ram, TV_PML4, TV_PDPT | TV_PTE_P | TV_PTE_RW);
	for (uint64_t g = 0; g < 4; g++) {
		uint64_t pd = TV_PD64 + g * TV_PAGE_SIZE;

		put64(ram, TV_PDPT + 8 * g, pd | TV_PTE_P | TV_PTE_RW);
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t phys = (g << 30) | (i << 21);

			put64(ram, pd + 8 * i, phys | TV_PTE_P | TV_PTE_RW | TV_PTE_PS);
		}
	}
}

int tv_mode_setup(enum tv_mode mode, uint8_t *ram, uint64_t ram_size, struct tv_sregs *sregs,
		  struct tv_regs *regs)
{
	if (ram_size < TV_LAYOUT_END || (unsigned)mode >= TV_MODE_COUNT)
		return -EINVAL;

	memset(sregs, 0, sizeof(*sregs));
	memset(regs, 0, sizeof(*regs));
	regs->rip = TV_ENTRY;
	regs->rsp = TV_STACK_TOP;
	regs->rflags = 0x2; /* bit 1 is reserved and always set */
	system_segments(sregs);
	sregs->idt.limit = 0; /* no IDT: a guest exception ends in SHUTDOWN */

	if (mode == TV_MODE_REAL) {
		sregs->cs = real_segment(0xb);
		set_data_segments(sregs, real_segment(0x3));
		sregs->cr0 = TV_CR0_ET;
		return 0;
	}

	write_gdt(ram, sregs);
	set_data_segments(sregs, flat_segment(TV_SEL_DATA, 0x3, false));
	sregs->cr0 = TV_CR0_PE | TV_CR0_ET;

	switch (mode) {
	case TV_MODE_PROTECTED:
		sregs->cs = flat_segment(TV_SEL_CODE32, 0xb, false);
		break;
	case TV_MODE_PAGED32:
		write_paged32_tables(ram);
		sregs->cs = flat_segment(TV_SEL_CODE32, 0xb, false);
		sregs->cr3 = TV_PD32;
		sregs->cr4 = TV_CR4_PSE;
		sregs->cr0 |= TV_CR0_PG | TV_CR0_WP | TV_CR0_NE | TV_CR0_MP;
		break;
	case TV_MODE_LONG:
		write_long_tables(ram);
		sregs->cs = flat_segment(TV_SEL_CODE64, 0xb, true);
		sregs->cr3 = TV_PML4;
		sregs->cr4 = TV_CR4_PAE | TV_CR4_OSFXSR | TV_CR4_OSXMMEXCPT;
		sregs->cr0 |= TV_CR0_PG | TV_CR0_WP | TV_CR0_NE | TV_CR0_MP;
		sregs->efer = TV_EFER_LME | TV_EFER_LMA;
		break;
	default:
		break;
	}
	return 0;
}
