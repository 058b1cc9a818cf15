/* Minimising a divergence: the shortest window of a snippet's instructions that still diverges
 * when it runs from the oracle's own state before it. */
#ifndef TWINVM_FZ_MINIMIZE_H
#define TWINVM_FZ_MINIMIZE_H

#include "compare.h"
#include "fz.h"

/* One divergence: the snippet, its start state, both results, where they differ. */
struct fz_case {
	enum tv_mode mode; /* the guest mode it ran in; s.bits is that mode's width */
	struct fz_snippet s;
	struct fz_state in;
	struct fz_result emu, oracle;
	struct fz_diff diff;
};

/* Decodes code into a snippet with its end-state masks (gen.h's fz_analyze). */
typedef int (*fz_analyze_fn)(const uint8_t *code, size_t len, unsigned bits, struct fz_snippet *s);

/* Cuts c down to the shortest diverging window of its instructions, trying shorter windows
 * first and, among windows of one length, earlier ones. A window [i, j) starts from the state
 * the oracle reached after instructions [0, i) (a window after an oracle fault is not tried).
 * c is replaced by the window's case; unchanged when nothing shorter diverges. 0, or -errno
 * when an oracle failed. runs (when not NULL) is increased by the snippets run. */
int fz_minimize(struct fz_oracle *emu, struct fz_oracle *oracle, fz_analyze_fn analyze,
		struct fz_case *c, uint64_t *runs);

#endif
