/* twinvm fuzz's loop: generate a snippet, run it on the emulator and on the oracle, compare;
 * minimise what diverges, bucket it, and write each new bucket. And --replay. */
#ifndef TWINVM_FZ_FUZZ_H
#define TWINVM_FZ_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fz.h"
#include "gen.h"

struct fz_run_opts {
	struct fz_oracle *emu, *oracle; /* opened by the caller, for mode */
	enum tv_mode mode;              /* the snippets are made for its width */
	uint64_t seed;
	uint64_t count;     /* snippets; 0: no limit */
	double duration_s;  /* seconds; 0: no limit (one of the two is set) */
	struct fz_gen_opts gen;
	const char *out_dir;   /* new buckets are written here; NULL: only counted */
	const char *known_dir; /* records whose buckets are not new (tests/divergences); NULL */
	bool progress;         /* a line on stderr at most once a second */
};

struct fz_stats {
	uint64_t snippets;    /* compared */
	uint64_t diverged;    /* snippets that diverged, before bucketing */
	uint64_t new_buckets; /* written to out_dir (or counted) */
	uint64_t known;       /* divergences that fell into a known bucket */
	uint64_t unrunnable;  /* snippets the oracle could not run (skipped) */
	double seconds;
};

/* Runs the loop until count or duration (or Ctrl-C, through tv_kick's interrupted flag). 0, or
 * -errno when an oracle failed (with tv_last_error()). Each new bucket is also one line on out. */
int fz_run(const struct fz_run_opts *o, FILE *out, struct fz_stats *st);

/* The modes the records in dir were made in, as a mask of 1 << enum tv_mode. 0, or -errno with
 * why (a record that does not load). */
int fz_replay_modes(const char *dir, unsigned *modes, char *why, size_t why_len);

/* Replays every record in dir made in mode against emu and oracle (opened for that mode): one
 * line each on out ("still diverges", "no longer diverges: <what>"). *diverging and *total count
 * them; records of other modes are left alone. 0, or -errno with why. */
int fz_replay(struct fz_oracle *emu, struct fz_oracle *oracle, enum tv_mode mode, const char *dir,
	      FILE *out, unsigned *diverging, unsigned *total, char *why, size_t why_len);

#endif
