/* Timer and Ctrl-C signals that stop the vCPU this thread runs. */
#include "kick.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The timer's signal: a real-time one, so it is never confused with SIGALRM users. */
#define KICK_TIMER_SIGNAL (SIGRTMIN + 1)

static const struct tv_backend_ops *volatile kick_be;
static struct tv_vcpu *volatile kick_vcpu;
static volatile sig_atomic_t timed_out, interrupted;
static struct sigaction old_int, old_term, old_timer;
static timer_t timer;
static bool timer_armed;

static void on_signal(int sig)
{
	if (sig == SIGINT || sig == SIGTERM)
		interrupted = 1;
	else
		timed_out = 1;
	if (kick_be && kick_vcpu)
		kick_be->kick(kick_vcpu);
}

int tv_seconds_timespec(double seconds, struct timespec *ts)
{
	/* Written so that NaN fails too. */
	if (!(seconds >= 0 && seconds <= TV_TIME_MAX_S))
		return -ERANGE;
	ts->tv_sec = (time_t)seconds;
	ts->tv_nsec = (long)((seconds - (double)ts->tv_sec) * 1e9);
	if (ts->tv_nsec > 999999999)
		ts->tv_nsec = 999999999;
	return 0;
}

int tv_kick_arm(const struct tv_backend_ops *be, struct tv_vcpu *v, double timeout_s)
{
	struct itimerspec its = { 0 };
	struct sigaction sa;
	struct sigevent sev;

	/* Checked before anything changes: nothing to undo. */
	if (!(timeout_s <= 0) && tv_seconds_timespec(timeout_s, &its.it_value) != 0) {
		tv_set_error("a timeout of %g s: give at most %g s (a year)", timeout_s,
			     TV_TIME_MAX_S);
		return -ERANGE;
	}
	timed_out = interrupted = 0;
	kick_be = be;
	kick_vcpu = v;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: KVM_RUN must return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(KICK_TIMER_SIGNAL, &sa, &old_timer);

	timer_armed = false;
	if (timeout_s <= 0)
		return 0;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = KICK_TIMER_SIGNAL;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) {
		int err = -errno;

		tv_set_error("timer_create: %s", strerror(errno));
		tv_kick_disarm();
		return err;
	}
	timer_armed = true;

	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	/* Then again every 20 ms: a kick that lands just before the engine starts running can be
	 * missed by the emulator's fast mode, and a timeout must never be lost. */
	its.it_interval.tv_nsec = 20 * 1000 * 1000;
	if (timer_settime(timer, 0, &its, NULL) != 0) {
		int err = -errno;

		tv_set_error("timer_settime: %s", strerror(errno));
		tv_kick_disarm();
		return err;
	}
	return 0;
}

void tv_kick_disarm(void)
{
	sigset_t set, old;
	const struct timespec zero = { 0 };

	/* A timer signal may be queued still: take it off the queue before its default action
	 * (terminate) is back. */
	sigemptyset(&set);
	sigaddset(&set, KICK_TIMER_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (timer_armed)
		timer_delete(timer);
	timer_armed = false;
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(KICK_TIMER_SIGNAL, &old_timer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	kick_vcpu = NULL;
	kick_be = NULL;
}

bool tv_kick_timed_out(void)
{
	return timed_out;
}

bool tv_kick_interrupted(void)
{
	return interrupted;
}
