/* In-process guest runs for tests. */
#include "run_guest.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "layout.h"
#include "record.h"

void tv_test_prepare(struct tv_test_run *t, const struct tv_backend_ops *be, enum tv_mode mode,
		     const void *image, size_t len, FILE *trace)
{
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT, .trace = trace,
				       .warnings = stderr };

	tv_test_prepare_opts(t, opt, mode, image, len);
}

void tv_test_prepare_opts(struct tv_test_run *t, struct tv_machine_opts opt, enum tv_mode mode,
			  const void *image, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->console_f = open_memstream(&t->console, &t->console_len);
	ck_assert_ptr_nonnull(t->console_f);
	opt.console = t->console_f;
	ck_assert_msg(tv_machine_boot(&t->m, &opt, image, len, mode) == 0, "boot: %s",
		      tv_last_error());
}

void tv_test_finish(struct tv_test_run *t, double timeout_s)
{
	ck_assert_msg(tv_run(&t->m, timeout_s, &t->last) == 0, "run: %s", tv_last_error());
	ck_assert_int_eq(t->m.be->get_regs(t->m.vcpu, &t->regs), 0);
	fflush(t->console_f);
}

void tv_test_run(struct tv_test_run *t, const struct tv_backend_ops *be, enum tv_mode mode,
		 const void *image, size_t len, FILE *trace, double timeout_s)
{
	tv_test_prepare(t, be, mode, image, len, trace);
	tv_test_finish(t, timeout_s);
}

void tv_test_run_end(struct tv_test_run *t)
{
	tv_machine_destroy(&t->m);
	fclose(t->console_f);
	free(t->console);
}
