/* One guest, one engine, start to finish: the body of `twinvm run` and `simple-kvm`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "cli.h"
#include "devices.h"
#include "kick.h"
#include "layout.h"
#include "record.h"
#include "select.h"

static void print_exit_counts(const struct tv_machine *m)
{
	fprintf(stderr, "; %" PRIu64 " exit%s (", m->stats.total, m->stats.total == 1 ? "" : "s");
	for (int r = 0, first = 1; r < TV_EXIT_REASON_MAX; r++) {
		if (!m->stats.by_reason[r])
			continue;
		fprintf(stderr, "%s%s %" PRIu64, first ? "" : ", ", tv_exit_reason_name(r),
			m->stats.by_reason[r]);
		first = 0;
	}
	fprintf(stderr, ")");
}

/* Says how the guest ended and turns it into the exit code. */
static int report(struct tv_machine *m, const struct tv_guest *g, const struct tv_exit *e,
		  double timeout_s)
{
	struct tv_regs regs;
	char line[512];
	int failed;

	if (m->be->get_regs(m->vcpu, &regs) == 0)
		tv_format_regs(&regs, line, sizeof(line));
	else
		snprintf(line, sizeof(line), "registers unreadable: %s", tv_last_error());

	if (e->reason == TV_EXIT_HLT) {
		failed = g->builtin && g->builtin->check ? g->builtin->check(m, stdout) : 0;
		fflush(stdout);
		fprintf(stderr, "twinvm: guest halted");
		print_exit_counts(m);
		if (failed) {
			fprintf(stderr, "; %d check%s FAILED: %s\n", failed, failed > 1 ? "s" : "", line);
			return TV_EXIT_STATUS_GUEST;
		}
		fprintf(stderr, "\n");
		return TV_EXIT_STATUS_OK;
	}
	fflush(stdout);
	if (e->reason == TV_EXIT_INTR && tv_kick_timed_out())
		fprintf(stderr, "twinvm: timeout: the guest was stopped after %g s", timeout_s);
	else if (e->reason == TV_EXIT_INTR && tv_kick_interrupted())
		fprintf(stderr, "twinvm: interrupted: the guest was stopped");
	else if (e->reason == TV_EXIT_IO || e->reason == TV_EXIT_MMIO)
		fprintf(stderr, "twinvm: stopped at the exit limit (--max-exits)");
	else
		fprintf(stderr, "twinvm: guest ended in %s (exit reason %d)%s%s",
			tv_exit_reason_name(e->reason), e->reason, e->detail[0] ? ": " : "",
			e->detail);
	print_exit_counts(m);
	fprintf(stderr, "; %s\n", line);
	return TV_EXIT_STATUS_GUEST;
}

int tv_run_guest(const struct tv_run_options *o)
{
	struct tv_machine_opts mopt = {
		.ram_size = o->mem,
		.console = stdout,
		.api_log = o->trace_api ? stderr : NULL,
		.max_exits = o->max_exits,
		.warnings = stderr,
	};
	const struct tv_backend_ops *be;
	char note[768], why[768];
	struct tv_machine m;
	struct tv_guest g;
	struct tv_exit e;
	int status = TV_EXIT_STATUS_USAGE, rc;
	bool lost = false; /* output was lost, and said so */

	if (!tv_guest_open(&g, o->guest, o->mode))
		return TV_EXIT_STATUS_USAGE;
	if (tv_image_check(g.len, o->mem) != 0) {
		fprintf(stderr, "twinvm: %s: %s\n", g.name, tv_last_error());
		goto close_guest;
	}
	be = tv_select_backend(o->backend, o->mode, note, sizeof(note), why, sizeof(why));
	if (!be) {
		fprintf(stderr, "twinvm: %s\n", why);
		goto close_guest;
	}
	if (note[0])
		fprintf(stderr, "twinvm: %s\n", note);
	if (!tv_cpu_engine_ok("run", be, o->cpu_model))
		goto close_guest;

	if (o->trace_path) {
		mopt.trace = fopen(o->trace_path, "w");
		if (!mopt.trace) {
			fprintf(stderr, "twinvm: cannot write trace %s: %s\n", o->trace_path,
				strerror(errno));
			goto close_guest;
		}
	}
	mopt.backend = be;
	mopt.cpu_model = o->cpu_model;
	rc = tv_machine_boot(&m, &mopt, g.bytes, g.len, o->mode);
	if (rc) {
		if (rc == -ENODEV)
			fprintf(stderr, "twinvm: %s: %s\n", be->name, tv_last_error());
		else
			fprintf(stderr, "twinvm: %s\n", tv_last_error());
		goto close_trace;
	}
	rc = tv_run(&m, o->timeout_s, &e);
	if (rc && m.output_failed) {
		lost = true;
		status = tv_output_lost("twinvm", strcmp(m.output_failed, "trace") ? "stdout"
						   : o->trace_path, m.output_errno);
		goto destroy;
	}
	if (rc) {
		fprintf(stderr, "twinvm: %s engine failed: %s\n", be->name, tv_last_error());
		goto destroy;
	}
	status = report(&m, &g, &e, o->timeout_s);
destroy:
	tv_machine_destroy(&m);
close_trace:
	if (mopt.trace && fclose(mopt.trace) != 0 && !lost)
		status = tv_output_lost("twinvm", o->trace_path, errno);
close_guest:
	tv_guest_close(&g);
	return status;
}
