/* The machinery of the guests that take exceptions on purpose (exceptions.c, interrupts.c): a
 * handler for every vector that records its frame, the tables that point at them, routines that
 * raise one event each, and the checks of a recorded frame against the SDM. The same source for
 * 16-, 32- and 64-bit builds (GUEST_BITS, from guests/meson.build); a guest includes it once, then
 * lists its cases and calls run_cases().
 *
 * Tables: in real mode an interrupt vector table in the guest's data, IDTR.base pointing at it
 * (the image itself starts at 0, so the table cannot be at 0); in protected and paged32 mode a
 * 32-bit IDT, in long mode a 64-bit one, with #DF and the software vector on IST1. Interrupt
 * gates, but trap gates for #BP, #OF, #UD and the software vector, so that both kinds are taken.
 * Outside real mode the guest also loads a GDT of its own: twinvm's three segments where twinvm
 * has them, a not-present data segment (SEL_NP: the selector #NP, #SS and #TS report) and a TSS
 * (IST1 for long mode, a back link for #TS), and loads TR with it.
 *
 * A raise routine records FLAGS and the stack pointer just before one instruction that faults or
 * traps. Every vector's stub pushes a dummy error code where the CPU pushes none, then the vector;
 * the common handler records the frame, points the saved IP at the routine's next instruction
 * and returns. run_case() then compares, for that one event: the vector and that the handler ran
 * once; the error code (none in real mode); the saved IP (the faulting instruction for a fault,
 * the next one for a trap, int n, int3 and into; the SDM leaves it undefined for #DF); the saved
 * CS; the saved FLAGS (their value before the event, with RF set for a fault outside real mode,
 * SDM 17.3.1.1); IF, TF, NT and RF clear inside the handler but IF kept through a trap gate;
 * where the frame sits (just below the old stack pointer in real and protected mode; in long mode
 * below it aligned down to 16, or below IST1, with SS and RSP pushed as well and checked); CR2
 * for #PF, DR6.BS for #DB.
 *
 * The 32-bit handlers of `exceptions` return with popfl and ret rather than iret: on a KVM that
 * runs protected mode in its instruction emulator (kvm-pvm) iret cannot be executed. RETURN_IRET,
 * which `interrupts` defines, makes them iret.
 *
 * This file holds the constants and the event record; the rest comes in parts, each building on
 * the ones before it: exc_stubs.h (handler stubs, raise routines), exc_print.h (output),
 * exc_tables.h (the tables) and exc_checks.h (the cases and their checks). */
#ifndef TWINVM_GUEST_EXCEPTIONS_H
#define TWINVM_GUEST_EXCEPTIONS_H

#include <stddef.h>

#include "hypercall.h"

#ifndef GUEST_BITS
#error "guests/meson.build passes GUEST_BITS (16, 32 or 64)"
#endif

/* ---- constants ------------------------------------------------------------------------------ */

#define FL_TF 0x100ul
#define FL_IF 0x200ul
#define FL_NT 0x4000ul
#define FL_RF 0x10000ul
#define CR0_PG 0x80000000ul
#define DR6_BS 0x4000ul

/* The guest's own GDT: twinvm's three segments where twinvm puts them, then two of its own. */
#define GDT_COPIED 4             /* null, code32 0x08, data 0x10, code64 0x18 */
#define SEL_NP 0x20              /* a writable data segment, not present */
#define SEL_TSS 0x28             /* 8 bytes in 32-bit mode, 16 in long mode */
#define GDT_ENTRIES 7
#define SEL_BEYOND 0x40          /* past the GDT limit */

#if GUEST_BITS == 16
#define SW_VECTOR 0x21
#else
#define SW_VECTOR 0x80
#endif
#define IDT_ENTRIES (SW_VECTOR + 1)

/* ---- the event record: written by the handler, read by the checks -------------------------- */

/* Word-sized fields, WS bytes apart: numbers, not an enum, for the handlers' assembly. */
#define EV_VECTOR 0
#define EV_ERROR 1
#define EV_IP 2
#define EV_CS 3
#define EV_FLAGS 4
#define EV_HFLAGS 5 /* FLAGS inside the handler */
#define EV_FRAME 6  /* where the saved IP sits */
#define EV_CR2 7
#define EV_DR6 8
#define EV_COUNT 9  /* handler runs */
#define EV_SP 10    /* long mode: the saved RSP and SS */
#define EV_SS 11
#define EV_WORDS 12

__attribute__((used)) volatile unsigned long ev[EV_WORDS];
/* Where the handler sends the guest: the raise routine's next instruction; 0 when none expects an
 * exception, and then the handler reports it and halts. */
__attribute__((used)) volatile unsigned long resume;
__attribute__((used)) volatile unsigned long flags_before; /* at the raising instruction */
__attribute__((used)) volatile unsigned long sp_before;

#define STR_(x) #x
#define STR(x) STR_(x)
#if GUEST_BITS == 64
#define WS "8"
#define S "q"
#define AX "%rax"
#define SP "%rsp"
#else
#define WS "4"
#define S "l"
#define AX "%eax"
#define SP "%esp"
#endif
#define EVF(field) "ev+" WS "*" STR(field)

#include "exc_stubs.h"
#include "exc_print.h"
#include "exc_tables.h"
#include "exc_checks.h"

#endif
