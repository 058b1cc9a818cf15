/* The multiboot v1 loader (multiboot.h): the header found and checked, the kernel's ELF segments
 * loaded by elf_load.c, and the boot information written above them. */
#include "multiboot.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "backend.h" /* tv_set_error */
#include "elf_load.h"
#include "layout.h"

/* The information structure's fields (Multiboot 0.6.96, 3.3), by byte offset. */
enum {
	MBI_FLAGS = 0,
	MBI_MEM_LOWER = 4,
	MBI_MEM_UPPER = 8,
	MBI_CMDLINE = 16,
	MBI_MODS_COUNT = 20,
	MBI_MODS_ADDR = 24,
};

/* A module list entry: start, end (one past the last byte), its string, a reserved word. */
enum { MOD_START = 0, MOD_END = 4, MOD_STRING = 8, MOD_SIZE = 16 };

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define LOW_MEMORY_KIB 640ull /* conventional memory, below the legacy holes */

/* Every address the information holds is 32 bits wide. */
_Static_assert(TV_RAM_MAX <= 4 * 1024 * MiB, "the boot information's addresses are 32-bit");

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t page_up(uint64_t a)
{
	return (a + TV_PAGE_SIZE - 1) & ~(TV_PAGE_SIZE - 1);
}

bool tv_multiboot_find(const void *file, size_t len, struct tv_multiboot_header *h)
{
	const uint8_t *f = file;
	size_t limit = len < TV_MULTIBOOT_SEARCH ? len : TV_MULTIBOOT_SEARCH;

	/* The header's three words lie wholly inside the first 8 KiB. */
	for (size_t off = 0; limit >= 12 && off <= limit - 12; off += 4) {
		uint32_t magic = le32(f + off), flags = le32(f + off + 4), sum = le32(f + off + 8);

		if (magic == TV_MULTIBOOT_HEADER_MAGIC && (uint32_t)(magic + flags + sum) == 0) {
			h->offset = off;
			h->flags = flags;
			return true;
		}
	}
	return false;
}

/* The header's flags: what twinvm cannot do is refused, as the specification asks of a boot
 * loader that does not understand a requirement. */
static int check_flags(const struct tv_multiboot_header *h)
{
	uint32_t unknown = h->flags & 0xffffu & ~(TV_MULTIBOOT_PAGE_ALIGN | TV_MULTIBOOT_MEMORY_INFO);
	int bit;

	if (h->flags & TV_MULTIBOOT_AOUT_KLUDGE) {
		tv_set_error("the multiboot header (at file offset 0x%zx) sets flags bit 16, the a.out "
			     "kludge's load addresses, which twinvm does not support: it loads the "
			     "kernel by its ELF segments", h->offset);
		return -EINVAL;
	}
	if (!unknown)
		return 0;
	bit = __builtin_ctz(unknown);
	tv_set_error("the multiboot header (at file offset 0x%zx, flags 0x%" PRIx32 ") requires "
		     "flags bit %d (%s), which twinvm does not provide", h->offset, h->flags, bit,
		     bit == 2 ? "video mode information" : "not defined by Multiboot 0.6.96");
	return -EINVAL;
}

/* Where everything goes: four pages from the first page at or above both the kernel's end and
 * the hypervisor's structures (the last one as many as the environment needs), all in RAM. */
static int plan(uint64_t kernel_end, uint64_t ram_size, size_t env_len,
		struct tv_multiboot_boot *b)
{
	uint64_t base = page_up(kernel_end > TV_LAYOUT_END ? kernel_end : TV_LAYOUT_END);

	b->info = base;
	b->cmdline = base + TV_PAGE_SIZE;
	b->mods = base + 2 * TV_PAGE_SIZE;
	b->env = base + 3 * TV_PAGE_SIZE;
	/* kernel_end is at most ram_size (tv_elf_extent checked it), so base and env cannot wrap;
	 * env_len is compared before it is added. */
	if (b->env > ram_size || env_len > ram_size - b->env) {
		tv_set_error("the multiboot information, command line, module list and %zu-byte "
			     "environment module (from 0x%" PRIx64 ", above the kernel's end at 0x%"
			     PRIx64 ") do not fit in guest RAM (0x%" PRIx64 " bytes): raise --mem",
			     env_len, base, kernel_end, ram_size);
		return -EINVAL;
	}
	b->end = page_up(b->env + env_len);
	if (b->end > ram_size)
		b->end = ram_size; /* the environment's last page is RAM's last, part of it */
	return 0;
}

int tv_multiboot_check(const void *file, size_t len, uint64_t ram_size, enum tv_mode mode,
		       size_t env_len, struct tv_multiboot_boot *b)
{
	struct tv_multiboot_header h;
	uint64_t end;
	int rc;

	if (!tv_multiboot_find(file, len, &h)) {
		tv_set_error("no multiboot header (magic 0x1BADB002 with its checksum, 4-byte "
			     "aligned) in the file's first 8 KiB");
		return -EINVAL;
	}
	rc = check_flags(&h);
	if (rc)
		return rc;
	if (!tv_elf_is(file, len)) {
		tv_set_error("a multiboot kernel without the a.out kludge (flags bit 16) must be an "
			     "ELF file, and this one is not");
		return -EINVAL;
	}
	if (mode != TV_MODE_PROTECTED) {
		tv_set_error("a multiboot kernel starts in protected mode (flat 32-bit, EAX "
			     "0x2BADB002), not %s mode: give --mode protected or leave --mode out",
			     tv_mode_name(mode));
		return -EINVAL;
	}
	rc = tv_elf_extent(file, len, ram_size, mode, &b->entry, &end);
	return rc ? rc : plan(end, ram_size, env_len, b);
}

/* The information, the command line and the module, into the pages plan chose (host: from
 * b->info on). */
static void write_info(uint8_t *host, uint64_t ram_size, const struct tv_multiboot_boot *b,
		       const void *env, size_t env_len, const char *cmdline)
{
	uint8_t *info = host, *mod = host + (b->mods - b->info);
	uint64_t lower = ram_size / KiB < LOW_MEMORY_KIB ? ram_size / KiB : LOW_MEMORY_KIB;

	memset(host, 0, b->end - b->info); /* the empty strings, and every field not given */
	put32(info + MBI_FLAGS, TV_MBI_MEM | TV_MBI_CMDLINE | TV_MBI_MODS);
	put32(info + MBI_MEM_LOWER, lower);
	put32(info + MBI_MEM_UPPER, ram_size > MiB ? (ram_size - MiB) / KiB : 0);
	put32(info + MBI_CMDLINE, b->cmdline);
	put32(info + MBI_MODS_COUNT, 1);
	put32(info + MBI_MODS_ADDR, b->mods);
	put32(mod + MOD_START, b->env);
	put32(mod + MOD_END, b->env + env_len);
	put32(mod + MOD_STRING, b->mods + MOD_SIZE);
	memcpy(host + (b->env - b->info), env, env_len);
	memcpy(host + (b->cmdline - b->info), cmdline, strlen(cmdline)); /* its NUL: the memset's */
}

int tv_multiboot_load(const void *file, size_t len, const struct tv_ram *ram, enum tv_mode mode,
		      const void *env, size_t env_len, const char *cmdline,
		      struct tv_multiboot_boot *b)
{
	struct tv_multiboot_boot p;
	uint64_t entry;
	uint8_t *host;
	int rc;

	if (!env) {
		env = TV_MULTIBOOT_ENV_DEFAULT;
		env_len = sizeof(TV_MULTIBOOT_ENV_DEFAULT) - 1;
	}
	if (!cmdline)
		cmdline = "";
	if (strlen(cmdline) > TV_MULTIBOOT_CMDLINE_MAX) {
		tv_set_error("a multiboot command line of %zu bytes: it has one page, at most %d bytes",
			     strlen(cmdline), TV_MULTIBOOT_CMDLINE_MAX);
		return -EINVAL;
	}
	rc = tv_multiboot_check(file, len, ram->size, mode, env_len, &p);
	if (rc)
		return rc;
	host = tv_ram_ptr(ram, p.info, p.end - p.info);
	if (!host) {
		tv_set_error("the multiboot information at 0x%" PRIx64 " is outside guest RAM", p.info);
		return -EFAULT;
	}
	rc = tv_elf_load(file, len, ram, mode, &entry);
	if (rc)
		return rc;
	write_info(host, ram->size, &p, env, env_len, cmdline);
	*b = p;
	return 0;
}
