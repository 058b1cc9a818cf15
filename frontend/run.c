/* One guest, one engine, start to finish: the body of `twinvm run` and `simple-kvm`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api_chart.h"
#include "builtin.h"
#include "cli.h"
#include "devices.h"
#include "gdb.h"
#include "kick.h"
#include "layout.h"
#include "multiboot.h"
#include "probe.h"
#include "record.h"
#include "select.h"
#include "step_trace.h"

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

	if (m->guest_exit) { /* isa-debug-exit: the guest's own verdict */
		fflush(m->opt.console);
		fprintf(stderr, "twinvm: the guest exited through isa-debug-exit: status %d",
			m->guest_exit_status);
		print_exit_counts(m);
		fprintf(stderr, "\n");
		return m->guest_exit_status;
	}
	if (m->be->get_regs(m->vcpu, &regs) == 0)
		tv_format_regs(&regs, line, sizeof(line));
	else
		snprintf(line, sizeof(line), "registers unreadable: %s", tv_last_error());

	if (e->reason == TV_EXIT_HLT) {
		/* The checks' lines go with the guest's output (stderr under --trace -). */
		failed = g->builtin && g->builtin->check ? g->builtin->check(m, m->opt.console) : 0;
		fflush(m->opt.console);
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

/* The engine: auto probes each in turn; a named one is taken as it is, because its probe costs a
 * whole VM and a run that works needs none (*probed false). NULL after one line on stderr. */
static const struct tv_backend_ops *pick_engine(const struct tv_run_options *o, bool *probed)
{
	const struct tv_backend_ops *be;
	char note[768], why[768];

	*probed = strcmp(o->backend, "auto") == 0;
	if (*probed)
		be = tv_select_backend(o->backend, o->mode, note, sizeof(note), why, sizeof(why));
	else
		be = tv_select_named(o->backend, why, sizeof(why));
	if (!be) {
		fprintf(stderr, "twinvm: %s\n", why);
		return NULL;
	}
	if (*probed && note[0])
		fprintf(stderr, "twinvm: %s\n", note);
	return be;
}

/* A run on an engine nobody probed went wrong (it could not start, or the guest died at once):
 * when the engine cannot run the mode here, the probe's reason is the one to give, as an
 * automatic choice would have given it. true after that line on stderr. */
static bool mode_unsupported(const struct tv_backend_ops *be, enum tv_mode mode, bool probed)
{
	char reason[256];

	if (probed || tv_probe_mode(be, mode, reason, sizeof(reason)) == 0)
		return false;
	fprintf(stderr, "twinvm: %s: %s\n", be->name, reason);
	return true;
}

/* The file an output failure was on, for the message: the trace's or the step stream's path, or
 * the standard stream it was on. */
static const char *trace_name(const struct tv_run_options *o, const char *failed)
{
	if (strcmp(failed, "step") == 0)
		return !o->step_out ? "stderr" : strcmp(o->step_out, "-") == 0 ? "stdout" : o->step_out;
	if (strcmp(failed, "trace") != 0)
		return "stdout"; /* the console: stdout, or stderr under --trace - */
	return strcmp(o->trace_path, "-") == 0 ? "stdout" : o->trace_path;
}

/* One of them: stdout for "-" (the guest's own output then goes to stderr), else the file. false
 * after one line on stderr. */
static bool open_stream(const char *path, const char *what, FILE **out, FILE **console)
{
	if (strcmp(path, "-") == 0) {
		*out = stdout;
		*console = stderr;
		return true;
	}
	*out = fopen(path, "w");
	if (!*out)
		fprintf(stderr, "twinvm: cannot write %s %s: %s\n", what, path, strerror(errno));
	return *out != NULL;
}

/* Opens what --trace and --step-out name; --step without --step-out writes on stderr. false
 * after one line on stderr, with nothing left open. */
static bool open_outputs(const struct tv_run_options *o, struct tv_machine_opts *mopt)
{
	if (o->trace_path && !open_stream(o->trace_path, "trace", &mopt->trace, &mopt->console))
		return false;
	if (!o->step)
		return true;
	mopt->run_flags = TV_RUN_STEP;
	mopt->step = stderr;
	if (o->step_out && !open_stream(o->step_out, "step output", &mopt->step, &mopt->console)) {
		if (mopt->trace && mopt->trace != stdout)
			fclose(mopt->trace);
		return false;
	}
	return true;
}

/* Closes the files open_outputs opened: status, or the lost output's when a close failed and
 * no loss was said before (lost). */
static int close_outputs(const struct tv_run_options *o, struct tv_machine_opts *mopt, int status,
			 bool lost)
{
	if (mopt->trace && mopt->trace != stdout && fclose(mopt->trace) != 0 && !lost) {
		status = tv_output_lost("twinvm", o->trace_path, errno);
		lost = true;
	}
	if (mopt->step && mopt->step != stdout && mopt->step != stderr && fclose(mopt->step) != 0 &&
	    !lost)
		status = tv_output_lost("twinvm", o->step_out, errno);
	return status;
}

static bool died(const struct tv_exit *e)
{
	return e->reason == TV_EXIT_SHUTDOWN || e->reason == TV_EXIT_FAIL_ENTRY ||
	       e->reason == TV_EXIT_INTERNAL_ERROR;
}

/* --api-chart: its file, opened before the guest runs, and the recorder the engine writes its
 * calls to (on to stderr as well under --trace-api). */
struct chart_out {
	FILE *file;
	struct tv_api_chart *rec;
};

/* false after one line on stderr. */
static bool chart_open(const struct tv_run_options *o, struct chart_out *ch,
		       struct tv_machine_opts *mopt)
{
	int rc;

	if (!o->api_chart)
		return true;
	ch->file = fopen(o->api_chart, "w");
	if (!ch->file) {
		fprintf(stderr, "twinvm: cannot write --api-chart %s: %s\n", o->api_chart,
			strerror(errno));
		return false;
	}
	rc = tv_api_chart_open(&ch->rec, mopt->api_log);
	if (rc) {
		fprintf(stderr, "twinvm: --api-chart: %s\n", strerror(-rc));
		fclose(ch->file);
		ch->file = NULL;
		return false;
	}
	mopt->api_log = ch->rec->log;
	return true;
}

/* Draws what the engine was asked, once it is closed, and closes the file: status, or the
 * output failure's when nothing was lost before. */
static int chart_close(const struct tv_run_options *o, struct chart_out *ch,
		       const struct tv_backend_ops *be, const struct tv_guest *g, int status,
		       bool lost)
{
	char title[320];
	int rc;

	if (!ch->file)
		return status;
	snprintf(title, sizeof(title), "%s: %s mode, guest %s", be ? be->description : "?",
		 tv_mode_name(o->mode), g->name);
	rc = tv_api_chart_write(ch->rec, ch->file, title);
	tv_api_chart_close(ch->rec);
	if (fclose(ch->file) != 0 && !rc)
		rc = -errno;
	if (rc && !lost)
		return tv_output_lost("twinvm", o->api_chart, -rc);
	return status;
}

/* The run itself: plain, traced, stepped, or under gdb (*gdb open, for run_booted to close). */
static int run_guest_on(const struct tv_run_options *o, struct tv_machine *m, struct tv_exit *e,
			struct tv_gdb **gdb)
{
	struct tv_gdb_opts go = { .listen = o->gdb, .wait = !o->gdb_no_wait,
				  .timeout_s = o->timeout_s, .log = stderr };
	int rc;

	memset(e, 0, sizeof(*e));
	if (o->step)
		return tv_step_run(m, o->timeout_s, e);
	if (!o->gdb)
		return tv_run(m, o->timeout_s, e);
	rc = tv_gdb_open(gdb, m, &go);
	if (rc) {
		fprintf(stderr, "twinvm: gdb: %s\n", tv_last_error());
		return rc;
	}
	return tv_gdb_run(*gdb, e);
}

/* The guest booted: runs it and says how it ended. */
static int run_booted(const struct tv_run_options *o, struct tv_machine *m,
		      const struct tv_guest *g, bool probed, bool *lost)
{
	struct tv_gdb *gdb = NULL;
	struct tv_exit e;
	int rc = run_guest_on(o, m, &e, &gdb), status;

	if (rc && m->output_failed) {
		*lost = true;
		status = tv_output_lost("twinvm", trace_name(o, m->output_failed), m->output_errno);
	} else if (rc == -EPROTO && m->hc.failed) {
		fflush(stdout);
		fprintf(stderr, "twinvm: --strict: %s used wrongly: %s\n", m->hc.name, m->hc.error);
		status = TV_EXIT_STATUS_GUEST;
	} else if (rc == -ECONNABORTED && gdb) {
		status = TV_EXIT_STATUS_GUEST; /* gdb killed it or went away: said */
	} else if (rc) {
		if (!o->gdb || gdb)
			fprintf(stderr, "twinvm: %s engine failed: %s\n", m->be->name, tv_last_error());
		status = TV_EXIT_STATUS_USAGE;
	} else if (died(&e) && mode_unsupported(m->be, o->mode, probed)) {
		status = TV_EXIT_STATUS_USAGE;
	} else {
		status = report(m, g, &e, o->timeout_s);
	}
	tv_gdb_close(gdb, status, rc ? NULL : &e);
	return status;
}

/* The guest, in the mode the user named or its own, with its defaults for the flags left out
 * (tv_guest_defaults), checked against RAM and the layout before any engine is opened. false
 * after one line on stderr. */
static bool open_guest(struct tv_run_options *o, struct tv_guest *g)
{
	bool mode_given = o->mode != TV_RUN_MODE_AUTO;
	struct tv_multiboot_boot b;
	int rc;

	if (!mode_given)
		o->mode = tv_builtin_mode(tv_builtin_find(o->guest));
	if (!tv_guest_open(g, o->guest, o->mode))
		return false;
	if (!tv_guest_defaults("run", g, mode_given, &o->mode, &o->mem, &o->platform,
			       o->multiboot_env, o->multiboot_args)) {
		tv_guest_close(g);
		return false;
	}
	/* A multiboot kernel's boot information needs room for its environment too. */
	rc = g->env ? tv_multiboot_check(g->bytes, g->len, o->mem, o->mode, g->env_len, &b)
		    : tv_guest_image_check(g->bytes, g->len, o->mem, o->mode);
	if (rc != 0) {
		fprintf(stderr, "twinvm: %s: %s\n", g->name, tv_last_error());
		tv_guest_close(g);
		return false;
	}
	return true;
}

int tv_run_guest(const struct tv_run_options *given)
{
	struct tv_run_options run = *given;
	const struct tv_run_options *o = &run;
	struct tv_machine_opts mopt = {
		.console = stdout,
		.api_log = o->trace_api ? stderr : NULL,
		.max_exits = o->max_exits,
		.warnings = stderr,
		.strict = o->strict,
		.verbose = o->verbose,
	};
	const struct tv_trace_info info = { .guest = o->guest, .cpu_model = o->cpu_model,
					    .version = TWINVM_VERSION, .max_exits = o->max_exits };
	const struct tv_backend_ops *be = NULL;
	struct chart_out chart = { 0 };
	struct tv_machine m;
	struct tv_guest g;
	int status = TV_EXIT_STATUS_USAGE, rc;
	bool lost = false; /* output was lost, and said so */
	bool probed;

	if (!open_guest(&run, &g))
		return TV_EXIT_STATUS_USAGE;
	/* what open_guest settled: the flags given, or the guest's defaults */
	mopt.ram_size = o->mem;
	mopt.platform = o->platform && !strcmp(o->platform, "pc") ? TV_PLATFORM_PC
								  : TV_PLATFORM_NONE;
	mopt.multiboot_env = g.env;
	mopt.multiboot_env_len = g.env_len;
	mopt.multiboot_cmdline = g.cmdline;
	be = pick_engine(o, &probed);
	if (!be || !tv_cpu_engine_ok("run", be, o->cpu_model) || !open_outputs(o, &mopt))
		goto close_guest;
	if (!chart_open(o, &chart, &mopt))
		goto close_trace;
	mopt.backend = be;
	mopt.cpu_model = o->cpu_model;
	mopt.trace_info = &info;
	rc = tv_machine_boot(&m, &mopt, g.bytes, g.len, o->mode);
	if (rc) {
		if (mode_unsupported(be, o->mode, probed))
			; /* said */
		else if (rc == -ENODEV)
			fprintf(stderr, "twinvm: %s: %s\n", be->name, tv_last_error());
		else
			fprintf(stderr, "twinvm: %s\n", tv_last_error());
		goto close_chart;
	}
	status = run_booted(o, &m, &g, probed, &lost);
	tv_machine_destroy(&m);
close_chart:
	status = chart_close(o, &chart, be, &g, status, lost);
close_trace:
	status = close_outputs(o, &mopt, status, lost);
close_guest:
	tv_guest_close(&g);
	return status;
}
