/* The four guest modes, set up once in engine-neutral code: pure functions that write the GDT and
 * page tables into a guest-RAM buffer and fill the portable register structs. */
#ifndef TWINVM_MODES_H
#define TWINVM_MODES_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "x86.h" /* the CR, EFER and page-table bits the setup uses */

enum tv_mode {
	TV_MODE_REAL,      /* 16-bit, all segments at 0 */
	TV_MODE_PROTECTED, /* 32-bit flat, no paging */
	TV_MODE_PAGED32,   /* 32-bit flat with 4 MiB pages (CR4.PSE) */
	TV_MODE_LONG,      /* 64-bit, 4-level tables, 2 MiB pages */
	TV_MODE_COUNT,
};

/* "real", "protected", "paged32", "long". */
const char *tv_mode_name(enum tv_mode mode);

/* Accepts the names above; false for anything else. */
bool tv_mode_parse(const char *name, enum tv_mode *mode);

/* True for the modes whose guest addresses go through page tables. */
bool tv_mode_paged(enum tv_mode mode);

/* The 16/32/64 a guest image for this mode is built for. */
int tv_mode_bits(enum tv_mode mode);

/* Writes the mode's GDT and page tables into ram (which must hold TV_LAYOUT_END bytes) and fills
 * sregs and regs: RIP at TV_ENTRY, RSP at TV_STACK_TOP, RFLAGS 0x2, everything else zero.
 * Returns 0, or -EINVAL when ram is too small. Touches nothing below TV_STACK_BOTTOM. */
int tv_mode_setup(enum tv_mode mode, uint8_t *ram, uint64_t ram_size, struct tv_sregs *sregs,
		  struct tv_regs *regs);

#endif
