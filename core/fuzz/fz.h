/* twinvm fuzz: the pieces every part of the differential fuzzer shares. A snippet is a few
 * generated instructions; an oracle runs it from a start state and reports the end state (or the
 * fault); the fuzzer runs the same snippet on the emulator and on an oracle and compares.
 *
 * The snippet's code and its scratch memory sit at the same addresses on every side: natively
 * (mapped at these addresses in the twinvm process) and in a guest (guest-virtual = guest-physical
 * in twinvm's modes), so RIP and every address a snippet computes compare as they are.
 *
 * A snippet is made for one code width (fz_snippet.bits), the mode's: 64 (long mode; natively
 * 64-bit user mode), 32 (protected and paged32; natively compatibility mode, flat segments) or 16
 * (real mode; natively a 16-bit LDT segment). 64 and 32 address both areas flat. 16-bit code
 * reaches them through segments: CS based at its code, DS, ES and SS at FZ_SCRATCH_ADDR, so its
 * IP starts at 0 and its data addresses are offsets into the scratch area (fz_code_start,
 * fz_scratch_start). Below 64 bits only the eight legacy registers exist, and only their low 32
 * bits are compared (the upper halves are not the snippet's: the SDM leaves them undefined across
 * a mode change). */
#ifndef TWINVM_FZ_H
#define TWINVM_FZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "modes.h"

#define FZ_SCRATCH_ADDR 0x40000ull /* memory operands point here */
#define FZ_SCRATCH_SIZE 0x1000u
#define FZ_CODE_ADDR 0x50000ull    /* the snippet, then what ends it */
#define FZ_CODE_MAX 256u           /* bytes of snippet code */
#define FZ_INSN_MAX 16u

/* The general registers in the order x86 encodes them. */
enum fz_gpr {
	FZ_RAX, FZ_RCX, FZ_RDX, FZ_RBX, FZ_RSP, FZ_RBP, FZ_RSI, FZ_RDI,
	FZ_R8, FZ_R9, FZ_R10, FZ_R11, FZ_R12, FZ_R13, FZ_R14, FZ_R15,
	FZ_NGPR,
};

/* The user-level state a snippet starts from and ends in. */
struct fz_state {
	uint64_t gpr[FZ_NGPR];
	uint64_t rflags;
	uint64_t rip;
	uint8_t scratch[FZ_SCRATCH_SIZE];
};

/* RFLAGS bits compared in an exception frame, where both oracles have one: the arithmetic flags
 * and DF, and TF, IF, IOPL, NT, RF, VM, AC, VIF, VIP and ID as the CPU saved them (RF set for a
 * fault, not for a trap). */
#define FZ_RFLAGS_FRAME 0x3f7fd5ull

/* RFLAGS bits a snippet may start with: the arithmetic flags and DF. (TF would trap, AC would make
 * Linux's user mode fault on unaligned accesses, IF/IOPL are not the snippet's.) */
#define FZ_RFLAGS_START_MASK 0x0cd5ull /* CF PF AF ZF SF DF OF */
/* Bits always set in RFLAGS; and the bits compared at the end unless undefined. */
#define FZ_RFLAGS_FIXED 0x2ull
#define FZ_RFLAGS_COMPARED 0x0cd5ull

struct fz_snippet {
	uint8_t code[FZ_CODE_MAX];
	uint16_t len;
	uint8_t ninsn;
	uint16_t off[FZ_INSN_MAX + 1]; /* instruction i is code[off[i] .. off[i + 1]) */
	/* What the end state is not compared on, because an instruction leaves it undefined and
	 * nothing later defined it again (the generator's taint tracking). */
	uint64_t rflags_undefined;
	uint16_t gpr_undefined; /* bit i: gpr[i] */
	uint8_t bits;           /* 16, 32 or 64: the code width it was made for */
	bool system;            /* holds an FZ_CLASS_SYSTEM instruction (the kvm oracle's only) */
};

/* Where the snippet's first instruction and its scratch area are, as its code sees them. */
static inline uint64_t fz_code_start(unsigned bits)
{
	return bits == 16 ? 0 : FZ_CODE_ADDR;
}

static inline uint64_t fz_scratch_start(unsigned bits)
{
	return bits == 16 ? 0 : FZ_SCRATCH_ADDR;
}

/* The general registers a snippet of bits has (compared and generated), and the part of each. */
static inline int fz_gprs(unsigned bits)
{
	return bits == 64 ? FZ_NGPR : 8;
}

static inline uint64_t fz_gpr_mask(unsigned bits)
{
	return bits == 64 ? ~0ull : 0xffffffffull;
}

/* How a run ended. vector -1: the snippet ran to its end; otherwise the exception it raised,
 * with st the state at the faulting instruction (rip on it), or FZ_VECTOR_UNKNOWN for a fault
 * the oracle cannot name (KVM's SHUTDOWN), which compares equal to any vector. */
#define FZ_VECTOR_UNKNOWN 256
struct fz_result {
	struct fz_state st;
	int vector;
	uint64_t error_code;
	bool error_code_known; /* the vector pushes one and the oracle saw it as the guest would */
	/* Scratch bytes the oracle's own way of catching the fault wrote (the exception frame a
	 * guest's handler receives on the snippet's stack): not the snippet's, not compared. */
	uint16_t clobber_at, clobber_len;
	/* The engine oracles' exception frame, beside the RIP, RFLAGS (all of it, RF and IF too)
	 * and RSP it gave st: the CS it saved, and in long mode the SS. */
	bool has_frame;
	uint16_t frame_cs, frame_ss;
	/* The engine oracles' system state at the end (segments, control registers, EFER). */
	bool has_system;
	struct tv_sregs system;
};

/* Something that runs snippets: the host CPU, KVM, or the emulator. */
struct fz_oracle {
	const char *name; /* "native", "kvm", "emu" */
	/* Runs s from in. 0 with *out filled (a fault is an outcome, not an error); -ENOTSUP when
	 * this oracle cannot run this snippet (KVM's instruction emulator refusing it), which the
	 * fuzzer skips; other -errno when the oracle itself failed (with tv_last_error()). */
	int (*run)(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
		   struct fz_result *out);
	void (*close)(struct fz_oracle *o); /* NULL-safe */
};

/* Whether code holds bytes the native oracle refuses to run: it runs with twinvm's own
 * privileges, so no system call (syscall, sysenter, int 0x80) and no FS/GS prefix (FS is the
 * thread's TLS). The check is on bytes, not instructions, so it also refuses some harmless
 * immediates: a refusal, never a miss. The generator avoids them with the same function. */
bool fz_native_refuses(const uint8_t *code, size_t len);

/* The host CPU running snippets of bits (16, 32 or 64) in user mode. -ENODEV with why when this
 * host cannot (not x86-64 Linux, or the fixed addresses are taken), -ENOTSUP with why when it
 * cannot run that width (the far jump into compatibility mode or a 16-bit segment faults). */
int fz_native_open(unsigned bits, struct fz_oracle **out, char *why, size_t len);

/* The engine be (the emulator or KVM) running snippets as a guest in mode, one machine reused
 * for all of them; cpu_model as tv_machine_opts takes it (NULL: the engine's default). -ENODEV
 * or -ENOTSUP with why when it cannot here. */
int fz_engine_open(const struct tv_backend_ops *be, enum tv_mode mode, const char *cpu_model,
		   struct fz_oracle **out, char *why, size_t len);

#endif
