/* One instruction as text, through Capstone where the build found it (it is optional). */
#ifndef TWINVM_DISASM_H
#define TWINVM_DISASM_H

#include <stddef.h>
#include <stdint.h>

/* Disassembles the instruction at the start of bytes (code of 16, 32 or 64 bits at address addr)
 * into text, e.g. "cpuid" or "out 0xe9, al"; returns its length, or 0 (text empty) when it cannot
 * be decoded or Capstone is not built in. */
size_t tv_disasm(const uint8_t *bytes, size_t n, int bits, uint64_t addr, char *text, size_t len);

/* Of the arithmetic flags (CF, PF, AF, ZF, SF, OF), the RFLAGS bits the instruction at the
 * start of bytes leaves undefined (shl: AF; OF for a count above 1) and those it gives a defined
 * value, by Capstone's tables. 0, or -1 with both 0 without Capstone or when it does not decode
 * the bytes. */
int tv_insn_flag_effects(const uint8_t *bytes, size_t n, int bits, uint64_t *undefined,
			 uint64_t *defined);

/* Why tv_disasm gave no text: Capstone is missing, or it does not decode those bytes. */
const char *tv_disasm_none(void);

#endif
