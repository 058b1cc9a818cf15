/* Shared test helpers: skipping with a reason, and a main() for each Check suite.
 *
 * Check has no "skipped" result, so a skipped case prints "SKIP: <case>: <reason>" and returns;
 * scripts/test-summary.py counts those lines and reports them as skipped, not passed. */
#ifndef TWINVM_TV_TEST_H
#define TWINVM_TV_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
#include "modes.h"

#define TV_SKIP(...)                                                          \
	do {                                                                  \
		printf("SKIP: %s: ", __func__);                               \
		printf(__VA_ARGS__);                                          \
		printf("\n");                                                 \
		fflush(stdout);                                               \
		return;                                                       \
	} while (0)

/* The engine called name if it is built in and its probe runs mode; otherwise NULL, with the
 * probe's reason in why. */
const struct tv_backend_ops *tv_test_engine(const char *name, enum tv_mode mode, char *why,
					    size_t len);

/* Creates an empty temporary file whose name ends in suffix ("" for none), writes its path into
 * path and returns it; the caller unlinks it. */
const char *tv_temp_path(char *path, size_t len, const char *suffix);

/* Runs the suite with verbose output; the exit code is meson's (0 pass, 1 fail). */
int tv_test_main(Suite *s);

#endif
