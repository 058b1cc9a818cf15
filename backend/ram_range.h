/* The one bounds check that turns a guest-physical range into a host pointer. core's
 * tv_ram_ptr (core/guestmem.c) and the backends' own reads of guest tables (the emulator's GDT
 * reads) both end here, so there is one piece of arithmetic to get right: a GDT read that
 * computed `where + 8` wrapped near 2^64, passed its check, and read host memory below RAM. */
#ifndef TWINVM_RAM_RANGE_H
#define TWINVM_RAM_RANGE_H

#include <stdint.h>

/* The host pointer for guest-physical [gpa, gpa + len) in RAM at ram of ram_size bytes, or NULL
 * when any byte lies outside it. Written so that no sum can overflow: gpa < size first, then
 * len <= size - gpa. len 0 is refused: there is nothing to point at. */
static inline void *tv_ram_range(const void *ram, uint64_t ram_size, uint64_t gpa, uint64_t len)
{
	if (!ram || len == 0 || gpa >= ram_size || len > ram_size - gpa)
		return (void *)0;
	return (uint8_t *)(uintptr_t)ram + gpa; /* const in, as strchr does: the caller knows */
}

#endif
