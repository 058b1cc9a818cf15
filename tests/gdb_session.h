/* A debugging session as a user has one: `twinvm run ... --gdb 127.0.0.1:0` in the background and
 * the real gdb in batch mode (gdb -batch -x SCRIPT) connected to it. */
#ifndef TWINVM_TEST_GDB_SESSION_H
#define TWINVM_TEST_GDB_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct gdb_session {
	int status;           /* twinvm's exit status */
	char gdb[65536];      /* what gdb printed, stdout and stderr */
	char out[16384];      /* twinvm's stdout: the guest's output */
	char err[16384];      /* twinvm's stderr */
};

/* Whether gdb is in PATH; why says so when not. */
bool gdb_present(char *why, size_t len);

/* Runs twinvm with args (NULL-terminated, after "run"; --gdb is added) and gdb with script (lines
 * after "target remote"), each bounded in time: false with why when they could not be started
 * or did not end. */
bool gdb_session_run(const char *const *args, const char *script, struct gdb_session *s,
		     char *why, size_t len);

#endif
