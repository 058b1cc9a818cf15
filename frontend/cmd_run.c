/* `twinvm run`: flags into tv_run_options. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "options.h"

static const char run_usage[] =
	"usage: twinvm run [options]\n"
	"Runs one guest in one CPU mode on one engine and reports how it ended.\n"
	"\n";

const char tv_run_flags_help[] =
	"  -b, --backend auto|kvm|emu  engine (auto: KVM where its probe runs the mode, else emu)\n"
	"  -m, --mode MODE             real, protected, paged32 or long (default long; real for\n"
	"                              the built-in guests that run in real mode only: guest1...;\n"
	"                              protected for a multiboot kernel, the only mode it takes)\n"
	"  -g, --guest NAME|FILE       a built-in guest (default hello), or a file: an ELF\n"
	"                              executable (ELF32 or ELF64, in any mode) loaded by its\n"
	"                              segments at their physical addresses and started at its\n"
	"                              entry, or else a raw image loaded and started at 0 (a\n"
	"                              regular file: no FIFO, directory or device); an ELF file\n"
	"                              with a multiboot v1 header in its first 8 KiB (such as\n"
	"                              kvm-unit-tests' x86 *.flat) is booted as a multiboot\n"
	"                              kernel: EAX 0x2BADB002, EBX its boot information\n"
	"      --multiboot-env FILE    a multiboot kernel's module: FILE's bytes, an environment\n"
	"                              of KEY=value lines (default \"NR_CPUS=1\"; at most 1 MiB)\n"
	"      --multiboot-args ARGS   a multiboot kernel's arguments: its command line is its\n"
	"                              file name, a space and ARGS, as QEMU's -kernel and -append\n"
	"                              give it (kvm-unit-tests' test_args); default the name alone\n"
	"      --mem SIZE              guest RAM, e.g. 2M, 64M (default 2M, 128M for a multiboot\n"
	"                              kernel; 128K to 3G)\n"
	"      --cpu MODEL             the emulator's CPU model (twinvm info lists them; default\n"
	"                              auto: the model closest to the host's CPU that offers\n"
	"                              nothing the host lacks); an error on KVM\n"
	"      --trace FILE.jsonl      one JSON line per exit: reason, payload, registers; - for\n"
	"                              stdout (the guest's own output then goes to stderr)\n"
	"      --step                  run one instruction at a time and print each on stderr:\n"
	"                              address, bytes, disassembly, then any exit it made and\n"
	"                              the registers it changed (slow: one VM exit each)\n"
	"      --step-out FILE         the --step lines into FILE (implies --step); - for stdout\n"
	"                              (the guest's own output then goes to stderr)\n"
	"      --trace-api             print every KVM ioctl / Unicorn call on stderr as it is made,\n"
	"                              a step of the run with its note after \"  # \"\n"
	"      --api-chart FILE.svg    draw the run's KVM ioctls / Unicorn calls as a flowchart:\n"
	"                              one box per step, what it sets, the run loop (works\n"
	"                              without --trace-api; then nothing is printed)\n"
	"      --gdb [HOST:]PORT       wait for gdb on PORT (loopback unless HOST is given; 0: a\n"
	"                              free port, said on stderr) before the first instruction:\n"
	"                              gdb -ex 'target remote :PORT'\n"
	"      --gdb-no-wait           with --gdb: run at once; gdb may attach later\n"
	"      --platform none|pc      pc adds a PC's devices to the hypercalls: a 16550 UART at\n"
	"                              0x3f8 (transmit only, to stdout), isa-debug-exit at 0xf4\n"
	"                              (twinvm exits with (value << 1) | 1), fw_cfg, the PICs\n"
	"                              (interrupts), the local APIC's page at 0xfee00000 and\n"
	"                              QEMU's pc-testdev (port 0xe0, IRQ lines 0x2000, RAM at\n"
	"                              0xff000000); default none, pc for a multiboot kernel\n"
	"      --timeout SECONDS       stop the guest after this long (default 60; 0: no limit;\n"
	"                              at most a year, 31536000)\n"
	"      --max-exits N           stop the guest after N exits (for recording endless guests)\n"
	"      --strict                a hypercall used wrongly (operand size, direction, a bad\n"
	"                              pointer) ends the run with exit 1, not a warning\n"
	"  -v, --verbose               say what the guest cannot see: HC_gvaToHva's whole 64-bit\n"
	"                              host address (EAX has its low 32 bits), on stderr\n"
	"  -h, --help                  this text\n"
	"\n"
	"Exit status: 0 the guest halted (and a built-in guest's checks passed); 1 it ended any\n"
	"other way (shutdown, failure, failed check, timeout); 2 usage or host error.\n";

/* Prints a run tool's usage: its own head, then the flags every run tool takes. */
static int print_run_usage(const char *cmd, const char *value, void *head)
{
	(void)cmd;
	(void)value;
	fputs(head, stdout);
	fputs(tv_run_flags_help, stdout);
	return TV_EXIT_STATUS_OK;
}

int tv_run_parse(const char *cmd, const char *usage_head, int argc, char **argv,
		 struct tv_run_options *o, const struct tv_opt *extra, size_t n_extra)
{
	const struct tv_opt run_opts[] = {
		TV_OPT("backend", 'b', TEXT, &o->backend),
		TV_OPT("mode", 'm', MODE, &o->mode),
		TV_OPT("guest", 'g', TEXT, &o->guest),
		TV_OPT("mem", 0, MEM, &o->mem, .hint = "give a multiple of 4K from 128K to 3G"),
		TV_OPT("trace", 0, TEXT, &o->trace_path),
		TV_OPT("trace-api", 0, FLAG, &o->trace_api),
		TV_OPT("api-chart", 0, TEXT, &o->api_chart),
		TV_OPT("step", 0, FLAG, &o->step),
		TV_OPT("step-out", 0, TEXT, &o->step_out),
		TV_OPT("gdb", 0, TEXT, &o->gdb),
		TV_OPT("gdb-no-wait", 0, FLAG, &o->gdb_no_wait),
		TV_OPT("platform", 0, TEXT, &o->platform),
		TV_OPT("multiboot-env", 0, TEXT, &o->multiboot_env),
		TV_OPT("multiboot-args", 0, TEXT, &o->multiboot_args),
		TV_OPT("strict", 0, FLAG, &o->strict),
		TV_OPT("verbose", 'v', FLAG, &o->verbose),
		TV_OPT("timeout", 0, SECONDS, &o->timeout_s,
		       .hint = "give seconds from 0 to a year (31536000), e.g. 10 or 500ms"),
		TV_OPT("max-exits", 0, COUNT, &o->max_exits, .hint = "give a positive count"),
		TV_OPT("cpu", 0, CPU, &o->cpu_model),
		TV_OPT("help", 'h', HELP, (void *)usage_head, .call = print_run_usage),
	};
	size_t n_run = sizeof(run_opts) / sizeof(run_opts[0]);
	struct tv_opt opts[TV_OPTS_MAX];
	int rc;

	if (n_run + n_extra > TV_OPTS_MAX)
		return tv_usage_error(cmd, "%zu flags, at most %d", n_run + n_extra,
				      TV_OPTS_MAX); /* a bug */
	memcpy(opts, run_opts, sizeof(run_opts));
	if (n_extra)
		memcpy(opts + n_run, extra, n_extra * sizeof(*extra));
	rc = tv_options_parse(cmd, argc, argv, opts, n_run + n_extra);
	if (rc != TV_OPTS_GO)
		return rc;
	if (o->step_out && o->trace_path && strcmp(o->step_out, "-") == 0 &&
	    strcmp(o->trace_path, "-") == 0)
		return tv_usage_error(cmd, "--trace - and --step-out - both want stdout");
	o->step = o->step || o->step_out;
	rc = tv_platform_check(cmd, o->platform);
	if (rc)
		return rc;
	if (o->gdb_no_wait && !o->gdb)
		return tv_usage_error(cmd, "--gdb-no-wait needs --gdb [HOST:]PORT");
	if (o->gdb && (o->step || o->trace_path))
		return tv_usage_error(cmd, "--gdb runs the guest for gdb: not with --trace or --step");
	return TV_OPTS_GO;
}

/* `twinvm run`: its flags, then the run. */
int tv_cmd_run(int argc, char **argv)
{
	struct tv_run_options o;
	int rc;

	tv_run_options_default(&o);
	rc = tv_run_parse("run", run_usage, argc, argv, &o, NULL, 0);
	return rc == TV_OPTS_GO ? tv_run_guest(&o) : rc;
}
