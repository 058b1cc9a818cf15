/* The fuzzer's native oracle in tests (test_fuzz_oracles.c, test_fuzz_native_widths.c): opened
 * for a width or the case skipped with the host limit that explains why, one-instruction
 * snippets, and a start state. */
#ifndef TWINVM_TEST_NATIVE_ORACLE_H
#define TWINVM_TEST_NATIVE_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "fz.h"
#include "tv_test.h"

/* The 64-bit native oracle (asserting it opens). */
struct fz_oracle *open_native(void);

/* One instruction of bits' code; snippet() is 64-bit. */
void snippet_bits(struct fz_snippet *s, const uint8_t *code, size_t len, unsigned bits);
void snippet(struct fz_snippet *s, const uint8_t *code, size_t len);

/* The native oracle for bits, or NULL with why tagged when a known host limit keeps it from
 * running that width; any other failure fails the case. */
struct fz_oracle *open_native_bits(unsigned bits, char *why, size_t len);

#define OPEN_NATIVE_OR_SKIP(o, bits)                                                 \
	char why_[512];                                                              \
	struct fz_oracle *o = open_native_bits(bits, why_, sizeof(why_));            \
	if (!o)                                                                      \
		TV_SKIP("native/%u: %s", (unsigned)(bits), why_)

/* A state with the stack in the middle of the scratch area, as bits' code addresses it. */
void start_state(struct fz_state *in, unsigned bits);

#endif
