/* emu_fault.c: a #GP(0) Unicorn raised in 64-bit code, made the fault the CPU raises. For
 * backend/emu/ only. */
#ifndef TWINVM_EMU_FAULT_H
#define TWINVM_EMU_FAULT_H

#include "emu.h"

/* For a #GP(0) Unicorn raised (not INT n, not emu_raise) in 64-bit code, with r the registers
 * at it: the vector the CPU raises there (12, #SS(0), or 13), r moved back to the branch that
 * went to a non-canonical RIP where that is the fault. */
unsigned emu_fault_correct(struct tv_vcpu *v, struct tv_regs *r);

#endif
