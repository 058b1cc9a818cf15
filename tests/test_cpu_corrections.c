/* Where Unicorn 2.1.1 does not behave as the CPU and the emulator corrects it (backend/emu/
 * emu_sites.c's sites; kvm-unit-tests' emulator test found most): MOV to and from CR8 keeps the
 * value (Unicorn without an APIC reads 0), MOVAPS of an unaligned operand is #GP(0) (Unicorn
 * does not check), MOVBE with a register operand is #UD (Unicorn runs it as a move), SMSW with a
 * 32-bit operand gives all of CR0 (Unicorn: its low 16 bits), RF loaded by IRET does not
 * stay set (Unicorn keeps it, and PUSHF then pushes it), a non-canonical stack access is #SS(0)
 * and a branch to a non-canonical address #GP(0) at the branch (emu_fault.c; Unicorn: #GP(0),
 * at the target), MOV SS of a null selector with RPL != CPL is #GP(0) (Unicorn loads it), and
 * MOV to CR4 or CR0 of a value the CPU refuses is #GP(0) (Unicorn writes it: emu_site_cr.c). */
#include "layout.h"
#include "run_guest.h"
#include "tv_test.h"

#include <string.h>

/* Long mode: mov eax, 3; mov cr8, rax; mov rbx, cr8; lea rcx, [rip + buf]; movaps xmm0, [rcx];
 * movaps [rcx + 16], xmm0 (both aligned); mov edx, 0x11; movaps xmm1, [rcx + 1] (#GP(0));
 * mov edx, 0x22; hlt; buf: 48 bytes at a 16-byte boundary. No IDT: the #GP shuts down. */
static const uint8_t cr8_movaps[96] = {
	0xb8, 0x03, 0x00, 0x00, 0x00, 0x44, 0x0f, 0x22, 0xc0, 0x44, 0x0f, 0x20,
	0xc3, 0x48, 0x8d, 0x0d, 0x1c, 0x00, 0x00, 0x00, 0x0f, 0x28, 0x01, 0x0f,
	0x29, 0x41, 0x10, 0xba, 0x11, 0x00, 0x00, 0x00, 0x0f, 0x28, 0x49, 0x01,
	0xba, 0x22, 0x00, 0x00, 0x00, 0xf4, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,
};

/* Long mode: mov edx, 0x11; movbe eax, eax (0F 38 F0 C0: #UD); mov edx, 0x22; hlt */
static const uint8_t movbe_reg[] = {
	0xba, 0x11, 0x00, 0x00, 0x00, 0x0f, 0x38, 0xf0, 0xc0, 0xba, 0x22, 0x00, 0x00, 0x00, 0xf4,
};

/* Real mode: mov ebx, cr0; mov ecx, ebx; or ebx, 0x40000000 (CD); mov cr0, ebx; smsw eax;
 * mov edx, cr0; mov cr0, ecx; hlt */
static const uint8_t smsw32[] = {
	0x0f, 0x20, 0xc3, 0x66, 0x89, 0xd9, 0x66, 0x81, 0xcb, 0x00, 0x00, 0x00, 0x40, 0x0f,
	0x22, 0xc3, 0x66, 0x0f, 0x01, 0xe0, 0x0f, 0x20, 0xc2, 0x0f, 0x22, 0xc1, 0xf4,
};

/* Real mode, realmode.flat's "rflags.rf": pushfd; pop eax; and eax, ~2; or eax, 0xffc18028
 * (RF among them); push eax; push cs; call 1f; jmp 2f; 1: iretd; 2: pushfd; pop ebx; hlt */
static const uint8_t iret_rf[] = {
	0x66, 0x9c, 0x66, 0x58, 0x66, 0x83, 0xe0, 0xfd, 0x66, 0x0d, 0x28, 0x80, 0xc1, 0xff,
	0x66, 0x50, 0x66, 0x0e, 0x66, 0xe8, 0x02, 0x00, 0x00, 0x00, 0xeb, 0x02, 0x66, 0xcf,
	0x66, 0x9c, 0x66, 0x5b, 0xf4,
};

/* The real-mode guests end at their HLT. */
static void expect_hlt(const struct tv_test_run *t, const char *engine)
{
	ck_assert_msg(t->last.reason == TV_EXIT_HLT, "%s: ended in %s: %s", engine,
		      tv_exit_reason_name(t->last.reason), t->last.detail);
}

START_TEST(test_smsw_gives_all_of_cr0)
{
	const char *engine = _i ? "kvm" : "emu";
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, TV_MODE_REAL, smsw32, sizeof(smsw32));
	expect_hlt(&t, engine);
	ck_assert_uint_eq(t.regs.rdx & 0xffffffffu, 0x40000010u);
	ck_assert_msg((t.regs.rax & 0xffffffffu) == 0x40000010u, "%s: SMSW gave %#llx", engine,
		      (unsigned long long)t.regs.rax);
	tv_test_run_end(&t);
}
END_TEST

START_TEST(test_rf_loaded_by_iret_is_not_pushed)
{
	const char *engine = _i ? "kvm" : "emu";
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, TV_MODE_REAL, iret_rf, sizeof(iret_rf));
	expect_hlt(&t, engine);
	ck_assert_msg(!(t.regs.rbx & (1u << 16)), "%s: PUSHFD after IRET pushed RF (%#llx)",
		      engine, (unsigned long long)t.regs.rbx);
	tv_test_run_end(&t);
}
END_TEST

/* Both engines: CR8 reads back 3, the aligned MOVAPS run, the unaligned one faults. */
START_TEST(test_cr8_keeps_its_value_and_unaligned_movaps_faults)
{
	const char *engine = _i ? "kvm" : "emu";
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, engine, TV_MODE_LONG, cr8_movaps, sizeof(cr8_movaps));
	ck_assert_msg(t.last.reason == TV_EXIT_SHUTDOWN, "%s: ended in %s", engine,
		      tv_exit_reason_name(t.last.reason));
	ck_assert_uint_eq(t.regs.rbx, 3);
	ck_assert_msg(t.regs.rdx == 0x11, "%s: RDX %#llx: the unaligned MOVAPS %s", engine,
		      (unsigned long long)t.regs.rdx, t.regs.rdx == 0x22 ? "ran" : "was not reached");
	if (t.last.exception >= 0) /* the emulator says which; KVM does not */
		ck_assert_int_eq(t.last.exception, 13);
	tv_test_run_end(&t);
}
END_TEST

/* The emulator only: this host's KVM (kvm-pvm) cannot emulate the instruction at all and ends in
 * KVM_INTERNAL_ERROR_EMULATION, a CPU gives #UD. */
START_TEST(test_movbe_with_a_register_is_ud_on_the_emulator)
{
	struct tv_test_run t;

	TV_TEST_RUN_ON(&t, "emu", TV_MODE_LONG, movbe_reg, sizeof(movbe_reg));
	ck_assert_msg(t.last.reason == TV_EXIT_SHUTDOWN && t.last.exception == 6,
		      "ended in %s, exception %d: %s", tv_exit_reason_name(t.last.reason),
		      t.last.exception, t.last.detail);
	ck_assert_uint_eq(t.regs.rdx, 0x11);
	tv_test_run_end(&t);
}
END_TEST

/* Long mode, non-canonical addresses (RAX = 0xaaaaaaaaaaaaaaaa), one case per entry point:
 * 0x00 orq $0, (%rsp,%rax) (#SS(0)); 0x10 the same through RBP (#SS(0)); 0x24 orq $0, (%rax)
 * (#GP(0)); 0x33 jmp *slot(%rip), slot = RAX (#GP(0) at the JMP); 0x4b call *%rax (#GP(0) at
 * the CALL, nothing pushed); 0x58 push %rax; ret (#GP(0) at the RET, nothing popped); 0x65
 * ss: orq $0, (%rax) (#SS(0): the override counts); 0x75 ds: orq $0, (%rsp,%rax) (#GP(0)).
 * And MOV SS of the null selector 3 at CPL 0 (#GP(0), SS unchanged): 0x86 from EAX, 0x8e from
 * memory. The handlers (IDT at 0x40, gates 12 and 13 at 0x100) put the vector in RBX, the
 * error code in RDX, the RIP pushed in RCX, the RSP pushed in RSI and SS in RDI, and halt. */
static const uint8_t noncanonical[] = {
	0x48, 0xb8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x48, 0x83,
	0x0c, 0x04, 0x00, 0xf4, 0x48, 0xb8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0x48, 0x89, 0xe5, 0x48, 0x83, 0x4c, 0x05, 0x00, 0x00, 0xf4,
	0x48, 0xb8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x48, 0x83,
	0x08, 0x00, 0xf4, 0x48, 0xb8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0x48, 0x89, 0x05, 0x74, 0x00, 0x00, 0x00, 0xff, 0x25, 0x6e, 0x00,
	0x00, 0x00, 0xf4, 0x48, 0xb8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xff, 0xd0, 0xf4, 0x48, 0xb8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0x50, 0xc3, 0xf4, 0x48, 0xb8, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
	0xaa, 0xaa, 0xaa, 0x36, 0x48, 0x83, 0x08, 0x00, 0xf4, 0x48, 0xb8, 0xaa,
	0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0x3e, 0x48, 0x83, 0x0c, 0x04,
	0x00, 0xf4, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x8e, 0xd0, 0xf4, 0x66, 0xc7,
	0x05, 0x29, 0x00, 0x00, 0x00, 0x03, 0x00, 0x8e, 0x15, 0x23, 0x00, 0x00,
	0x00, 0xf4, 0xbb, 0x0c, 0x00, 0x00, 0x00, 0xeb, 0x05, 0xbb, 0x0d, 0x00,
	0x00, 0x00, 0x5a, 0x59, 0x48, 0x8b, 0x74, 0x24, 0x10, 0x8c, 0xd7, 0xf4,
	0x0f, 0x1f, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x9e, 0x00, 0x18, 0x00, 0x00, 0x8e, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, 0x00, 0x18, 0x00,
	0x00, 0x8e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

struct nc_case {
	const char *what;
	uint64_t entry, fault, rsp; /* the fault's RIP and RSP */
	unsigned vector;
	bool noted; /* the emulator finds the branch only where a hook notes the last block */
};

static const struct nc_case nc_cases[] = {
	{ "rsp-based access", 0x00, 0x0a, 0xf000, 12, false },
	{ "rbp-based access", 0x10, 0x1d, 0xf000, 12, false },
	{ "rax-based access", 0x24, 0x2e, 0xf000, 13, false },
	{ "jmp *mem", 0x33, 0x44, 0xf000, 13, true },
	{ "call *reg", 0x4b, 0x55, 0xf000, 13, false },
	{ "ret", 0x58, 0x63, 0xeff8, 13, true },
	{ "ss: rax-based access", 0x65, 0x6f, 0xf000, 12, false },
	{ "ds: rsp-based access", 0x75, 0x7f, 0xf000, 13, false },
	{ "mov %eax (3), %ss", 0x86, 0x8b, 0xf000, 13, false },
	{ "mov mem (3), %ss", 0x8e, 0x97, 0xf000, 13, false },
};

#define NC_CASES (sizeof(nc_cases) / sizeof(nc_cases[0]))

/* The runs of each case: the emulator's fast, preemptible and precise modes, and KVM. */
static const struct {
	const char *engine;
	unsigned flags;
} nc_runs[] = {
	{ "emu", 0 }, { "emu", TV_RUN_PREEMPTIBLE }, { "emu", TV_RUN_PRECISE }, { "kvm", 0 },
};

#define NC_RUNS (sizeof(nc_runs) / sizeof(nc_runs[0]))

/* The i-th pair of a case (of ncases) and a run (of nruns) for which runs(case, run) holds, into
 * *c and *k: how many such pairs there are (i too large leaves *c and *k as they were). */
static unsigned nth_pair(unsigned i, unsigned ncases, unsigned nruns,
			 bool (*runs)(unsigned c, unsigned k), unsigned *c, unsigned *k)
{
	unsigned n = 0;

	for (unsigned j = 0; j < ncases * nruns; j++) {
		if (!runs(j / nruns, j % nruns))
			continue;
		if (n++ == i) {
			*c = j / nruns;
			*k = j % nruns;
		}
	}
	return n;
}

/* Long mode on the machine t prepared: the guest's IDT at base (gates 0-13, 16 bytes each). */
static void set_idt(struct tv_test_run *t, uint64_t base)
{
	struct tv_sregs s;

	ck_assert_int_eq(t->m.be->get_sregs(t->m.vcpu, &s), 0);
	s.idt.base = base;
	s.idt.limit = 14 * 16 - 1;
	ck_assert_int_eq(t->m.be->set_sregs(t->m.vcpu, &s), 0);
}

/* image in long mode on opt's engine, with its IDT at idt (set_idt), run from entry to its end. */
static void run_with_idt(struct tv_test_run *t, struct tv_machine_opts opt, const uint8_t *image,
			 size_t len, uint64_t idt, uint64_t entry)
{
	struct tv_regs r;

	tv_test_prepare_opts(t, opt, TV_MODE_LONG, image, len);
	set_idt(t, idt);
	ck_assert_int_eq(opt.backend->get_regs(t->m.vcpu, &r), 0);
	r.rip = entry;
	ck_assert_int_eq(opt.backend->set_regs(t->m.vcpu, &r), 0);
	tv_test_finish(t, 30);
}

/* Whether run k runs case c: each case on each run, but no JMP or RET on the emulator's plain
 * fast mode (see backend/emu/emu_fault.c). */
static bool nc_runs_case(unsigned c, unsigned k)
{
	return !(nc_cases[c].noted && nc_runs[k].flags == 0 && nc_runs[k].engine[0] == 'e');
}

START_TEST(test_noncanonical_faults_as_the_cpu)
{
	const struct nc_case *c;
	unsigned ci = 0, k = 0;
	struct tv_machine_opts opt = { .ram_size = TV_RAM_DEFAULT, .warnings = stderr };
	struct tv_test_run t;
	char why[256];
	const char *engine;
	unsigned flags;

	nth_pair((unsigned)_i, NC_CASES, NC_RUNS, nc_runs_case, &ci, &k);
	c = &nc_cases[ci];
	engine = nc_runs[k].engine;
	flags = opt.run_flags = nc_runs[k].flags;
	opt.backend = tv_test_engine(engine, TV_MODE_LONG, why, sizeof(why));
	if (!opt.backend)
		TV_SKIP("%s/long: %s", engine, why);
	run_with_idt(&t, opt, noncanonical, sizeof(noncanonical), 0x40, c->entry);
	expect_hlt(&t, engine);
	ck_assert_msg(t.regs.rbx == c->vector && t.regs.rdx == 0 && t.regs.rcx == c->fault &&
			      t.regs.rsi == c->rsp && t.regs.rdi == TV_SEL_DATA,
		      "%s (flags %#x): %s: vector %llu error %#llx at %#llx with RSP %#llx, SS %#llx;"
		      " want %u(0) at %#llx with RSP %#llx, SS %#x", engine, flags, c->what,
		      (unsigned long long)t.regs.rbx, (unsigned long long)t.regs.rdx,
		      (unsigned long long)t.regs.rcx, (unsigned long long)t.regs.rsi,
		      (unsigned long long)t.regs.rdi, c->vector, (unsigned long long)c->fault,
		      (unsigned long long)c->rsp, TV_SEL_DATA);
	tv_test_run_end(&t);
}
END_TEST

/* Long mode, MOV to CR4 and CR0 at CPL 0, one case per entry point; each reads the register it
 * writes into R11 and writes RDI: 0x00 CR4 | bit 31 (reserved); 0x14 CR4 | PKE, after CPUID
 * 7.0 into ECX -> R8 (#GP(0) without PKU, else written, read into R12 and put back); 0x3c CR4
 * without PAE; 0x4d CR4 ^ OSXMMEXCPT (legal: read into R12, put back with MOV CR4, R11); 0x66
 * CR0 | NW without CD; 0x7c CR0 | bit 32; 0x8d CR0 without PG; 0x9e CR0 | CD | NW (legal, as
 * 0x4d). A write that ran sets EBX to 0x22; the #GP handler (IDT at 0x10, gate 13 at 0xe0) puts
 * the error code in RDX, the RIP pushed in RCX and 13 in EBX. Both end in R9 = CR4, R10 = CR0;
 * hlt. Unicorn writes all of them (CR4.PKE dropped), leaves long mode at 0x8d. */
static const uint8_t mov_cr[] = {
	0x41, 0x0f, 0x20, 0xe3, 0x4c, 0x89, 0xdf, 0x48, 0x0f, 0xba, 0xef, 0x1f,
	0x0f, 0x22, 0xe7, 0xe9, 0xa8, 0x00, 0x00, 0x00, 0xb8, 0x07, 0x00, 0x00,
	0x00, 0x31, 0xc9, 0x0f, 0xa2, 0x49, 0x89, 0xc8, 0x41, 0x0f, 0x20, 0xe3,
	0x4c, 0x89, 0xdf, 0x48, 0x0f, 0xba, 0xef, 0x16, 0x0f, 0x22, 0xe7, 0x41,
	0x0f, 0x20, 0xe4, 0x41, 0x0f, 0x22, 0xe3, 0xe9, 0x80, 0x00, 0x00, 0x00,
	0x41, 0x0f, 0x20, 0xe3, 0x4c, 0x89, 0xdf, 0x48, 0x0f, 0xba, 0xf7, 0x05,
	0x0f, 0x22, 0xe7, 0xeb, 0x6f, 0x41, 0x0f, 0x20, 0xe3, 0x4c, 0x89, 0xdf,
	0x48, 0x0f, 0xba, 0xff, 0x0a, 0x0f, 0x22, 0xe7, 0x41, 0x0f, 0x20, 0xe4,
	0x41, 0x0f, 0x22, 0xe3, 0xeb, 0x56, 0x41, 0x0f, 0x20, 0xc3, 0x4c, 0x89,
	0xdf, 0x48, 0x0f, 0xba, 0xef, 0x1d, 0x48, 0x0f, 0xba, 0xf7, 0x1e, 0x0f,
	0x22, 0xc7, 0xeb, 0x40, 0x41, 0x0f, 0x20, 0xc3, 0x4c, 0x89, 0xdf, 0x48,
	0x0f, 0xba, 0xef, 0x20, 0x0f, 0x22, 0xc7, 0xeb, 0x2f, 0x41, 0x0f, 0x20,
	0xc3, 0x4c, 0x89, 0xdf, 0x48, 0x0f, 0xba, 0xf7, 0x1f, 0x0f, 0x22, 0xc7,
	0xeb, 0x1e, 0x41, 0x0f, 0x20, 0xc3, 0x4c, 0x89, 0xdf, 0x48, 0x0f, 0xba,
	0xef, 0x1d, 0x48, 0x0f, 0xba, 0xef, 0x1e, 0x0f, 0x22, 0xc7, 0x41, 0x0f,
	0x20, 0xc4, 0x41, 0x0f, 0x22, 0xc3, 0xeb, 0x00, 0xbb, 0x22, 0x00, 0x00,
	0x00, 0xeb, 0x07, 0x5a, 0x59, 0xbb, 0x0d, 0x00, 0x00, 0x00, 0x41, 0x0f,
	0x20, 0xe1, 0x41, 0x0f, 0x20, 0xc2, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc3, 0x00, 0x18, 0x00,
	0x00, 0x8e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

struct cr_case {
	const char *what;
	uint64_t entry, fault; /* the MOV's RIP */
	unsigned cr;
	uint64_t set, clear, flip; /* RDI = ((R11 | set) & ~clear) ^ flip */
	bool legal;	     /* PKE: legal where CPUID 7.0 (R8) reports PKU */
	const char *not_kvm; /* why KVM is not asked: kvm-pvm (6.18) does not do what the SDM
			      * and mainline KVM (kvm_is_valid_cr0/cr4) do */
};

#define PVM_PKE "kvm-pvm writes CR4.PKE though its CPUID reports no PKU (measured)"
#define PVM_CR0_HIGH "kvm-pvm drops CR0's bits 63:32 with no #GP(0) (measured)"

static const struct cr_case cr_cases[] = {
	{ "cr4 | bit 31", 0x00, 0x0c, 4, 1ull << 31, 0, 0, false, NULL },
	{ "cr4 | PKE", 0x14, 0x2c, 4, 1ull << 22, 0, 0, false, PVM_PKE },
	{ "cr4 & ~PAE in long mode", 0x3c, 0x48, 4, 0, 1ull << 5, 0, false, NULL },
	{ "cr4 ^ OSXMMEXCPT", 0x4d, 0x59, 4, 0, 0, 1ull << 10, true, NULL },
	{ "cr0 | NW, CD clear", 0x66, 0x77, 0, 1ull << 29, 1ull << 30, 0, false, NULL },
	{ "cr0 | bit 32", 0x7c, 0x88, 0, 1ull << 32, 0, 0, false, PVM_CR0_HIGH },
	{ "cr0 & ~PG in 64-bit mode", 0x8d, 0x99, 0, 0, 1ull << 31, 0, false, NULL },
	{ "cr0 | CD | NW", 0x9e, 0xaf, 0, 3ull << 29, 0, 0, true, NULL },
};

#define CR_CASES (sizeof(cr_cases) / sizeof(cr_cases[0]))
#define CR_RUNS 3 /* the emulator's fast and precise modes, KVM (run 2) */

/* Whether run k runs case c: every case on the emulator, on KVM those it is asked about. */
static bool cr_runs_case(unsigned c, unsigned k)
{
	return k != 2 || !cr_cases[c].not_kvm;
}

/* Each case: #GP(0) on the MOV with RDI and the register unchanged, or the legal value written
 * and read back. */
START_TEST(test_mov_to_cr_refuses_what_the_cpu_refuses)
{
	const struct cr_case *c;
	unsigned ci = 0, k = 0;
	const char *engine;
	struct tv_machine_opts opt = { .ram_size = TV_RAM_DEFAULT, .warnings = stderr };
	struct tv_test_run t;
	uint64_t cr_after, written;
	bool legal;
	char why[256];

	nth_pair((unsigned)_i, CR_CASES, CR_RUNS, cr_runs_case, &ci, &k);
	c = &cr_cases[ci];
	engine = k == 2 ? "kvm" : "emu";
	opt.run_flags = k == 1 ? TV_RUN_PRECISE : 0;
	opt.backend = tv_test_engine(engine, TV_MODE_LONG, why, sizeof(why));
	if (!opt.backend)
		TV_SKIP("%s/long: %s", engine, why);
	run_with_idt(&t, opt, mov_cr, sizeof(mov_cr), 0x10, c->entry);
	expect_hlt(&t, engine);
	legal = c->legal || (c->set == 1ull << 22 && (t.regs.r8 & 8));
	cr_after = c->cr == 4 ? t.regs.r9 : t.regs.r10;
	written = ((t.regs.r11 | c->set) & ~c->clear) ^ c->flip;
	ck_assert_msg(t.regs.rdi == written && cr_after == t.regs.r11,
		      "%s (flags %#x): %s: RDI %#llx, CR%u %#llx before, %#llx after", engine,
		      opt.run_flags, c->what, (unsigned long long)t.regs.rdi, c->cr,
		      (unsigned long long)t.regs.r11, (unsigned long long)cr_after);
	if (legal)
		ck_assert_msg(t.regs.rbx == 0x22 && t.regs.r12 == written,
			      "%s (flags %#x): %s: EBX %#llx, CR%u read back %#llx, want %#llx",
			      engine, opt.run_flags, c->what, (unsigned long long)t.regs.rbx, c->cr,
			      (unsigned long long)t.regs.r12, (unsigned long long)written);
	else
		ck_assert_msg(t.regs.rbx == 13 && t.regs.rdx == 0 && t.regs.rcx == c->fault,
			      "%s (flags %#x): %s: EBX %#llx (13: #GP), error %#llx at %#llx; want "
			      "#GP(0) at %#llx (R12 %#llx, R8 %#llx)", engine, opt.run_flags, c->what,
			      (unsigned long long)t.regs.rbx, (unsigned long long)t.regs.rdx,
			      (unsigned long long)t.regs.rcx, (unsigned long long)c->fault,
			      (unsigned long long)t.regs.r12, (unsigned long long)t.regs.r8);
	tv_test_run_end(&t);
}
END_TEST

/* The emulator, as the fuzzer runs it: MOV CR4, RDI (an illegal value) with a hlt after it,
 * written by the host into a new 16-byte slot of mov_cr's pages for each run, 120 runs (more
 * than the sites' places): each is #GP(0) at its MOV. The sites were found only in a page's
 * first code, and their places not given back. */
START_TEST(test_mov_to_cr_faults_in_code_written_later)
{
	struct tv_test_run t;
	struct tv_sregs s;
	struct tv_regs r;
	struct tv_exit x;
	char why[256];
	const struct tv_backend_ops *be = tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why));

	if (!be)
		TV_SKIP("emu/long: %s", why);
	tv_test_prepare(&t, be, TV_MODE_LONG, mov_cr, sizeof(mov_cr), NULL);
	set_idt(&t, 0x10);
	ck_assert_int_eq(be->get_sregs(t.m.vcpu, &s), 0);
	for (uint64_t i = 0; i < 120; i++) {
		uint64_t slot = 0x1000 + i * 16;
		static const uint8_t code[] = { 0x0f, 0x22, 0xe7, 0xf4 }; /* mov cr4, rdi; hlt */

		memcpy(t.m.ram.host + slot, code, sizeof(code));
		ck_assert_int_eq(be->get_regs(t.m.vcpu, &r), 0);
		r.rip = slot;
		r.rsp = TV_STACK_TOP;
		r.rdi = s.cr4 | 1ull << 31;
		r.rbx = 0;
		ck_assert_int_eq(be->set_regs(t.m.vcpu, &r), 0);
		ck_assert_int_eq(tv_machine_step(&t.m, &x), 0);
		ck_assert_int_eq(be->get_regs(t.m.vcpu, &r), 0);
		ck_assert_msg(x.reason == TV_EXIT_HLT && r.rbx == 13 && r.rcx == slot,
			      "run %llu: ended in %s, EBX %#llx, RIP pushed %#llx; want #GP(0) at "
			      "%#llx", (unsigned long long)i, tv_exit_reason_name(x.reason),
			      (unsigned long long)r.rbx, (unsigned long long)r.rcx,
			      (unsigned long long)slot);
	}
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpu_corrections");
	TCase *tc = tcase_create("corrections");

	tcase_add_loop_test(tc, test_cr8_keeps_its_value_and_unaligned_movaps_faults, 0, 2);
	tcase_add_test(tc, test_movbe_with_a_register_is_ud_on_the_emulator);
	tcase_add_loop_test(tc, test_smsw_gives_all_of_cr0, 0, 2);
	tcase_add_loop_test(tc, test_rf_loaded_by_iret_is_not_pushed, 0, 2);
	tcase_add_loop_test(tc, test_noncanonical_faults_as_the_cpu, 0,
			    (int)nth_pair(~0u, NC_CASES, NC_RUNS, nc_runs_case, NULL, NULL));
	tcase_add_loop_test(tc, test_mov_to_cr_refuses_what_the_cpu_refuses, 0,
			    (int)nth_pair(~0u, CR_CASES, CR_RUNS, cr_runs_case, NULL, NULL));
	tcase_add_test(tc, test_mov_to_cr_faults_in_code_written_later);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
