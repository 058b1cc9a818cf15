/* Shared test helpers: skipping with a reason, and a main() for each Check suite.
 *
 * Check has no "skipped" result, so a skipped case prints "SKIP: <case>: <reason>" and returns;
 * scripts/test-summary.py counts those lines and reports them as skipped, not passed. */
#ifndef TWINVM_TV_TEST_H
#define TWINVM_TV_TEST_H

#include <check.h>
#include <stdbool.h>
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

/* The host limits a case may skip for. Each is recognised by its own signature (tv_test.c) and
 * tagged in the skip line as "[host limit: <tag>]"; scripts/test-summary.py knows the tags and
 * fails the run on a skip without one, and on any skip of the emulator. */
enum tv_host_limit {
	TV_LIMIT_KVM_ABSENT,     /* "kvm-absent": no /dev/kvm, no permission, or TWINVM_NO_KVM */
	TV_LIMIT_KVM_NO_PAGED32, /* "kvm-no-paged32": this KVM drops CR0.PG without long mode */
	TV_LIMIT_CPU_NO_1G,      /* "cpu-no-1g-pages": the guest's CPUID offers no 1 GiB pages */
	TV_LIMIT_NATIVE_NO_COMPAT, /* "native-no-compat": no 32-bit user code segment (ia32
				    * emulation off), so the native oracle runs no 32-bit code */
	TV_LIMIT_KVM_NO_EMULATION, /* "kvm-no-emulation": KVM's instruction emulator, which runs
				    * the guest on a KVM like kvm-pvm, cannot emulate the instruction */
	TV_LIMIT_NATIVE_NO_16BIT,  /* "native-no-16bit": no modify_ldt (a kernel without it, a
				    * seccomp filter) or no 16-bit LDT code segment to jump to */
	TV_LIMIT_NO_BINUTILS,      /* "binutils-absent": no cpp, as or ld in PATH to build a guest
				    * as the README's recipe does */
	TV_LIMIT_NO_GDB,           /* "gdb-absent": no gdb in PATH to test the stub with */
	TV_LIMIT_KVM_NO_DEBUGREGS, /* "kvm-no-debugregs": KVM does not stop at the kind of debug
				    * point asked for (kvm-pvm: watchpoints), or has no guest debug */
	TV_LIMIT_COUNT,
};

/* "kvm-absent" and the like. */
const char *tv_host_limit_tag(enum tv_host_limit limit);

/* Whether reason (a probe's, or diff's for exit 77) from engine in mode is one of the host limits
 * a case may skip for; when it is, why becomes "[host limit: <tag>] <reason>". */
bool tv_test_host_limit(const char *engine, enum tv_mode mode, const char *reason, char *why,
			size_t len);

/* The engine called name if it is built in and its probe runs mode. Otherwise NULL, with why
 * tagged for the caller's TV_SKIP, when the probe failed for a known host limit; any other
 * failure (the emulator refusing a mode, KVM failing for a reason no limit explains) fails the
 * test here, naming the probe's reason: a broken engine must not look like a host without KVM. */
const struct tv_backend_ops *tv_test_engine(const char *name, enum tv_mode mode, char *why,
					    size_t len);

/* Creates an empty temporary file whose name ends in suffix ("" for none), writes its path into
 * path and returns it; the caller unlinks it. */
const char *tv_temp_path(char *path, size_t len, const char *suffix);

/* Whether a library whose path contains name is mapped into this process (/proc/self/maps): the
 * libraries twinvm opens only when first used. */
bool tv_test_mapped(const char *name);

/* Runs the suite with verbose output; the exit code is meson's (0 pass, 1 fail). */
int tv_test_main(Suite *s);

#endif
