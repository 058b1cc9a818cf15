/* The matrix timeline: a Gantt chart, as SVG, of which VM held the CPU when. */
#ifndef TWINVM_TIMELINE_H
#define TWINVM_TIMELINE_H

#include "scheduler.h"

/* Writes a title naming the engine and the policy, one row per VM with its slices in its colour
 * (two quanta in a row apart), a time axis, and a legend with each VM's weight and its CPU share
 * against its target. 0, or -errno with tv_last_error(). */
int tv_timeline_write_svg(const struct tv_sched *s, const char *path);

#endif
