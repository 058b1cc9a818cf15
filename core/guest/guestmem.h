/* Guest RAM and the one checked accessor every host access to it goes through. A guest-controlled
 * address or length never becomes a host pointer without passing tv_ram_ptr(). */
#ifndef TWINVM_GUESTMEM_H
#define TWINVM_GUESTMEM_H

#include <stdint.h>

#include "ram_range.h" /* struct tv_ram */

/* Maps size bytes of zeroed, page-aligned anonymous memory. -ENOMEM or -EINVAL. */
int tv_ram_alloc(struct tv_ram *ram, uint64_t size);
void tv_ram_free(struct tv_ram *ram);

/* The host pointer for guest-physical [gpa, gpa + len), or NULL when any byte of it lies outside
 * RAM (wrap-around included). len 0 is refused too: there is nothing to point at. */
void *tv_ram_ptr(const struct tv_ram *ram, uint64_t gpa, uint64_t len);

/* Copies between guest RAM and host buffers through tv_ram_ptr. 0, or -EFAULT. */
int tv_ram_read(const struct tv_ram *ram, uint64_t gpa, void *dst, uint64_t len);
int tv_ram_write(const struct tv_ram *ram, uint64_t gpa, const void *src, uint64_t len);

/* FNV-1a (64-bit) of all of guest RAM: golden traces end with it. */
uint64_t tv_ram_hash(const struct tv_ram *ram);

#endif
