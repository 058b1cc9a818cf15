/* The stub's run control: continue and step as gdb asks, to the next stop.
 *
 * The guest runs in slices of SLICE_S (the kick timer stops the vCPU at an instruction boundary),
 * so that a Ctrl-C from gdb is seen within a slice and the run's own time limit holds. Breakpoints
 * and write watchpoints are found by single-stepping and looking at RIP and the watched bytes
 * after each instruction: slow, but the same on both engines and without limit on their number. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gdb_session.h"
#include "kick.h"

#define SLICE_S 0.05
#define POLL_EVERY 4096 /* steps between two looks for gdb's Ctrl-C */

/* gdb's signal numbers for a stop. */
enum { SIG_INT = 2, SIG_TRAP = 5, SIG_SEGV = 11, SIG_ALRM = 14 };

void gdb_stop_reply(struct tv_gdb *g, int sig, const char *why)
{
	snprintf(g->reply, sizeof(g->reply), "T%02xthread:1;%s", sig, why ? why : "");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One run of the vCPU to its next exit: a slice, with the kick's timer armed for slice_s, or
 * (slice_s 0) one step, with the kick armed once around the whole resume (gdb_resume). */
static int run_once(struct tv_gdb *g, double slice_s, struct tv_exit *e)
{
	double t0 = now();
	int rc = slice_s > 0 ? tv_kick_arm(g->m->be, g->m->vcpu, slice_s) : 0;

	if (!rc) {
		rc = tv_machine_step(g->m, e);
		if (slice_s > 0)
			tv_kick_disarm();
	}
	g->run_s += now() - t0;
	return rc;
}

/* gdb's points as the engine's: true when it took them all (none: cleared, and true). */
bool gdb_engine_points(struct tv_gdb *g)
{
	static const enum tv_debug_kind kind[] = { TV_DEBUG_EXEC, TV_DEBUG_EXEC, TV_DEBUG_WRITE,
						   TV_DEBUG_ACCESS, TV_DEBUG_ACCESS };
	struct tv_debug_point p[TV_DEBUG_POINTS_MAX];
	const struct tv_backend_ops *be = g->m->be;

	if (!be->set_debug_points)
		return g->npt == 0;
	if (g->npt > TV_DEBUG_POINTS_MAX) {
		be->set_debug_points(g->m->vcpu, NULL, 0);
		return false;
	}
	for (int i = 0; i < g->npt; i++)
		p[i] = (struct tv_debug_point){ kind[g->pt[i].type], g->pt[i].addr, g->pt[i].len };
	if (be->set_debug_points(g->m->vcpu, p, (size_t)g->npt) == 0)
		return true;
	be->set_debug_points(g->m->vcpu, NULL, 0);
	return false;
}

/* The stop reason of the engine's point i (gdb's point i, as gdb_engine_points set them). */
static const char *point_reason(const struct tv_gdb *g, int i, char *buf, size_t len)
{
	static const char *const data[] = { "", "", "watch", "rwatch", "awatch" };

	if (i < 0 || i >= g->npt)
		return NULL;
	if (g->pt[i].type <= 1)
		return g->pt[i].type == 0 ? "swbreak:;" : "hwbreak:;";
	snprintf(buf, len, "%s:%" PRIx64 ";", data[g->pt[i].type], g->pt[i].addr);
	return buf;
}

/* The breakpoint at the vCPU's RIP, after a step: its stop reason, or NULL. */
static const char *at_breakpoint(struct tv_gdb *g)
{
	struct tv_regs r;

	if (g->m->be->get_regs(g->m->vcpu, &r) != 0)
		return NULL;
	for (int i = 0; i < g->npt; i++)
		if (g->pt[i].type <= 1 && g->pt[i].addr == r.rip)
			return g->pt[i].type == 0 ? "swbreak:;" : "hwbreak:;";
	return NULL;
}

/* A write watchpoint whose bytes changed since the last look: its stop reason in buf. */
static const char *watch_hit(struct tv_gdb *g, char *buf, size_t len)
{
	for (int i = 0; i < g->npt; i++) {
		uint8_t now_bytes[8];
		struct gdb_point *p = &g->pt[i];

		if (p->type != 2 || gdb_guest_memory(g, p->addr, p->len, now_bytes, NULL) != 0 ||
		    memcmp(now_bytes, p->old, p->len) == 0)
			continue;
		memcpy(p->old, now_bytes, p->len);
		snprintf(buf, len, "watch:%" PRIx64 ";", p->addr);
		return buf;
	}
	return NULL;
}

static void watch_start(struct tv_gdb *g)
{
	for (int i = 0; i < g->npt; i++)
		if (g->pt[i].type == 2 && gdb_guest_memory(g, g->pt[i].addr, g->pt[i].len,
							   g->pt[i].old, NULL) != 0)
			memset(g->pt[i].old, 0, sizeof(g->pt[i].old));
}

/* The vCPU stopped for gdb: the guest's output so far goes out first, then the stop reply. */
static int stopped(struct tv_gdb *g, int sig, const char *why)
{
	tv_machine_flush(g->m, g->m->opt.console, "console");
	tv_console_notes_out(g->m);
	gdb_stop_reply(g, sig, why);
	return gdb_send(g, g->reply) ? -ECONNABORTED : 1;
}

/* An exit with "monitor exits on": said to gdb's console, then a stop. */
static int exit_stop(struct tv_gdb *g, const struct tv_exit *e)
{
	char text[160], hex[2 * sizeof(text) + 2] = "O";

	if (e->reason == TV_EXIT_IO)
		snprintf(text, sizeof(text), "twinvm: VM exit IO %s port 0x%x size %u%s%s\n",
			 e->io.direction == TV_IO_OUT ? "out" : "in", e->io.port, e->io.size,
			 g->m->hc.name ? ": " : "", g->m->hc.name ? g->m->hc.name : "");
	else
		snprintf(text, sizeof(text), "twinvm: VM exit MMIO %s 0x%" PRIx64 " len %u\n",
			 e->mmio.is_write ? "write" : "read", e->mmio.addr, e->mmio.len);
	tv_gdb_hex_encode(text, strlen(text), hex + 1);
	if (gdb_send(g, hex))
		return -ECONNABORTED;
	return stopped(g, SIG_TRAP, NULL);
}

/* After an exit that is no stop of the guest's: 1 stopped for gdb, 0 run on, -errno. steps:
 * the points are looked for after each step, not the engine's. */
static int between(struct tv_gdb *g, enum gdb_resume how, bool steps, const struct tv_exit *e,
		   unsigned long n)
{
	char buf[48];
	const char *why;
	/* Stepping, an I/O or MMIO exit is the instruction done (the precise mode's state), as a
	 * DEBUG exit is: the step ends there, and the points are looked at. */
	bool done = e->reason == TV_EXIT_DEBUG ||
		    (steps && (e->reason == TV_EXIT_IO || e->reason == TV_EXIT_MMIO));

	if (e->reason == TV_EXIT_DEBUG && !steps &&
	    (why = point_reason(g, e->debug.hit, buf, sizeof(buf))))
		return stopped(g, SIG_TRAP, why);
	if (done && how == GDB_STEP) /* a step onto a breakpoint is at it, as the engine's say */
		return stopped(g, SIG_TRAP, at_breakpoint(g));
	if (done && steps && ((why = at_breakpoint(g)) || (why = watch_hit(g, buf, sizeof(buf)))))
		return stopped(g, SIG_TRAP, why);
	if (e->reason == TV_EXIT_DEBUG && n % POLL_EVERY)
		return 0;
	if (g->cfd < 0) /* --gdb-no-wait: gdb connecting now finds the guest stopped for it */
		return gdb_accept(g, false) == 1 ? 1 : 0;
	if ((e->reason == TV_EXIT_IO || e->reason == TV_EXIT_MMIO) && g->exits_stop)
		return exit_stop(g, e);
	if (gdb_poll_interrupt(g) != 0)
		return -ECONNABORTED;
	if (g->ctrl_c) {
		g->ctrl_c = false;
		return stopped(g, SIG_INT, NULL);
	}
	return 0;
}

/* Whether the guest's run is over: it ended, hit the exit limit, ran out of time, or the user
 * stopped twinvm itself (Ctrl-C on its terminal). */
static bool run_over(struct tv_gdb *g, const struct tv_exit *e)
{
	struct tv_machine *m = g->m;

	if (e->reason == TV_EXIT_INTR)
		return tv_kick_interrupted() || (g->o.timeout_s > 0 && g->run_s >= g->o.timeout_s);
	if (e->reason == TV_EXIT_IO || e->reason == TV_EXIT_MMIO)
		return (m->opt.max_exits && m->stats.total >= m->opt.max_exits) || m->guest_exit;
	return e->reason != TV_EXIT_DEBUG;
}

/* The resume's loop: runs and looks after each exit, to the next stop or the run's end. */
static int resume_loop(struct tv_gdb *g, enum gdb_resume how, bool steps, struct tv_exit *e)
{
	for (unsigned long n = 1;; n++) {
		int rc = run_once(g, steps ? 0 : SLICE_S, e);

		if (rc)
			return rc;
		if (e->reason == TV_EXIT_DEBUG || e->reason == TV_EXIT_INTR)
			tv_machine_uncount(g->m, e->reason); /* gdb's stops are no exits of the guest */
		if (run_over(g, e))
			return 0;
		rc = between(g, how, steps, e, n);
		if (rc)
			return rc;
	}
}

int gdb_resume(struct tv_gdb *g, enum gdb_resume how, struct tv_exit *e)
{
	struct tv_machine *m = g->m;
	bool steps = !gdb_engine_points(g) || how == GDB_STEP;
	unsigned flags = m->opt.run_flags | TV_RUN_PREEMPTIBLE |
			 (g->exits_stop || steps ? TV_RUN_PRECISE : 0);
	int rc;

	if (g->ctrl_c) { /* came while the guest was stopped */
		g->ctrl_c = false;
		return stopped(g, SIG_INT, NULL);
	}
	rc = m->be->set_run_flags(m->vcpu, flags | (steps ? TV_RUN_STEP : 0));
	if (rc)
		return rc;
	watch_start(g);
	/* Stepping, the kick (Ctrl-C on twinvm's terminal) is armed once, not at every step. */
	if (steps && (rc = tv_kick_arm(m->be, m->vcpu, 0)) != 0)
		return rc;
	rc = resume_loop(g, how, steps, e);
	if (steps)
		tv_kick_disarm();
	return rc;
}
