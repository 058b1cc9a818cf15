/* The stub's session (gdb.h): listening, serving gdb's packets while the guest is stopped, and
 * telling gdb how the run ended. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdb_session.h"

int tv_gdb_open(struct tv_gdb **out, struct tv_machine *m, const struct tv_gdb_opts *o)
{
	struct tv_gdb *g = calloc(1, sizeof(*g));
	int rc;

	*out = NULL;
	if (!g)
		return -ENOMEM;
	g->m = m;
	g->o = *o;
	g->lfd = g->cfd = -1;
	g->arch = tv_gdb_arch_for(m->mode);
	tv_gdb_rx_init(&g->rx);
	rc = gdb_listen(g);
	if (!rc && o->wait) {
		fprintf(o->log, "twinvm: gdb: waiting for gdb before the first instruction\n");
		fflush(o->log);
		rc = gdb_accept(g, true) == 1 ? 0 : -EIO;
	}
	if (rc) {
		tv_gdb_close(g, 0, NULL);
		return rc;
	}
	*out = g;
	return 0;
}

/* --gdb-no-wait: the guest runs until gdb connects (then it stops for it) or ends. 1 connected,
 * 0 the guest ended (*e), -errno. */
static int run_until_gdb(struct tv_gdb *g, struct tv_exit *e)
{
	while (g->cfd < 0) {
		int rc = gdb_resume(g, GDB_CONTINUE, e);

		if (rc <= 0)
			return rc;
	}
	return 1;
}

/* After a detach: the rest of the run without gdb, within what is left of the time limit. */
static int run_detached(struct tv_gdb *g, struct tv_exit *e)
{
	double left = g->o.timeout_s > 0 ? g->o.timeout_s - g->run_s : 0;

	gdb_hangup(g, "detached: the guest runs on");
	if (g->o.timeout_s > 0 && left <= 0)
		left = 1e-3;
	g->npt = 0;
	gdb_engine_points(g); /* none left in the engine */
	g->m->be->set_run_flags(g->m->vcpu, g->m->opt.run_flags);
	return tv_machine_run(g->m, left, e);
}

int tv_gdb_run(struct tv_gdb *g, struct tv_exit *e)
{
	int rc = run_until_gdb(g, e);

	while (rc == 1) {
		enum gdb_resume how;

		rc = gdb_recv(g, -1);
		if (rc <= 0) {
			gdb_hangup(g, "gdb went away without detaching: the run stops");
			return -ECONNABORTED;
		}
		how = gdb_command(g);
		if (how == GDB_KILL) {
			gdb_hangup(g, "gdb killed the guest");
			return -ECONNABORTED;
		}
		if (how == GDB_NONE || how == GDB_DETACH) {
			bool noack = !strcmp(g->rx.data, "QStartNoAckMode");

			if (gdb_send(g, g->reply) != 0) {
				gdb_hangup(g, "gdb went away without detaching: the run stops");
				return -ECONNABORTED;
			}
			g->noack = g->noack || noack;
			if (how == GDB_DETACH)
				return run_detached(g, e);
			continue;
		}
		rc = gdb_resume(g, how, e);
		if (rc == -ECONNABORTED)
			gdb_hangup(g, "gdb went away without detaching: the run stops");
	}
	return rc;
}

void tv_gdb_close(struct tv_gdb *g, int status, const struct tv_exit *e)
{
	if (!g)
		return;
	if (g->cfd >= 0 && e) {
		/* A halt is the guest's exit with twinvm's status; anything else is a death by a
		 * signal: SIGALRM for the time limit, SIGSEGV for a shutdown or a failure. */
		if (e->reason == TV_EXIT_HLT || g->m->guest_exit)
			snprintf(g->reply, sizeof(g->reply), "W%02x", status & 0xff);
		else
			snprintf(g->reply, sizeof(g->reply), "X%02x",
				 e->reason == TV_EXIT_INTR ? 14 : 11);
		gdb_send(g, g->reply);
	}
	gdb_hangup(g, NULL);
	if (g->lfd >= 0)
		close(g->lfd);
	free(g);
}
