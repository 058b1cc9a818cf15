/* The engine oracles' exception catcher. A snippet that faults in a guest is delivered by the CPU
 * through the guest's interrupt table, as on real hardware: twinvm's fuzzer machine has a table
 * (an IDT in protected, paged32 and long mode, the IVT in real mode) whose every vector leads to a
 * hlt of its own. A HLT exit at one of those addresses names the vector, and the frame the CPU
 * pushed gives the faulting RIP, RFLAGS, stack pointer and error code. Without the table a fault
 * would be a triple fault (SHUTDOWN), which KVM reports with no vector.
 *
 * Long mode takes every vector on IST1, a stack of its own, so the frame lands outside the scratch
 * area. Protected and real mode have no IST: the frame goes on the snippet's own stack, inside the
 * scratch area, and fz_trap_frame says which bytes it covered (not compared).
 *
 * Both engines deliver through the table: KVM as the CPU does, the emulator through its own
 * delivery (backend/emu/emu_deliver.c). So the vector, the error code and the frame come back the
 * same way on both, and compare.
 *
 * Outside real mode the machine also gets a GDT of the fuzzer's own: twinvm's four entries
 * (layout.h) and after them descriptors that a segment load cannot take as it is asked to, for
 * the exceptions class (gen.h): the load faults with the selector as its error code. */
#ifndef TWINVM_FZ_TRAPS_H
#define TWINVM_FZ_TRAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "guestmem.h"
#include "modes.h"

/* Real mode: the code segment of the code slots and the handlers (the handlers sit at
 * FZ_REAL_HANDLER_IP + vector, above every slot). */
#define FZ_REAL_CS 0x7000u
#define FZ_REAL_SLOT_END 0xF000u   /* slots use IP 0 up to here */
#define FZ_REAL_HANDLER_IP 0xF000u

/* The fuzzer's GDT past twinvm's entries: each descriptor flat (base 0, 4 GiB), accessed. */
#define FZ_SEL_NOT_PRESENT 0x20 /* data, read/write, DPL 0, not present: #NP; into SS, #SS */
#define FZ_SEL_READ_ONLY 0x28   /* data, read-only, DPL 0: #GP into SS (it must be writable) */
#define FZ_SEL_EXEC_ONLY 0x30   /* code, execute-only, DPL 0: #GP into DS, ES, FS, GS or SS */
#define FZ_SEL_DATA_DPL3 0x38   /* data, read/write, DPL 3: #GP into SS at CPL 0 (DPL != CPL) */
#define FZ_GDT_ENTRIES 8        /* a selector from FZ_GDT_ENTRIES << 3 is past the limit: #GP */

/* Writes the table, the handlers, the GDT (not in real mode) and (long mode) the TSS with IST1
 * into guest RAM, and points s's IDTR, GDTR (and TR) at them. s's GDTR must hold twinvm's GDT,
 * whose entries are copied. 0, or -EFAULT when RAM is too small for the fuzzer's layout. */
int fz_traps_install(const struct tv_ram *ram, enum tv_mode mode, struct tv_sregs *s);

/* The vector whose handler halted, from RIP after the hlt; -1 when rip is not a handler's. */
int fz_traps_vector(enum tv_mode mode, uint64_t rip_after_hlt);

/* What the CPU saved when it delivered vector. */
struct fz_trap_frame {
	uint64_t ip, flags, sp; /* at the fault, as the snippet's code saw them */
	uint16_t cs;            /* the code segment saved with ip */
	uint16_t ss;            /* long mode, which always pushes it: the stack segment's */
	uint64_t error_code;
	bool has_error_code;
	uint64_t clobber_lo, clobber_hi; /* linear [lo, hi): the frame, when on the snippet's stack */
};

/* Reads the frame at sp (the stack pointer at the handler) in the stack segment based at ss_base.
 * 0, or -EFAULT when it lies outside RAM. */
int fz_trap_frame(const struct tv_ram *ram, enum tv_mode mode, int vector, uint64_t sp,
		  uint64_t ss_base, struct fz_trap_frame *f);

#endif
