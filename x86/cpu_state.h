/* The x86 CPU state in one portable form: the general and the special registers, as both engines
 * are converted to and from (backend.h) and as the page walk and the mode set-up read them. Laid
 * out like KVM's but engine neutral. */
#ifndef TWINVM_CPU_STATE_H
#define TWINVM_CPU_STATE_H

#include <stdint.h>

struct tv_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

/* A segment register with its hidden part, laid out like KVM's but engine neutral. */
struct tv_segment {
	uint64_t base;
	uint32_t limit; /* in bytes, already scaled by g */
	uint16_t selector;
	uint8_t type; /* the 4-bit descriptor type */
	uint8_t present, dpl, db, s, l, g, avl;
	uint8_t unusable;
};

struct tv_dtable {
	uint64_t base;
	uint16_t limit;
};

struct tv_sregs {
	struct tv_segment cs, ds, es, fs, gs, ss;
	struct tv_segment tr, ldt;
	struct tv_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};

#endif
