/* Guest RAM allocation and the bounds-checked accessor. */
#include "guestmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int tv_ram_alloc(struct tv_ram *ram, uint64_t size)
{
	void *p;

	if (size == 0 || size % 4096)
		return -EINVAL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED)
		return -errno;
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
	/* Written so that no sum can overflow: gpa < size first, then len <= size - gpa. */
	if (len == 0 || gpa >= ram->size || len > ram->size - gpa)
		return NULL;
	return ram->host + gpa;
}

int tv_ram_read(const struct tv_ram *ram, uint64_t gpa, void *dst, uint64_t len)
{
	const void *p = tv_ram_ptr(ram, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int tv_ram_write(const struct tv_ram *ram, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = tv_ram_ptr(ram, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}
