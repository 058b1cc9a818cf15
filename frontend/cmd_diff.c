/* `twinvm diff`: one guest on KVM and on the emulator in lockstep, or one engine against a golden
 * trace; the first divergence reported. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "diff.h"
#include "layout.h"
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

int tv_cmd_diff(int argc, char **argv)
{
	enum { OPT_STEP = 256, OPT_MAX, OPT_AGAINST, OPT_IGNORE, OPT_MEM, OPT_TIMEOUT, OPT_CPU };
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "guest", required_argument, NULL, 'g' },
		{ "step", no_argument, NULL, OPT_STEP },
		{ "max-exits", required_argument, NULL, OPT_MAX },
		{ "against", required_argument, NULL, OPT_AGAINST },
		{ "backend", required_argument, NULL, 'b' },
		{ "ignore", required_argument, NULL, OPT_IGNORE },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ignore[MAX_IGNORE], *guest = "hello", *against = NULL, *backend = "emu";
	struct tv_diff_opts o = { .mode = TV_MODE_LONG, .ram_size = TV_RAM_DEFAULT,
				  .timeout_s = 20, .out = stdout };
	char why[512];
	struct tv_guest g;
	int c, status;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:g:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!tv_mode_parse(optarg, &o.mode))
				return tv_usage_error("diff", "unknown mode '%s' (real, protected, paged32, long)",
						      optarg);
			break;
		case 'g':
			guest = optarg;
			break;
		case OPT_STEP:
			o.step = true;
			break;
		case OPT_MAX:
			if (tv_parse_count(optarg, &o.max_records) != 0)
				return tv_usage_error("diff", "--max-exits '%s': give a positive count", optarg);
			break;
		case OPT_AGAINST:
			against = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case OPT_IGNORE:
			if (!tv_diff_field_known(optarg))
				return tv_usage_error("diff", "--ignore '%s': not a compared field (e.g. rax, "
						      "rflags.af, cs.base, io.data, ram)", optarg);
			if (o.nignore == MAX_IGNORE)
				return tv_usage_error("diff", "at most %d --ignore", MAX_IGNORE);
			ignore[o.nignore++] = optarg;
			break;
		case OPT_MEM:
			if (tv_parse_mem(optarg, &o.ram_size) != 0)
				return tv_usage_error("diff", "--mem '%s': give a multiple of 4K from 128K to 3G",
						      optarg);
			break;
		case OPT_TIMEOUT:
			if (tv_parse_seconds(optarg, &o.timeout_s) != 0 || o.timeout_s <= 0)
				return tv_usage_error("diff", "--timeout '%s': give seconds above 0, at most "
						      "a year (31536000), e.g. 10", optarg);
			break;
		case OPT_CPU:
			if (tv_cpu_option("diff", optarg, &o.cpu_model) != TV_EXIT_STATUS_OK)
				return TV_EXIT_STATUS_USAGE;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return TV_EXIT_STATUS_OK;
		case ':':
			return tv_usage_error("diff", "%s needs a value", argv[optind - 1]);
		default:
			return tv_usage_error("diff", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return tv_usage_error("diff", "unexpected argument '%s'", argv[optind]);
	o.ignore = ignore;

	if (!tv_guest_open(&g, guest, o.mode))
		return TV_EXIT_STATUS_USAGE;
	o.guest_name = g.name;
	o.image = g.bytes;
	o.len = g.len;

	if (against) {
		o.a = tv_backend_find(backend);
		if (!o.a) {
			tv_guest_close(&g);
			return tv_usage_error("diff", "no engine called '%s' in this build", backend);
		}
		if (tv_input_open(against, &o.golden, NULL, why, sizeof(why)) != 0) {
			fprintf(stderr, "twinvm diff: golden trace %s: %s\n", against, why);
			tv_guest_close(&g);
			return TV_EXIT_STATUS_USAGE;
		}
		/* The whole trace before any engine runs: a malformed line is a usage error
		 * wherever it is, not a divergence or a crash when the comparison reaches it. */
		if (tv_golden_check(o.golden, why, sizeof(why)) != 0) {
			fprintf(stderr, "twinvm diff: golden trace %s %s\n", against, why);
			fclose(o.golden);
			tv_guest_close(&g);
			return TV_EXIT_STATUS_USAGE;
		}
		o.golden_name = against;
	} else {
		o.a = tv_backend_find("kvm");
		o.b = tv_backend_find("emu");
		if (!o.b) {
			fprintf(stderr, "twinvm diff: the emulator is not built in\n");
			tv_guest_close(&g);
			return TV_EXIT_STATUS_USAGE;
		}
		if (!o.a) {
			fprintf(stderr, "twinvm diff: KVM is not built in: nothing to compare the "
				"emulator with here (use --against a golden trace)\n");
			tv_guest_close(&g);
			return TV_EXIT_STATUS_SKIP;
		}
	}
	/* An engine that cannot run the mode here is not a divergence: say so and skip. */
	if (tv_probe_mode(o.a, o.mode, why, sizeof(why)) != 0 ||
	    (o.b && tv_probe_mode(o.b, o.mode, why, sizeof(why)) != 0)) {
		fprintf(stderr, "twinvm diff: cannot compare here: %s\n", why);
		tv_guest_close(&g);
		if (o.golden)
			fclose(o.golden);
		return TV_EXIT_STATUS_SKIP;
	}
	status = (int)tv_diff(&o);
	if (o.golden)
		fclose(o.golden);
	tv_guest_close(&g);
	return status;
}
