/* RAM with guard pages, for the page-walk tests. */
#include "guarded_ram.h"

#include <check.h>
#include <sys/mman.h>
#include <unistd.h>

void tv_guarded_ram_alloc(struct tv_ram *ram, uint64_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *mapping = mmap(NULL, size + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(mapping, MAP_FAILED);
	ck_assert_int_eq(mprotect(mapping + page, size, PROT_READ | PROT_WRITE), 0);
	ram->host = mapping + page;
	ram->size = size;
}

void tv_guarded_ram_free(struct tv_ram *ram)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	munmap(ram->host - page, ram->size + 2 * page);
	ram->host = NULL;
	ram->size = 0;
}
