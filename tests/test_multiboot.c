/* Multiboot v1 kernels (core/guest/multiboot.c): the header is found only where the specification
 * puts it, flags twinvm cannot honour are refused, the boot information lands above the kernel
 * with the memory size, the command line and the environment module, and the vCPU starts with
 * EAX 0x2BADB002 and EBX the information. guests/multiboot.S through the binary is
 * test_multiboot_run.c's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "elf_craft.h"
#include "elf_load.h"
#include "layout.h"
#include "multiboot.h"
#include "run_binary.h"
#include "run_guest.h"
#include "tv_test.h"

#define FILL 0xaa
#define KERNEL_MAX 0x3000
#define HEADER_OFF 0x180 /* past the crafted file's headers and code */
#define RAM_4M (4ull << 20)

/* A crafted kernel: elf_craft's ELF32 (code for protected mode at CRAFT_PADDR) with room for a
 * multiboot header anywhere in its first 12 KiB. */
struct kernel {
	_Alignas(8) uint8_t b[KERNEL_MAX];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* the host is little-endian, as x86 files are */
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The header at off with flags; sum_off added to a right checksum. */
static void put_header(struct kernel *k, size_t off, uint32_t flags, uint32_t sum_off)
{
	put32(k->b + off, TV_MULTIBOOT_HEADER_MAGIC);
	put32(k->b + off + 4, flags);
	put32(k->b + off + 8, -(TV_MULTIBOOT_HEADER_MAGIC + flags) + sum_off);
	if (k->len < off + 12)
		k->len = off + 12;
}

static void make_kernel(struct kernel *k, size_t off, uint32_t flags)
{
	struct craft f;

	memset(k, 0, sizeof(*k));
	craft_elf(&f, 32, TV_MODE_PROTECTED);
	memcpy(k->b, f.b, f.len);
	k->len = f.len;
	put_header(k, off, flags, 0);
}

/* Replaces the kernel's program headers with segs (the code's bytes from the file). */
static void kernel_segments(struct kernel *k, const struct craft_seg *segs, unsigned n)
{
	struct craft f;

	craft_elf(&f, 32, TV_MODE_PROTECTED);
	craft_segments(&f, segs, n);
	memcpy(k->b, f.b, sizeof(Elf32_Ehdr) + n * sizeof(Elf32_Phdr));
	((Elf32_Ehdr *)k->b)->e_entry = (Elf32_Addr)(segs[0].paddr + 8);
}

static void ram_filled(struct tv_ram *ram, uint64_t size)
{
	ck_assert_int_eq(tv_ram_alloc(ram, size), 0);
	memset(ram->host, FILL, ram->size);
}

static bool ram_untouched(const struct tv_ram *ram)
{
	for (uint64_t i = 0; i < ram->size; i++)
		if (ram->host[i] != FILL)
			return false;
	return true;
}

/* tv_multiboot_check refuses k in mode with an error containing want. */
static void assert_refused(const struct kernel *k, enum tv_mode mode, uint64_t ram_size,
			   size_t env_len, const char *want)
{
	struct tv_multiboot_boot b;

	ck_assert_int_eq(tv_multiboot_check(k->b, k->len, ram_size, mode, env_len, &b), -EINVAL);
	ck_assert_msg(strstr(tv_last_error(), want), "'%s' lacks '%s'", tv_last_error(), want);
	ck_assert_msg(!strchr(tv_last_error(), '\n'), "%s", tv_last_error());
}

/* ==== the header ============================================================================ */

/* Wholly inside the first 8192 bytes and 4-byte aligned: 8180 is (its checksum ends at 8192),
 * 8184 and 8192 are not, nor an offset off the 4-byte grid. */
START_TEST(test_header_found_only_aligned_within_the_first_8k)
{
	static const struct { size_t off; bool found; } cases[] = {
		{ HEADER_OFF, true }, { 8180, true }, { 8184, false }, { 8192, false },
		{ HEADER_OFF + 2, false },
	};
	struct tv_multiboot_header h;
	struct kernel k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_kernel(&k, cases[i].off, TV_MULTIBOOT_MEMORY_INFO);
		ck_assert_msg(tv_multiboot_find(k.b, k.len, &h) == cases[i].found, "offset %zu",
			      cases[i].off);
		ck_assert(!cases[i].found || (h.offset == cases[i].off &&
					      h.flags == TV_MULTIBOOT_MEMORY_INFO));
	}
	/* cut short: the file ends inside the header */
	make_kernel(&k, 8180, 0);
	ck_assert(!tv_multiboot_find(k.b, 8188, &h));
}
END_TEST

/* The magic without a checksum that adds up is no header: the file is a plain ELF guest, which
 * the image check takes in long mode (a multiboot kernel would be refused there). */
START_TEST(test_bad_checksum_is_no_header)
{
	struct tv_multiboot_header h;
	struct kernel k;

	make_kernel(&k, HEADER_OFF, 0);
	put_header(&k, HEADER_OFF, 0, 1);
	ck_assert(!tv_multiboot_find(k.b, k.len, &h));
	ck_assert_msg(tv_guest_image_check(k.b, k.len, TV_RAM_DEFAULT, TV_MODE_LONG) == 0, "%s",
		      tv_last_error());
	put_header(&k, HEADER_OFF, 0, 0);
	ck_assert_int_eq(tv_guest_image_check(k.b, k.len, TV_RAM_DEFAULT, TV_MODE_LONG), -EINVAL);
}
END_TEST

/* Bit 16 (the a.out kludge) and a requirement bit twinvm cannot meet are refused, one line
 * each; bits 0 and 1 and the optional bits from 17 on are taken. */
START_TEST(test_flags_bit16_and_unknown_requirements_refused)
{
	static const uint32_t taken[] = { 0, 1, 2, 3, 1u << 17, 1u << 31 };
	struct tv_multiboot_boot b;
	struct kernel k;

	make_kernel(&k, HEADER_OFF, TV_MULTIBOOT_AOUT_KLUDGE);
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M, 10, "flags bit 16, the a.out kludge");
	make_kernel(&k, HEADER_OFF, 1u << 2 | 1u << 1);
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M, 10, "requires flags bit 2 (video mode");
	make_kernel(&k, HEADER_OFF, 1u << 15);
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M, 10, "requires flags bit 15");
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		make_kernel(&k, HEADER_OFF, taken[i]);
		ck_assert_msg(tv_multiboot_check(k.b, k.len, RAM_4M, TV_MODE_PROTECTED, 10, &b) == 0,
			      "flags 0x%x: %s", taken[i], tv_last_error());
	}
}
END_TEST

/* A header in a file that is not ELF, and any mode but protected, are refused. */
START_TEST(test_not_elf_and_other_modes_refused)
{
	struct kernel k;

	make_kernel(&k, HEADER_OFF, 0);
	k.b[0] = 0; /* no ELF magic */
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M, 10, "must be an ELF file");
	make_kernel(&k, HEADER_OFF, 0);
	assert_refused(&k, TV_MODE_REAL, RAM_4M, 10, "not real mode");
	assert_refused(&k, TV_MODE_PAGED32, RAM_4M, 10, "not paged32 mode");
	assert_refused(&k, TV_MODE_LONG, RAM_4M, 10, "not long mode");
}
END_TEST

/* ==== the boot information ================================================================== */

/* The information above the highest segment, page-aligned: flags MEM, CMDLINE and MODS,
 * mem_lower 640, mem_upper (RAM - 1 MiB) / 1024, an empty command line, one module holding env
 * (the default when NULL) whose string is empty. The segments loaded, RAM past the module
 * untouched. */
static void assert_info(const struct kernel *k, uint64_t seg_end, const char *env, size_t env_len)
{
	const char *want = env ? env : TV_MULTIBOOT_ENV_DEFAULT;
	size_t want_len = env ? env_len : strlen(TV_MULTIBOOT_ENV_DEFAULT);
	struct tv_multiboot_boot b;
	struct tv_ram ram;
	uint8_t *r, *info, *mod;
	uint64_t base = (seg_end + 0xfff) & ~0xfffull;

	base = base < TV_LAYOUT_END ? TV_LAYOUT_END : base;
	ram_filled(&ram, RAM_4M);
	r = ram.host;
	ck_assert_msg(tv_multiboot_load(k->b, k->len, &ram, TV_MODE_PROTECTED, env, env_len, NULL,
				       &b) == 0, "%s", tv_last_error());
	ck_assert_uint_eq(b.entry, get32(k->b + 24));
	ck_assert_uint_eq(b.info, base);
	info = r + b.info;
	ck_assert_uint_eq(get32(info), TV_MBI_MEM | TV_MBI_CMDLINE | TV_MBI_MODS);
	ck_assert_uint_eq(get32(info + 4), 640);
	ck_assert_uint_eq(get32(info + 8), (RAM_4M - (1 << 20)) / 1024);
	ck_assert_uint_eq(get32(info + 12), 0); /* boot_device: not given */
	ck_assert_uint_eq(get32(info + 16), b.cmdline);
	ck_assert_uint_eq(r[b.cmdline], 0);
	ck_assert_uint_eq(get32(info + 20), 1);
	ck_assert_uint_eq(get32(info + 24), b.mods);
	ck_assert(b.cmdline > b.info && b.mods > b.cmdline && b.env > b.mods && b.end <= ram.size);
	ck_assert_uint_eq((b.cmdline | b.mods | b.env | b.end) % TV_PAGE_SIZE, 0);
	mod = r + b.mods;
	ck_assert_uint_eq(get32(mod), b.env);
	ck_assert_uint_eq(get32(mod + 4), b.env + want_len);
	ck_assert_uint_eq(r[get32(mod + 8)], 0);
	ck_assert_mem_eq(r + b.env, want, want_len);
	ck_assert_uint_eq(r[b.end], FILL);
	ck_assert_uint_eq(r[base - 1], FILL); /* the gap up to it: nobody's */
	ck_assert_mem_eq(r + CRAFT_PADDR, k->b + CRAFT_CODE_OFF, CRAFT_CODE_LEN);
	tv_ram_free(&ram);
}

/* A kernel that ends low: the information starts at TV_LAYOUT_END, past the GDT and tables. */
START_TEST(test_info_at_layout_end_above_a_low_kernel)
{
	struct kernel k;

	make_kernel(&k, HEADER_OFF, TV_MULTIBOOT_MEMORY_INFO);
	assert_info(&k, CRAFT_PADDR + CRAFT_MEMSZ, NULL, 0);
}
END_TEST

/* A second segment ending mid-page high up (its bss included): the information starts at the
 * next page. */
START_TEST(test_info_above_the_highest_segment_end)
{
	const struct craft_seg segs[] = {
		{ PT_LOAD, CRAFT_CODE_OFF, CRAFT_PADDR, CRAFT_CODE_LEN, CRAFT_MEMSZ },
		{ PT_LOAD, CRAFT_CODE_OFF, 0x200000, 4, 0x1234 },
	};
	struct kernel k;

	make_kernel(&k, HEADER_OFF, 0);
	kernel_segments(&k, segs, 2);
	assert_info(&k, 0x201234, NULL, 0);
}
END_TEST

/* An environment file's bytes, over a page long, are the module, whole. */
START_TEST(test_env_file_bytes_become_the_module)
{
	static char env[5000];
	struct kernel k;

	for (size_t i = 0; i < sizeof(env); i++)
		env[i] = (char)('A' + i % 26);
	make_kernel(&k, HEADER_OFF, 0);
	assert_info(&k, CRAFT_PADDR + CRAFT_MEMSZ, env, sizeof(env));
}
END_TEST

/* Less than 1 MiB of RAM: mem_upper 0, mem_lower what there is. */
START_TEST(test_small_ram_has_no_upper_memory)
{
	struct tv_multiboot_boot b;
	struct kernel k;
	struct tv_ram ram;

	make_kernel(&k, HEADER_OFF, 0);
	ram_filled(&ram, 512 << 10);
	ck_assert_msg(tv_multiboot_load(k.b, k.len, &ram, TV_MODE_PROTECTED, NULL, 0, NULL, &b) == 0,
		      "%s", tv_last_error());
	ck_assert_uint_eq(get32(ram.host + b.info + 4), 512);
	ck_assert_uint_eq(get32(ram.host + b.info + 8), 0);
	tv_ram_free(&ram);
}
END_TEST

/* The command line is written NUL-terminated on its page, up to the page's size less one; a
 * longer one is refused before anything is written. */
START_TEST(test_cmdline_written_and_longest_one_fits_its_page)
{
	static char line[TV_MULTIBOOT_CMDLINE_MAX + 2];
	struct tv_multiboot_boot b;
	struct kernel k;
	struct tv_ram ram;

	make_kernel(&k, HEADER_OFF, 0);
	ram_filled(&ram, RAM_4M);
	memset(line, 'a', TV_MULTIBOOT_CMDLINE_MAX);
	ck_assert_int_eq(tv_multiboot_load(k.b, k.len, &ram, TV_MODE_PROTECTED, NULL, 0, line, &b), 0);
	ck_assert_uint_eq(get32(ram.host + b.info + 16), b.cmdline);
	ck_assert_str_eq((char *)ram.host + b.cmdline, line); /* its NUL the page's last byte */
	ck_assert_uint_eq(b.mods, b.cmdline + TV_PAGE_SIZE);
	line[TV_MULTIBOOT_CMDLINE_MAX] = 'a';
	memset(ram.host, FILL, ram.size);
	ck_assert_int_eq(tv_multiboot_load(k.b, k.len, &ram, TV_MODE_PROTECTED, NULL, 0, line, &b),
			 -EINVAL);
	ck_assert_msg(ram_untouched(&ram), "a refused command line wrote RAM");
	tv_ram_free(&ram);
}
END_TEST

/* A segment past RAM is the ELF loader's refusal; boot information that does not fit above the
 * kernel names what and asks for --mem; an environment larger than RAM cannot wrap the sum. RAM
 * is left as it was each time. */
START_TEST(test_segments_over_ram_and_info_not_fitting_refused)
{
	const struct craft_seg segs[] = {
		{ PT_LOAD, CRAFT_CODE_OFF, CRAFT_PADDR, CRAFT_CODE_LEN, CRAFT_MEMSZ },
		{ PT_LOAD, CRAFT_CODE_OFF, RAM_4M - 0x2000, 4, 0x1800 }, /* 3 pages + env do not fit */
	};
	struct tv_multiboot_boot b;
	struct tv_ram ram;
	struct kernel k;

	make_kernel(&k, HEADER_OFF, 0);
	kernel_segments(&k, segs, 2);
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M - 0x1000, 10, "leaves guest RAM");
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M, 10, "do not fit in guest RAM (0x400000 "
		       "bytes): raise --mem");
	ck_assert_int_eq(tv_multiboot_check(k.b, k.len, RAM_4M + 0x4000, TV_MODE_PROTECTED, 10, &b),
			 0);
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M + 0x4000, 0x1001, "4097-byte environment");
	make_kernel(&k, HEADER_OFF, 0);
	assert_refused(&k, TV_MODE_PROTECTED, RAM_4M, SIZE_MAX, "do not fit");
	kernel_segments(&k, segs, 2);
	ram_filled(&ram, RAM_4M);
	ck_assert_int_eq(tv_multiboot_load(k.b, k.len, &ram, TV_MODE_PROTECTED, NULL, 0, NULL, &b),
			 -EINVAL);
	ck_assert_msg(ram_untouched(&ram), "a refused kernel wrote RAM");
	tv_ram_free(&ram);
}
END_TEST

/* ==== the vCPU ============================================================================== */

static const char *const engines[] = { "emu", "kvm" };

/* tv_machine_boot starts a multiboot kernel at its entry with EAX the magic and EBX the
 * information; a plain ELF guest starts with both 0, as before. */
START_TEST(test_vcpu_starts_with_magic_in_eax_and_info_in_ebx)
{
	const char *engine = engines[_i];
	const struct tv_backend_ops *be;
	struct tv_test_run t;
	struct tv_regs regs;
	struct kernel k;
	char why[512];

	if (!(be = tv_test_engine(engine, TV_MODE_PROTECTED, why, sizeof(why))))
		TV_SKIP("%s: %s", engine, why);
	for (int multiboot = 1; multiboot >= 0; multiboot--) {
		make_kernel(&k, HEADER_OFF, 0);
		put_header(&k, HEADER_OFF, 0, !multiboot);
		tv_test_prepare(&t, be, TV_MODE_PROTECTED, k.b, k.len, NULL);
		ck_assert_int_eq(be->get_regs(t.m.vcpu, &regs), 0);
		ck_assert_uint_eq(regs.rip, CRAFT_ENTRY);
		ck_assert_uint_eq(regs.rax, (multiboot ? TV_MULTIBOOT_BOOT_MAGIC : 0));
		ck_assert_uint_eq(regs.rbx, (multiboot ? TV_LAYOUT_END : 0));
		tv_test_finish(&t, 20);
		ck_assert_int_eq(t.last.reason, TV_EXIT_HLT);
		ck_assert_uint_eq(t.regs.rax, CRAFT_RAX);
		tv_test_run_end(&t);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("multiboot");
	TCase *unit = tcase_create("loader"), *vcpu = tcase_create("vcpu");

	tcase_add_test(unit, test_header_found_only_aligned_within_the_first_8k);
	tcase_add_test(unit, test_bad_checksum_is_no_header);
	tcase_add_test(unit, test_flags_bit16_and_unknown_requirements_refused);
	tcase_add_test(unit, test_not_elf_and_other_modes_refused);
	tcase_add_test(unit, test_info_at_layout_end_above_a_low_kernel);
	tcase_add_test(unit, test_info_above_the_highest_segment_end);
	tcase_add_test(unit, test_env_file_bytes_become_the_module);
	tcase_add_test(unit, test_small_ram_has_no_upper_memory);
	tcase_add_test(unit, test_cmdline_written_and_longest_one_fits_its_page);
	tcase_add_test(unit, test_segments_over_ram_and_info_not_fitting_refused);
	tcase_add_loop_test(vcpu, test_vcpu_starts_with_magic_in_eax_and_info_in_ebx, 0, 2);
	suite_add_tcase(s, unit);
	suite_add_tcase(s, vcpu);
	return tv_test_main(s);
}
