/* The machine's devices: what a guest's port I/O and MMIO reach. */
#ifndef TWINVM_IO_H
#define TWINVM_IO_H

#include "backend.h"

struct tv_machine;

/* Handles one IO or MMIO exit; the machine's tv_io_fn. Hypercall ports go to hypercalls.c; other
 * ports drop writes and read all ones, as an empty ISA bus does, with one warning per port. */
int tv_io_handle(void *machine, struct tv_exit *exit);

#endif
