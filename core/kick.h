/* Stopping a running vCPU from a signal: the --timeout timer and Ctrl-C. The timer is a POSIX
 * timer aimed at the calling thread (SIGEV_THREAD_ID), so the signal lands on the thread inside
 * run(), and its handler calls the backend's async-signal-safe kick(). */
#ifndef TWINVM_KICK_H
#define TWINVM_KICK_H

#include <stdbool.h>

#include "backend.h"

/* Aims SIGINT, SIGTERM and, when timeout_s > 0, a one-shot timer at v. The previous handlers are
 * saved and tv_kick_disarm() puts them back. One vCPU per thread at a time. 0 or -errno. */
int tv_kick_arm(const struct tv_backend_ops *be, struct tv_vcpu *v, double timeout_s);
void tv_kick_disarm(void);

/* Why the last INTR exit happened: the timer ran out, or the user asked to stop. */
bool tv_kick_timed_out(void);
bool tv_kick_interrupted(void);

#endif
