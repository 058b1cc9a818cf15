/* Guest RAM allocation and the bounds-checked accessor. */
#include "guestmem.h"

#include "ram_range.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define RAM_ALIGN (1ull << 32)

/* Guest RAM starts at a 4 GiB-aligned host address, so the low 32 bits of a host address in it
 * (what HC_gvaToHva returns) are its offset in guest RAM: the same in every run, on both engines,
 * and comparable with a trace recorded by another process. The alignment costs address space
 * only: the 4 GiB reserved around the buffer is given back at once. */
int tv_ram_alloc(struct tv_ram *ram, uint64_t size)
{
	uint8_t *area, *p;
	uint64_t span;

	if (size == 0 || size % 4096 || size > UINT64_MAX - RAM_ALIGN)
		return -EINVAL;
	span = size + RAM_ALIGN;
	area = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return -errno;
	p = (uint8_t *)(((uintptr_t)area + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
	if (p > area)
		munmap(area, (size_t)(p - area));
	if (area + span > p + size)
		munmap(p + size, (size_t)(area + span - (p + size)));
	if (mprotect(p, size, PROT_READ | PROT_WRITE) != 0) {
		int err = -errno;

		munmap(p, size);
		return err;
	}
	ram->host = p;
	ram->size = size;
	return 0;
}

void tv_ram_free(struct tv_ram *ram)
{
	if (ram->host)
		munmap(ram->host, ram->size);
	ram->host = NULL;
	ram->size = 0;
}

void *tv_ram_ptr(const struct tv_ram *ram, uint64_t gpa, uint64_t len)
{
	return tv_ram_range(ram->host, ram->size, gpa, len);
}

int tv_ram_read(const struct tv_ram *ram, uint64_t gpa, void *dst, uint64_t len)
{
	return tv_ram_range_read(ram, gpa, dst, len);
}

int tv_ram_write(const struct tv_ram *ram, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = tv_ram_ptr(ram, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

uint64_t tv_ram_hash(const struct tv_ram *ram)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint64_t i = 0; i < ram->size; i++)
		h = (h ^ ram->host[i]) * 0x100000001b3ull;
	return h;
}
