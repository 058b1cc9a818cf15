/* What the tools share: exit codes, argument parsing helpers and guest loading. */
#ifndef TWINVM_CLI_H
#define TWINVM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kick.h"
#include "modes.h"

/* Exit codes every tool uses. */
enum {
	TV_EXIT_STATUS_OK = 0,      /* the guest halted and its checks passed */
	TV_EXIT_STATUS_GUEST = 1,   /* the guest ended any other way */
	TV_EXIT_STATUS_OUTPUT = 1,  /* output was lost: a write to stdout or a trace failed */
	TV_EXIT_STATUS_USAGE = 2,   /* bad usage, or a host error */
};

/* The flag parsers: pure functions (no output, no exit), each 0 with *out set, or -EINVAL for text
 * that is not what they take, or -ERANGE for a value outside the range; *out is untouched then.
 * A libFuzzer target drives them. */

/* "2M", "512K", "1G", "4096", "0x1000", "2MiB": bytes, up to UINT64_MAX. */
int tv_parse_size(const char *s, uint64_t *out);

/* A guest RAM size for --mem: tv_parse_size, a multiple of 4K (-EINVAL), from TV_RAM_MIN to
 * TV_RAM_MAX (-ERANGE). */
int tv_parse_mem(const char *s, uint64_t *out);

/* A positive decimal count ("40") for --quanta and --max-exits. */
int tv_parse_count(const char *s, uint64_t *out);

/* "10", "2.5", "300ms", "2s", "10m", "1h", "1e3": seconds, from 0 to TV_TIME_MAX_S (a year). */
int tv_parse_seconds(const char *s, double *out);

/* --cpu: a CPU model's name as `twinvm info` lists them (lower case letters, digits and dashes,
 * 1 to 31 characters: "epyc-rome", "qemu64"). "auto" and "host-subset" name the default: *out
 * = NULL then. Whether an engine has the model is tv_cpu_option's question. */
int tv_parse_cpu_model(const char *s, const char **out);

struct tv_backend_ops;

/* For a standalone program that is one command (`matrix` is `twinvm matrix`): from now on the
 * messages name it ("matrix: ...", "see matrix --help"), not "twinvm CMD". */
void tv_cli_program(const char *name);

/* The tool as messages name it, in buf: "twinvm CMD", or the program's name (tv_cli_program). */
const char *tv_tool_name(const char *cmd, char *buf, size_t len);

/* --cpu for the tool cmd ("run"): tv_parse_cpu_model, then the name looked up in the models of
 * the engines built in (the emulator's). TV_EXIT_STATUS_OK with *out set, or one line on stderr
 * ("twinvm run: --cpu 'foo': unknown CPU model (twinvm info lists them)") and
 * TV_EXIT_STATUS_USAGE. */
int tv_cpu_option(const char *cmd, const char *arg, const char **out);

/* For a tool that runs on one engine: true when model is NULL or be has CPU models; else one
 * line on stderr (KVM's guests see the host's CPU, so --cpu there is a mistake) and false. */
bool tv_cpu_engine_ok(const char *cmd, const struct tv_backend_ops *be, const char *model);

/* One line on stderr for output that could not be written ("twinvm: writing trace.jsonl: No space
 * left on device"); returns TV_EXIT_STATUS_OUTPUT. */
int tv_output_lost(const char *tool, const char *name, int err);

/* At the end of a tool: flushes stdout and checks that nothing written to it was lost (glibc
 * drops the buffer after a failed write, so only the stream's error flag tells). status, or
 * TV_EXIT_STATUS_OUTPUT after one line on stderr when status was OK and stdout failed. */
int tv_stdout_status(const char *tool, int status);

/* Opens a file the user gave as input (a guest image, a golden trace) for reading, without
 * blocking: anything but a regular file (a FIFO, a directory, a device) is refused. 0 with *f
 * (and *size, when not NULL), or -errno with the reason for the user in why. */
int tv_input_open(const char *path, FILE **f, uint64_t *size, char *why, size_t len);

/* A guest to run: a built-in one by name, or a raw image file. */
struct tv_guest {
	const struct tv_builtin *builtin; /* NULL for a file */
	char name[256];
	uint8_t *image; /* owned when loaded from a file */
	size_t len;
	const uint8_t *bytes;
	uint8_t *env; /* --multiboot-env's bytes (owned), env_len of them; NULL: the default */
	size_t env_len;
	char *cmdline; /* a multiboot kernel's command line (owned): its name, then its arguments */
};

/* Resolves spec (a built-in name, or a path) for mode and reads the image. On failure prints one
 * line to stderr and returns false. */
bool tv_guest_open(struct tv_guest *g, const char *spec, enum tv_mode mode);
void tv_guest_close(struct tv_guest *g);

/* RAM for a multiboot guest without --mem: kvm-unit-tests' tests want room (emulator.flat has
 * 12 MiB of bss), and QEMU gives them 128 MiB. */
#define TV_MULTIBOOT_MEM_DEFAULT (128ull << 20)

/* --multiboot-env's largest file: an environment of KEY=value lines (kvm-unit-tests reads 16 KiB
 * of it). */
#define TV_MULTIBOOT_ENV_MAX (1u << 20)

/* Once g is open (tv_guest_open), the defaults its kind gives the flags the user left out: a
 * multiboot kernel runs in protected mode (when !mode_given), with TV_MULTIBOOT_MEM_DEFAULT of
 * RAM (*mem 0) and --platform pc (*platform NULL), env_path (--multiboot-env, or NULL) is read
 * into g->env, and its command line is its name, then args (--multiboot-args, or NULL), as QEMU's
 * -kernel and -append give it; any other guest gets TV_RAM_DEFAULT (*mem 0) and must have neither
 * env_path nor args. false after one line on stderr ("twinvm CMD: ..."). */
bool tv_guest_defaults(const char *cmd, struct tv_guest *g, bool mode_given, enum tv_mode *mode,
		       uint64_t *mem, const char **platform, const char *env_path, const char *args);

/* tv_run_options.mode when the user named none: the guest's own (tv_builtin_mode), real mode for
 * a built-in guest built for it alone, else long. */
#define TV_RUN_MODE_AUTO TV_MODE_COUNT

/* Options of a single-guest run, shared by `twinvm run` and `simple-kvm`. */
struct tv_run_options {
	const char *backend; /* "auto", "kvm", "emu" */
	enum tv_mode mode;   /* or TV_RUN_MODE_AUTO, the default */
	const char *guest;
	uint64_t mem;         /* --mem; 0: not given, the guest's default (tv_guest_defaults) */
	const char *trace_path;
	bool step;            /* --step: each instruction as it runs (step_trace.h) */
	const char *step_out; /* --step-out: the step lines' file, - for stdout; NULL: stderr */
	const char *gdb;      /* --gdb [HOST:]PORT: the stub listens there (gdb.h); NULL: none */
	bool gdb_no_wait;     /* --gdb-no-wait: run at once, gdb may attach later */
	const char *platform; /* --platform none|pc: the devices beyond the hypercalls; NULL:
			       * not given, the guest's default (tv_guest_defaults) */
	const char *multiboot_env; /* --multiboot-env FILE, or NULL */
	const char *multiboot_args; /* --multiboot-args ARGS, or NULL */
	bool trace_api;
	const char *api_chart; /* --api-chart FILE.svg: the run's engine calls as a flowchart */
	bool strict; /* --strict: a hypercall used wrongly ends the run (exit 1) */
	bool verbose; /* --verbose: what the guest cannot see, e.g. HC_gvaToHva's host address */
	double timeout_s;
	uint64_t max_exits; /* 0: no limit */
	const char *cpu_model; /* --cpu; NULL: the engine's default */
};

void tv_run_options_default(struct tv_run_options *o);

/* The flags every run tool takes (run, simple-kvm), as --help lists them. */
extern const char tv_run_flags_help[];

struct tv_opt;

/* Parses `twinvm run`'s flags into o, and extra[0..n_extra) (a tool's own, e.g. simple-kvm's
 * -l): TV_OPTS_GO, or the exit status (after --help, which prints usage_head then the flags, or
 * after one usage line). */
int tv_run_parse(const char *cmd, const char *usage_head, int argc, char **argv,
		 struct tv_run_options *o, const struct tv_opt *extra, size_t n_extra);

/* Runs one guest as `twinvm run` does and returns the tool's exit code. */
int tv_run_guest(const struct tv_run_options *o);

#endif
