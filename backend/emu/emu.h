/* The Unicorn backend's names and --trace-api output. Private to backend/emu/.
 *
 * Nothing here runs when the trace is off: EMU_LOG checks the FILE before it evaluates its
 * arguments, so a run without --trace-api formats nothing. */
#ifndef TWINVM_EMU_H
#define TWINVM_EMU_H

#include <stdint.h>
#include <stdio.h>
#include <unicorn/unicorn.h>

#define EMU_LOG(log, ...)                             \
	do {                                          \
		if (log)                              \
			emu_log_line((log), __VA_ARGS__); \
	} while (0)

void emu_log_line(FILE *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "uc_reg_read_batch(EAX=0x2a EBX=0x0 ...) = UC_ERR_OK": n registers, values as 64-bit. */
void emu_log_regs(FILE *log, const char *call, const int *ids, const uint64_t *vals, int n,
		  uc_err err);

/* "UC_ERR_MAP"; "UC_ERR_?" for a code this table does not know. */
const char *emu_err_name(uc_err err);

/* "UC_MODE_32". */
const char *emu_mode_name(int mode);

/* "UC_X86_REG_CR0" for the registers the backend uses; "UC_X86_REG_?" for others. */
const char *emu_reg_name(int reg);

/* The short name without the prefix, "CR0", for the batch lines. */
const char *emu_reg_short(int reg);

/* "#GP" for an exception vector; "INT" above 31 (a software interrupt or an engine event). */
const char *emu_vector_name(uint32_t vector);

#endif
