/* The fields diff compares, written once: the comparison walks this table in its order, --ignore
 * knows its names, the report names them, and the golden checker (golden.c) requires each in a
 * record that has a state. Shared by the diff_*.c files and golden.c only. */
#ifndef TWINVM_DIFF_FIELDS_H
#define TWINVM_DIFF_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "diff.h"

/* A compared field: its name and its path in a trace record ("cs.base": sregs, cs, base). */
struct tv_diff_field {
	const char *name;
	const char *path[3];
};

/* Every compared field, in the order of comparison; ends with a NULL name. */
extern const struct tv_diff_field tv_diff_field_table[];

/* The member of rec that f names, or NULL. */
const json_t *tv_diff_field_value(const json_t *rec, const struct tv_diff_field *f);

/* The value as the report shows it: a string's text, other JSON compact, "(absent)" for NULL. */
void tv_diff_value_text(const json_t *v, char *buf, size_t len);

/* True when --ignore names the field (or "ram"). */
bool tv_diff_ignored(const struct tv_diff_opts *o, const char *name);

/* The first field in which records a and b differ, or NULL. undefined: RFLAGS bits the
 * instruction just stepped leaves undefined, not compared either. */
const struct tv_diff_field *tv_diff_first_difference(const struct tv_diff_opts *o, const json_t *a,
						     const json_t *b, uint64_t undefined);

#endif
