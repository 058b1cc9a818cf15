/* `twinvm run`: flags into tv_run_options. */
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "layout.h"

static const char run_usage[] =
	"usage: twinvm run [options]\n"
	"Runs one guest in one CPU mode on one engine and reports how it ended.\n"
	"\n"
	"  -b, --backend auto|kvm|emu  engine (auto: KVM where its probe runs the mode, else emu)\n"
	"  -m, --mode MODE             real, protected, paged32 or long (default long)\n"
	"  -g, --guest NAME|FILE       a built-in guest (default hello) or a raw image loaded at 0\n"
	"                              (a regular file: no FIFO, directory or device)\n"
	"      --mem SIZE              guest RAM, e.g. 2M, 64M (default 2M, 128K to 3G)\n"
	"      --cpu MODEL             the emulator's CPU model (twinvm info lists them; default\n"
	"                              auto: the model closest to the host's CPU that offers\n"
	"                              nothing the host lacks); an error on KVM\n"
	"      --trace FILE.jsonl      one JSON line per exit: reason, payload, registers\n"
	"      --trace-api             print every KVM ioctl / Unicorn call on stderr as it is made\n"
	"      --timeout SECONDS       stop the guest after this long (default 60; 0: no limit;\n"
	"                              at most a year, 31536000)\n"
	"      --max-exits N           stop the guest after N exits (for recording endless guests)\n"
	"  -h, --help                  this text\n"
	"\n"
	"Exit status: 0 the guest halted (and a built-in guest's checks passed); 1 it ended any\n"
	"other way (shutdown, failure, failed check, timeout); 2 usage or host error.\n";

/* Parses the flags every single-guest tool shares; argv[optind..] must be empty after. */
int tv_cmd_run(int argc, char **argv)
{
	enum { OPT_MEM = 256, OPT_TRACE, OPT_TRACE_API, OPT_TIMEOUT, OPT_MAX_EXITS, OPT_CPU };
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'm' },
		{ "guest", required_argument, NULL, 'g' },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "trace-api", no_argument, NULL, OPT_TRACE_API },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "max-exits", required_argument, NULL, OPT_MAX_EXITS },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tv_run_options o;
	int c;

	tv_run_options_default(&o);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:m:g:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o.backend = optarg;
			break;
		case 'm':
			if (!tv_mode_parse(optarg, &o.mode))
				return tv_usage_error("run", "unknown mode '%s' (real, protected, paged32, long)",
						      optarg);
			break;
		case 'g':
			o.guest = optarg;
			break;
		case OPT_MEM:
			if (tv_parse_mem(optarg, &o.mem) != 0)
				return tv_usage_error("run", "--mem '%s': give a multiple of 4K from 128K to 3G",
						      optarg);
			break;
		case OPT_TRACE:
			o.trace_path = optarg;
			break;
		case OPT_TRACE_API:
			o.trace_api = true;
			break;
		case OPT_TIMEOUT:
			if (tv_parse_seconds(optarg, &o.timeout_s) != 0)
				return tv_usage_error("run", "--timeout '%s': give seconds from 0 to a year "
						      "(31536000), e.g. 10 or 500ms", optarg);
			break;
		case OPT_MAX_EXITS:
			if (tv_parse_count(optarg, &o.max_exits) != 0)
				return tv_usage_error("run", "--max-exits '%s': give a positive count", optarg);
			break;
		case OPT_CPU:
			if (tv_cpu_option("run", optarg, &o.cpu_model) != TV_EXIT_STATUS_OK)
				return TV_EXIT_STATUS_USAGE;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return TV_EXIT_STATUS_OK;
		case ':':
			return tv_usage_error("run", "%s needs a value", argv[optind - 1]);
		default:
			return tv_usage_error("run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return tv_usage_error("run", "unexpected argument '%s'", argv[optind]);
	return tv_run_guest(&o);
}
