/* Drives the golden-trace reader of core/services/golden.c (`twinvm diff --against`), and through
 * it the trace reader tv_trace_read (core/machine/trace_read.c): the input is a trace file, read
 * with tv_golden_check as diff reads one, and its whole text is also parsed as one line with
 * tv_golden_parse_line. A finding is a crash, sanitizer report or leak: a trace file, which a
 * user gives and nothing checked before, makes the reader misbehave. */
#include <stdio.h>
#include <stdlib.h>

#include "diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = NULL, *ram = NULL;
	char msg[256];
	FILE *f;

	if (size == 0)
		return 0; /* fmemopen refuses an empty buffer */
	f = fmemopen((void *)data, size, "r");
	if (!f)
		abort();
	tv_golden_check(f, NULL, msg, sizeof(msg));
	fclose(f);
	if (tv_golden_parse_line((const char *)data, size, &rec, &ram, msg, sizeof(msg)) == 0 &&
	    !rec == !ram)
		abort(); /* a parsed line is a record or the RAM line, exactly one */
	json_decref(rec);
	json_decref(ram);
	return 0;
}
