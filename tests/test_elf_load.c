/* ELF guests in-process: each PT_LOAD segment lands at its p_paddr with the rest of p_memsz
 * zeroed, the vCPU starts at e_entry on both engines, and the fields a hostile file can make
 * wrap or point outside the file, RAM or the hypervisor's own pages are refused. */
#include <errno.h>
#include <string.h>

#include "elf_craft.h"
#include "elf_load.h"
#include "layout.h"
#include "run_guest.h"
#include "tv_test.h"

/* A second segment, past the hypervisor's structures: 4 bytes from the file, 0x100 in RAM. */
#define DATA_OFF 0x180
#define DATA_PADDR TV_LAYOUT_END

/* Loads an ELF of both classes into RAM filled with 0xaa, so every byte the loader did not
 * write still says so. */
static void loads_at_paddr(int bits)
{
	static const uint8_t data[4] = { 0xde, 0xc0, 0xad, 0x0b };
	const struct craft_seg segs[] = {
		{ PT_LOAD, CRAFT_CODE_OFF, CRAFT_PADDR, CRAFT_CODE_LEN, CRAFT_MEMSZ },
		{ PT_NOTE, 0, 0, 4, 4 }, /* not loaded: only PT_LOAD is */
		{ PT_LOAD, DATA_OFF, DATA_PADDR, sizeof(data), 0x100 },
	};
	struct tv_ram ram;
	struct craft f;
	uint64_t entry = 0;
	uint8_t *r;

	craft_elf(&f, bits, TV_MODE_LONG);
	craft_segments(&f, segs, 3);
	memcpy(f.b + DATA_OFF, data, sizeof(data));
	f.len = DATA_OFF + sizeof(data);
	ck_assert_int_eq(tv_ram_alloc(&ram, TV_RAM_DEFAULT), 0);
	r = ram.host;
	memset(r, 0xaa, ram.size);

	ck_assert_msg(tv_elf_load(f.b, f.len, &ram, TV_MODE_LONG, &entry) == 0, "%s",
		      tv_last_error());
	ck_assert_uint_eq(entry, CRAFT_ENTRY);
	ck_assert_mem_eq(r + CRAFT_PADDR, f.b + CRAFT_CODE_OFF, CRAFT_CODE_LEN);
	for (uint64_t a = CRAFT_PADDR + CRAFT_CODE_LEN; a < CRAFT_PADDR + CRAFT_MEMSZ; a++)
		ck_assert_msg(r[a] == 0, "0x%llx not zeroed", (unsigned long long)a);
	ck_assert_mem_eq(r + DATA_PADDR, data, sizeof(data));
	for (uint64_t a = DATA_PADDR + sizeof(data); a < DATA_PADDR + 0x100; a++)
		ck_assert_msg(r[a] == 0, "0x%llx not zeroed", (unsigned long long)a);
	/* Nothing anywhere else: not the file at 0, as a raw image would be, nor past memsz. */
	ck_assert_uint_eq(r[0], 0xaa);
	ck_assert_uint_eq(r[CRAFT_PADDR - 1], 0xaa);
	ck_assert_uint_eq(r[CRAFT_PADDR + CRAFT_MEMSZ], 0xaa);
	ck_assert_uint_eq(r[DATA_PADDR + 0x100], 0xaa);
	tv_ram_free(&ram);
}

START_TEST(test_elf64_segments_land_at_paddr_rest_zeroed)
{
	loads_at_paddr(64);
}
END_TEST

START_TEST(test_elf32_segments_land_at_paddr_rest_zeroed)
{
	loads_at_paddr(32);
}
END_TEST

/* Runs the crafted ELF in mode: it halts with 42 in EAX only when started at e_entry (the
 * segment's start halts with 1; the file's header at 0, where a raw image starts, is no code).
 * Either class in every mode: the class is the container, not the code's width. */
static void starts_at_e_entry(const char *engine, int i)
{
	enum tv_mode mode = (enum tv_mode)(i / 2);
	int bits = i % 2 ? 64 : 32;
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	struct craft f;
	char why[512];

	be = tv_test_engine(engine, mode, why, sizeof(why));
	if (!be)
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	craft_elf(&f, bits, mode);
	tv_test_run(&t, be, mode, f.b, f.len, NULL, 30);
	ck_assert_msg(t.last.reason == TV_EXIT_HLT, "%s/%s ELF%d: ended in %s: %s", engine,
		      tv_mode_name(mode), bits, tv_exit_reason_name(t.last.reason), t.last.detail);
	ck_assert_uint_eq(t.regs.rax & 0xffffffff, CRAFT_RAX);
	ck_assert_uint_eq(t.regs.rip, CRAFT_ENTRY + craft_hlt_end(mode));
	tv_test_run_end(&t);
}

START_TEST(test_elf_starts_at_e_entry_emu)
{
	starts_at_e_entry("emu", _i);
}
END_TEST

START_TEST(test_elf_starts_at_e_entry_kvm)
{
	starts_at_e_entry("kvm", _i);
}
END_TEST

/* A raw image (no ELF magic) still loads at 0 and starts there. */
START_TEST(test_raw_image_still_loads_at_0)
{
	static const uint8_t raw[] = { 0xb8, 0x07, 0x00, 0x00, 0x00, 0xf4 }; /* mov eax, 7; hlt */
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	char why[512];

	be = tv_test_engine("emu", TV_MODE_PROTECTED, why, sizeof(why));
	ck_assert_ptr_nonnull(be);
	tv_test_run(&t, be, TV_MODE_PROTECTED, raw, sizeof(raw), NULL, 30);
	ck_assert_int_eq(t.last.reason, TV_EXIT_HLT);
	ck_assert_uint_eq(t.regs.rax, 7);
	ck_assert_uint_eq(t.regs.rip, sizeof(raw));
	tv_test_run_end(&t);
}
END_TEST

/* tv_elf_check of the crafted ELF64 with a second segment at [paddr, paddr + memsz) (a bss: no
 * bytes from the file), the entry where it was. */
static int check_at(uint64_t paddr, uint64_t memsz, enum tv_mode mode)
{
	const struct craft_seg segs[] = {
		{ PT_LOAD, CRAFT_CODE_OFF, CRAFT_PADDR, CRAFT_CODE_LEN, CRAFT_MEMSZ },
		{ PT_LOAD, 0, paddr, 0, memsz },
	};
	struct craft f;
	uint64_t entry;

	craft_elf(&f, 64, mode);
	craft_segments(&f, segs, 2);
	return tv_elf_check(f.b, f.len, TV_RAM_DEFAULT, mode, &entry);
}

/* Each mode refuses exactly the pages it writes: the GDT is free in real mode, the page
 * directory outside paged32, the long-mode tables outside long mode; the stack and the scratch
 * page are never free. The edges are exact. */
START_TEST(test_each_mode_refuses_only_its_own_structures)
{
	for (int i = 0; i < TV_MODE_COUNT; i++) {
		enum tv_mode m = (enum tv_mode)i;

		ck_assert_int_eq(check_at(TV_STACK_BOTTOM - 0x10, 0x10, m), 0);
		ck_assert_int_eq(check_at(TV_STACK_BOTTOM - 0x10, 0x11, m), -EINVAL);
		ck_assert_int_eq(check_at(TV_SCRATCH + 0x800, 0x10, m), -EINVAL);
		ck_assert_int_eq(check_at(TV_GDT, 0x10, m), m == TV_MODE_REAL ? 0 : -EINVAL);
		ck_assert_int_eq(check_at(TV_PD32, 0x10, m), m == TV_MODE_PAGED32 ? -EINVAL : 0);
		ck_assert_int_eq(check_at(TV_PML4, 0x10, m), m == TV_MODE_LONG ? -EINVAL : 0);
		ck_assert_int_eq(check_at(TV_LAYOUT_END - 1, 0x10, m),
				 m == TV_MODE_LONG ? -EINVAL : 0);
		ck_assert_int_eq(check_at(TV_LAYOUT_END, 0x10, m), 0);
		/* A segment with nothing in it occupies nothing. */
		ck_assert_int_eq(check_at(TV_STACK_BOTTOM, 0, m), 0);
	}
	ck_assert_int_eq(check_at(TV_GDT, 0x10, TV_MODE_LONG), -EINVAL);
	ck_assert_str_eq(tv_last_error(), "segment 1 (0x10000-0x1000f) overlaps the GDT at "
			 "0x10000-0x10fff that long mode uses; link it below 0xe000 or from 0x18000 on");
}
END_TEST

/* Real mode starts with CS at 0: an entry above 0xffff is out of IP's reach. */
START_TEST(test_real_mode_entry_above_64k_is_refused)
{
	struct craft f;
	uint64_t entry;

	craft_elf(&f, 32, TV_MODE_REAL);
	craft_ehdr32(&f)->e_entry = 0x20000;
	craft_phdr32(&f, 0)->p_paddr = 0x20000;
	ck_assert_int_eq(tv_elf_check(f.b, f.len, TV_RAM_DEFAULT, TV_MODE_REAL, &entry), -EINVAL);
	ck_assert_ptr_nonnull(strstr(tv_last_error(), "above 0xffff"));
	ck_assert_int_eq(tv_elf_check(f.b, f.len, TV_RAM_DEFAULT, TV_MODE_PROTECTED, &entry), 0);
	ck_assert_uint_eq(entry, 0x20000);
}
END_TEST

/* Sums a hostile file makes wrap around 2^64 are refused, not wrapped into range. */
START_TEST(test_wrapping_fields_are_refused)
{
	struct craft f;
	uint64_t entry;

	craft_elf(&f, 64, TV_MODE_LONG);
	craft_phdr64(&f, 0)->p_offset = UINT64_MAX - 7; /* + filesz 16 wraps to 8 */
	ck_assert_int_eq(tv_elf_check(f.b, f.len, TV_RAM_DEFAULT, TV_MODE_LONG, &entry), -EINVAL);
	ck_assert_ptr_nonnull(strstr(tv_last_error(), "past the end of the file"));

	craft_elf(&f, 64, TV_MODE_LONG);
	craft_phdr64(&f, 0)->p_paddr = UINT64_MAX - 0xfff; /* + memsz 0x2000 wraps to 0x1000 */
	craft_phdr64(&f, 0)->p_memsz = 0x2000;
	ck_assert_int_eq(tv_elf_check(f.b, f.len, TV_RAM_DEFAULT, TV_MODE_LONG, &entry), -EINVAL);
	ck_assert_ptr_nonnull(strstr(tv_last_error(), "leaves guest RAM"));

	craft_elf(&f, 64, TV_MODE_LONG);
	craft_ehdr64(&f)->e_phoff = UINT64_MAX - 8; /* + 56 wraps */
	ck_assert_int_eq(tv_elf_check(f.b, f.len, TV_RAM_DEFAULT, TV_MODE_LONG, &entry), -EINVAL);
	ck_assert_ptr_nonnull(strstr(tv_last_error(), "program headers"));

	/* ELF32: 0xfffff000 + 0x2000 wraps in 32 bits; the loader sums in 64 and sees past RAM. */
	craft_elf(&f, 32, TV_MODE_PROTECTED);
	craft_phdr32(&f, 0)->p_paddr = 0xfffff000;
	craft_phdr32(&f, 0)->p_memsz = 0x2000;
	ck_assert_int_eq(tv_elf_check(f.b, f.len, TV_RAM_DEFAULT, TV_MODE_PROTECTED, &entry),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(tv_last_error(), "leaves guest RAM"));
}
END_TEST

/* A refused file leaves RAM as it was: the checks all come before the first copy. */
START_TEST(test_refused_file_copies_nothing)
{
	const struct craft_seg segs[] = {
		{ PT_LOAD, CRAFT_CODE_OFF, CRAFT_PADDR, CRAFT_CODE_LEN, CRAFT_MEMSZ },
		{ PT_LOAD, CRAFT_CODE_OFF, TV_GDT, CRAFT_CODE_LEN, CRAFT_MEMSZ }, /* the GDT */
	};
	struct tv_ram ram;
	struct craft f;
	uint64_t entry = 0x1234;

	craft_elf(&f, 64, TV_MODE_LONG);
	craft_segments(&f, segs, 2);
	ck_assert_int_eq(tv_ram_alloc(&ram, TV_RAM_DEFAULT), 0);
	ck_assert_int_eq(tv_elf_load(f.b, f.len, &ram, TV_MODE_LONG, &entry), -EINVAL);
	ck_assert_ptr_nonnull(strstr(tv_last_error(), "overlaps the GDT"));
	ck_assert_uint_eq(((uint8_t *)ram.host)[CRAFT_PADDR], 0);
	ck_assert_uint_eq(entry, 0x1234);
	tv_ram_free(&ram);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elf_load");
	TCase *tc = tcase_create("elf_load");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_elf64_segments_land_at_paddr_rest_zeroed);
	tcase_add_test(tc, test_elf32_segments_land_at_paddr_rest_zeroed);
	tcase_add_loop_test(tc, test_elf_starts_at_e_entry_emu, 0, 2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_elf_starts_at_e_entry_kvm, 0, 2 * TV_MODE_COUNT);
	tcase_add_test(tc, test_raw_image_still_loads_at_0);
	tcase_add_test(tc, test_each_mode_refuses_only_its_own_structures);
	tcase_add_test(tc, test_real_mode_entry_above_64k_is_refused);
	tcase_add_test(tc, test_wrapping_fields_are_refused);
	tcase_add_test(tc, test_refused_file_copies_nothing);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
