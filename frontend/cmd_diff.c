/* `twinvm diff`: one guest on KVM and on the emulator in lockstep, or one engine against a golden
 * trace; the first divergence reported. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
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
	"  -m, --mode MODE          real, protected, paged32 or long (default: the guest's own,\n"
	"                           real for guest1 and the matrix's guests, protected for a\n"
	"                           multiboot kernel, else long)\n"
	"  -g, --guest NAME|FILE    a built-in guest (default hello), an ELF file (a multiboot\n"
	"                           kernel booted as `twinvm run` boots it) or a raw image\n"
	"      --platform none|pc   the devices beyond the hypercalls, as `twinvm run` has them\n"
	"                           (default none, pc for a multiboot kernel)\n"
	"      --multiboot-env FILE a multiboot kernel's environment module, as for `twinvm run`\n"
	"      --multiboot-args ARGS  a multiboot kernel's arguments, as for `twinvm run`\n"
	"      --step               compare after every instruction, not only at exits\n"
	"      --max-exits N        stop, agreeing, after N exits (instructions with --step)\n"
	"      --against FILE       compare with a trace recorded earlier (twinvm run --trace)\n"
	"                           instead of running the other engine (a regular file); its\n"
	"                           first line gives the guest, mode, memory, platform and exit\n"
	"                           limit (a flag that disagrees is an error), and the fields\n"
	"                           the golden is known to differ in, which are not compared\n"
	"  -b, --backend kvm|emu    with --against: the engine to run (default emu)\n"
	"      --ignore FIELD       do not compare FIELD (rax, rflags.af, cs.base, io.data, ram...);\n"
	"                           repeatable; nothing is ignored by default\n"
	"      --mem SIZE           guest RAM (default 2M, 128M for a multiboot kernel)\n"
	"      --cpu MODEL          the emulator's CPU model (twinvm info lists them; default\n"
	"                           auto); KVM's guests always see the host's CPU\n"
	"      --cpuid own|shared   own (default): each engine's guest sees its own CPU (KVM the\n"
	"                           host's, the emulator its model's); shared: the emulator's\n"
	"                           guest reads KVM's CPUID table, by KVM's rules, so a guest\n"
	"                           that looks at CPUID takes the same paths on both (the model\n"
	"                           still decides which instructions the emulator has)\n"
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
 * runs (a malformed line or a trace cut short is a usage error wherever it is, not a divergence
 * or a crash when the comparison reaches it). TV_OPTS_GO, or the exit status after one line on
 * stderr. */
static int open_golden(struct tv_diff_opts *o, const char *against, const char *backend,
		       struct tv_golden_header *h)
{
	char why[512];

	o->a = tv_backend_find(backend);
	if (!o->a)
		return tv_usage_error("diff", "no engine called '%s' in this build", backend);
	if (tv_input_open(against, &o->golden, NULL, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm diff: golden trace %s: %s\n", against, why);
		return TV_EXIT_STATUS_USAGE;
	}
	if (tv_golden_check(o->golden, h, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm diff: golden trace %s %s\n", against, why);
		return TV_EXIT_STATUS_USAGE;
	}
	o->golden_name = against;
	o->golden_header = h;
	return TV_OPTS_GO;
}

/* One line on stderr: a flag that contradicts the golden trace's header; exit status 2. */
static int against_conflict(const char *file, const char *flag, const char *given,
			    const char *recorded)
{
	fprintf(stderr, "twinvm diff: %s %s: %s is a trace of %s (leave the flag out to take it "
		"from the file)\n", flag, given, file, recorded);
	return TV_EXIT_STATUS_USAGE;
}

/* The golden's header gives what the flags left out (guest, mode, memory, platform, the exit
 * limit) and must agree with what they gave; its expected divergences are not compared. */
static int apply_header(struct tv_diff_opts *o, const char **guest, const char **platform,
			struct ignore_list *ignore)
{
	const struct tv_golden_header *h = o->golden_header;
	char a[32], b[32];

	if (o->step && !h->instruction_level) {
		fprintf(stderr, "twinvm diff: --step: %s has one record per exit (twinvm run "
			"--trace), not per instruction\n", o->golden_name);
		return TV_EXIT_STATUS_USAGE;
	}
	if (!h->present)
		return TV_OPTS_GO; /* format 1: the flags (or their defaults) say what was run */
	if (*guest && strcmp(*guest, h->guest) != 0)
		return against_conflict(o->golden_name, "--guest", *guest, h->guest);
	if (o->mode != TV_MODE_COUNT && o->mode != h->mode)
		return against_conflict(o->golden_name, "--mode", tv_mode_name(o->mode),
					tv_mode_name(h->mode));
	snprintf(a, sizeof(a), "0x%" PRIx64, o->ram_size);
	snprintf(b, sizeof(b), "0x%" PRIx64 " bytes of RAM", h->mem);
	if (o->ram_size && o->ram_size != h->mem)
		return against_conflict(o->golden_name, "--mem", a, b);
	snprintf(b, sizeof(b), "the %s platform", h->platform);
	if (*platform && strcmp(*platform, h->platform) != 0)
		return against_conflict(o->golden_name, "--platform", *platform, b);
	snprintf(a, sizeof(a), "%" PRIu64, o->max_records);
	snprintf(b, sizeof(b), "%" PRIu64 " exits", h->max_exits);
	if (h->max_exits && o->max_records > h->max_exits)
		return against_conflict(o->golden_name, "--max-exits", a, b);
	*guest = *guest ? *guest : h->guest;
	o->mode = o->mode == TV_MODE_COUNT ? h->mode : o->mode;
	*platform = *platform ? *platform : h->platform;
	o->ram_size = o->ram_size ? o->ram_size : h->mem;
	o->max_records = o->max_records ? o->max_records : h->max_exits;
	for (int i = 0; i < h->nexpect && ignore->n < MAX_IGNORE; i++)
		ignore->names[ignore->n++] = h->expect[i].field;
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

/* --cpuid own|shared into *mirror (o->mirror_cpuid). false after one line on stderr. */
static bool cpuid_choice(const char *cpuid, bool *mirror)
{
	if (strcmp(cpuid, "shared") != 0 && strcmp(cpuid, "own") != 0) {
		fprintf(stderr, "twinvm diff: --cpuid takes own or shared, not '%s'\n", cpuid);
		return false;
	}
	*mirror = strcmp(cpuid, "shared") == 0;
	return true;
}

int tv_cmd_diff(int argc, char **argv)
{
	const char *guest = NULL, *against = NULL, *backend = "emu", *platform = NULL, *env = NULL;
	const char *cpuid = "own", *args = NULL;
	/* mode, mem and max-exits unset (COUNT, 0, 0): from the golden's header, else defaults */
	struct tv_diff_opts o = { .mode = TV_MODE_COUNT, .timeout_s = 20, .out = stdout };
	struct ignore_list ignore = { .n = 0 };
	struct tv_golden_header header;
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
		TV_OPT("cpuid", 0, TEXT, &cpuid),
		TV_OPT("platform", 0, TEXT, &platform),
		TV_OPT("multiboot-env", 0, TEXT, &env),
		TV_OPT("multiboot-args", 0, TEXT, &args),
		TV_OPT("help", 'h', HELP, (void *)diff_usage),
	};
	char why[512];
	struct tv_guest g = { 0 };
	bool mode_given;
	int status = tv_options_parse("diff", argc, argv, opts, sizeof(opts) / sizeof(opts[0]));

	if (status != TV_OPTS_GO)
		return status;
	if (tv_platform_check("diff", platform))
		return TV_EXIT_STATUS_USAGE; /* said */
	if (!cpuid_choice(cpuid, &o.mirror_cpuid))
		return TV_EXIT_STATUS_USAGE; /* said */
	status = against ? open_golden(&o, against, backend, &header) : both_engines(&o);
	if (status == TV_OPTS_GO && against)
		status = apply_header(&o, &guest, &platform, &ignore);
	if (status != TV_OPTS_GO)
		goto out;
	mode_given = o.mode != TV_MODE_COUNT;
	if (!mode_given) /* the guest's own: real for guest1, long for most */
		o.mode = tv_builtin_mode(tv_builtin_find(guest ? guest : "hello"));
	o.ignore = ignore.names;
	o.nignore = ignore.n;
	if (!tv_guest_open(&g, guest ? guest : "hello", o.mode)) {
		status = TV_EXIT_STATUS_USAGE;
		goto out;
	}
	/* mem 0 and platform NULL when not given: run's defaults for the guest */
	if (!tv_guest_defaults("diff", &g, mode_given, &o.mode, &o.ram_size, &platform, env,
			       args)) {
		status = TV_EXIT_STATUS_USAGE;
		goto close_guest;
	}
	o.platform = platform && strcmp(platform, "pc") == 0 ? TV_PLATFORM_PC : TV_PLATFORM_NONE;
	o.multiboot_env = g.env;
	o.multiboot_env_len = g.env_len;
	o.multiboot_cmdline = g.cmdline;
	o.guest_name = g.name;
	o.image = g.bytes;
	o.len = g.len;
	/* An engine that cannot run the mode here is not a divergence: say so and skip. */
	if (tv_probe_mode(o.a, o.mode, why, sizeof(why)) != 0 ||
	    (o.b && tv_probe_mode(o.b, o.mode, why, sizeof(why)) != 0)) {
		fprintf(stderr, "twinvm diff: cannot compare here: %s\n", why);
		status = TV_EXIT_STATUS_SKIP;
	} else {
		status = (int)tv_diff(&o);
	}
close_guest:
	tv_guest_close(&g);
out:
	if (o.golden)
		fclose(o.golden);
	return status;
}
