/* `twinvm fuzz`: generated snippets on the emulator against an oracle (the host CPU, or KVM);
 * each divergence minimised, bucketed, and kept as a reproducer. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fuzz.h"
#include "options.h"
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

static int oracle_option(const char *cmd, const char *value, void *out)
{
	if (strcmp(value, "auto") && strcmp(value, "native") && strcmp(value, "kvm"))
		return tv_usage_error(cmd, "--oracle '%s': auto, native or kvm", value);
	*(const char **)out = value;
	return TV_OPTS_GO;
}

static int length_option(const char *cmd, const char *value, void *out)
{
	struct fz_gen_opts *gen = out;

	if (!parse_length(value, &gen->min_len, &gen->max_len))
		return tv_usage_error(cmd, "--length '%s': give MIN-MAX, 1 <= MIN <= MAX <= %u", value,
				      FZ_INSN_MAX);
	return TV_OPTS_GO;
}

static int classes_option(const char *cmd, const char *value, void *out)
{
	if (fz_class_parse(value, out) != 0)
		return tv_usage_error(cmd, "--classes '%s': see twinvm fuzz --help for the class "
				      "names", value);
	return TV_OPTS_GO;
}

static int fuzz_help(const char *cmd, const char *value, void *out)
{
	char classes[512] = "";

	(void)cmd, (void)value, (void)out;
	for (unsigned i = 0; i < FZ_CLASS_COUNT; i++)
		snprintf(classes + strlen(classes), sizeof(classes) - strlen(classes), "%s%s",
			 i ? ", " : "", fz_class_name(1u << i));
	printf(fuzz_usage, classes);
	return TV_EXIT_STATUS_OK;
}

/* A fuzzing run with the oracles open: the classes the oracle allows, the run, its summary on
 * stderr; the exit status. */
static int fuzz_run(struct fz_run_opts *o, const char *oracle_name)
{
	struct fz_stats st;

	/* System instructions run only as a guest, and faults compare only as a guest takes them:
	 * the kvm oracle's, by default there. */
	o->gen.system = strcmp(o->oracle->name, "kvm") == 0;
	if (!o->gen.classes)
		o->gen.classes = o->gen.system ? FZ_CLASS_ALL : FZ_CLASS_USER;
	if ((o->gen.classes & FZ_CLASS_ENGINE) && !o->gen.system) {
		fprintf(stderr, "twinvm fuzz: the %s class runs on the kvm oracle only (this run's "
			"oracle is %s)\n", fz_class_name(o->gen.classes & FZ_CLASS_SYSTEM
						       ? FZ_CLASS_SYSTEM : FZ_CLASS_EXCEPTIONS),
			o->oracle->name);
		return strcmp(oracle_name, "auto") == 0 ? TV_EXIT_STATUS_SKIP : TV_EXIT_STATUS_USAGE;
	}
	o->progress = isatty(STDERR_FILENO);
	if (fz_run(o, stdout, &st) != 0) {
		fprintf(stderr, "twinvm fuzz: %s\n", tv_last_error());
		return TV_EXIT_STATUS_USAGE;
	}
	fprintf(stderr, "twinvm fuzz: %" PRIu64 " snippets in %.1f s (%.0f/s), %s mode, emu against "
		"%s: %" PRIu64 " diverged, %" PRIu64 " new bucket%s, %" PRIu64 " in known buckets; %"
		PRIu64 " the oracle could not run\n", st.snippets, st.seconds,
		st.seconds > 0 ? (double)st.snippets / st.seconds : 0.0, tv_mode_name(o->mode),
		o->oracle->name, st.diverged, st.new_buckets, st.new_buckets == 1 ? "" : "s",
		st.known, st.unrunnable);
	return st.new_buckets ? 1 : TV_EXIT_STATUS_OK;
}

int tv_cmd_fuzz(int argc, char **argv)
{
	/* mode TV_MODE_COUNT until --mode names one: --replay tells the two apart */
	struct fz_run_opts o = { .seed = 1, .mode = TV_MODE_COUNT,
				 .gen = { .min_len = 1, .max_len = 4 } };
	const char *oracle_name = "auto", *replay = NULL, *cpu_model = NULL;
	const struct tv_opt opts[] = {
		TV_OPT("oracle", 0, CALL, &oracle_name, .call = oracle_option),
		TV_OPT("mode", 'm', MODE, &o.mode),
		TV_OPT("seed", 0, COUNT, &o.seed, .hint = "give a positive number"),
		TV_OPT("count", 0, COUNT, &o.count, .hint = "give a positive count"),
		TV_OPT("duration", 0, SECONDS, &o.duration_s, .min = TV_OPT_ABOVE_ZERO,
		       .hint = "give seconds above 0 (at most a year), e.g. 600 or 10m"),
		TV_OPT("length", 0, CALL, &o.gen, .call = length_option),
		TV_OPT("classes", 0, CALL, &o.gen.classes, .call = classes_option),
		TV_OPT("out", 0, TEXT, &o.out_dir),
		TV_OPT("known", 0, TEXT, &o.known_dir),
		TV_OPT("replay", 0, TEXT, &replay),
		TV_OPT("cpu", 0, CPU, &cpu_model),
		TV_OPT("help", 'h', HELP, NULL, .call = fuzz_help),
	};
	bool mode_given;
	int status = tv_options_parse("fuzz", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));

	if (status != TV_OPTS_GO)
		return status;
	mode_given = o.mode != TV_MODE_COUNT;
	if (!mode_given)
		o.mode = TV_MODE_LONG;
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
	status = fuzz_run(&o, oracle_name);
	o.oracle->close(o.oracle);
	o.emu->close(o.emu);
	return status;
}
