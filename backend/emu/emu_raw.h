/* The Unicorn baseline for benchmarks (emu_raw.c). */
#ifndef TWINVM_EMU_RAW_H
#define TWINVM_EMU_RAW_H

#include "../backend.h"

int emu_raw_run(void *ram, uint64_t ram_size, const struct tv_raw_io *io,
		struct tv_raw_result *res);

#endif
