/* Running the project's binaries from a test as a user would: arguments in, exit status,
 * stdout and stderr out. The binaries' paths come from the environment meson test sets
 * (TWINVM_BIN, SIMPLE_KVM_BIN). */
#ifndef TWINVM_TEST_RUN_BINARY_H
#define TWINVM_TEST_RUN_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modes.h"

struct result {
	int status;      /* the exit status */
	char out[32768]; /* stdout, NUL-terminated, cut at the buffer's size */
	char err[8192];  /* stderr, likewise */
};

/* Runs the binary named by the environment variable bin_env with the NULL-terminated args
 * (argv[1] on), asserting (ck_assert) that it started and exited rather than died. */
void tv_run_binary(const char *bin_env, const char *const *args, struct result *r);

/* tv_run_binary with the binary's stdout on stdout_path (opened for writing, not truncated:
 * /dev/full, say), or captured in r->out when stdout_path is NULL. */
void tv_run_binary_stdout(const char *bin_env, const char *const *args, const char *stdout_path,
			  struct result *r);

/* tv_run_binary with stdout and stderr on one file, as on a terminal: r->out has both, in the
 * order they were written; r->err is empty. */
void tv_run_binary_merged(const char *bin_env, const char *const *args, struct result *r);

/* A raw guest image run as `twinvm run --backend engine --mode mode --platform platform` into *r,
 * from a temporary file; false, with why, where the engine cannot run the mode here
 * (tv_test_engine: a known host limit, else the test fails). */
bool tv_run_image(const char *engine, enum tv_mode mode, const char *platform,
		  const uint8_t *image, size_t size, struct result *r, char *why, size_t len);

/* The three ways `twinvm run` runs a guest, each on a path of its own in the emulator: the fast
 * mode, the precise mode (--trace, to a temporary file) and the step mode (--step, its lines
 * dropped). */
enum tv_run_way { TV_WAY_FAST, TV_WAY_PRECISE, TV_WAY_STEP, TV_RUN_WAYS };
extern const char *const tv_run_way_name[TV_RUN_WAYS];

/* The guest file at path run as `twinvm run --backend engine --mode mode --platform pc --timeout
 * 20` in way, into *r; false, with why, where the engine cannot run the mode here. */
bool tv_run_pc_guest(const char *engine, enum tv_mode mode, const char *path,
		     enum tv_run_way way, struct result *r, char *why, size_t len);

/* The number of newlines in s. */
int tv_count_lines(const char *s);

#endif
