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
	"      --oracle auto|native|kvm  native: the host CPU in user mode (no KVM needed: 64-bit\n"
	"                          code for long mode, compatibility mode for protected and paged32,\n"
	"                          a 16-bit segment for real); kvm: the snippet as a KVM guest in\n"
	"                          the mode; auto (default): kvm where it runs the mode, else native\n"
	"  -m, --mode MODE         real, protected, paged32 or long (the default): the guest mode the\n"
	"                          emulator (and kvm) run, and the code width (16, 32, 32, 64)\n"
	"      --seed N            the generator's seed (default 1): the same seed, the same run\n"
	"      --count N           stop after N snippets\n"
	"      --duration TIME     stop after TIME (600, 10m, 1h, 2.5s); default --count 100000\n"
	"      --length MIN-MAX    instructions per snippet (default 1-4, at most 16)\n"
	"      --classes LIST      instruction classes, comma-separated, or all, or user (the\n"
	"                          default: all with the kvm oracle; user, all but system and\n"
	"                          exceptions, with native, which cannot run system instructions\n"
	"                          and sees a fault as a signal, without the guest's error code,\n"
	"                          CR2 or exception frame)\n"
	"      --cpu MODEL         the emulator's CPU model (default: the largest subset of the\n"
	"                          host's features; twinvm info lists them)\n"
	"      --out DIR           write each new bucket there (created if missing)\n"
	"      --known DIR         records whose buckets are not new (e.g. tests/divergences)\n"
	"      --replay DIR        re-run the records in DIR, each in the mode it was made in (only\n"
	"                          --mode's with --mode), and say which still diverge\n"
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

/* The emulator and the oracle the user asked for, both for mode; or 77/2 with the reason said. */
static int open_oracles(const char *which, enum tv_mode mode, const char *cpu_model,
			struct fz_oracle **emu, struct fz_oracle **oracle)
{
	const struct tv_backend_ops *kvm = tv_backend_find("kvm"), *emu_be = tv_backend_find("emu");
	char why[768] = "";

	if (!emu_be || fz_engine_open(emu_be, mode, cpu_model, emu, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm fuzz: the emulator cannot run %s mode: %s\n",
			tv_mode_name(mode), emu_be ? why : "it is not built in");
		return TV_EXIT_STATUS_USAGE;
	}
	if (strcmp(which, "auto") == 0 || strcmp(which, "kvm") == 0) {
		if (kvm && tv_probe_mode(kvm, mode, why, sizeof(why)) == 0 &&
		    fz_engine_open(kvm, mode, NULL, oracle, why, sizeof(why)) == 0)
			return 0;
		if (strcmp(which, "kvm") == 0) {
			fprintf(stderr, "twinvm fuzz: the kvm oracle cannot run %s mode here: %s\n",
				tv_mode_name(mode), kvm ? why : "KVM is not built in");
			(*emu)->close(*emu);
			return TV_EXIT_STATUS_SKIP;
		}
	}
	if (fz_native_open((unsigned)tv_mode_bits(mode), oracle, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm fuzz: the native oracle cannot run %s mode's code here: %s\n",
			tv_mode_name(mode), why);
		(*emu)->close(*emu);
		return TV_EXIT_STATUS_SKIP;
	}
	return 0;
}

/* --replay: each mode the records were made in, with its own pair of oracles. */
static int replay_dir(const char *dir, const char *which, bool mode_given, enum tv_mode mode,
		      const char *cpu_model)
{
	unsigned modes, diverging = 0, total = 0, skipped = 0;
	char why[768];

	if (fz_replay_modes(dir, &modes, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm fuzz: --replay: %s\n", why);
		return TV_EXIT_STATUS_USAGE;
	}
	if (mode_given)
		modes &= 1u << mode;
	for (int m = 0; m < TV_MODE_COUNT; m++) {
		struct fz_oracle *emu, *oracle;
		unsigned d, t;
		int rc;

		if (!(modes & (1u << m)))
			continue;
		rc = open_oracles(which, (enum tv_mode)m, cpu_model, &emu, &oracle);
		if (rc == TV_EXIT_STATUS_SKIP) {
			skipped++;
			continue;
		}
		if (rc)
			return rc;
		rc = fz_replay(emu, oracle, (enum tv_mode)m, dir, stdout, &d, &t, why, sizeof(why));
		fprintf(stderr, "twinvm fuzz: %s mode: %u of %u records still diverge (emu against "
			"%s)\n", tv_mode_name((enum tv_mode)m), rc ? 0 : d, rc ? 0 : t, oracle->name);
		oracle->close(oracle);
		emu->close(emu);
		if (rc) {
			fprintf(stderr, "twinvm fuzz: --replay: %s\n", why);
			return TV_EXIT_STATUS_USAGE;
		}
		diverging += d;
		total += t;
	}
	if (total == 0) {
		fprintf(stderr, "twinvm fuzz: --replay %s: no record%s could be replayed here\n", dir,
			mode_given ? " of that mode" : "");
		return skipped ? TV_EXIT_STATUS_SKIP : TV_EXIT_STATUS_USAGE;
	}
	return diverging == total ? TV_EXIT_STATUS_OK : 1;
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
	struct fz_run_opts o = { .seed = 1, .mode = TV_MODE_LONG,
				 .gen = { .min_len = 1, .max_len = 4 } };
	const char *oracle_name = "auto", *replay = NULL, *cpu_model = NULL;
	bool mode_given = false;
	struct fz_stats st;
	char classes[512];
	int c, status;

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
			if (!tv_mode_parse(optarg, &o.mode))
				return tv_usage_error("fuzz", "unknown mode '%s' (real, protected, paged32, "
						      "long)", optarg);
			mode_given = true;
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
	if (!o.count && o.duration_s <= 0)
		o.count = 100000;
	if (replay)
		return replay_dir(replay, oracle_name, mode_given, o.mode, cpu_model);
	if (o.out_dir && mkdir(o.out_dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "twinvm fuzz: --out %s: %s\n", o.out_dir, strerror(errno));
		return TV_EXIT_STATUS_USAGE;
	}
	status = open_oracles(oracle_name, o.mode, cpu_model, &o.emu, &o.oracle);
	if (status)
		return status;
	/* System instructions run only as a guest, and faults compare only as a guest takes them:
	 * the kvm oracle's, by default there. */
	o.gen.system = strcmp(o.oracle->name, "kvm") == 0;
	if (!o.gen.classes)
		o.gen.classes = o.gen.system ? FZ_CLASS_ALL : FZ_CLASS_USER;
	if ((o.gen.classes & FZ_CLASS_ENGINE) && !o.gen.system) {
		fprintf(stderr, "twinvm fuzz: the %s class runs on the kvm oracle only (this run's "
			"oracle is %s)\n", fz_class_name(o.gen.classes & FZ_CLASS_SYSTEM
						      ? FZ_CLASS_SYSTEM : FZ_CLASS_EXCEPTIONS),
			o.oracle->name);
		status = strcmp(oracle_name, "auto") == 0 ? TV_EXIT_STATUS_SKIP : TV_EXIT_STATUS_USAGE;
	} else {
		o.progress = isatty(STDERR_FILENO);
		if (fz_run(&o, stdout, &st) != 0) {
			fprintf(stderr, "twinvm fuzz: %s\n", tv_last_error());
			status = TV_EXIT_STATUS_USAGE;
		} else {
			fprintf(stderr, "twinvm fuzz: %" PRIu64 " snippets in %.1f s (%.0f/s), %s mode, "
				"emu against %s: %" PRIu64 " diverged, %" PRIu64 " new bucket%s, %"
				PRIu64 " in known buckets; %" PRIu64 " the oracle could not run\n",
				st.snippets, st.seconds,
				st.seconds > 0 ? (double)st.snippets / st.seconds : 0.0,
				tv_mode_name(o.mode), o.oracle->name, st.diverged, st.new_buckets,
				st.new_buckets == 1 ? "" : "s", st.known, st.unrunnable);
			status = st.new_buckets ? 1 : TV_EXIT_STATUS_OK;
		}
	}
	o.oracle->close(o.oracle);
	o.emu->close(o.emu);
	return status;
}
