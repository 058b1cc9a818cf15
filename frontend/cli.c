/* Argument helpers and guest loading shared by the tools. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "builtin.h"
#include "commands.h"
#include "layout.h"
#include "multiboot.h"

int tv_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!s || *s < '0' || *s > '9') /* no sign, no space: strtoull would take them */
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'B') /* accept "2MiB", "2MB" */
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int tv_parse_mem(const char *s, uint64_t *out)
{
	uint64_t v;
	int rc = tv_parse_size(s, &v);

	if (rc)
		return rc;
	if (v % TV_PAGE_SIZE)
		return -EINVAL;
	if (v < TV_RAM_MIN || v > TV_RAM_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

int tv_parse_count(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end || v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int tv_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	/* A digit or a point first: no sign, no space, no "inf" or "nan". */
	if (!s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		v /= 1000;
	else if (strcmp(end, "m") == 0)
		v *= 60;
	else if (strcmp(end, "h") == 0)
		v *= 3600;
	else if (*end && strcmp(end, "s") != 0)
		return -EINVAL;
	/* Overflow (HUGE_VAL) and underflow alike: a time no timer can be armed for. */
	if (errno == ERANGE || !isfinite(v) || v > TV_TIME_MAX_S)
		return -ERANGE;
	if (v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int tv_parse_cpu_model(const char *s, const char **out)
{
	size_t n = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	for (; s[n]; n++) {
		if (n >= 31)
			return -ERANGE;
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return -EINVAL;
	}
	*out = strcmp(s, "auto") == 0 || strcmp(s, "host-subset") == 0 ? NULL : s;
	return 0;
}

/* 0 when some engine built in has a model called name; else -ENOENT, or -ENOTSUP when no engine
 * can pick models (with the reason in tv_last_error()). */
static int cpu_model_known(const char *name)
{
	struct tv_cpu_model m;
	int rc = -ENOTSUP;

	tv_set_error("no engine in this build has CPU models");
	for (size_t b = 0; b < tv_backend_count; b++) {
		const struct tv_backend_ops *be = tv_backends[b];
		int r = 0;

		if (!be->cpu_model)
			continue;
		for (size_t i = 0; (r = be->cpu_model(i, &m)) == 0; i++)
			if (strcmp(m.name, name) == 0)
				return 0;
		if (r == -ENOENT)
			rc = -ENOENT;
	}
	return rc;
}

/* The standalone program this process is, when it is one (tv_cli_program); NULL in twinvm. */
static const char *program;
/* How the lines that name no command begin: "twinvm: ", or "matrix: " in the matrix program. */
#define PROGRAM (program ? program : "twinvm")

void tv_cli_program(const char *name)
{
	program = name;
}

const char *tv_tool_name(const char *cmd, char *buf, size_t len)
{
	if (program)
		snprintf(buf, len, "%s", program);
	else
		snprintf(buf, len, "twinvm %s", cmd);
	return buf;
}

int tv_cpu_option(const char *cmd, const char *arg, const char **out)
{
	char tool[64];

	const char *name;
	int rc = tv_parse_cpu_model(arg, &name);

	if (rc)
		return tv_usage_error(cmd, "--cpu '%.40s': give a CPU model's name, lower case with "
				      "dashes (twinvm info lists them), or auto", arg);
	if (name) {
		rc = cpu_model_known(name);
		if (rc == -ENOENT) {
			fprintf(stderr, "%s: --cpu '%s': unknown CPU model (twinvm info lists "
				"them)\n", tv_tool_name(cmd, tool, sizeof(tool)), name);
			return TV_EXIT_STATUS_USAGE;
		}
		if (rc) {
			fprintf(stderr, "%s: --cpu '%s': %s\n",
				tv_tool_name(cmd, tool, sizeof(tool)), name, tv_last_error());
			return TV_EXIT_STATUS_USAGE;
		}
	}
	*out = name;
	return TV_EXIT_STATUS_OK;
}

bool tv_cpu_engine_ok(const char *cmd, const struct tv_backend_ops *be, const char *model)
{
	char tool[64];

	if (!model || be->set_cpu_model)
		return true;
	fprintf(stderr, "%s: --cpu %s: the %s engine has no CPU models (its guests see the host's "
		"CPU); add --backend emu\n", tv_tool_name(cmd, tool, sizeof(tool)), model, be->name);
	return false;
}

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a plain file";
}

int tv_input_open(const char *path, FILE **out, uint64_t *size, char *why, size_t len)
{
	/* O_NONBLOCK: opening a FIFO for reading blocks until a writer comes, and some devices
	 * block too; fstat on the opened descriptor then decides, with no window between the check
	 * and the open. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), flags, err;
	struct stat st;
	FILE *f;

	if (fd < 0) {
		err = errno;
		snprintf(why, len, "%s", strerror(err));
		return -err;
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		snprintf(why, len, "%s", strerror(err));
		close(fd);
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s, not a regular file", file_kind(st.st_mode));
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	/* A regular file never blocks: stdio gets an ordinary descriptor. */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || !(f = fdopen(fd, "rb"))) {
		err = errno ? errno : EIO;
		snprintf(why, len, "%s", strerror(err));
		close(fd);
		return -err;
	}
	*out = f;
	if (size)
		*size = (uint64_t)st.st_size;
	return 0;
}

static bool read_file(const char *path, uint8_t **data, size_t *len)
{
	char why[256];
	uint64_t size;
	uint8_t *buf;
	FILE *f;

	if (tv_input_open(path, &f, &size, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: guest image %s: %s\n", PROGRAM, path, why);
		return false;
	}
	/* Anything past the largest RAM can never load: refuse before allocating it. */
	if (size > TV_RAM_MAX) {
		fprintf(stderr, "%s: guest image %s is %" PRIu64 " bytes, larger than any guest "
			"RAM\n", PROGRAM, path, size);
		fclose(f);
		return false;
	}
	errno = 0;
	buf = malloc(size ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read guest image %s: %s\n", PROGRAM, path,
			buf ? strerror(errno ? errno : EIO) : "out of memory");
		free(buf);
		fclose(f);
		return false;
	}
	fclose(f);
	*data = buf;
	*len = (size_t)size;
	return true;
}

bool tv_guest_open(struct tv_guest *g, const char *spec, enum tv_mode mode)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", spec);
	g->builtin = tv_builtin_find(spec);
	if (g->builtin) {
		if (!tv_builtin_image(g->builtin, mode, &g->bytes, &g->len)) {
			fprintf(stderr, "%s: the built-in guest %s has no %d-bit build for %s mode "
				"(it runs in real mode)\n", PROGRAM, spec, tv_mode_bits(mode),
				tv_mode_name(mode));
			return false;
		}
		return true;
	}
	if (!strchr(spec, '/') && access(spec, F_OK) != 0) {
		fprintf(stderr, "%s: no built-in guest or file called '%s' (built-in guests:",
			PROGRAM, spec);
		for (size_t i = 0; tv_builtins[i]; i++)
			fprintf(stderr, " %s", tv_builtins[i]->name);
		fprintf(stderr, ")\n");
		return false;
	}
	if (!read_file(spec, &g->image, &g->len))
		return false;
	g->bytes = g->image;
	return true;
}

void tv_guest_close(struct tv_guest *g)
{
	free(g->image);
	g->image = NULL;
	free(g->env);
	g->env = NULL;
	free(g->cmdline);
	g->cmdline = NULL;
}

/* --multiboot-env's file into g->env. false after one line on stderr. */
static bool read_env(const char *cmd, struct tv_guest *g, const char *path)
{
	char tool[64], why[256];
	uint64_t size;
	FILE *f;

	tv_tool_name(cmd, tool, sizeof(tool));
	if (tv_input_open(path, &f, &size, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: --multiboot-env %s: %s\n", tool, path, why);
		return false;
	}
	if (size > TV_MULTIBOOT_ENV_MAX) {
		fprintf(stderr, "%s: --multiboot-env %s: %" PRIu64 " bytes, more than an environment's "
			"%u\n", tool, path, size, TV_MULTIBOOT_ENV_MAX);
		fclose(f);
		return false;
	}
	errno = 0;
	g->env = malloc(size ? (size_t)size : 1);
	if (!g->env || fread(g->env, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: --multiboot-env %s: %s\n", tool, path,
			g->env ? strerror(errno ? errno : EIO) : "out of memory");
		free(g->env);
		g->env = NULL;
		fclose(f);
		return false;
	}
	fclose(f);
	g->env_len = (size_t)size;
	return true;
}

/* g's command line: its name, then args if any. false after one line on stderr. */
static bool make_cmdline(const char *cmd, struct tv_guest *g, const char *args)
{
	size_t len = strlen(g->name) + (args ? 1 + strlen(args) : 0);

	if (len > TV_MULTIBOOT_CMDLINE_MAX) {
		tv_usage_error(cmd, "--multiboot-args: the command line \"%s %.20s...\" is %zu bytes, "
			       "more than its page's %d", g->name, args ? args : "", len,
			       TV_MULTIBOOT_CMDLINE_MAX);
		return false;
	}
	g->cmdline = malloc(len + 1);
	if (!g->cmdline) {
		tv_usage_error(cmd, "the multiboot command line: out of memory");
		return false;
	}
	snprintf(g->cmdline, len + 1, "%s%s%s", g->name, args ? " " : "", args ? args : "");
	return true;
}

bool tv_guest_defaults(const char *cmd, struct tv_guest *g, bool mode_given, enum tv_mode *mode,
		       uint64_t *mem, const char **platform, const char *env_path, const char *args)
{
	struct tv_multiboot_header h;

	if (g->builtin || !tv_multiboot_find(g->bytes, g->len, &h)) {
		*mem = *mem ? *mem : TV_RAM_DEFAULT;
		if (env_path || args)
			tv_usage_error(cmd, "%s: %s is not a multiboot kernel (no multiboot header "
				       "in its first 8 KiB)",
				       env_path ? "--multiboot-env" : "--multiboot-args", g->name);
		return !env_path && !args;
	}
	if (!mode_given)
		*mode = TV_MODE_PROTECTED;
	*mem = *mem ? *mem : TV_MULTIBOOT_MEM_DEFAULT;
	*platform = *platform ? *platform : "pc";
	return make_cmdline(cmd, g, args) && (!env_path || read_env(cmd, g, env_path));
}

void tv_run_options_default(struct tv_run_options *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = "auto";
	o->mode = TV_RUN_MODE_AUTO; /* resolved by tv_run_guest */
	o->guest = "hello";
	o->mem = 0; /* not given: the guest's default (tv_guest_defaults) */
	o->timeout_s = 60;
}

int tv_usage_error(const char *cmd, const char *fmt, ...)
{
	char tool[64];
	va_list ap;

	tv_tool_name(cmd, tool, sizeof(tool));
	fprintf(stderr, "%s: ", tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", tool);
	return TV_EXIT_STATUS_USAGE;
}

int tv_platform_check(const char *cmd, const char *name)
{
	if (!name || strcmp(name, "none") == 0 || strcmp(name, "pc") == 0)
		return 0;
	return tv_usage_error(cmd, "--platform '%s': give none or pc", name);
}

int tv_output_lost(const char *tool, const char *name, int err)
{
	fprintf(stderr, "%s: writing %s: %s\n", tool, name, strerror(err ? err : EIO));
	return TV_EXIT_STATUS_OUTPUT;
}

int tv_stdout_status(const char *tool, int status)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	tv_output_lost(tool, "stdout", errno);
	return status == TV_EXIT_STATUS_OK ? TV_EXIT_STATUS_OUTPUT : status;
}
