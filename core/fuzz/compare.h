/* Comparing two runs of one snippet: what differs, once what the snippet leaves undefined is
 * masked. */
#ifndef TWINVM_FZ_COMPARE_H
#define TWINVM_FZ_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fz.h"

/* The fields a divergence is in: bits 0-15 the general registers (enum fz_gpr). */
#define FZ_F_RIP (1u << 16)
#define FZ_F_RFLAGS (1u << 17)
#define FZ_F_SCRATCH (1u << 18)
#define FZ_F_FAULT (1u << 19) /* one faulted and the other did not, or with another vector */
/* The system state, compared where both oracles report it (the engines: KVM against the
 * emulator), and the error code where both saw it. */
#define FZ_F_ERROR_CODE (1u << 20)
#define FZ_F_SEGMENTS (1u << 21) /* cs, ds, es, fs, gs or ss */
#define FZ_F_CR0 (1u << 22)
#define FZ_F_CR2 (1u << 23)
#define FZ_F_CR3 (1u << 24)
#define FZ_F_CR4 (1u << 25)
#define FZ_F_EFER (1u << 26)
#define FZ_F_FRAME (1u << 27) /* the CS (long mode: and SS) an exception frame saved */

struct fz_diff {
	uint32_t fields;      /* FZ_F_* and 1 << gpr */
	uint64_t rflags_bits; /* the compared RFLAGS bits that differ */
	uint32_t scratch_at;  /* the first scratch byte that differs, with FZ_F_SCRATCH */
};

/* Compares a (the emulator's run) with b (the oracle's) of s: true when they differ anywhere the
 * snippet defines, with d saying where. RFLAGS is compared on FZ_RFLAGS_COMPARED less
 * s->rflags_undefined, registers (the ones s->bits has, on the bits it has) less
 * s->gpr_undefined, the scratch area less the bytes either side's fault catching wrote
 * (clobber_at/len). When both faulted with the same vector the states at the fault are compared
 * the same way; error codes only where both sides know them as a guest sees them (the native
 * oracle runs at CPL 3, the guests at CPL 0, and #PF's error code says so), and the system state
 * where both report it. Where both took the fault through an exception frame (the engines) the
 * frame is compared too: the RFLAGS it saved on FZ_RFLAGS_FRAME (less the undefined flags), its CS
 * and SS. */
bool fz_compare(const struct fz_snippet *s, const struct fz_result *a, const struct fz_result *b,
		struct fz_diff *d);

/* "rax, rflags.cf, scratch" and the like, for bucket keys and reports. */
void fz_diff_fields(const struct fz_diff *d, char *buf, size_t len);

/* "rax"... "r15". */
const char *fz_gpr_name(int gpr);

#endif
