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
 * which `interrupts` defines, makes them iret. */
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

/* ---- handler stubs and the common path ------------------------------------------------------ */

/* The vectors for which the CPU pushes an error code (none in real mode). */
#define HAS_ERROR(v)                                                                             \
	"((" v "==8)||(" v ">=10&&" v "<=14)||(" v "==17)||(" v "==21)||(" v "==29)||(" v "==30))"

#define VECTORS                                                                                  \
	"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31"

/* The word-sized table of stub addresses, vectors 0 to 31, then the software vector's. */
#define STUB_TABLE(ptr)                                                                          \
	"stub_table:\n"                                                                          \
	".irp v," VECTORS "\n " ptr " stub_\\v\n .endr\n"                                        \
	"stub_sw: " ptr " stub_" STR(SW_VECTOR) "\n"

#if GUEST_BITS == 16
/* Real mode: the CPU pushes FLAGS, CS and IP, 16 bits each. The stubs push a word of dummy error
 * code and a word of vector. This is true 16-bit code (.code16), unlike gcc's output around it. */
__asm__(".pushsection .text\n"
	".code16\n"
	".macro stub v\n"
	"stub_\\v: pushw $0\n"
	"	pushw $\\v\n"
	"	jmp common\n"
	".endm\n"
	".irp v," VECTORS "," STR(SW_VECTOR) "\n stub \\v\n .endr\n"
	"common:\n"
	"	pushl %eax\n"                   /* 4: vector, 6: error, 8: IP, 10: CS, 12: FLAGS */
	"	pushfl\n"
	"	popl %eax\n"
	"	movl %eax, " EVF(EV_HFLAGS) "\n"
	"	movzwl 4(%esp), %eax\n"
	"	movl %eax, " EVF(EV_VECTOR) "\n"
	"	movzwl 6(%esp), %eax\n"
	"	movl %eax, " EVF(EV_ERROR) "\n"
	"	movzwl 8(%esp), %eax\n"
	"	movl %eax, " EVF(EV_IP) "\n"
	"	movzwl 10(%esp), %eax\n"
	"	movl %eax, " EVF(EV_CS) "\n"
	"	movzwl 12(%esp), %eax\n"
	"	movl %eax, " EVF(EV_FLAGS) "\n"
	"	leal 8(%esp), %eax\n"
	"	movl %eax, " EVF(EV_FRAME) "\n"
	"	movl %cr2, %eax\n"
	"	movl %eax, " EVF(EV_CR2) "\n"
	"	movl %dr6, %eax\n"
	"	movl %eax, " EVF(EV_DR6) "\n"
	"	incl " EVF(EV_COUNT) "\n"
	"	movl resume, %eax\n"
	"	testl %eax, %eax\n"
	"	jz unexpected_event\n"
	"	movw %ax, 8(%esp)\n"
	"	andw $~0x4100, 12(%esp)\n"      /* TF (the #DB case set it) and NT off on return */
	"	movl $0, resume\n"
	"	popl %eax\n"
	"	addw $4, %sp\n"
	"	iretw\n"
	".code16gcc\n"
	STUB_TABLE(".long")
	".popsection\n");
#elif GUEST_BITS == 32
#ifdef RETURN_IRET
#define RETURN_32                                                                                \
	"	movl %eax, 12(%esp)\n"                                                           \
	"	andl $~0x4100, 20(%esp)\n"                                                       \
	"	movl $0, resume\n"                                                               \
	"	popl %eax\n"                                                                     \
	"	addl $8, %esp\n"                                                                 \
	"	iretl\n"
#else
/* The frame rearranged for popfl and ret $4: EFLAGS over EIP, the resume address over CS. */
#define RETURN_32                                                                                \
	"	movl %eax, 16(%esp)\n"                                                           \
	"	movl 20(%esp), %eax\n"                                                           \
	"	andl $~0x4100, %eax\n"                                                           \
	"	movl %eax, 12(%esp)\n"                                                           \
	"	movl $0, resume\n"                                                               \
	"	popl %eax\n"                                                                     \
	"	addl $8, %esp\n"                                                                 \
	"	popfl\n"                                                                         \
	"	ret $4\n"
#endif
/* 32-bit gates, no privilege change: the CPU pushes EFLAGS, CS and EIP (and an error code). */
__asm__(".pushsection .text\n"
	".macro stub v\n"
	"stub_\\v:\n"
	"	.if !" HAS_ERROR("\\v") "\n"
	"	pushl $0\n"
	"	.endif\n"
	"	pushl $\\v\n"
	"	jmp common\n"
	".endm\n"
	".irp v," VECTORS "\n stub \\v\n .endr\n"
	"stub_" STR(SW_VECTOR) ": pushl $0\n"
	"	pushl $" STR(SW_VECTOR) "\n"
	"	jmp common\n"
	"common:\n"
	"	pushl %eax\n"                   /* 4: vector, 8: error, 12: EIP, 16: CS, 20: EFLAGS */
	"	pushfl\n"
	"	popl %eax\n"
	"	movl %eax, " EVF(EV_HFLAGS) "\n"
	"	movl 4(%esp), %eax\n"
	"	movl %eax, " EVF(EV_VECTOR) "\n"
	"	movl 8(%esp), %eax\n"
	"	movl %eax, " EVF(EV_ERROR) "\n"
	"	movl 12(%esp), %eax\n"
	"	movl %eax, " EVF(EV_IP) "\n"
	"	movzwl 16(%esp), %eax\n"        /* the CPU may write only the low 16 bits */
	"	movl %eax, " EVF(EV_CS) "\n"
	"	movl 20(%esp), %eax\n"
	"	movl %eax, " EVF(EV_FLAGS) "\n"
	"	leal 12(%esp), %eax\n"
	"	movl %eax, " EVF(EV_FRAME) "\n"
	"	movl %cr2, %eax\n"
	"	movl %eax, " EVF(EV_CR2) "\n"
	"	movl %dr6, %eax\n"
	"	movl %eax, " EVF(EV_DR6) "\n"
	"	incl " EVF(EV_COUNT) "\n"
	"	movl resume, %eax\n"
	"	testl %eax, %eax\n"
	"	jz unexpected_event\n"
	RETURN_32
	STUB_TABLE(".long")
	".popsection\n");
#else
/* 64-bit gates: the CPU aligns RSP to 16 (or takes IST1) and pushes SS, RSP, RFLAGS, CS, RIP. */
__asm__(".pushsection .text\n"
	".macro stub v\n"
	"stub_\\v:\n"
	"	.if !" HAS_ERROR("\\v") "\n"
	"	pushq $0\n"
	"	.endif\n"
	"	pushq $\\v\n"
	"	jmp common\n"
	".endm\n"
	".irp v," VECTORS "\n stub \\v\n .endr\n"
	"stub_" STR(SW_VECTOR) ": pushq $0\n"
	"	pushq $" STR(SW_VECTOR) "\n"
	"	jmp common\n"
	"common:\n"
	"	pushq %rax\n"   /* 8: vector, 16: error, 24: RIP, 32: CS, 40: RFLAGS, 48: RSP, 56: SS */
	"	pushfq\n"
	"	popq %rax\n"
	"	movq %rax, " EVF(EV_HFLAGS) "\n"
	"	movq 8(%rsp), %rax\n"
	"	movq %rax, " EVF(EV_VECTOR) "\n"
	"	movq 16(%rsp), %rax\n"
	"	movq %rax, " EVF(EV_ERROR) "\n"
	"	movq 24(%rsp), %rax\n"
	"	movq %rax, " EVF(EV_IP) "\n"
	"	movzwl 32(%rsp), %eax\n"
	"	movq %rax, " EVF(EV_CS) "\n"
	"	movq 40(%rsp), %rax\n"
	"	movq %rax, " EVF(EV_FLAGS) "\n"
	"	movq 48(%rsp), %rax\n"
	"	movq %rax, " EVF(EV_SP) "\n"
	"	movzwl 56(%rsp), %eax\n"
	"	movq %rax, " EVF(EV_SS) "\n"
	"	leaq 24(%rsp), %rax\n"
	"	movq %rax, " EVF(EV_FRAME) "\n"
	"	movq %cr2, %rax\n"
	"	movq %rax, " EVF(EV_CR2) "\n"
	"	movq %dr6, %rax\n"
	"	movq %rax, " EVF(EV_DR6) "\n"
	"	incq " EVF(EV_COUNT) "\n"
	"	movq resume, %rax\n"
	"	testq %rax, %rax\n"
	"	jz unexpected_event\n"
	"	movq %rax, 24(%rsp)\n"
	"	andq $~0x4100, 40(%rsp)\n"
	"	movq $0, resume\n"
	"	popq %rax\n"
	"	addq $16, %rsp\n"
	"	iretq\n"
	STUB_TABLE(".quad")
	".popsection\n");
#endif

extern const unsigned long stub_table[32], stub_sw;

/* ---- raise routines ------------------------------------------------------------------------- */

/* raise_<name>: runs setup, sets IF, records FLAGS and the stack pointer, runs arm (what must come
 * after the recording) and then the one instruction at <name>_insn that raises the event; the
 * handler resumes at <name>_next, which clears IF and runs after. Only EAX, ECX and EDX (RAX,
 * RCX, RDX) are free: a routine that needs another register saves it in setup. */
#define RAISE(name, setup, arm, insn, after)                                                    \
	__asm__(".pushsection .text\n"                                                           \
		"raise_" #name ":\n"                                                             \
		setup "\n"                                                                       \
		"	mov" S " $" #name "_next, resume\n"                                       \
		"	sti\n"                                                                   \
		"	pushf" S "\n"                                                            \
		"	pop" S " flags_before\n"                                                 \
		"	mov " SP ", sp_before\n"                                                 \
		arm "\n"                                                                         \
		#name "_insn: " insn "\n"                                                        \
		#name "_next: cli\n"                                                             \
		after "\n"                                                                       \
		"	ret\n"                                                                   \
		".popsection\n");                                                                \
	extern void raise_##name(void);                                                          \
	extern const char name##_insn[], name##_next[]

#define NOTHING ""

/* ---- printing ------------------------------------------------------------------------------- */

/* One line of output; put() keeps room for the ")\n" that ends_line() always adds. */
struct line {
	char buf[400];
	unsigned len;
};

static void put_char(struct line *l, char c)
{
	if (l->len + 3 < sizeof(l->buf))
		l->buf[l->len++] = c;
	l->buf[l->len] = '\0';
}

static void put(struct line *l, const char *s)
{
	while (*s)
		put_char(l, *s++);
}

static void put_hex(struct line *l, unsigned long long v)
{
	char digits[16];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	put(l, "0x");
	while (n > 0)
		put_char(l, digits[--n]);
}

/* Ends the line with end (at most two characters) and prints it. */
static void print_line(struct line *l, const char *end)
{
	while (*end)
		l->buf[l->len++] = *end++;
	l->buf[l->len] = '\0';
	HC_printStr(l->buf);
}

static void put_dec(struct line *l, unsigned v)
{
	char digits[10];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n > 0)
		put_char(l, digits[--n]);
}

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", NULL, "#TS", "#NP",
	"#SS", "#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static void put_vector(struct line *l, unsigned long v)
{
	if (v < 32 && vector_names[v]) {
		put(l, vector_names[v]);
	} else {
		put(l, "vector ");
		put_hex(l, v);
	}
}

/* An exception no raise routine expected: the common handler jumps here instead of returning. */
__attribute__((used, noreturn)) void unexpected_event(void)
{
	struct line l;

	l.len = 0; /* the buffer is not cleared: clang would call memset for it */

	put(&l, "unexpected ");
	put_vector(&l, ev[EV_VECTOR]);
	put(&l, " at ip ");
	put_hex(&l, ev[EV_IP]);
	put(&l, ", error ");
	put_hex(&l, ev[EV_ERROR]);
	print_line(&l, "\n");
	halt_with(0xff);
}

/* ---- the tables ----------------------------------------------------------------------------- */

static inline unsigned long read_cs(void)
{
	unsigned long cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 0xffff;
}

struct __attribute__((packed)) table_register {
	uint16_t limit;
	unsigned long base;
};

/* Gates that leave IF set (ignored in real mode, where every event clears it). */
static int is_trap_gate(unsigned v)
{
	return v == 3 || v == 4 || v == 6 || v == SW_VECTOR;
}

#if GUEST_BITS == 16
static uint32_t ivt[256];

static void set_gate(unsigned v, unsigned long handler)
{
	ivt[v] = (uint32_t)(handler & 0xffff) | (uint32_t)read_cs() << 16;
}

static void load_tables(void)
{
	struct table_register idtr = { sizeof(ivt) - 1, (unsigned long)ivt };

	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}
#else
static inline unsigned long read_ss(void)
{
	unsigned long ss;

	__asm__ volatile("mov %%ss, %0" : "=r"(ss));
	return ss & 0xffff;
}

static inline unsigned long read_cr0(void)
{
	unsigned long v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint32_t tss[26] __attribute__((aligned(8))); /* 104 bytes */

#if GUEST_BITS == 32
static uint32_t idt[IDT_ENTRIES][2] __attribute__((aligned(8)));

static void set_gate(unsigned v, unsigned long handler)
{
	idt[v][0] = (uint32_t)(handler & 0xffff) | (uint32_t)read_cs() << 16;
	idt[v][1] = (uint32_t)(handler & 0xffff0000) | (is_trap_gate(v) ? 0x8f00 : 0x8e00);
}

__attribute__((unused)) static void set_gate_present(unsigned v, int present)
{
	idt[v][1] = present ? idt[v][1] | 0x8000 : idt[v][1] & ~0x8000u;
}

/* A 32-bit TSS whose back link (word 0), which an iret with NT follows, names SEL_NP. */
static void set_tss_descriptor(void)
{
	uint32_t base = (uint32_t)tss;

	gdt[SEL_TSS / 8] = (sizeof(tss) - 1) | (uint64_t)(base & 0xffffff) << 16 |
			   (uint64_t)0x89 << 40 | (uint64_t)(base >> 24) << 56;
	tss[0] = SEL_NP;
}
#else
static uint64_t idt[IDT_ENTRIES][2] __attribute__((aligned(16)));
static uint64_t ist1_stack[128] __attribute__((aligned(16)));
#define IST1_TOP ((unsigned long)&ist1_stack[128])

static int uses_ist1(unsigned v)
{
	return v == 8 || v == SW_VECTOR;
}

static void set_gate(unsigned v, unsigned long handler)
{
	idt[v][0] = (handler & 0xffff) | read_cs() << 16 | (uint64_t)uses_ist1(v) << 32 |
		    (uint64_t)(is_trap_gate(v) ? 0x8f : 0x8e) << 40 |
		    ((handler >> 16) & 0xffff) << 48;
	idt[v][1] = handler >> 32;
}

__attribute__((unused)) static void set_gate_present(unsigned v, int present)
{
	idt[v][0] = present ? idt[v][0] | 1ull << 47 : idt[v][0] & ~(1ull << 47);
}

/* A 64-bit TSS (16-byte descriptor) whose IST1 (at byte 0x24) is ist1_stack. */
static void set_tss_descriptor(void)
{
	uint64_t base = (uint64_t)tss;

	gdt[SEL_TSS / 8] = (sizeof(tss) - 1) | (base & 0xffffff) << 16 | (uint64_t)0x89 << 40 |
			   ((base >> 24) & 0xff) << 56;
	gdt[SEL_TSS / 8 + 1] = base >> 32;
	tss[0x24 / 4] = (uint32_t)IST1_TOP;
	tss[0x28 / 4] = (uint32_t)(IST1_TOP >> 32);
}
#endif

/* The GDT twinvm set up, copied, then the not-present segment and the TSS; loaded, with TR. */
static void load_tables(void)
{
	struct table_register gdtr, idtr = { sizeof(idt) - 1, (unsigned long)idt };
	const volatile uint64_t *old;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	old = (const volatile uint64_t *)gdtr.base;
	for (int i = 0; i < GDT_ENTRIES; i++)
		gdt[i] = i < GDT_COPIED ? old[i] : 0;
	/* Limit 4 GiB, read/write, 32-bit, as twinvm's data segment, but P clear. */
	gdt[SEL_NP / 8] = 0xffff | (uint64_t)0x13 << 40 | (uint64_t)0xcf << 48;
	set_tss_descriptor();
	gdtr.base = (unsigned long)gdt;
	gdtr.limit = sizeof(gdt) - 1;
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)SEL_TSS) : "memory");
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}
#endif

static void install_handlers(void)
{
	for (unsigned v = 0; v < 32; v++)
		set_gate(v, stub_table[v]);
	set_gate(SW_VECTOR, stub_sw);
	load_tables();
}

/* ---- the cases ------------------------------------------------------------------------------ */

enum kind { FAULT, TRAP, ABORT };

struct event_case {
	const char *name;
	const char *what;
	void (*raise)(void);
	const char *insn, *next;
	unsigned char vector;
	unsigned char kind;
	unsigned char has_error;  /* outside real mode */
	unsigned char paged_only; /* the 32-bit build runs these only with CR0.PG */
	unsigned long armed;      /* flags the raise routine sets after recording them (TF, NT) */
	unsigned long error;
	unsigned long long cr2;   /* #PF */
	int (*prepare)(void);     /* 0: the case cannot be set up here */
	void (*restore)(void);
};

#define RAISES(n) .raise = raise_##n, .insn = n##_insn, .next = n##_next

/* One mismatch, "<field> <found>, expected <want>", after ": " or "; ". */
static int differ(struct line *l, int failed, const char *field, unsigned long long found,
		  unsigned long long want)
{
	if (found == want)
		return failed;
	put(l, failed ? "; " : ": ");
	put(l, field);
	put(l, " ");
	put_hex(l, found);
	put(l, ", expected ");
	put_hex(l, want);
	return failed + 1;
}

/* Where the CPU leaves the saved IP for c's event, given the stack pointer before it. */
static unsigned long frame_want(const struct event_case *c)
{
#if GUEST_BITS == 16
	(void)c;
	return sp_before - 6;
#elif GUEST_BITS == 32
	(void)c;
	return sp_before - 12;
#else
	return (uses_ist1(c->vector) ? IST1_TOP : sp_before & ~15ul) - 40;
#endif
}

/* The fields of the recorded frame that differ from c's expectations, appended to l; how many. */
static int check_frame(struct line *l, const struct event_case *c)
{
	unsigned long flags_want, hflags_want;
	int failed = 0;

	failed = differ(l, failed, "vector", ev[EV_VECTOR], c->vector);
	failed = differ(l, failed, "handler runs", ev[EV_COUNT], 1);
	if (c->has_error && GUEST_BITS != 16)
		failed = differ(l, failed, "error", ev[EV_ERROR], c->error);
	if (c->kind != ABORT) {
		failed = differ(l, failed, "ip", ev[EV_IP],
				(unsigned long)(c->kind == FAULT ? c->insn : c->next));
		failed = differ(l, failed, "cs", ev[EV_CS], read_cs());
	}
	flags_want = flags_before | c->armed;
	if (GUEST_BITS == 16)
		flags_want &= 0xffff;
	else if (c->kind != TRAP)
		flags_want |= FL_RF;
	failed = differ(l, failed, "flags", ev[EV_FLAGS], flags_want);
	hflags_want = ev[EV_HFLAGS] & ~(FL_IF | FL_TF | FL_NT | FL_RF);
	if (GUEST_BITS != 16 && is_trap_gate(c->vector))
		hflags_want |= FL_IF;
	failed = differ(l, failed, "flags in the handler", ev[EV_HFLAGS], hflags_want);
#if GUEST_BITS == 64
	if (c->kind != ABORT)
		failed = differ(l, failed, "saved rsp", ev[EV_SP], sp_before);
	failed = differ(l, failed, "saved ss", ev[EV_SS], read_ss());
#endif
	failed = differ(l, failed, "frame at", ev[EV_FRAME], frame_want(c));
	if (c->vector == 14)
		failed = differ(l, failed, "cr2", ev[EV_CR2], c->cr2);
	if (c->vector == 1)
		failed = differ(l, failed, "dr6.bs", ev[EV_DR6] & DR6_BS, DR6_BS);
	return failed;
}

/* Raises c's event, checks what the handler recorded and prints one line; 1 if it failed. */
static int run_case(const struct event_case *c)
{
	struct line l;

	l.len = 0; /* the buffer is not cleared: clang would call memset for it */
	int failed;

	put(&l, c->name);
	put(&l, ": FAILED (");
	put(&l, c->what);
	if (c->prepare && !c->prepare()) {
		put(&l, ": cannot be set up: the page tables are not twinvm's");
		print_line(&l, ")\n");
		return 1;
	}
	for (int i = 0; i < EV_WORDS; i++)
		ev[i] = 0;
	c->raise();
	if (c->restore)
		c->restore();
	failed = check_frame(&l, c);
	if (!failed) {
		l.len = 0;
		put(&l, c->name);
		put(&l, ": ok (");
		put(&l, c->what);
		if (c->vector == 14) {
			put(&l, ": cr2 ");
			put_hex(&l, ev[EV_CR2]);
		}
		if (c->has_error && GUEST_BITS != 16) {
			put(&l, c->vector == 14 ? ", error " : ": error ");
			put_hex(&l, ev[EV_ERROR]);
		}
	}
	print_line(&l, ")\n");
	return failed != 0;
}

/* Installs the handlers, runs every case this mode has, prints the summary and halts with the
 * number of cases that failed in EAX. */
static __attribute__((noreturn)) void run_cases(const char *guest, const struct event_case *cases,
						unsigned n)
{
	unsigned ran = 0, failed = 0;
	struct line l;

	l.len = 0; /* the buffer is not cleared: clang would call memset for it */
	int paged = 0;

#if GUEST_BITS == 32
	paged = (read_cr0() & CR0_PG) != 0;
#endif
	install_handlers();
	for (unsigned i = 0; i < n; i++) {
		if (GUEST_BITS == 32 && cases[i].paged_only && !paged)
			continue;
		failed += run_case(&cases[i]);
		ran++;
	}
	put(&l, guest);
	put(&l, ": ");
	if (failed) {
		put_dec(&l, failed);
		put(&l, " of ");
		put_dec(&l, ran);
		put(&l, " FAILED");
	} else {
		put(&l, "all ");
		put_dec(&l, ran);
		put(&l, " ok");
	}
	print_line(&l, "\n");
	halt_with(failed);
}

#endif
