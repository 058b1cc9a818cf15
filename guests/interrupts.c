/* interrupts: the events the interrupt instructions and TF raise, one at a time, through handlers
 * of its own, each frame checked as exceptions.h says: #DB (the single-step trap) in every mode;
 * int n, int3, into and bound in every mode that has them, and in protected and paged32 mode the
 * #TS of an iret with NT set. Its handlers return with iret in every mode. Built for 16, 32 and
 * 64 bits from this one source.
 *
 * Covered:
 *   real:               #DB (single step), #BP (int3), #OF (into with OF set), #BR (bound out of
 *                       range), int 0x21
 *   protected, paged32: those with int 0x80, and #TS (iret with NT set, to a back link that is
 *                       not a TSS but the not-present segment: error code its selector)
 *   long:               #DB, #BP (int3), int 0x80 through IST1 (into and bound are #UD in 64-bit
 *                       code; `exceptions` takes into's)
 * #DB, #BP, #OF and int n are traps (the saved IP is the next instruction), #BP, #OF and int n
 * through trap gates, which leave IF set; #BR and #TS are faults.
 *
 * None of this is part of `exceptions`, which must end the same on every KVM and be steppable:
 * - a KVM that executes the guest in its instruction emulator cannot run the interrupt
 *   instructions: kvm-pvm emulates real and protected mode, and its emulator has no bound, and no
 *   int n, int3, into or iret outside real mode; in long mode kvm-pvm also sends software
 *   interrupts there. On such a host this guest ends in KVM's emulation error, so it has no
 *   golden trace; the emulator and a KVM on VMX or SVM run it. #DB comes first: kvm-pvm passes
 *   it in real and long mode, and in protected mode stops at its handler's iret.
 * - `twinvm diff --step` single-steps KVM with TF itself (KVM_GUESTDBG_SINGLESTEP): KVM_GET_REGS
 *   then hides the guest's own TF and the guest's #DB is never delivered, so the #DB case cannot
 *   be compared step by step.
 *
 * It ran right when every line reads "<vector>: ok (...)", the last line is "interrupts: all N ok"
 * and it halts with 0 in EAX (twinvm run then prints "guest checks: ok (EAX 0)" and exits 0). A
 * failed case prints "<vector>: FAILED (...)" naming each field that differs and what was
 * expected; the guest halts with the number of failed cases in EAX. */
#define RETURN_IRET
#include "exceptions.h"

__attribute__((used)) unsigned long bounds[2] = { 0, 10 }; /* bound's range */

#define SET_TF "pushf" S "; or" S " $0x100, (" SP "); popf" S

/* The nop runs with TF set (popf set it), so #DB is a trap after it. DR6 starts clear. */
RAISE(db, "mov $0xffff0ff0, %eax; mov " AX ", %dr6", SET_TF, "nop", NOTHING);
RAISE(bp, NOTHING, NOTHING, "int3", NOTHING);
RAISE(sw, NOTHING, NOTHING, "int $" STR(SW_VECTOR), NOTHING);
#if GUEST_BITS != 64
/* 0x7f + 1 sets OF; nothing after the add touches the flags. */
RAISE(of, "mov $0x7f, %al; add $1, %al", NOTHING, "into", NOTHING);
RAISE(br, "mov $11, %eax", NOTHING, "bound %eax, bounds", NOTHING);
#endif
#if GUEST_BITS == 32
/* iret with NT returns to the task in the TSS's back link, SEL_NP, which is no TSS: #TS. */
RAISE(ts, NOTHING, "pushfl; orl $0x4000, (%esp); popfl", "iretl", NOTHING);
#endif

static const struct event_case cases[] = {
	{ "#DB", "single step", RAISES(db), .vector = 1, .kind = TRAP, .armed = FL_TF },
	{ "#BP", "int3", RAISES(bp), .vector = 3, .kind = TRAP },
#if GUEST_BITS != 64
	{ "#OF", "into with OF set", RAISES(of), .vector = 4, .kind = TRAP },
	{ "#BR", "bound out of range", RAISES(br), .vector = 5, .kind = FAULT },
#endif
#if GUEST_BITS == 32
	{ "#TS", "iret with NT to a back link that is no TSS", RAISES(ts), .vector = 10,
	  .kind = FAULT, .has_error = 1, .error = SEL_NP, .armed = FL_NT },
#endif
	{ "int $" STR(SW_VECTOR), "software interrupt", RAISES(sw), .vector = SW_VECTOR,
	  .kind = TRAP },
};

GUEST_ENTRY
{
	run_cases("interrupts", cases, sizeof(cases) / sizeof(cases[0]));
}
