/* `twinvm fuzz`: generated snippets on the emulator against an oracle (the host CPU, or KVM);
 * each divergence minimised, bucketed, and kept as a reproducer. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fuzz.h"
#include "probe.h"

#define TV_EXIT_STATUS_SKIP 77 /* the oracle cannot run here (as diff's 77) */

static const char fuzz_usage[] =
	"usage: twinvm fuzz [options]\n"
	"Generates short instruction sequences, runs each on the emulator and on an oracle, and\n"
	"compares general registers, RIP, RFLAGS (less the flags the sequence leaves undefined)\n"
	"and the scratch memory. Each divergence is cut to the shortest window of instructions\n"
	"that still diverges, bucketed by instruction form and differing fields, and each new\n"
	"bucket is written to --out as a JSON record and a raw guest image that reproduces it.\n"
	"\n"
	"      --oracle auto|native|kvm  native: the host CPU in 64-bit user mode (no KVM needed);\n"
	"                          kvm: the snippet as a KVM guest; auto (default): kvm where it\n"
	"                          runs the mode, else native\n"
	"  -m, --mode MODE         long (the default; the only mode so far)\n"
	"      --seed N            the generator's seed (default 1): the same seed, the same run\n"
	"      --count N           stop after N snippets\n"
	"      --duration TIME     stop after TIME (600, 10m, 1h, 2.5s); default --count 100000\n"
	"      --length MIN-MAX    instructions per snippet (default 1-4, at most 16)\n"
	"      --classes LIST      instruction classes, comma-separated, or all, or user (the\n"
	"                          default: all but system, which only the kvm oracle runs)\n"
	"      --cpu MODEL         the emulator's CPU model (default: the largest subset of the\n"
	"                          host's features; twinvm info lists them)\n"
	"      --out DIR           write each new bucket there (created if missing)\n"
	"      --known DIR         records whose buckets are not new (e.g. tests/divergences)\n"
	"      --replay DIR        re-run the records in DIR and say which still diverge\n"
	"  -h, --help              this text\n"
	"\n"
	"Classes: %s\n"
	"\n"
	"Exit status: 0 nothing new diverged (with --replay: every record still diverges); 1 new\n"
	"divergences (written to --out when given; with --replay: some no longer diverge); 2 usage\n"
	"or host error; 77 the oracle cannot run here (the reason on stderr).\n";

/* "1-4" into min and max. */
static bool parse_length(const char *s, unsigned *min, unsigned *max)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;

	if (end == s || *end != '-')
		return false;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end || a < 1 || b < a || b > FZ_INSN_MAX)
		return false;
	*min = (unsigned)a;
	*max = (unsigned)b;
	return true;
}

/* The oracle the user asked for, or 77/2 with the reason said. */
static int open_oracle(const char *which, enum tv_mode mode, struct fz_oracle **out)
{
	const struct tv_backend_ops *kvm = tv_backend_find("kvm");
	char why[768] = "";

	if (strcmp(which, "auto") == 0 || strcmp(which, "kvm") == 0) {
		if (kvm && tv_probe_mode(kvm, mode, why, sizeof(why)) == 0 &&
		    fz_engine_open(kvm, TV_MODE_LONG, NULL, out, why, sizeof(why)) == 0)
			return 0;
		if (strcmp(which, "kvm") == 0) {
			fprintf(stderr, "twinvm fuzz: the kvm oracle cannot run here: %s\n",
				kvm ? why : "KVM is not built in");
			return TV_EXIT_STATUS_SKIP;
		}
	}
	if (fz_native_open(tv_mode_bits(mode), out, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm fuzz: the native oracle cannot run here: %s\n", why);
		return TV_EXIT_STATUS_SKIP;
	}
	return 0;
}

int tv_cmd_fuzz(int argc, char **argv)
{
	enum { OPT_ORACLE = 256, OPT_SEED, OPT_COUNT, OPT_DURATION, OPT_LENGTH, OPT_CLASSES,
	       OPT_OUT, OPT_KNOWN, OPT_REPLAY, OPT_CPU };
	static const struct option longopts[] = {
		{ "oracle", required_argument, NULL, OPT_ORACLE },
		{ "mode", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "classes", required_argument, NULL, OPT_CLASSES },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "known", required_argument, NULL, OPT_KNOWN },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fz_run_opts o = { .seed = 1, .gen = { .min_len = 1, .max_len = 4 } };
	const char *oracle_name = "auto", *replay = NULL, *cpu_model = NULL;
	const struct tv_backend_ops *emu_be;
	enum tv_mode mode = TV_MODE_LONG;
	struct fz_stats st;
	char why[768], classes[512];
	int c, status;

	o.gen.classes = FZ_CLASS_USER;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":m:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ORACLE:
			if (strcmp(optarg, "auto") && strcmp(optarg, "native") && strcmp(optarg, "kvm"))
				return tv_usage_error("fuzz", "--oracle '%s': auto, native or kvm", optarg);
			oracle_name = optarg;
			break;
		case 'm':
			if (!tv_mode_parse(optarg, &mode))
				return tv_usage_error("fuzz", "unknown mode '%s' (real, protected, paged32, "
						      "long)", optarg);
			break;
		case OPT_SEED:
			if (tv_parse_count(optarg, &o.seed) != 0)
				return tv_usage_error("fuzz", "--seed '%s': give a positive number", optarg);
			break;
		case OPT_COUNT:
			if (tv_parse_count(optarg, &o.count) != 0)
				return tv_usage_error("fuzz", "--count '%s': give a positive count", optarg);
			break;
		case OPT_DURATION:
			if (tv_parse_seconds(optarg, &o.duration_s) != 0 || o.duration_s <= 0)
				return tv_usage_error("fuzz", "--duration '%s': give seconds above 0 (at "
						      "most a year), e.g. 600 or 10m", optarg);
			break;
		case OPT_LENGTH:
			if (!parse_length(optarg, &o.gen.min_len, &o.gen.max_len))
				return tv_usage_error("fuzz", "--length '%s': give MIN-MAX, 1 <= MIN <= MAX "
						      "<= %u", optarg, FZ_INSN_MAX);
			break;
		case OPT_CLASSES:
			if (fz_class_parse(optarg, &o.gen.classes) != 0)
				return tv_usage_error("fuzz", "--classes '%s': see twinvm fuzz --help for "
						      "the class names", optarg);
			break;
		case OPT_OUT:
			o.out_dir = optarg;
			break;
		case OPT_KNOWN:
			o.known_dir = optarg;
			break;
		case OPT_REPLAY:
			replay = optarg;
			break;
		case OPT_CPU:
			status = tv_cpu_option("fuzz", optarg, &cpu_model);
			if (status)
				return status;
			break;
		case 'h':
			classes[0] = '\0';
			for (unsigned i = 0; i < FZ_CLASS_COUNT; i++)
				snprintf(classes + strlen(classes), sizeof(classes) - strlen(classes),
					 "%s%s", i ? ", " : "", fz_class_name(1u << i));
			printf(fuzz_usage, classes);
			return TV_EXIT_STATUS_OK;
		case ':':
			return tv_usage_error("fuzz", "%s needs a value", argv[optind - 1]);
		default:
			return tv_usage_error("fuzz", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return tv_usage_error("fuzz", "unexpected argument '%s'", argv[optind]);
	if (mode != TV_MODE_LONG)
		return tv_usage_error("fuzz", "--mode %s: the fuzzer runs long mode only so far",
				      tv_mode_name(mode));
	if (!o.count && o.duration_s <= 0)
		o.count = 100000;
	if (o.out_dir && mkdir(o.out_dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "twinvm fuzz: --out %s: %s\n", o.out_dir, strerror(errno));
		return TV_EXIT_STATUS_USAGE;
	}
	emu_be = tv_backend_find("emu");
	if (!emu_be || fz_engine_open(emu_be, TV_MODE_LONG, cpu_model, &o.emu, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm fuzz: the emulator cannot run: %s\n",
			emu_be ? why : "it is not built in");
		return TV_EXIT_STATUS_USAGE;
	}
	status = open_oracle(oracle_name, mode, &o.oracle);
	if (status) {
		o.emu->close(o.emu);
		return status;
	}
	if (replay) {
		unsigned diverging, total;

		if (fz_replay(o.emu, o.oracle, replay, stdout, &diverging, &total, why,
			      sizeof(why)) != 0) {
			fprintf(stderr, "twinvm fuzz: --replay: %s\n", why);
			status = TV_EXIT_STATUS_USAGE;
		} else {
			fprintf(stderr, "twinvm fuzz: %u of %u records still diverge (emu against %s)\n",
				diverging, total, o.oracle->name);
			status = diverging == total ? TV_EXIT_STATUS_OK : 1;
		}
	} else {
		o.progress = isatty(STDERR_FILENO);
		if (fz_run(&o, stdout, &st) != 0) {
			fprintf(stderr, "twinvm fuzz: %s\n", tv_last_error());
			status = TV_EXIT_STATUS_USAGE;
		} else {
			fprintf(stderr, "twinvm fuzz: %" PRIu64 " snippets in %.1f s (%.0f/s), emu "
				"against %s: %" PRIu64 " diverged, %" PRIu64 " new bucket%s, %" PRIu64
				" in known buckets; %" PRIu64 " the oracle could not run\n", st.snippets,
				st.seconds, st.seconds > 0 ? (double)st.snippets / st.seconds : 0.0,
				o.oracle->name, st.diverged, st.new_buckets,
				st.new_buckets == 1 ? "" : "s", st.known, st.unrunnable);
			status = st.new_buckets ? 1 : TV_EXIT_STATUS_OK;
		}
	}
	o.oracle->close(o.oracle);
	o.emu->close(o.emu);
	return status;
}
