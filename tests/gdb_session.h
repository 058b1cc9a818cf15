/* A debugging session as a user has one: `twinvm run ... --gdb 127.0.0.1:0` in the background and
 * the real gdb in batch mode (gdb -batch -x SCRIPT) connected to it. */
#ifndef TWINVM_TEST_GDB_SESSION_H
#define TWINVM_TEST_GDB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct gdb_session {
	int status;           /* twinvm's exit status */
	char gdb[65536];      /* what gdb printed, stdout and stderr */
	char out[16384];      /* twinvm's stdout: the guest's output */
	char err[16384];      /* twinvm's stderr */
};

/* twinvm run with --gdb 127.0.0.1:0, started, and the port it said it listens on. */
struct gdb_twinvm {
	pid_t pid;
	int port;
	int err_fd;       /* its stderr, read into err */
	size_t err_len;
	FILE *out;        /* its stdout */
	char err[16384];
};

/* Starts twinvm run with args (NULL-terminated, after "run"; --gdb 127.0.0.1:0 added, and extra
 * when not NULL, e.g. "--gdb-no-wait"): false with why when it said no port. */
bool gdb_twinvm_start(struct gdb_twinvm *t, const char *const *args, const char *extra, char *why,
		      size_t len);
/* Waits for it to end (at most seconds, then kills it): its exit status, -1 when killed; its
 * stdout into out (size len) and the rest of its stderr into t->err. */
int gdb_twinvm_end(struct gdb_twinvm *t, int seconds, char *out, size_t len);

/* Whether gdb is in PATH; why says so when not. */
bool gdb_present(char *why, size_t len);

/* Runs twinvm with args (NULL-terminated, after "run"; --gdb is added) and gdb with script (lines
 * after "target remote"), each bounded in time: false with why when they could not be started
 * or did not end. */
bool gdb_session_run(const char *const *args, const char *script, struct gdb_session *s,
		     char *why, size_t len);

#endif
