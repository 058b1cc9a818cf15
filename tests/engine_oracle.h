/* The fuzzer's engine oracles in tests (test_fuzz_modes.c, test_fuzz_faults.c): hand-made
 * one-instruction snippets of a mode's width, a start state, and an oracle opened or the case
 * skipped with the host limit that explains why. */
#ifndef TWINVM_TEST_ENGINE_ORACLE_H
#define TWINVM_TEST_ENGINE_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fz.h"
#include "tv_test.h"

/* Real, protected, paged32, long: a loop test's _i indexes it. */
extern const enum tv_mode all_modes[4];

/* One instruction of mode's width. */
void snippet(struct fz_snippet *s, enum tv_mode mode, const uint8_t *code, size_t len,
	     bool system);

/* A state with the stack in the middle of the scratch area and RIP at the code, as mode's code
 * addresses them. */
void start(struct fz_state *in, enum tv_mode mode);

/* The oracle of engine for mode, or NULL with why (KVM absent, or not this mode; tagged for
 * TV_SKIP by tv_test_engine, which fails the test for any other reason). */
struct fz_oracle *open_engine(const char *engine, enum tv_mode mode, char *why, size_t len);

#define OPEN_OR_SKIP(o, engine, mode)                                                       \
	do {                                                                                \
		char why_[512];                                                             \
		(o) = open_engine(engine, mode, why_, sizeof(why_));                        \
		if (!(o))                                                                   \
			TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why_);             \
	} while (0)

/* Runs s from in on o, asserting the oracle itself did not fail. */
void run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
	 struct fz_result *r);

#endif
