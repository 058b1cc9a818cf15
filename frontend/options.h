/* The tools' flags as one table per tool: the getopt loop, the usage errors ("twinvm run: --mem
 * 'x': give ...", "--mem needs a value", "unknown option", "unexpected argument") and --help are
 * written once, in tv_options_parse. */
#ifndef TWINVM_OPTIONS_H
#define TWINVM_OPTIONS_H

#include <float.h>
#include <stddef.h>

/* What a flag takes, and the type out points to. */
enum tv_opt_kind {
	TV_OPT_FLAG,	/* bool, set true; no value */
	TV_OPT_TEXT,	/* const char *: the value as given */
	TV_OPT_COUNT,	/* uint64_t: tv_parse_count */
	TV_OPT_MEM,	/* uint64_t: tv_parse_mem */
	TV_OPT_SECONDS, /* double: tv_parse_seconds, at least min */
	TV_OPT_MODE,	/* enum tv_mode: tv_mode_parse */
	TV_OPT_CPU,	/* const char *: tv_cpu_option (it says what is wrong) */
	TV_OPT_CALL,	/* call(cmd, value, out) */
	TV_OPT_HELP,	/* no value: prints out (the usage text), or call(cmd, NULL, out) does,
			 * and the tool ends with status 0 */
};

/* A SECONDS flag's min that takes anything above 0 (and refuses 0). */
#define TV_OPT_ABOVE_ZERO DBL_TRUE_MIN

/* The most flags one tool's table holds. */
#define TV_OPTS_MAX 32

/* parse's answer, and a TV_OPT_CALL's, when the tool carries on. */
#define TV_OPTS_GO (-1)

struct tv_opt {
	const char *name; /* the long flag, without "--" */
	char letter;	  /* its short form, or 0 */
	enum tv_opt_kind kind;
	void *out;
	const char *hint; /* COUNT, MEM, SECONDS: the usage error says "--NAME 'VALUE': HINT" */
	double min;	  /* SECONDS */
	/* CALL: TV_OPTS_GO, or the exit status after its own one line on stderr; HELP: prints,
	 * returns the status */
	int (*call)(const char *cmd, const char *value, void *out);
};

/* One entry of a tool's table: the long name, the short letter (0: none), the kind without its
 * TV_OPT_ prefix, where the value goes, then any of .hint, .min, .call:
 *   TV_OPT("mem", 0, MEM, &o.mem, .hint = "give a multiple of 4K from 128K to 3G") */
#define TV_OPT(name_, letter_, kind_, ...) \
	{ .name = (name_), .letter = (letter_), .kind = TV_OPT_##kind_, .out = __VA_ARGS__ }

/* Parses argv (argv[0] the subcommand) against opts[0..n): TV_OPTS_GO when every flag was taken
 * and nothing is left over, else the exit status to return (0 after --help, TV_EXIT_STATUS_USAGE
 * after one line on stderr from "twinvm CMD: ..."). */
int tv_options_parse(const char *cmd, int argc, char **argv, const struct tv_opt *opts, size_t n);

#endif
