/* One getopt loop for every tool (options.h). */
#include "options.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"

/* A value for opt, parsed and checked into opt->out: TV_OPTS_GO, or the usage status. */
static int take(const char *cmd, const struct tv_opt *opt, const char *value)
{
	uint64_t n;
	double s;

	switch (opt->kind) {
	case TV_OPT_FLAG:
		*(bool *)opt->out = true;
		return TV_OPTS_GO;
	case TV_OPT_TEXT:
		*(const char **)opt->out = value;
		return TV_OPTS_GO;
	case TV_OPT_COUNT:
	case TV_OPT_MEM:
		if ((opt->kind == TV_OPT_COUNT ? tv_parse_count(value, &n) : tv_parse_mem(value, &n)))
			break;
		*(uint64_t *)opt->out = n;
		return TV_OPTS_GO;
	case TV_OPT_SECONDS:
		if (tv_parse_seconds(value, &s) != 0 || s < opt->min)
			break;
		*(double *)opt->out = s;
		return TV_OPTS_GO;
	case TV_OPT_MODE:
		if (!tv_mode_parse(value, opt->out))
			return tv_usage_error(cmd, "unknown mode '%s' (real, protected, paged32, long)",
					      value);
		return TV_OPTS_GO;
	case TV_OPT_CPU:
		if (tv_cpu_option(cmd, value, opt->out) != TV_EXIT_STATUS_OK)
			return TV_EXIT_STATUS_USAGE;
		return TV_OPTS_GO;
	case TV_OPT_CALL:
		return opt->call(cmd, value, opt->out);
	case TV_OPT_HELP:
		if (opt->call)
			return opt->call(cmd, NULL, opt->out);
		fputs(opt->out, stdout);
		return TV_EXIT_STATUS_OK;
	}
	return tv_usage_error(cmd, "--%s '%s': %s", opt->name, value, opt->hint);
}

static bool takes_value(const struct tv_opt *opt)
{
	return opt->kind != TV_OPT_FLAG && opt->kind != TV_OPT_HELP;
}

int tv_options_parse(const char *cmd, int argc, char **argv, const struct tv_opt *opts, size_t n)
{
	struct option longopts[TV_OPTS_MAX + 1] = { 0 };
	char shortopts[2 + 2 * TV_OPTS_MAX] = ":", *p = shortopts + 1;
	int c, rc;

	if (n > TV_OPTS_MAX)
		return tv_usage_error(cmd, "%zu flags, at most %d", n, TV_OPTS_MAX); /* a bug */
	for (size_t i = 0; i < n; i++) {
		longopts[i] = (struct option){ opts[i].name, takes_value(&opts[i]) ? required_argument
										: no_argument,
					       NULL, opts[i].letter ? opts[i].letter : 256 + (int)i };
		if (opts[i].letter) {
			*p++ = opts[i].letter;
			if (takes_value(&opts[i]))
				*p++ = ':';
		}
	}
	*p = '\0';
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		size_t i = c >= 256 ? (size_t)(c - 256) : n;

		for (size_t j = 0; i == n && j < n; j++)
			if (c < 256 && opts[j].letter == c)
				i = j;
		if (c == ':')
			return tv_usage_error(cmd, "%s needs a value", argv[optind - 1]);
		if (i == n)
			return tv_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		rc = take(cmd, &opts[i], optarg);
		if (rc != TV_OPTS_GO)
			return rc;
	}
	if (optind < argc)
		return tv_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return TV_OPTS_GO;
}
