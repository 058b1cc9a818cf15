/* The machine's devices: what a guest's port I/O and MMIO reach. */
#ifndef TWINVM_IO_H
#define TWINVM_IO_H

#include "backend.h"

struct tv_machine;

/* Port of the assignment's print device (HC_print8bit): each byte written goes to the console. */
#define TV_PORT_CONSOLE 0xE9

/* Handles one IO or MMIO exit; the machine's tv_io_fn. Ports with no device drop writes and read
 * all ones, as an empty ISA bus does, with one warning per port. */
int tv_io_handle(void *machine, struct tv_exit *exit);

#endif
