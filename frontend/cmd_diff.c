/* `twinvm diff`: one guest on KVM and on the emulator in lockstep, or one engine against a golden
 * trace; the first divergence reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "diff.h"
#include "layout.h"
#include "options.h"
#include "probe.h"

/* Exit status when KVM cannot be used here or cannot run the mode: the automake "skip" code, so
 * scripts and test harnesses read it as "not applicable here" rather than a failure. */
#define TV_EXIT_STATUS_SKIP 77

#define MAX_IGNORE 32

static const char diff_usage[] =
	"usage: twinvm diff [options]\n"
	"Runs one guest on KVM and on the emulator in lockstep and compares every exit: reason,\n"
	"payload, general registers, RIP, RFLAGS, segment selectors and bases, CR0/3/4, EFER;\n"
	"then guest RAM. Reports the first divergence and, at exit level, steps the guest again\n"
	"to name the first instruction after which the two states differ.\n"
	"\n"
	"  -m, --mode MODE          real, protected, paged32 or long (default long)\n"
	"  -g, --guest NAME|FILE    a built-in guest (default hello) or a raw image\n"
	"      --step               compare after every instruction, not only at exits\n"
	"      --max-exits N        stop, agreeing, after N exits (instructions with --step)\n"
	"      --against FILE       compare with a trace recorded earlier (twinvm run --trace)\n"
	"                           instead of running the other engine (a regular file)\n"
	"  -b, --backend kvm|emu    with --against: the engine to run (default emu)\n"
	"      --ignore FIELD       do not compare FIELD (rax, rflags.af, cs.base, io.data, ram...);\n"
	"                           repeatable; nothing is ignored by default\n"
	"      --mem SIZE           guest RAM (default 2M)\n"
	"      --cpu MODEL          the emulator's CPU model (twinvm info lists them; default\n"
	"                           auto); KVM's guests always see the host's CPU\n"
	"      --timeout SECONDS    for each engine to reach its next exit (default 20; at most\n"
	"                           a year)\n"
	"  -h, --help               this text\n"
	"\n"
	"Exit status: 0 identical; 1 diverged; 2 usage or host error (a golden trace with a\n"
	"malformed line among them); 77 KVM cannot be used here or cannot run the mode.\n";

/* --ignore's fields, one flag at a time. */
struct ignore_list {
	const char *names[MAX_IGNORE];
	int n;
};

static int ignore_option(const char *cmd, const char *value, void *out)
{
	struct ignore_list *l = out;

	if (!tv_diff_field_known(value))
		return tv_usage_error(cmd, "--ignore '%s': not a compared field (e.g. rax, "
				      "rflags.af, cs.base, io.data, ram)", value);
	if (l->n == MAX_IGNORE)
		return tv_usage_error(cmd, "at most %d --ignore", MAX_IGNORE);
	l->names[l->n++] = value;
	return TV_OPTS_GO;
}

/* --against: the engine to run, and the golden trace opened and read whole before any engine
 * runs (a malformed line is a usage error wherever it is, not a divergence or a crash when the
 * comparison reaches it). TV_OPTS_GO, or the exit status after one line on stderr. */
static int open_golden(struct tv_diff_opts *o, const char *against, const char *backend)
{
	char why[512];

	o->a = tv_backend_find(backend);
	if (!o->a)
		return tv_usage_error("diff", "no engine called '%s' in this build", backend);
	if (tv_input_open(against, &o->golden, NULL, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm diff: golden trace %s: %s\n", against, why);
		return TV_EXIT_STATUS_USAGE;
	}
	if (tv_golden_check(o->golden, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm diff: golden trace %s %s\n", against, why);
		return TV_EXIT_STATUS_USAGE;
	}
	o->golden_name = against;
	return TV_OPTS_GO;
}

/* Without --against: KVM against the emulator. TV_OPTS_GO, or the exit status. */
static int both_engines(struct tv_diff_opts *o)
{
	o->a = tv_backend_find("kvm");
	o->b = tv_backend_find("emu");
	if (!o->b) {
		fprintf(stderr, "twinvm diff: the emulator is not built in\n");
		return TV_EXIT_STATUS_USAGE;
	}
	if (!o->a) {
		fprintf(stderr, "twinvm diff: KVM is not built in: nothing to compare the "
			"emulator with here (use --against a golden trace)\n");
		return TV_EXIT_STATUS_SKIP;
	}
	return TV_OPTS_GO;
}

int tv_cmd_diff(int argc, char **argv)
{
	const char *guest = "hello", *against = NULL, *backend = "emu";
	struct tv_diff_opts o = { .mode = TV_MODE_LONG, .ram_size = TV_RAM_DEFAULT,
				  .timeout_s = 20, .out = stdout };
	struct ignore_list ignore = { .n = 0 };
	const struct tv_opt opts[] = {
		TV_OPT("mode", 'm', MODE, &o.mode),
		TV_OPT("guest", 'g', TEXT, &guest),
		TV_OPT("step", 0, FLAG, &o.step),
		TV_OPT("max-exits", 0, COUNT, &o.max_records, .hint = "give a positive count"),
		TV_OPT("against", 0, TEXT, &against),
		TV_OPT("backend", 'b', TEXT, &backend),
		TV_OPT("ignore", 0, CALL, &ignore, .call = ignore_option),
		TV_OPT("mem", 0, MEM, &o.ram_size, .hint = "give a multiple of 4K from 128K to 3G"),
		TV_OPT("timeout", 0, SECONDS, &o.timeout_s, .min = TV_OPT_ABOVE_ZERO,
		       .hint = "give seconds above 0, at most a year (31536000), e.g. 10"),
		TV_OPT("cpu", 0, CPU, &o.cpu_model),
		TV_OPT("help", 'h', HELP, (void *)diff_usage),
	};
	char why[512];
	struct tv_guest g;
	int status = tv_options_parse("diff", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));

	if (status != TV_OPTS_GO)
		return status;
	o.ignore = ignore.names;
	o.nignore = ignore.n;
	if (!tv_guest_open(&g, guest, o.mode))
		return TV_EXIT_STATUS_USAGE;
	o.guest_name = g.name;
	o.image = g.bytes;
	o.len = g.len;
	status = against ? open_golden(&o, against, backend) : both_engines(&o);
	/* An engine that cannot run the mode here is not a divergence: say so and skip. */
	if (status == TV_OPTS_GO && (tv_probe_mode(o.a, o.mode, why, sizeof(why)) != 0 ||
				     (o.b && tv_probe_mode(o.b, o.mode, why, sizeof(why)) != 0))) {
		fprintf(stderr, "twinvm diff: cannot compare here: %s\n", why);
		status = TV_EXIT_STATUS_SKIP;
	}
	if (status == TV_OPTS_GO)
		status = (int)tv_diff(&o);
	if (o.golden)
		fclose(o.golden);
	tv_guest_close(&g);
	return status;
}
