/* Stopping a running vCPU from a signal: the --timeout timer and Ctrl-C. The timer is a POSIX
 * timer aimed at the calling thread (SIGEV_THREAD_ID), so the signal lands on the thread inside
 * run(), and its handler calls the backend's async-signal-safe kick(). */
#ifndef TWINVM_KICK_H
#define TWINVM_KICK_H

#include <stdbool.h>
#include <time.h>

#include "backend.h"

/* The longest time any timer is armed for, and so any --timeout, --quantum or --duration: a year.
 * Longer is a mistake, not a plan, and a double that large does not fit a time_t safely. */
#define TV_TIME_MAX_S (365.0 * 24 * 3600)

/* seconds (0 to TV_TIME_MAX_S) as a timespec; -ERANGE for anything else (negative, NaN). */
int tv_seconds_timespec(double seconds, struct timespec *ts);

/* Aims SIGINT, SIGTERM and, when timeout_s > 0, a one-shot timer at v. The previous handlers are
 * saved and tv_kick_disarm() puts them back. One vCPU per thread at a time. 0 or -errno (-ERANGE
 * for a timeout over TV_TIME_MAX_S, or a timer that cannot be set, with tv_last_error()). */
int tv_kick_arm(const struct tv_backend_ops *be, struct tv_vcpu *v, double timeout_s);
void tv_kick_disarm(void);

/* Why the last INTR exit happened: the timer ran out, or the user asked to stop. */
bool tv_kick_timed_out(void);
bool tv_kick_interrupted(void);

#endif
