/* The scheduler's own helpers for its output (sched_exits.c): the assignment's lines, the trace
 * lines and the clocks. */
#ifndef TWINVM_SCHED_EXITS_H
#define TWINVM_SCHED_EXITS_H

#include <jansson.h>
#include <time.h>

#include "scheduler.h"

/* Seconds on clock id. */
double tv_sched_clock(clockid_t id);

/* One line of the assignment's output on s->opt.out, "VMFD: N " first when vm is given. */
void tv_sched_say(struct tv_sched *s, const struct tv_sched_vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes and frees one trace line; a failure is kept in s->trace_errno and stops the run. */
void tv_sched_trace_line(struct tv_sched *s, json_t *rec);

/* What the assignment's control loop prints after KVM_RUN returns, and the exit's trace line. */
void tv_sched_report_exit(struct tv_sched *s, struct tv_sched_vm *vm, const struct tv_exit *e);

#endif
