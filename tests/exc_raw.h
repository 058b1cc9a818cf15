/* Raw guests that take exceptions and interrupts through their own interrupt tables (issue 11):
 * the case type and its runner, shared by the test_exceptions_raw_*.c suites (the guests,
 * tables and nested faults, CPL 3, engine gaps).
 *
 * Each case states what the SDM says the CPU does, and the emulator must end exactly so, except
 * where a case records a known gap of its engine, QEMU's TCG (.emu_gap, with the reason beside
 * it). KVM runs each case too: any KVM must end as the SDM says, except this host's kvm-pvm where
 * a case records what it does instead (.pvm, with the reason beside it). The README's engine
 * differences list both. Which KVM it is comes from the kernel's module list, not from the
 * outcome.
 *
 * The images print with PRINT8 (port 0xE9: AL as a character) and PRINT32 (0xEA: EAX in decimal,
 * then a newline). In a case's expected console, each '#' stands for the next number of the
 * case's list, printed as PRINT32 prints it.
 *
 * The SDM's rules the cases rely on (Intel SDM vol. 3A, chapter 6 and the INT n pseudocode):
 * - a gate past the IDT's limit gives #GP(vector * 8 + 2 + EXT), a gate that is not present
 *   #NP(vector * 8 + 2 + EXT); EXT is 1 while delivering an exception, 0 for INT n. In real mode
 *   a vector past IDTR.limit gives #GP, with no error code.
 * - while delivering a contributory exception (#DE, #TS, #NP, #SS, #GP) or #PF, a contributory
 *   one is #DF (error code 0); so is #PF while delivering #PF. After a benign one (#UD) or INT n
 *   the second is delivered as itself. A fault while delivering #DF shuts the CPU down.
 * - a fault pushes the faulting instruction's address and sets RF in the pushed RFLAGS; a trap or
 *   INT n pushes the next instruction's. An interrupt gate clears IF, a trap gate keeps it; both
 *   clear TF, NT and RF in the handler.
 * - from CPL 3, the handler's stack is SS0:ESP0 (RSP0 with SS the null selector in long mode) of
 *   the TSS, and SS:ESP of CPL 3 are pushed; in long mode SS:RSP are pushed always, RSP is
 *   aligned down to 16 first, and a gate with IST n takes RSP from the TSS's ISTn. */
#ifndef TWINVM_TEST_EXC_RAW_H
#define TWINVM_TEST_EXC_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "tv_test.h"

/* Memory the images use, all free in twinvm's layout (core/guest/layout.h), and the hypercall ports. */
enum {
	IDT = 0x18000,     /* protected and long mode: the interrupt descriptor table */
	IDTR = 0x19000,    /* its pseudo-descriptor, for the images whose tables the test writes */
	TRIGGER = 0x19010, /* where those images jump after lidt: the fault they take */
	TSS = 0x19100,
	IVT = 0x1000,      /* real mode: the interrupt vector table (the image sits at 0) */
	RIDTR = 0x2000,
	RTRIGGER = 0x2010,
	PRINT8 = 0xe9,
	PRINT32 = 0xea,
};

/* Gate attributes: the high word of a gate's second dword. INT and TRAP are 32-bit gates in
 * protected mode and 64-bit ones in long mode. A gate without P is one that is not present. */
enum { P = 0x8000, DPL3 = 0x6000, INT = 0x0e00, TRAP = 0x0f00 };

#define SP TV_STACK_TOP
/* A register not checked: RSP after SHUTDOWN. (RIP is: on the instruction whose exception could
 * not be delivered, where KVM leaves it, as in tests/test_raw_guests.c.) */
#define ANY UINT64_MAX


/* How a run ends. console: what the guest printed, each '#' the next of num[] as PRINT32 prints
 * it. rip, rsp: ANY where the SDM leaves them undefined. */
struct outcome {
	int reason; /* enum tv_exit_reason; 0 in .pvm (.emu_gap): kvm-pvm (the emulator) does as the
		     * SDM says */
	const char *console;
	uint64_t num[20];
	uint64_t rip, rsp;
};

/* One IDT gate (IVT entry in real mode: attr and sel unused): vector, handler, attributes, and
 * the code selector (0: the mode's, 0x08 or 0x18). */
struct gate {
	uint8_t vector;
	uint16_t handler;
	uint16_t attr;
	uint16_t sel;
};

struct exc_case {
	const char *name;
	enum tv_mode mode;
	const uint8_t *image;
	size_t len;
	bool tables; /* the test writes the gates, IDTR (RIDTR) with limit, and TRIGGER */
	uint16_t limit;
	uint16_t trigger;
	struct gate gates[5];
	struct outcome sdm; /* required of KVM but for kvm-pvm's .pvm, and of the emulator but for
			     * .emu_gap */
	struct outcome pvm;
	/* What the emulator does instead where its engine, QEMU's TCG, has a known gap (the reason
	 * beside the case; the README's engine differences name it): the test fails when that
	 * changes, so a fixed gap is noticed and the case moves to .sdm alone. */
	struct outcome emu_gap;
};

/* Runs c on engine ("kvm" or "emu"), skipping where the engine cannot run its mode, and checks
 * it ends as c says for that engine. */
void exc_raw_run(const char *engine, const struct exc_case *c);

#define IMAGE(x) .image = x, .len = sizeof(x)

/* The case c's two tests, test_<c>_kvm and test_<c>_emu; ADD puts both in a TCase. */
#define CASE(c)                                                    \
	START_TEST(test_##c##_kvm) { exc_raw_run("kvm", &c); }     \
	END_TEST                                                   \
	START_TEST(test_##c##_emu) { exc_raw_run("emu", &c); }     \
	END_TEST

#define ADD(tc, c)                              \
	do {                                    \
		tcase_add_test(tc, test_##c##_kvm); \
		tcase_add_test(tc, test_##c##_emu); \
	} while (0)

#endif
