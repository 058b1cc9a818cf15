/* The native oracle: a snippet runs on the host CPU, in this process, in 64-bit user mode.
 *
 * The snippet's code, its scratch memory and a context page are mapped at fixed low addresses
 * (fz.h, native_ctx.h), the same ones the guests use, so RIP and every address compare as they
 * are. native_stub.S loads the start state and jumps in; the snippet's tail jumps back out. A
 * fault (a #DE from a div, a #PF from a stray address) arrives as a signal on an alternate stack:
 * the handler takes the state at the fault from the signal frame and resumes the caller, so the
 * fault is an outcome and the process goes on. */
#include "fz.h"
#include "native_ctx.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

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

int fz_native_enter(void);
void fz_native_exit(void);
void fz_native_recover(void);

#define CODE_MAP_SIZE 0x1000u
#define ALT_STACK_SIZE (64u * 1024u)

/* The fixed areas: address, size, protection. */
static const struct {
	uint64_t addr;
	size_t size;
	int prot;
} areas[3] = {
	{ FZ_SCRATCH_ADDR, FZ_SCRATCH_SIZE, PROT_READ | PROT_WRITE },
	{ FZ_CODE_ADDR, CODE_MAP_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC },
	{ FZ_CTX_ADDR, 0x1000, PROT_READ | PROT_WRITE },
};

struct native {
	struct fz_oracle o;
	bool mapped[3];    /* only what this oracle mapped is unmapped */
	bool handlers_set;
	struct sigaction saved[5];
	stack_t saved_stack;
	void *alt_stack;
};

static const int fault_signals[5] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };

/* Set by the handler for the run in progress. */
static volatile sig_atomic_t fault_taken;
static struct fz_result *fault_out;

/* ucontext's registers in fz_gpr order. */
static const int greg_of[FZ_NGPR] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_fault(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t rip = (uint64_t)g[REG_RIP];

	(void)info;
	if (rip < FZ_CODE_ADDR || rip >= FZ_CODE_ADDR + CODE_MAP_SIZE || !fault_out) {
		/* Not the snippet's: the default action, as if no handler were here. */
		signal(sig, SIG_DFL);
		return;
	}
	for (int i = 0; i < FZ_NGPR; i++)
		fault_out->st.gpr[i] = (uint64_t)g[greg_of[i]];
	fault_out->st.rip = rip;
	fault_out->st.rflags = (uint64_t)g[REG_EFL];
	fault_out->vector = (int)g[REG_TRAPNO];
	fault_out->error_code = (uint64_t)g[REG_ERR];
	fault_taken = 1;
	/* Back to the caller: fz_native_recover restores its stack; DF and TF cleared for it. */
	g[REG_RIP] = (greg_t)(uintptr_t)fz_native_recover;
	g[REG_EFL] &= ~(greg_t)0x500;
}

/* The three fixed areas, or -errno when an address is taken (MAP_FIXED_NOREPLACE never moves a
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

static int native_run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
		      struct fz_result *out)
{
	uint8_t *code = (uint8_t *)(uintptr_t)FZ_CODE_ADDR;
	uint64_t *ctx_in = (uint64_t *)(uintptr_t)FZ_CTX_IN;
	uint64_t *ctx_out = (uint64_t *)(uintptr_t)FZ_CTX_OUT;
	uint64_t tail = FZ_CTX_EXIT;

	(void)o;
	if (s->len > FZ_CODE_MAX) {
		tv_set_error("native: a snippet of %u bytes (at most %u)", s->len, FZ_CODE_MAX);
		return -EINVAL;
	}
	if (fz_native_refuses(s->code, s->len)) {
		tv_set_error("native: the snippet holds a system call or an FS/GS prefix byte, which "
			     "would run with twinvm's own privileges");
		return -EPERM;
	}
	/* The snippet, then jmp qword [FZ_CTX_EXIT]. */
	memcpy(code, s->code, s->len);
	code[s->len] = 0xff;
	code[s->len + 1] = 0x24;
	code[s->len + 2] = 0x25;
	memcpy(code + s->len + 3, &tail, 4);
	memcpy((void *)(uintptr_t)FZ_SCRATCH_ADDR, in->scratch, FZ_SCRATCH_SIZE);
	memcpy(ctx_in, in->gpr, sizeof(in->gpr));
	ctx_in[16] = (in->rflags & FZ_RFLAGS_START_MASK) | FZ_RFLAGS_FIXED;
	*(uint64_t *)(uintptr_t)FZ_CTX_CODE = FZ_CODE_ADDR;
	*(uint64_t *)(uintptr_t)FZ_CTX_EXIT = (uint64_t)(uintptr_t)fz_native_exit;

	memset(out, 0, sizeof(*out));
	out->vector = -1;
	fault_taken = 0;
	fault_out = out;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (fz_native_enter() == 0) {
		memcpy(out->st.gpr, ctx_out, sizeof(out->st.gpr));
		out->st.rflags = ctx_out[16];
		out->st.rip = FZ_CODE_ADDR + s->len;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	fault_out = NULL;
	memcpy(out->st.scratch, (void *)(uintptr_t)FZ_SCRATCH_ADDR, FZ_SCRATCH_SIZE);
	return 0;
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
	free(n->alt_stack);
	for (int i = 0; i < 3; i++)
		if (n->mapped[i])
			munmap((void *)(uintptr_t)areas[i].addr, areas[i].size);
	free(n);
}

int fz_native_open(unsigned bits, struct fz_oracle **out, char *why, size_t len)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
	struct native *n;
	stack_t st;

	if (bits != 64) {
		snprintf(why, len, "the native oracle runs 64-bit code only so far");
		return -ENOTSUP;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(why, len, "native oracle: out of memory");
		return -ENOMEM;
	}
	n->o = (struct fz_oracle){ .name = "native", .run = native_run, .close = native_close };
	for (int i = 0; i < 3; i++) {
		int rc = map_fixed(areas[i].addr, areas[i].size, areas[i].prot);

		if (rc) {
			snprintf(why, len, "native oracle: cannot map 0x%llx (%zu bytes) at its fixed "
				 "address: %s", (unsigned long long)areas[i].addr, areas[i].size,
				 strerror(-rc));
			native_close(&n->o);
			return -ENODEV;
		}
		n->mapped[i] = true;
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
