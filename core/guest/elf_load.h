/* ELF guests: an x86 ELF32 or ELF64 executable loaded by its PT_LOAD segments at their physical
 * addresses (p_paddr) and started at e_entry. Every field of the file is untrusted: it is checked
 * against the file's size, guest RAM and the structures the hypervisor writes for the mode
 * (layout.h) before a byte is copied. */
#ifndef TWINVM_ELF_LOAD_H
#define TWINVM_ELF_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guestmem.h"
#include "modes.h"

/* Whether file starts with the ELF magic, "\x7fELF": such a file is loaded as ELF (and refused
 * if it is not an ELF we can load), anything else is a raw image. */
bool tv_elf_is(const void *file, size_t len);

/* Checks that file is an x86 little-endian ELF executable whose PT_LOAD segments all fit in
 * ram_size bytes of RAM without touching the hypervisor's structures for mode, and whose entry
 * lies in one of them (below 64 KiB in real mode, where CS starts at 0). The class (ELF32 or
 * ELF64) is the file's container, not the code's width: either runs in any mode, as the code was
 * assembled for it. 0 with *entry set, or -EINVAL with one line in tv_last_error(). */
int tv_elf_check(const void *file, size_t len, uint64_t ram_size, enum tv_mode mode,
		 uint64_t *entry);

/* tv_elf_check, and *end set to the first byte past the highest PT_LOAD segment in RAM
 * (p_paddr + p_memsz): where a boot loader may put what it hands the guest (multiboot.h). */
int tv_elf_extent(const void *file, size_t len, uint64_t ram_size, enum tv_mode mode,
		  uint64_t *entry, uint64_t *end);

/* tv_elf_check against ram's size, then each PT_LOAD segment copied to its p_paddr: p_filesz
 * bytes from the file, the rest up to p_memsz zeroed. 0 with *entry set, or -EINVAL (nothing
 * copied) with the reason in tv_last_error(); -EFAULT would be tv_ram_ptr refusing a segment
 * the check let through. */
int tv_elf_load(const void *file, size_t len, const struct tv_ram *ram, enum tv_mode mode,
		uint64_t *entry);

#endif
