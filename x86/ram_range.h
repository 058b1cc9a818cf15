/* The one bounds check that turns a guest-physical range into a host pointer. core's
 * tv_ram_ptr (core/guest/guestmem.c), the page walk (pagewalk.c) and the backends' own reads of guest
 * tables (the emulator's GDT reads) all end here, so there is one piece of arithmetic to get
 * right: a GDT read that computed `where + 8` wrapped near 2^64, passed its check, and read host
 * memory below RAM. */
#ifndef TWINVM_RAM_RANGE_H
#define TWINVM_RAM_RANGE_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Guest RAM as both layers see it: core allocates it (core/guest/guestmem.h), the page walk here reads
 * the guest's tables in it. */
struct tv_ram {
	uint8_t *host; /* page aligned, the same buffer both engines map */
	uint64_t size;
};

/* The host pointer for guest-physical [gpa, gpa + len) in RAM at ram of ram_size bytes, or NULL
 * when any byte lies outside it. Written so that no sum can overflow: gpa < size first, then
 * len <= size - gpa. len 0 is refused: there is nothing to point at. */
static inline void *tv_ram_range(const void *ram, uint64_t ram_size, uint64_t gpa, uint64_t len)
{
	if (!ram || len == 0 || gpa >= ram_size || len > ram_size - gpa)
		return (void *)0;
	return (uint8_t *)(uintptr_t)ram + gpa; /* const in, as strchr does: the caller knows */
}

/* Copies guest-physical [gpa, gpa + len) out of ram into dst. 0, or -EFAULT when any byte lies
 * outside RAM (dst is then untouched), as core's tv_ram_read, which is this. */
static inline int tv_ram_range_read(const struct tv_ram *ram, uint64_t gpa, void *dst,
				    uint64_t len)
{
	const void *p = tv_ram_range(ram->host, ram->size, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

#endif
