/* Exception and interrupt delivery as the CPU performs it (Intel SDM Vol. 3, chapter 6; AMD APM
 * Vol. 2, chapter 8), for the emulator, whose engine stops at an exception without delivering it.
 * Pure: a CPU state in, the state at the handler's first instruction out, the frame written to
 * guest RAM through the access-checked page walk. No Unicorn, so tests and a libFuzzer target
 * drive it without an engine.
 *
 * Covered: real mode through the IVT; protected mode through 16- and 32-bit interrupt and trap
 * gates, with the stack switch through the TSS for a handler more privileged than the code it
 * interrupts; long mode through 64-bit gates (16-byte frame, RSP aligned to 16, IST stacks).
 * Every check on the way (IDT limit, gate type, DPL for software interrupts, present bits, the
 * handler's code segment, the TSS's stack) raises what the CPU raises; a fault while delivering
 * becomes the next event or #DF by the SDM's table, and one while delivering #DF a triple fault.
 * Not covered, reported as unsupported: task gates, virtual-8086 mode, a descriptor table, TSS or
 * stack outside guest RAM. */
#ifndef TWINVM_EMU_DELIVER_H
#define TWINVM_EMU_DELIVER_H

#include "ram_range.h"
#include "emu_env.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The state delivery reads and changes. Segments are in emu_env_seg order. */
struct emu_cpu {
	uint64_t rip, rsp, rflags;
	struct emu_seg seg[6];
	unsigned cpl;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint64_t gdt_base, idt_base, ldt_base, tr_base;
	uint32_t gdt_limit, idt_limit, ldt_limit, tr_limit;
	uint32_t tr_selector;
	uint32_t tr_flags; /* the TSS descriptor's high dword: its type says 16- or 32-bit */
};

/* What is delivered. For a software interrupt (INT n, INT3, INTO) rip is already past the
 * instruction, and insn_rip is its own address: a fault while delivering it points there. */
struct emu_event {
	unsigned vector;
	bool software;
	bool external; /* an interrupt from the interrupt controller: no error code, whatever the
			* vector, and a fault delivering it is a fault on its own (benign) */
	uint32_t error; /* pushed only for the vectors that have one, outside real mode */
	uint64_t insn_rip;
};

enum emu_deliver_end {
	EMU_DELIVERED,	      /* cpu is at the handler */
	EMU_TRIPLE_FAULT,     /* a fault while delivering #DF: the CPU shuts down */
	EMU_DELIVER_UNSUPPORTED, /* see above; why says which */
};

/* Whether the CPU pushes an error code for vector (outside real mode, not for INT n). */
bool emu_vector_has_error(unsigned vector);

/* Delivers ev to cpu's handler. why gets the reason for anything but EMU_DELIVERED: for a
 * triple fault the chain of events, "triple fault: #UD then #GP(0x33) then #DF then ...". */
enum emu_deliver_end emu_deliver(const struct tv_ram *ram, unsigned maxphyaddr,
				 struct emu_cpu *cpu, const struct emu_event *ev, char *why,
				 size_t why_len);

#endif
