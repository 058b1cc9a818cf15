/* Minimising a divergence. A snippet is at most FZ_INSN_MAX instructions, so trying every window
 * by length is at most 136 pairs of runs: cheap next to the millions of snippets that found it. */
#include "minimize.h"

#include <errno.h>
#include <string.h>

/* The window [i, j) of s, analysed afresh: what it leaves undefined is its own business. */
static int window(fz_analyze_fn analyze, const struct fz_snippet *s, unsigned i, unsigned j,
		  struct fz_snippet *w)
{
	return analyze(s->code + s->off[i], (size_t)(s->off[j] - s->off[i]), s->bits, w);
}

int fz_minimize(struct fz_oracle *emu, struct fz_oracle *oracle, fz_analyze_fn analyze,
		struct fz_case *c, uint64_t *runs)
{
	/* before[i]: the oracle's state before instruction i, valid for i < reach. */
	static struct fz_state before[FZ_INSN_MAX];
	struct fz_case *t = NULL;
	unsigned n = c->s.ninsn, reach = 1;
	struct fz_snippet w;
	struct fz_result r;
	int rc = 0;

	if (n <= 1)
		return 0;
	before[0] = c->in;
	for (unsigned i = 1; i < n; i++, reach++) {
		/* -ENOTSUP: the window's result cannot be compared whole (a pushf without its
		 * mask), but it runs, and the state it leaves is what the next window starts from. */
		rc = window(analyze, &c->s, i - 1, i, &w);
		if (rc == -ENOTSUP)
			rc = 0;
		if (!rc)
			rc = oracle->run(oracle, &w, &before[i - 1], &r);
		if (rc == -ENOTSUP)
			break; /* the oracle cannot run it alone (KVM's emulator): no state after it */
		if (rc)
			return rc;
		if (runs)
			++*runs;
		if (r.vector >= 0)
			break;
		before[i] = r.st;
		before[i].rip = fz_code_start(c->s.bits); /* every window runs from the start */
	}
	t = &(struct fz_case){ .mode = c->mode };
	for (unsigned len = 1; len < n; len++) {
		for (unsigned i = 0; i + len <= n && i < reach; i++) {
			rc = window(analyze, &c->s, i, i + len, &t->s);
			if (rc == -ENOTSUP)
				continue; /* not comparable alone: a longer window will hold it */
			if (rc)
				return rc;
			t->in = before[i];
			rc = emu->run(emu, &t->s, &t->in, &t->emu);
			if (!rc)
				rc = oracle->run(oracle, &t->s, &t->in, &t->oracle);
			if (rc == -ENOTSUP)
				continue; /* a window one side cannot run: not a candidate */
			if (rc)
				return rc;
			if (runs)
				*runs += 2;
			if (fz_compare(&t->s, &t->emu, &t->oracle, &t->diff)) {
				*c = *t;
				return 0;
			}
		}
	}
	return 0;
}
