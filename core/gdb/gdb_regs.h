/* The registers as gdb sees them: a target description (qXfer:features:read:target.xml) and the
 * byte layout of the 'g' packet, for the vCPU's mode when gdb connects.
 *
 * Long mode gets gdb's own amd64 description; real, protected and paged32 mode get the i386 one
 * (real mode with the i8086 architecture, so gdb disassembles 16-bit code), because gdb shows
 * and disassembles what the description says and cannot change it while connected: a 64-bit
 * description for 32-bit code would show it as 64-bit code. Both carry the segment selectors,
 * and a feature of twinvm's own, org.twinvm.x86.system, carries CR0, CR2, CR3, CR4 and EFER. The
 * x87 registers, which the core feature must have, read as zero and writes to them are ignored:
 * neither engine interface carries the FPU state. */
#ifndef TWINVM_GDB_REGS_H
#define TWINVM_GDB_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu_state.h"
#include "modes.h"

/* The register files: which description, and so which 'g' layout. */
enum tv_gdb_arch { TV_GDB_I8086, TV_GDB_I386, TV_GDB_AMD64 };

enum tv_gdb_arch tv_gdb_arch_for(enum tv_mode mode);

/* The target description's XML, NUL-terminated. */
const char *tv_gdb_target_xml(enum tv_gdb_arch arch);

/* The number of registers, and the size of the 'g' packet's data in bytes. */
int tv_gdb_reg_count(enum tv_gdb_arch arch);
size_t tv_gdb_regs_size(enum tv_gdb_arch arch);

/* Register n's size in bytes, or 0 for no such register. */
size_t tv_gdb_reg_size(enum tv_gdb_arch arch, int n);

/* Register n's bytes (little endian) from the state into out (tv_gdb_reg_size bytes). */
void tv_gdb_reg_get(enum tv_gdb_arch arch, int n, const struct tv_regs *r,
		    const struct tv_sregs *s, uint8_t *out);

/* Register n set from bytes into the state: true when it is one the state holds (writes to the
 * x87 registers are dropped, false). A segment selector written in real mode moves the base with
 * it (base = selector * 16), as a load would; in protected mode only the selector changes. */
bool tv_gdb_reg_set(enum tv_gdb_arch arch, int n, struct tv_regs *r, struct tv_sregs *s,
		    const uint8_t *bytes);

/* The program counter's register number. */
int tv_gdb_reg_pc(enum tv_gdb_arch arch);

#endif
