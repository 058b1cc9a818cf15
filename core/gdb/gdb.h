/* The GDB remote stub: `twinvm run --gdb [HOST:]PORT` lets gdb stop, step and look at a guest on
 * either engine, through the machine and the engine interface only (no engine-specific code).
 *
 * The session listens on a TCP port (loopback unless a host is named), takes one gdb at a time,
 * and runs the guest when gdb says so: continue and step, software and hardware breakpoints,
 * watchpoints, Ctrl-C. Guest memory is addressed as the vCPU sees it (core's page walk in its
 * current mode). When the guest ends, gdb is told (W or X) and the run ends as it would have. */
#ifndef TWINVM_GDB_H
#define TWINVM_GDB_H

#include <stdbool.h>
#include <stdio.h>

#include "machine.h"

struct tv_gdb_opts {
	const char *listen; /* "[HOST:]PORT"; port 0 picks a free one (said on the log) */
	bool wait;          /* stop before the first instruction until gdb connects */
	double timeout_s;   /* the guest's running time, as --timeout (0: none) */
	FILE *log;          /* "listening on ...", connections, disconnections: stderr */
};

struct tv_gdb;

/* Listens on o->listen and, with o->wait, waits for gdb. 0, or -errno with tv_last_error()
 * (-EINVAL for a malformed address, -EADDRINUSE...). */
int tv_gdb_open(struct tv_gdb **out, struct tv_machine *m, const struct tv_gdb_opts *o);

/* Runs the guest under gdb to its end. 0 with the last exit in *e (HLT, SHUTDOWN, ...; INTR for
 * the timeout or an interrupt, as tv_run); -ECONNABORTED when gdb killed the guest or went away
 * without detaching (said on the log); another -errno when the engine failed. */
int tv_gdb_run(struct tv_gdb *g, struct tv_exit *e);

/* Tells a connected gdb how the run ended: "W" with the exit status (a halt) or "X" with a signal
 * (SHUTDOWN and the other deaths, the timeout), then closes the sockets and frees g. NULL-safe. */
void tv_gdb_close(struct tv_gdb *g, int status, const struct tv_exit *e);

#endif
