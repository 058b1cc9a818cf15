/* Buckets: a few hundred keys at most, so a plain list. */
#include "bucket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fz_case_key(const struct fz_case *c, fz_form_fn form, char *key, size_t len)
{
	char fields[256];
	size_t n = 0;

	if (!len || !form)
		return -EINVAL;
	key[0] = '\0';
	for (unsigned i = 0; i < c->s.ninsn; i++) {
		char one[96];
		int rc = form(c->s.code + c->s.off[i], (size_t)(c->s.off[i + 1] - c->s.off[i]), one,
			      sizeof(one));

		if (rc)
			return rc;
		n += (size_t)snprintf(key + n, n < len ? len - n : 0, "%s%s", i ? "; " : "", one);
	}
	fz_diff_fields(&c->diff, fields, sizeof(fields));
	n += (size_t)snprintf(key + n, n < len ? len - n : 0, " -> %s", fields);
	return n < len ? 0 : -ENOSPC;
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
