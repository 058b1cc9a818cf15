/* Running the project's binaries from tests. */
#include "run_binary.h"
#include "tv_test.h"

#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

void tv_run_binary(const char *bin_env, const char *const *args, struct result *r)
{
	tv_run_binary_stdout(bin_env, args, NULL, r);
}

/* stdout to stdout_path (or captured), stderr captured on its own or, with merged, on stdout. */
static void run_binary(const char *bin_env, const char *const *args, const char *stdout_path,
		       bool merged, struct result *r)
{
	const char *bin = getenv(bin_env);
	const char *argv[64];
	FILE *out = tmpfile(), *err = tmpfile();
	pid_t pid;
	int i, st;

	ck_assert_msg(bin != NULL, "%s is not set (run through meson test)", bin_env);
	ck_assert(out && err);
	argv[0] = bin;
	for (i = 0; args[i]; i++) {
		ck_assert_int_lt(i, 62);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;
	fflush(stdout);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = stdout_path ? open(stdout_path, O_WRONLY) : fileno(out);

		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(merged ? fd : fileno(err), 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "%s died with signal %d", bin, WTERMSIG(st));
	r->status = WEXITSTATUS(st);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

void tv_run_binary_stdout(const char *bin_env, const char *const *args, const char *stdout_path,
			  struct result *r)
{
	run_binary(bin_env, args, stdout_path, false, r);
}

void tv_run_binary_merged(const char *bin_env, const char *const *args, struct result *r)
{
	run_binary(bin_env, args, NULL, true, r);
}

int tv_count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

bool tv_run_image(const char *engine, enum tv_mode mode, const char *platform,
		  const uint8_t *image, size_t size, struct result *r, char *why, size_t len)
{
	char path[64];
	FILE *f;

	if (!tv_test_engine(engine, mode, why, len))
		return false;
	f = fopen(tv_temp_path(path, sizeof(path), ".bin"), "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(image, 1, size, f), size);
	ck_assert_int_eq(fclose(f), 0);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", engine, "--mode",
				   tv_mode_name(mode), "--platform", platform, "--guest", path,
				   NULL }, r);
	unlink(path);
	return true;
}

const char *const tv_run_way_name[TV_RUN_WAYS] = { "fast", "precise (--trace)", "step" };

bool tv_run_pc_guest(const char *engine, enum tv_mode mode, const char *path,
		     enum tv_run_way way, struct result *r, char *why, size_t len)
{
	const char *args[16] = { "run", "--backend", engine, "--mode", tv_mode_name(mode),
				 "--platform", "pc", "--timeout", "20", "--guest", path };
	char trace[64] = "";
	size_t n = 11;

	ck_assert_ptr_nonnull(path);
	if (!tv_test_engine(engine, mode, why, len))
		return false;
	if (way == TV_WAY_PRECISE) {
		args[n++] = "--trace";
		args[n++] = tv_temp_path(trace, sizeof(trace), ".jsonl");
	} else if (way == TV_WAY_STEP) {
		args[n++] = "--step";
		args[n++] = "--step-out";
		args[n++] = "/dev/null";
	}
	tv_run_binary("TWINVM_BIN", args, r);
	if (trace[0])
		unlink(trace);
	return true;
}
