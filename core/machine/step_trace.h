/* Step mode (`twinvm run --step`): the guest runs one instruction at a time, and each is printed
 * before it runs (address, bytes, disassembly in the code's width), then the exit it made, if any,
 * and the registers it changed, as QEMU's `-d in_asm,cpu` shows a run:
 *
 *   0x00001000  e6 e9                   out 0xe9, al
 *       exit IO out port=0xe9 size=1 data=0x48 hypercall=HC_print8bit
 *   0x00001002  b8 2a 00 00 00          mov eax, 0x2a
 *       rax=0x2a
 *
 * The lines are the same on both engines: a repeated string instruction is one line whatever the
 * number of steps an engine takes for it, and the register lines use the canonical state
 * (record.h). */
#ifndef TWINVM_STEP_TRACE_H
#define TWINVM_STEP_TRACE_H

#include "machine.h"

/* Runs m, made with TV_RUN_STEP and m->opt.step, as tv_run does (the timeout, --max-exits, the
 * trace's records, the console flushed at the end), writing the step lines to m->opt.step. The
 * steps are not counted as exits: m->stats, HC_numExits and --max-exits see the guest's own exits,
 * as without --step. 0, or -errno when the engine failed or output was lost (m->output_failed is
 * then "step", "trace" or "console"). */
int tv_step_run(struct tv_machine *m, double timeout_s, struct tv_exit *last);

#endif
