/* Reading a trace back in a test: tv_trace_read, with a refused line failing the case. */
#ifndef TWINVM_TRACE_LINES_H
#define TWINVM_TRACE_LINES_H

#include <jansson.h>

#include "trace_read.h"

/* The next line of r's trace as a JSON object (a new reference), or NULL at its end. A line the
 * reader refuses fails the case with the reader's message, which names r->name and the line. */
json_t *tv_test_trace_next(struct tv_trace_reader *r);

/* tv_test_trace_next, without the header line (twinvm run's first: trace_header.h). */
json_t *tv_test_trace_record(struct tv_trace_reader *r);

#endif
