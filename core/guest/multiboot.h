/* Multiboot v1 kernels (the Multiboot Specification 0.6.96), as kvm-unit-tests' x86 tests are: an
 * ELF file with a multiboot header in its first 8 KiB, loaded by its PT_LOAD segments (elf_load.h)
 * and entered in flat 32-bit protected mode with EAX = TV_MULTIBOOT_BOOT_MAGIC and EBX = the
 * guest-physical address of the multiboot information structure built in RAM above the kernel.
 * The information gives the memory size, a command line (QEMU gives the kernel's file name, then
 * -append's arguments: kvm-unit-tests takes its argv from it) and one module: an environment file
 * of KEY=value lines (kvm-unit-tests reads its settings from it). Every field of the file is
 * untrusted: checked against the file's size and RAM before a byte is copied. */
#ifndef TWINVM_MULTIBOOT_H
#define TWINVM_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guestmem.h"
#include "modes.h"

#define TV_MULTIBOOT_HEADER_MAGIC 0x1BADB002u
#define TV_MULTIBOOT_BOOT_MAGIC 0x2BADB002u /* EAX at the kernel's entry */
#define TV_MULTIBOOT_SEARCH 8192            /* the header lies in the file's first 8 KiB */

/* The environment module's contents when the user gives none: one CPU, so kvm-unit-tests does
 * not ask fw_cfg how many there are. */
#define TV_MULTIBOOT_ENV_DEFAULT "NR_CPUS=1\n"

/* The longest command line: it has one page, with its terminating NUL. */
#define TV_MULTIBOOT_CMDLINE_MAX 4095

/* The header's flags twinvm honours: bit 0 (modules page-aligned: they always are) and bit 1
 * (memory information: always given). Bit 16 (the a.out kludge's address fields) and the other
 * requirement bits (0-15) are refused; bits 17-31 are optional and ignored. */
#define TV_MULTIBOOT_PAGE_ALIGN (1u << 0)
#define TV_MULTIBOOT_MEMORY_INFO (1u << 1)
#define TV_MULTIBOOT_AOUT_KLUDGE (1u << 16)

/* The information structure's flags (which of its fields are valid) and its size. */
#define TV_MBI_MEM (1u << 0)
#define TV_MBI_CMDLINE (1u << 2)
#define TV_MBI_MODS (1u << 3)
#define TV_MBI_SIZE 88

/* A header found in a file: where, and its flags. */
struct tv_multiboot_header {
	size_t offset;
	uint32_t flags;
};

/* Whether file has a multiboot header: the magic at a 4-byte aligned offset within its first
 * 8 KiB, followed by flags and a checksum that add up to 0 with it. true with *h set to the
 * first one. */
bool tv_multiboot_find(const void *file, size_t len, struct tv_multiboot_header *h);

/* Where tv_multiboot_load put the kernel's boot information, each page-aligned, in this order
 * from the first page at or above both the kernel's end and TV_LAYOUT_END. */
struct tv_multiboot_boot {
	uint64_t entry;   /* the ELF's e_entry: RIP */
	uint64_t info;    /* the information structure: EBX */
	uint64_t cmdline; /* the command line, NUL-terminated */
	uint64_t mods;    /* the module list (one entry), the module's empty string after it */
	uint64_t env;     /* the module's bytes: the environment */
	uint64_t end;     /* the first byte past them, page-aligned */
};

/* Checks that file is a multiboot kernel twinvm can boot in mode, with an environment of env_len
 * bytes: a header (tv_multiboot_find) with supported flags, an ELF file tv_elf_check accepts
 * (elf_load.h), protected mode, and the boot information fitting in ram_size bytes of RAM.
 * 0 with *b set, or -EINVAL with one line in tv_last_error(). */
int tv_multiboot_check(const void *file, size_t len, uint64_t ram_size, enum tv_mode mode,
		       size_t env_len, struct tv_multiboot_boot *b);

/* tv_multiboot_check against ram's size, then the segments loaded (tv_elf_load) and the boot
 * information written. env: the module's bytes, env_len of them; NULL for
 * TV_MULTIBOOT_ENV_DEFAULT. cmdline: the command line (at most TV_MULTIBOOT_CMDLINE_MAX bytes),
 * NULL for an empty one. 0 with *b set, or -errno (nothing written when the check refused)
 * with the reason in tv_last_error(). */
int tv_multiboot_load(const void *file, size_t len, const struct tv_ram *ram, enum tv_mode mode,
		      const void *env, size_t env_len, const char *cmdline,
		      struct tv_multiboot_boot *b);

#endif
