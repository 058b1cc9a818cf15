/* Buckets: a few hundred keys at most, so a plain list. */
#include "bucket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	rc = form(c->s.code + c->s.off[last], (size_t)(c->s.off[last + 1] - c->s.off[last]), c->s.bits,
		  one, sizeof(one));
	if (rc)
		return rc;
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
