/* The native oracle: a snippet runs on the host CPU, in this process, in user mode of its width:
 * 64-bit code as it is; 32-bit code in compatibility mode through Linux's 32-bit user code segment
 * (the flat 0x23, with the flat data segment 0x2b); 16-bit code through a 16-bit code segment of
 * the process's LDT (modify_ldt) based at FZ_CODE_ADDR, with DS, ES and SS a 16-bit data segment
 * based at FZ_SCRATCH_ADDR (fz.h).
 *
 * The snippet's code, its scratch memory and a context page are mapped at fixed low addresses
 * (fz.h, native_ctx.h), the same ones the guests use, so RIP and every address compare as they
 * are. native_stub.S loads the start state and jumps in; the snippet's tail jumps back out. A
 * fault (a #DE from a div, a #PF from a stray address) arrives as a signal on an alternate stack:
 * the handler takes the state at the fault from the signal frame and resumes the caller in 64-bit
 * mode, so the fault is an outcome and the process goes on. The addresses are fixed, so one
 * native oracle is open in a process at a time: a second open finds them taken (-ENODEV). */
#include "fz.h"
#include "native_ctx.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "backend.h"

bool fz_native_refuses(const uint8_t *code, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = code[i], next = i + 1 < len ? code[i + 1] : 0;

		if (b == 0x64 || b == 0x65 || (b == 0x0f && (next == 0x05 || next == 0x34)) ||
		    (b == 0xcd && next == 0x80))
			return true;
	}
	return false;
}

#if defined(__x86_64__) && defined(__linux__)

#include <asm/ldt.h>

int fz_native_enter(void);
void fz_native_exit(void);
int fz_native_enter_compat(void);
void fz_native_exit_compat(void);
void fz_native_recover(void);
extern const uint8_t fz_native_enter_compat_end[];
extern const uint8_t fz_native_trampoline[], fz_native_trampoline_end[];

#define CODE_MAP_SIZE 0x1000u
#define ALT_STACK_SIZE (64u * 1024u)
#define NAREAS 4

/* Linux's 32-bit user code segment (GDT_ENTRY_DEFAULT_USER32_CS), and its flat data segment
 * (__USER_DS, which 64-bit code has in SS). */
#define USER32_CS 0x23
#define USER_DS 0x2b
/* The selector of an LDT entry: TI (the LDT) and RPL 3. */
#define LDT_SEL(entry) ((uint16_t)((entry) << 3 | 4 | 3))
/* modify_ldt's "write" with today's semantics (func 1 is the legacy one). */
#define MODIFY_LDT_WRITE 0x11
/* uc_flags (arch/x86/include/uapi/asm/ucontext.h, which clashes with glibc's signal headers):
 * sigreturn takes SS from the context as given, not "fixed" to a flat one. */
#ifndef UC_SIGCONTEXT_SS
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#endif

/* The fixed areas: address, size, protection (the stub page is made read-only once written). */
static const struct {
	uint64_t addr;
	size_t size;
	int prot;
} areas[NAREAS] = {
	{ FZ_SCRATCH_ADDR, FZ_SCRATCH_SIZE, PROT_READ | PROT_WRITE },
	{ FZ_CODE_ADDR, CODE_MAP_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC },
	{ FZ_CTX_ADDR, 0x1000, PROT_READ | PROT_WRITE },
	{ FZ_STUB_ADDR, 0x1000, PROT_READ | PROT_WRITE },
};

struct native {
	struct fz_oracle o;
	unsigned bits;
	uint16_t code_sel; /* the snippet's CS */
	uint16_t host_cs, host_ss;
	bool mapped[NAREAS]; /* only what this oracle mapped is unmapped */
	bool ldt_set;
	bool handlers_set;
	struct sigaction saved[5];
	stack_t saved_stack;
	void *alt_stack;
};

static const int fault_signals[5] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };

/* Set by the handler for the run in progress: 1 for a fault of the snippet's, 2 for one on the
 * way in (fz_native_enter_compat), with the signal. */
static volatile sig_atomic_t fault_taken, fault_signal;
static struct fz_result *fault_out;
static const struct native *running;

/* ucontext's registers in fz_gpr order. */
static const int greg_of[FZ_NGPR] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* Whether rip in code segment cs is the snippet's (1), the way into it (2), or neither (0). The
 * snippet's code is at fz_code_start in its code segment. */
static int fault_site(const struct native *n, uint16_t cs, uint64_t rip)
{
	uint64_t start = fz_code_start(n->bits);

	if (cs == n->code_sel && rip >= start && rip < start + CODE_MAP_SIZE)
		return 1;
	if (n->bits != 64 && cs == n->host_cs && rip >= (uintptr_t)fz_native_enter_compat &&
	    rip < (uintptr_t)fz_native_enter_compat_end)
		return 2;
	return 0;
}

static void on_fault(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t rip = (uint64_t)g[REG_RIP];
	/* REG_CSGSFS holds CS, GS, FS and SS, 16 bits each from the bottom. */
	uint64_t csgsfs = (uint64_t)g[REG_CSGSFS];
	const struct native *n = running;
	int site = n && fault_out ? fault_site(n, (uint16_t)csgsfs, rip) : 0;

	(void)info;
	if (!site) {
		/* Not the snippet's: the default action, as if no handler were here. */
		signal(sig, SIG_DFL);
		return;
	}
	for (int i = 0; i < FZ_NGPR; i++)
		fault_out->st.gpr[i] =
			i < fz_gprs(n->bits) ? (uint64_t)g[greg_of[i]] & fz_gpr_mask(n->bits) : 0;
	fault_out->st.rip = rip;
	fault_out->st.rflags = (uint64_t)g[REG_EFL];
	fault_out->vector = (int)g[REG_TRAPNO];
	fault_out->error_code = (uint64_t)g[REG_ERR];
	fault_signal = sig;
	fault_taken = site;
	/* Back to the caller: fz_native_recover restores its stack, DS and ES; DF and TF cleared
	 * for it; CS and SS the 64-bit ones (the kernel restores SS as given when told to). */
	g[REG_RIP] = (greg_t)(uintptr_t)fz_native_recover;
	g[REG_EFL] &= ~(greg_t)0x500;
	csgsfs = (csgsfs & 0x0000ffffffff0000ull) | n->host_cs | (uint64_t)n->host_ss << 48;
	g[REG_CSGSFS] = (greg_t)csgsfs;
	uc->uc_flags |= UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
}

/* The fixed areas, or -errno when an address is taken (MAP_FIXED_NOREPLACE never moves a
 * mapping of the process's own). */
static int map_fixed(uint64_t addr, size_t size, int prot)
{
	void *p = mmap((void *)(uintptr_t)addr, size, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (p != (void *)(uintptr_t)addr) { /* a kernel before 4.17 takes it as a hint */
		munmap(p, size);
		return -EEXIST;
	}
	return 0;
}

/* "SEGV" for SIGSEGV. */
static const char *signame(int sig)
{
	const char *name = sigabbrev_np(sig);

	return name ? name : "?";
}

/* The tail that ends a snippet of n's width at code[len]: back to fz_native_exit(_compat). */
static void write_tail(const struct native *n, uint8_t *code, size_t len)
{
	uint32_t target = n->bits == 64 ? FZ_CTX_EXIT : FZ_STUB_ADDR;
	size_t at = len;

	if (n->bits == 64) { /* jmp qword [FZ_CTX_EXIT] */
		code[at++] = 0xff;
		code[at++] = 0x24;
		code[at++] = 0x25;
		memcpy(code + at, &target, 4);
		return;
	}
	if (n->bits == 16)
		code[at++] = 0x66; /* a 4-byte offset: the trampoline is not in the first 64 KiB */
	code[at++] = 0xea;         /* jmp far host_cs:FZ_STUB_ADDR */
	memcpy(code + at, &target, 4);
	memcpy(code + at + 4, &n->host_cs, 2);
}

static int native_run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
		      struct fz_result *out)
{
	struct native *n = (struct native *)o;
	uint8_t *code = (uint8_t *)(uintptr_t)FZ_CODE_ADDR;
	uint64_t *ctx_in = (uint64_t *)(uintptr_t)FZ_CTX_IN;
	uint64_t *ctx_out = (uint64_t *)(uintptr_t)FZ_CTX_OUT;
	unsigned bits = s->bits ? s->bits : 64; /* 0: made before snippets had a width */
	int entered;

	if (bits != n->bits) {
		tv_set_error("native: a %u-bit snippet for the %u-bit oracle", bits, n->bits);
		return -EINVAL;
	}
	if (s->len > FZ_CODE_MAX) {
		tv_set_error("native: a snippet of %u bytes (at most %u)", s->len, FZ_CODE_MAX);
		return -EINVAL;
	}
	if (fz_native_refuses(s->code, s->len)) {
		tv_set_error("native: the snippet holds a system call or an FS/GS prefix byte, which "
			     "would run with twinvm's own privileges");
		return -EPERM;
	}
	memcpy(code, s->code, s->len);
	write_tail(n, code, s->len);
	memcpy((void *)(uintptr_t)FZ_SCRATCH_ADDR, in->scratch, FZ_SCRATCH_SIZE);
	memcpy(ctx_in, in->gpr, sizeof(in->gpr));
	ctx_in[16] = (in->rflags & FZ_RFLAGS_START_MASK) | FZ_RFLAGS_FIXED;
	*(uint64_t *)(uintptr_t)FZ_CTX_CODE = FZ_CODE_ADDR;
	*(uint64_t *)(uintptr_t)FZ_CTX_EXIT = n->bits == 64 ? (uint64_t)(uintptr_t)fz_native_exit
							    : (uint64_t)(uintptr_t)fz_native_exit_compat;

	memset(out, 0, sizeof(*out));
	out->vector = -1;
	fault_taken = 0;
	fault_out = out;
	running = n;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	entered = n->bits == 64 ? fz_native_enter() : fz_native_enter_compat();
	if (entered == 0) {
		for (int i = 0; i < FZ_NGPR; i++)
			out->st.gpr[i] = i < fz_gprs(n->bits) ? ctx_out[i] & fz_gpr_mask(n->bits) : 0;
		out->st.rflags = ctx_out[16];
		out->st.rip = fz_code_start(n->bits) + s->len;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	fault_out = NULL;
	memcpy(out->st.scratch, (void *)(uintptr_t)FZ_SCRATCH_ADDR, FZ_SCRATCH_SIZE);
	if (fault_taken == 2) {
		tv_set_error("native: the far jump into the %u-bit code segment (0x%x) faulted (SIG%s, "
			     "vector %d)", n->bits, n->code_sel, signame(fault_signal), out->vector);
		return -EIO;
	}
	return 0;
}

/* One LDT entry: a 16-bit segment with byte limit 0xffff at base; present (DPL 3, as modify_ldt
 * makes them all), or the empty entry that frees the slot. */
static int set_ldt(unsigned entry, uint32_t base, bool code, bool present)
{
	struct user_desc d = { .entry_number = entry };

	if (present) {
		d.base_addr = base;
		d.limit = 0xffff;
		d.contents = code ? MODIFY_LDT_CONTENTS_CODE : MODIFY_LDT_CONTENTS_DATA;
	} else {
		d.read_exec_only = 1;
		d.seg_not_present = 1;
	}
	return syscall(SYS_modify_ldt, MODIFY_LDT_WRITE, &d, sizeof(d)) == 0 ? 0 : -errno;
}

static void native_close(struct fz_oracle *o)
{
	struct native *n = (struct native *)o;

	if (!n)
		return;
	if (n->handlers_set) {
		for (int i = 0; i < 5; i++)
			sigaction(fault_signals[i], &n->saved[i], NULL);
		sigaltstack(&n->saved_stack, NULL);
	}
	if (n->ldt_set) {
		set_ldt(FZ_LDT_CODE16, 0, true, false);
		set_ldt(FZ_LDT_DATA16, 0, false, false);
	}
	if (running == n)
		running = NULL;
	free(n->alt_stack);
	for (int i = 0; i < NAREAS; i++)
		if (n->mapped[i])
			munmap((void *)(uintptr_t)areas[i].addr, areas[i].size);
	free(n);
}

/* The fixed areas mapped, the trampoline in its page, the process's selectors noted. */
static int map_areas(struct native *n, char *why, size_t len)
{
	size_t stub_len = (size_t)(fz_native_trampoline_end - fz_native_trampoline);
	uint16_t ds, es;

	for (int i = 0; i < NAREAS; i++) {
		int rc = map_fixed(areas[i].addr, areas[i].size, areas[i].prot);

		if (rc) {
			snprintf(why, len, "native oracle: cannot map 0x%llx (%zu bytes) at its fixed "
				 "address: %s%s", (unsigned long long)areas[i].addr, areas[i].size,
				 strerror(-rc), rc == -EEXIST ? " (is another native oracle open in "
				 "this process? one at a time: its addresses are fixed)" : "");
			return -ENODEV;
		}
		n->mapped[i] = true;
	}
	memcpy((void *)(uintptr_t)FZ_STUB_ADDR, fz_native_trampoline, stub_len);
	if (mprotect((void *)(uintptr_t)FZ_STUB_ADDR, 0x1000, PROT_READ | PROT_EXEC) != 0) {
		snprintf(why, len, "native oracle: cannot make its stub page executable: %s",
			 strerror(errno));
		return -ENODEV;
	}
	__asm__ volatile("mov %%cs, %0; mov %%ss, %1; mov %%ds, %2; mov %%es, %3"
			 : "=r"(n->host_cs), "=r"(n->host_ss), "=r"(ds), "=r"(es));
	*(uint16_t *)(uintptr_t)FZ_CTX_HOST_SS = n->host_ss;
	*(uint16_t *)(uintptr_t)FZ_CTX_HOST_DS = ds;
	*(uint16_t *)(uintptr_t)FZ_CTX_HOST_ES = es;
	n->code_sel = n->host_cs; /* 64-bit code's; set_segments sets the others' */
	return 0;
}

/* The segments 32- or 16-bit code runs with: CS and the data selector, and the far pointer in. */
static int set_segments(struct native *n, char *why, size_t len)
{
	uint32_t entry = n->bits == 16 ? 0 : FZ_CODE_ADDR;
	uint16_t data = USER_DS;
	int rc;

	n->code_sel = USER32_CS;
	if (n->bits == 16) {
		rc = set_ldt(FZ_LDT_CODE16, FZ_CODE_ADDR, true, true);
		if (!rc)
			rc = set_ldt(FZ_LDT_DATA16, FZ_SCRATCH_ADDR, false, true);
		n->ldt_set = true; /* cleared at close, even the half that took */
		if (rc) {
			snprintf(why, len, "modify_ldt cannot install the 16-bit segments: %s%s",
				 strerror(-rc), rc == -ENOSYS ? " (a kernel without "
				 "CONFIG_MODIFY_LDT_SYSCALL)" : rc == -EPERM ? " (a seccomp filter "
				 "refuses it?)" : "");
			return rc == -ENOSYS || rc == -EPERM ? -ENOTSUP : -EIO;
		}
		n->code_sel = LDT_SEL(FZ_LDT_CODE16);
		data = LDT_SEL(FZ_LDT_DATA16);
	}
	memcpy((void *)(uintptr_t)FZ_CTX_FAR, &entry, 4);
	memcpy((void *)(uintptr_t)(FZ_CTX_FAR + 4), &n->code_sel, 2);
	*(uint16_t *)(uintptr_t)FZ_CTX_DATA_SEL = data;
	return 0;
}

/* Runs a snippet whose result only n's width gives: 0x40 is inc eax in 32-bit code, inc ax in
 * 16-bit code, and a REX prefix in 64-bit code. -ENOTSUP with why when the far jump in faults,
 * -EIO when the CPU ran something else. */
static int probe(struct native *n, char *why, size_t len)
{
	struct fz_snippet s = { .code = { 0x40 }, .len = 1, .ninsn = 1, .off = { 0, 1 },
				.bits = (uint8_t)n->bits };
	struct fz_state *in = calloc(1, sizeof(*in));
	struct fz_result *r = calloc(1, sizeof(*r));
	uint64_t want = n->bits == 16 ? 0x10000 : 0x20000;
	const char *seg = n->bits == 16 ? "16-bit LDT code segment" : "32-bit user code segment";
	int rc = -ENOMEM;

	if (!in || !r) {
		snprintf(why, len, "native oracle: out of memory");
		goto out;
	}
	in->gpr[FZ_RAX] = 0x1ffff;
	in->gpr[FZ_RSP] = fz_scratch_start(n->bits) + FZ_SCRATCH_SIZE / 2;
	rc = native_run(&n->o, &s, in, r);
	if (rc == -EIO) {
		snprintf(why, len, "the far jump into the %s (0x%x) faults on this host (SIG%s)%s", seg,
			 n->code_sel, signame(fault_signal), n->bits == 32 ? ": ia32 emulation is off?"
			 : "");
		rc = -ENOTSUP;
	} else if (rc == 0 && (r->vector != -1 || r->st.gpr[FZ_RAX] != want ||
			       r->st.rip != fz_code_start(n->bits) + 1)) {
		snprintf(why, len, "the %s (0x%x) did not run inc eax (0x40) as %u-bit code: eax "
			 "0x%llx, vector %d at 0x%llx (wanted eax 0x%llx)", seg, n->code_sel, n->bits,
			 (unsigned long long)r->st.gpr[FZ_RAX], r->vector,
			 (unsigned long long)r->st.rip, (unsigned long long)want);
		rc = -EIO;
	} else if (rc) {
		snprintf(why, len, "native oracle: %s", tv_last_error());
	}
out:
	free(in);
	free(r);
	return rc;
}

int fz_native_open(unsigned bits, struct fz_oracle **out, char *why, size_t len)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
	struct native *n;
	stack_t st;
	int rc;

	if (bits != 64 && bits != 32 && bits != 16) {
		snprintf(why, len, "native oracle: no %u-bit code (16, 32 or 64)", bits);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(why, len, "native oracle: out of memory");
		return -ENOMEM;
	}
	n->o = (struct fz_oracle){ .name = "native", .run = native_run, .close = native_close };
	n->bits = bits;
	rc = map_areas(n, why, len);
	if (!rc && bits != 64)
		rc = set_segments(n, why, len);
	if (rc) {
		native_close(&n->o);
		return rc;
	}
	n->alt_stack = malloc(ALT_STACK_SIZE);
	st = (stack_t){ .ss_sp = n->alt_stack, .ss_size = ALT_STACK_SIZE };
	if (!n->alt_stack || sigaltstack(&st, &n->saved_stack) != 0) {
		snprintf(why, len, "native oracle: no alternate signal stack: %s", strerror(errno));
		native_close(&n->o);
		return -ENOMEM;
	}
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 5; i++)
		sigaction(fault_signals[i], &sa, &n->saved[i]);
	n->handlers_set = true;
	if (bits != 64 && (rc = probe(n, why, len)) != 0) {
		native_close(&n->o);
		return rc;
	}
	*out = &n->o;
	return 0;
}

#else

int fz_native_open(unsigned bits, struct fz_oracle **out, char *why, size_t len)
{
	(void)bits;
	(void)out;
	snprintf(why, len, "the native oracle needs an x86-64 Linux host");
	return -ENODEV;
}

#endif
