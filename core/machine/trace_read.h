/* Reading JSON Lines traces (trace.h's format) back: one JSON object a line, with its number.
 * The one reader of traces: `twinvm diff --against` checks each object it yields as a golden
 * record (core/services/golden.c), and the tests pick fields out of them. */
#ifndef TWINVM_TRACE_READ_H
#define TWINVM_TRACE_READ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes in a line, newline included, at most: a longer line is refused (-EFBIG), never cut. A
 * record's largest member, string I/O data, is 8 KiB of hex. */
#define TV_TRACE_LINE_MAX 65536

/* A trace being read from f. Zero it, then set f and, for messages, name. Nothing to free. */
struct tv_trace_reader {
	FILE *f;
	const char *name;  /* the file, first in each message; NULL: messages begin "line N" */
	uint64_t line;     /* lines read: the number of the one tv_trace_read returned last */
	bool terminated;   /* that line ended in a newline (a file's last one need not) */
};

/* Parses one line of len bytes (no NUL needed; a NUL inside is an error) as a JSON object into
 * *obj, a new reference: 0, or -EINVAL with msg ("not JSON: ... (column 3)", "not a JSON object"). */
int tv_trace_parse_line(const char *buf, size_t len, json_t **obj, char *msg, size_t msglen);

/* The next line as a JSON object (*obj, a new reference): 1; 0 at the end; -errno with msg naming
 * the file and line ("t.jsonl line 3: not JSON: ..."): -EINVAL for a line that is no JSON object,
 * -EFBIG for one longer than TV_TRACE_LINE_MAX - 1 bytes, -EIO, -ENOMEM. */
int tv_trace_read(struct tv_trace_reader *r, json_t **obj, char *msg, size_t msglen);

#endif
