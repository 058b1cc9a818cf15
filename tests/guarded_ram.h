/* Guest RAM for tests of code that reads guest tables: a buffer with an inaccessible page on each
 * side, so that a read or write just outside RAM crashes the test instead of passing it. */
#ifndef TWINVM_GUARDED_RAM_H
#define TWINVM_GUARDED_RAM_H

#include <stdint.h>

#include "guestmem.h"

/* size bytes of zeroed RAM between two PROT_NONE pages; fails the test when it cannot. */
void tv_guarded_ram_alloc(struct tv_ram *ram, uint64_t size);
void tv_guarded_ram_free(struct tv_ram *ram);

#endif
