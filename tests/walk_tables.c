/* Page tables built by hand in guarded RAM (walk_tables.h). */
#include "walk_tables.h"

#include "guarded_ram.h"
#include "tv_test.h"

struct tv_ram ram;
unsigned maxphy;

void guarded_ram_setup(void)
{
	tv_guarded_ram_alloc(&ram, RAM_SIZE);
	maxphy = TV_MAXPHYADDR_DEFAULT;
}

void guarded_ram_teardown(void)
{
	tv_guarded_ram_free(&ram);
}

void put32(uint64_t gpa, uint32_t value)
{
	ck_assert_int_eq(tv_ram_write(&ram, gpa, &value, sizeof(value)), 0);
}

void put64(uint64_t gpa, uint64_t value)
{
	ck_assert_int_eq(tv_ram_write(&ram, gpa, &value, sizeof(value)), 0);
}

uint64_t get64(uint64_t gpa)
{
	uint64_t value;

	ck_assert_int_eq(tv_ram_read(&ram, gpa, &value, sizeof(value)), 0);
	return value;
}

struct tv_sregs flat_sregs(uint64_t ds_base)
{
	struct tv_sregs s = { .cr0 = TV_CR0_PE };

	s.cs.db = 1;
	s.ds.base = ds_base;
	return s;
}

struct tv_sregs paged32_sregs(uint64_t cr3, bool pse)
{
	struct tv_sregs s = flat_sregs(0);

	s.cr0 |= TV_CR0_PG;
	s.cr3 = cr3;
	s.cr4 = pse ? TV_CR4_PSE : 0;
	return s;
}

struct tv_sregs pae_sregs(uint64_t cr3)
{
	struct tv_sregs s = paged32_sregs(cr3, false);

	s.cr4 = TV_CR4_PAE;
	s.efer = TV_EFER_NXE;
	return s;
}

struct tv_sregs long_sregs(uint64_t cr3)
{
	struct tv_sregs s = pae_sregs(cr3);

	s.efer = TV_EFER_LME | TV_EFER_LMA | TV_EFER_NXE;
	s.cs.l = 1;
	s.cs.db = 0;
	s.ds.base = 0x5000;
	return s;
}

struct tv_sregs pae_tables(void)
{
	put64(T0 + 0x20 + 8 * 1, T2 | TV_PTE_P);
	put64(T2 + 8 * 3, T3 | PTE);
	put64(T3 + 8 * 4, 0x40000 | PTE | TV_PTE_XD);
	put64(T2 + 8 * 5, 0x600000 | PTE | TV_PTE_PS);
	return pae_sregs(T0 + 0x20);
}

struct tv_sregs long_tables(void)
{
	put64(T0 + 8 * 1, T1 | PTE);
	put64(T0 + 8 * 256, T1 | PTE);
	put64(T1 + 8 * 2, T2 | PTE);
	put64(T1 + 8 * 5, 0x40000000 | PTE | TV_PTE_PS);
	put64(T2 + 8 * 3, T3 | PTE);
	put64(T2 + 8 * 6, 0x400000 | PTE | TV_PTE_PS | TV_PTE_XD);
	put64(T3 + 8 * 4, 0x50000 | PTE | TV_PTE_XD);
	return long_sregs(T0);
}
