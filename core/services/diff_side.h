/* The two sides of a comparison (an engine running the guest, or a golden trace being read) and
 * a divergence between them: what the lockstep (diff.c) and the report (diff_report.c) share. */
#ifndef TWINVM_DIFF_SIDE_H
#define TWINVM_DIFF_SIDE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "diff.h"
#include "diff_fields.h"
#include "golden.h"
#include "machine.h"
#include "record.h"

#define HISTORY 4 /* records shown before a divergence */

struct side {
	const char *label;
	bool live;
	struct tv_machine m;
	struct tv_record *rec;
	struct tv_recorder recorder;
	struct tv_golden golden; /* golden.in.f NULL: a live side */
	json_t *history[HISTORY];
	uint64_t count;
};

struct divergence {
	json_t *rec_a, *rec_b; /* the two records where they differ (rec_b NULL: b had none) */
	uint64_t index;
	const struct tv_diff_field *field;
	char a[256], b[256];
	uint64_t prev_rip; /* the RIP of the record before: in step mode, the instruction's address */
	bool have_prev;
};

/* Writes "DIVERGED at exit N: field: ..." to o->out: both records, the instruction at a's RIP
 * (and, stepping, the one that differs), and the records a agreed on before. */
void tv_diff_report(const struct tv_diff_opts *o, struct side *a, struct side *b,
		    const struct divergence *d, bool step);

#endif
