/* Buckets: divergences with the same instructions (by form) differing in the same fields count
 * once. */
#ifndef TWINVM_FZ_BUCKET_H
#define TWINVM_FZ_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minimize.h"

/* The form of one instruction, "shld r64, r64, cl" (gen.h's fz_insn_form). */
typedef int (*fz_form_fn)(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n);

/* The general registers that are explicit operands of code (gen.h's fz_explicit_gprs). */
typedef uint16_t (*fz_gprs_fn)(const uint8_t *code, size_t len, unsigned bits);

/* "popcnt r64, r64 -> reg, rflags": the form of c's last instruction (the one the divergence
 * shows at; "...; " before it when others lead up to it), then where it differs: registers that
 * are explicit operands as "reg" (explicit may be NULL: every register by name), any flag as
 * "rflags". Which flag or register differs depends on the values, not on the bug. When both
 * sides faulted, with different vectors or error codes, the form gives way to the exceptions,
 * the oracle's first: "#SS(0) raised as #GP(0) -> fault", "#PF(2) raised as #PF(0) ->
 * error_code" (the exceptions class finds one such bug through many forms); a selector as an
 * error code is "sel", its value being the snippet's. */
int fz_case_key(const struct fz_case *c, fz_form_fn form, fz_gprs_fn explicit, char *key,
		size_t len);

struct fz_buckets {
	char **keys;
	size_t n, cap;
};

/* Adds key: true when it is new (and kept), false when it was there. -ENOMEM as false too,
 * with nothing kept: a lost bucket is rediscovered, never invented. */
bool fz_buckets_add(struct fz_buckets *b, const char *key);
bool fz_buckets_has(const struct fz_buckets *b, const char *key);
void fz_buckets_free(struct fz_buckets *b);

#endif
