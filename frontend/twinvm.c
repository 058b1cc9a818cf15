/* twinvm: the tool people run. Dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
	"usage: twinvm COMMAND [options]\n"
	"A small x86 hypervisor on two engines: the Linux KVM API and the Unicorn emulator.\n"
	"\n"
	"commands:\n"
	"  run     run one guest in real, protected, paged32 or long mode\n"
	"  matrix  several VMs on one CPU: threads, io, rr or share (7:3) scheduling\n"
	"  diff    one guest on KVM and the emulator in lockstep; the first divergence\n"
	"  bench   twinvm's cost on each engine, as ratios against raw baselines\n"
	"  trace   show a trace (run --trace) one exit a line, instructions disassembled\n"
	"  fuzz    generated instructions on the emulator against the host CPU or KVM\n"
	"  info    the engines on this host, their versions and the limits probes found\n"
	"  help    this text\n"
	"\n"
	"`twinvm COMMAND --help` describes each command.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} commands[] = {
		{ "run", tv_cmd_run },
		{ "info", tv_cmd_info },
		{ "matrix", tv_cmd_matrix },
		{ "diff", tv_cmd_diff },
		{ "bench", tv_cmd_bench },
		{ "trace", tv_cmd_trace },
#ifdef TWINVM_HAVE_ZYDIS
		{ "fuzz", tv_cmd_fuzz },
#endif
	};

	if (argc < 2) {
		fputs(usage, stderr);
		return TV_EXIT_STATUS_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return tv_stdout_status("twinvm", TV_EXIT_STATUS_OK);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return tv_stdout_status("twinvm", commands[i].fn(argc - 1, argv + 1));
#ifndef TWINVM_HAVE_ZYDIS
	if (!strcmp(argv[1], "fuzz")) {
		fputs("twinvm: fuzz: this twinvm was built without Zydis (libzydis-dev), which the "
		      "fuzzer needs\n", stderr);
		return TV_EXIT_STATUS_USAGE;
	}
#endif
	fprintf(stderr, "twinvm: unknown command '%s' (see twinvm --help)\n", argv[1]);
	return TV_EXIT_STATUS_USAGE;
}
