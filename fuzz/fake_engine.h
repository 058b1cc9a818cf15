/* A fake engine for fuzzing: a struct tv_backend_ops whose vCPU "runs" by reading a fuzzer's
 * input as a stream of operations: set a register, change a byte of guest RAM, make the next
 * register read fail, or take an exit (IO, MMIO, HLT, ...). IO and MMIO exits go to the I/O
 * handler the machine gave vcpu_create, as a real backend's do, so everything above backend/
 * (core/machine/machine.c, hypercalls.c, bus.c, record.c, insn.c, trace.c) runs its real code on
 * fuzzed exits.
 *
 * Operations, each a u8 tag (tag % 7) and its fields (fuzz_input.h):
 *   0 RAM     u32 gpa, u8 len (% 32 + 1), len bytes: stored when all of it lies in guest RAM
 *   1 REG     u8 index (% 18, in struct tv_regs order), u64 value
 *   2 SREG    u8 index (% 12: cr0 cr3 cr4 efer cs.l cs.db cs.base ds.base cs.sel gdt.base cr2
 *             cr8), u64 value
 *   3 IO      u8 flags (bit 0 OUT, bits 1-2 size 1/2/4/4), u16 port, u16 count (% (4096/size)
 *             + 1), then for OUT count * size data bytes
 *   4 MMIO    u64 gpa, u8 len (% 8 + 1), u8 is_write, 8 data bytes
 *   5 EXIT    u8 reason (% 7: HLT SHUTDOWN DEBUG INTR FAIL_ENTRY INTERNAL_ERROR UNKNOWN), u64 code
 *   6 FAIL    u8 bits: 1 the next get_regs fails, 2 the next get_sregs, 4 run() fails now
 * Only what a real engine could report is produced: sizes 1, 2 or 4, at most a page of string
 * I/O data, at most 8 bytes of MMIO, IN and MMIO-read data all ones before the handler runs. The
 * end of the input is a HLT. */
#ifndef TWINVM_FUZZ_FAKE_ENGINE_H
#define TWINVM_FUZZ_FAKE_ENGINE_H

#include "backend.h"
#include "fuzz_input.h"
#include "guestmem.h"

extern const struct tv_backend_ops fake_backend_ops;

/* The operations the next vCPU created runs, and the guest RAM its RAM operations write (the
 * machine's, which the caller may have moved after creating the VM). Both must outlive the vCPU. */
void fake_engine_feed(struct fz *ops, const struct tv_ram *ram);

#endif
