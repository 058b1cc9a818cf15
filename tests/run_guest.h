/* Running a guest in-process for tests: a machine on one engine, console captured in memory. */
#ifndef TWINVM_TEST_RUN_GUEST_H
#define TWINVM_TEST_RUN_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

struct tv_test_run {
	struct tv_machine m;
	struct tv_exit last;
	struct tv_regs regs; /* at the end */
	char *console;       /* what the guest wrote to port 0xE9, NUL-terminated */
	size_t console_len;
	FILE *console_f;
};

/* Creates a machine on be, loads image, enters mode and runs it with a timeout. trace may be NULL.
 * Asserts (ck_assert) that every step up to the run succeeded. tv_test_run_end() frees it. */
void tv_test_run(struct tv_test_run *t, const struct tv_backend_ops *be, enum tv_mode mode,
		 const void *image, size_t len, FILE *trace, double timeout_s);
void tv_test_run_end(struct tv_test_run *t);

/* tv_test_run in two halves, for a test that sets up guest RAM between them: create, load and
 * enter the mode; then run to the end and read the registers and the console. */
void tv_test_prepare(struct tv_test_run *t, const struct tv_backend_ops *be, enum tv_mode mode,
		     const void *image, size_t len, FILE *trace);
void tv_test_finish(struct tv_test_run *t, double timeout_s);

/* tv_test_prepare with the machine's options given (a CPU model, say); opt.console is the
 * capture's. */
void tv_test_prepare_opts(struct tv_test_run *t, struct tv_machine_opts opt, enum tv_mode mode,
			  const void *image, size_t len);

/* tv_test_run on the engine called name in mode, with a 30 s timeout; where that engine cannot run
 * the mode here, the test is skipped with the reason (TV_SKIP: returns from the caller). */
#define TV_TEST_RUN_ON(t, name, mode, image, len)                                          \
	do {                                                                               \
		char why_[256];                                                            \
		const struct tv_backend_ops *be_ = tv_test_engine(name, mode, why_, sizeof(why_)); \
		if (!be_)                                                                  \
			TV_SKIP("%s/%s: %s", name, tv_mode_name(mode), why_);              \
		tv_test_run(t, be_, mode, image, len, NULL, 30);                           \
	} while (0)

#endif
