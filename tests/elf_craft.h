/* Crafted ELF guests for the loader's tests: a valid file to start from, which a test then
 * breaks one field at a time. */
#ifndef TWINVM_TEST_ELF_CRAFT_H
#define TWINVM_TEST_ELF_CRAFT_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "modes.h"

/* The code sits at file offset CRAFT_CODE_OFF and loads at CRAFT_PADDR; the entry is
 * CRAFT_ENTRY, 8 bytes in, past a decoy that halts with 1 in EAX. From the entry the guest halts
 * with CRAFT_RAX in EAX, at CRAFT_ENTRY + craft_hlt_end(mode). */
#define CRAFT_CODE_OFF 0x100
#define CRAFT_PADDR 0x1000ull
#define CRAFT_ENTRY (CRAFT_PADDR + 8)
#define CRAFT_CODE_LEN 16
#define CRAFT_MEMSZ 0x20 /* the code's segment: 16 bytes from the file, 16 zeroed */
#define CRAFT_RAX 42
#define CRAFT_SEGS_MAX 4

struct craft_seg {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

/* The file's bytes, aligned so that a test may edit the headers in place through craft_ehdr64
 * and the like. The host is little-endian, as x86 ELF files are. */
struct craft {
	_Alignas(8) uint8_t b[0x200];
	size_t len;
	int bits; /* 32 or 64: the class */
};

/* A valid x86 ELF executable of the class bits: one PT_LOAD segment, the code for mode (16-bit
 * code for real mode, 32-bit for protected and paged32, 64-bit for long). */
void craft_elf(struct craft *f, int bits, enum tv_mode mode);

/* Replaces the program headers with n segments (at most CRAFT_SEGS_MAX). */
void craft_segments(struct craft *f, const struct craft_seg *segs, unsigned n);

/* Where the run halts after the entry: the size of its mov and hlt in mode. */
uint64_t craft_hlt_end(enum tv_mode mode);

static inline Elf64_Ehdr *craft_ehdr64(struct craft *f)
{
	return (Elf64_Ehdr *)f->b;
}

static inline Elf64_Phdr *craft_phdr64(struct craft *f, unsigned i)
{
	return (Elf64_Phdr *)(f->b + sizeof(Elf64_Ehdr)) + i;
}

static inline Elf32_Ehdr *craft_ehdr32(struct craft *f)
{
	return (Elf32_Ehdr *)f->b;
}

static inline Elf32_Phdr *craft_phdr32(struct craft *f, unsigned i)
{
	return (Elf32_Phdr *)(f->b + sizeof(Elf32_Ehdr)) + i;
}

#endif
