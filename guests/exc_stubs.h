/* Part of exceptions.h (its header comment says what the guests do): the handler stubs, one per
 * vector, and the common path that records the frame in ev[] and resumes the raise routine; then
 * the raise routines (RAISE), each raising one event. */
#ifndef TWINVM_GUEST_EXC_STUBS_H
#define TWINVM_GUEST_EXC_STUBS_H

#ifndef TWINVM_GUEST_EXCEPTIONS_H
#error "a part of exceptions.h: include that"
#endif

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

#endif
