/* Part of exceptions.h (its header comment describes the tables of each mode): the interrupt
 * vector table or IDT pointing at the stubs, and outside real mode the guest's own GDT and TSS. */
#ifndef TWINVM_GUEST_EXC_TABLES_H
#define TWINVM_GUEST_EXC_TABLES_H

#ifndef TWINVM_GUEST_EXCEPTIONS_H
#error "a part of exceptions.h: include that"
#endif

static inline unsigned long read_cs(void)
{
	unsigned long cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 0xffff;
}

struct __attribute__((packed)) table_register {
	uint16_t limit;
	unsigned long base;
};

/* Gates that leave IF set (ignored in real mode, where every event clears it). */
static int is_trap_gate(unsigned v)
{
	return v == 3 || v == 4 || v == 6 || v == SW_VECTOR;
}

#if GUEST_BITS == 16
static uint32_t ivt[256];

static void set_gate(unsigned v, unsigned long handler)
{
	ivt[v] = (uint32_t)(handler & 0xffff) | (uint32_t)read_cs() << 16;
}

static void load_tables(void)
{
	struct table_register idtr = { sizeof(ivt) - 1, (unsigned long)ivt };

	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}
#else
static inline unsigned long read_ss(void)
{
	unsigned long ss;

	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	return ss & 0xffff;
}

static inline unsigned long read_cr0(void)
{
	unsigned long v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint32_t tss[26] __attribute__((aligned(8))); /* 104 bytes */

#if GUEST_BITS == 32
static uint32_t idt[IDT_ENTRIES][2] __attribute__((aligned(8)));

static void set_gate(unsigned v, unsigned long handler)
{
	idt[v][0] = (uint32_t)(handler & 0xffff) | (uint32_t)read_cs() << 16;
	idt[v][1] = (uint32_t)(handler & 0xffff0000) | (is_trap_gate(v) ? 0x8f00 : 0x8e00);
}

__attribute__((unused)) static void set_gate_present(unsigned v, int present)
{
	idt[v][1] = present ? idt[v][1] | 0x8000 : idt[v][1] & ~0x8000u;
}

/* A 32-bit TSS whose back link (word 0), which an iret with NT follows, names SEL_NP. */
static void set_tss_descriptor(void)
{
	uint32_t base = (uint32_t)tss;

	gdt[SEL_TSS / 8] = (sizeof(tss) - 1) | (uint64_t)(base & 0xffffff) << 16 |
			   (uint64_t)0x89 << 40 | (uint64_t)(base >> 24) << 56;
	tss[0] = SEL_NP;
}
#else
static uint64_t idt[IDT_ENTRIES][2] __attribute__((aligned(16)));
static uint64_t ist1_stack[128] __attribute__((aligned(16)));
#define IST1_TOP ((unsigned long)&ist1_stack[128])

static int uses_ist1(unsigned v)
{
	return v == 8 || v == SW_VECTOR;
}

static void set_gate(unsigned v, unsigned long handler)
{
	idt[v][0] = (handler & 0xffff) | read_cs() << 16 | (uint64_t)uses_ist1(v) << 32 |
		    (uint64_t)(is_trap_gate(v) ? 0x8f : 0x8e) << 40 |
		    ((handler >> 16) & 0xffff) << 48;
	idt[v][1] = handler >> 32;
}

__attribute__((unused)) static void set_gate_present(unsigned v, int present)
{
	idt[v][0] = present ? idt[v][0] | 1ull << 47 : idt[v][0] & ~(1ull << 47);
}

/* A 64-bit TSS (16-byte descriptor) whose IST1 (at byte 0x24) is ist1_stack. */
static void set_tss_descriptor(void)
{
	uint64_t base = (uint64_t)tss;

	gdt[SEL_TSS / 8] = (sizeof(tss) - 1) | (base & 0xffffff) << 16 | (uint64_t)0x89 << 40 |
			   ((base >> 24) & 0xff) << 56;
	gdt[SEL_TSS / 8 + 1] = base >> 32;
	tss[0x24 / 4] = (uint32_t)IST1_TOP;
	tss[0x28 / 4] = (uint32_t)(IST1_TOP >> 32);
}
#endif

/* The GDT twinvm set up, copied, then the not-present segment and the TSS; loaded, with TR. */
static void load_tables(void)
{
	struct table_register gdtr, idtr = { sizeof(idt) - 1, (unsigned long)idt };
	const volatile uint64_t *old;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	old = (const volatile uint64_t *)gdtr.base;
	for (int i = 0; i < GDT_ENTRIES; i++)
		gdt[i] = i < GDT_COPIED ? old[i] : 0;
	/* Limit 4 GiB, read/write, 32-bit, as twinvm's data segment, but P clear. */
	gdt[SEL_NP / 8] = 0xffff | (uint64_t)0x13 << 40 | (uint64_t)0xcf << 48;
	set_tss_descriptor();
	gdtr.base = (unsigned long)gdt;
	gdtr.limit = sizeof(gdt) - 1;
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS) : "memory");
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}
#endif

static void install_handlers(void)
{
	for (unsigned v = 0; v < 32; v++)
		set_gate(v, stub_table[v]);
	set_gate(SW_VECTOR, stub_sw);
	load_tables();
}

#endif
