/* Buckets: a few hundred keys at most, so a plain list. */
#include "bucket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "#GP(0)" for vector 13 with error code 0, "#PF(0x1d)" for a page fault's, "#NP(sel)" for a
 * selector's (whose value depends on the snippet, not on the bug), "#UD" for a vector without
 * one, "vector 40" for one without a mnemonic. */
static void exception_name(const struct fz_result *r, char *buf, size_t len)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", NULL, "#TS",
		"#NP", "#SS", "#GP", "#PF", NULL,  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	};
	const int v = r->vector;
	const bool selector = v == 10 || v == 11 || v == 12 || v == 13;
	int n;

	if (v >= 0 && v < 32 && names[v])
		n = snprintf(buf, len, "%s", names[v]);
	else
		n = snprintf(buf, len, "vector %d", v);
	if (n < 0 || (size_t)n >= len || !r->error_code_known)
		return;
	if (selector && r->error_code)
		snprintf(buf + n, len - (size_t)n, "(sel)");
	else if (r->error_code < 10)
		snprintf(buf + n, len - (size_t)n, "(%llu)", (unsigned long long)r->error_code);
	else
		snprintf(buf + n, len - (size_t)n, "(0x%llx)", (unsigned long long)r->error_code);
}

int fz_case_key(const struct fz_case *c, fz_form_fn form, fz_gprs_fn explicit, char *key,
		size_t len)
{
	struct fz_diff named = c->diff;
	uint16_t regs = explicit ? explicit(c->s.code, c->s.len, c->s.bits) : 0;
	unsigned last = c->s.ninsn ? c->s.ninsn - 1u : 0;
	char one[96], fields[256];
	int rc;

	if (!len || !form || !c->s.ninsn)
		return -EINVAL;
	if (c->emu.vector >= 0 && c->oracle.vector >= 0 && c->emu.vector != FZ_VECTOR_UNKNOWN &&
	    c->oracle.vector != FZ_VECTOR_UNKNOWN &&
	    (c->emu.vector != c->oracle.vector || (c->diff.fields & FZ_F_ERROR_CODE))) {
		/* Both faulted, with another exception: which one the emulator raises for which is
		 * the bug, whatever instruction form shows it. */
		char a[40], b[40];

		exception_name(&c->oracle, a, sizeof(a));
		exception_name(&c->emu, b, sizeof(b));
		snprintf(one, sizeof(one), "%s raised as %s", a, b);
		last = 0;
	} else {
		rc = form(c->s.code + c->s.off[last], (size_t)(c->s.off[last + 1] - c->s.off[last]),
			  c->s.bits, one, sizeof(one));
		if (rc)
			return rc;
	}
	/* Which flags or which register differ depends on the values, not on the bug. */
	named.fields &= ~(uint32_t)regs;
	if (named.rflags_bits)
		named.rflags_bits = ~0ull;
	fz_diff_fields(&named, fields, sizeof(fields));
	/* Long mode's keys name no mode: they were the only ones before the others came. */
	rc = snprintf(key, len, "%s%s%s%s -> %s%s%s", c->mode == TV_MODE_LONG ? "" : tv_mode_name(c->mode),
		      c->mode == TV_MODE_LONG ? "" : ": ", last ? "...; " : "", one,
		      (c->diff.fields & regs) ? "reg" : "",
		      (c->diff.fields & regs) && fields[0] ? ", " : "", fields);
	return rc >= 0 && (size_t)rc < len ? 0 : -ENOSPC;
}

bool fz_buckets_has(const struct fz_buckets *b, const char *key)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->keys[i], key) == 0)
			return true;
	return false;
}

bool fz_buckets_add(struct fz_buckets *b, const char *key)
{
	char *copy;

	if (fz_buckets_has(b, key))
		return false;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		char **grown = realloc(b->keys, cap * sizeof(*grown));

		if (!grown)
			return false;
		b->keys = grown;
		b->cap = cap;
	}
	copy = strdup(key);
	if (!copy)
		return false;
	b->keys[b->n++] = copy;
	return true;
}

void fz_buckets_free(struct fz_buckets *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->keys[i]);
	free(b->keys);
	*b = (struct fz_buckets){ 0 };
}
