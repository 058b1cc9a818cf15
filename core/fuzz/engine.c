/* The engine oracles: a snippet runs as a guest, through the backend interface, on the emulator
 * or on KVM. One long-mode machine serves every snippet: the snippet and a hlt go to
 * FZ_CODE_ADDR, the scratch memory to FZ_SCRATCH_ADDR, the start state to the registers, and the
 * run ends at the hlt (one exit per snippet) or at a fault. twinvm's long mode identity-maps the
 * first 4 GiB, so the snippet's addresses are the native oracle's. */
#include "fz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "machine.h"

struct engine {
	struct fz_oracle o;
	struct tv_machine m;
	FILE *console; /* /dev/null: a snippet prints nothing, but the machine needs somewhere */
	char name[16];
};

/* fz_gpr order to struct tv_regs. */
static uint64_t *reg_of(struct tv_regs *r, int i)
{
	uint64_t *const map[FZ_NGPR] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
		&r->r8,	 &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
	};

	return map[i];
}

static int engine_run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
		      struct fz_result *out)
{
	struct engine *e = (struct engine *)o;
	struct tv_machine *m = &e->m;
	const uint8_t hlt = 0xf4;
	struct tv_regs r = { 0 };
	struct tv_exit x;
	int rc;

	if (s->len > FZ_CODE_MAX) {
		tv_set_error("%s: a snippet of %u bytes (at most %u)", e->name, s->len, FZ_CODE_MAX);
		return -EINVAL;
	}
	if (tv_ram_write(&m->ram, FZ_CODE_ADDR, s->code, s->len) != 0 ||
	    tv_ram_write(&m->ram, FZ_CODE_ADDR + s->len, &hlt, 1) != 0 ||
	    tv_ram_write(&m->ram, FZ_SCRATCH_ADDR, in->scratch, FZ_SCRATCH_SIZE) != 0) {
		tv_set_error("%s: the fuzzer's addresses lie outside guest RAM", e->name);
		return -EFAULT;
	}
	/* The engine may hold a translation of the last snippet at the same address. */
	if (m->be->code_written) {
		rc = m->be->code_written(m->vcpu, FZ_CODE_ADDR, (uint64_t)s->len + 1);
		if (rc)
			return rc;
	}
	/* Every snippet starts from the state the machine was set up in, whatever the last one
	 * did to it (the emulator keeps an exception in flight after a fault otherwise). */
	if (m->be->snapshot) {
		rc = m->be->snapshot(m->vcpu, true);
		if (rc)
			return rc;
	}
	for (int i = 0; i < FZ_NGPR; i++)
		*reg_of(&r, i) = in->gpr[i];
	r.rip = FZ_CODE_ADDR;
	r.rflags = (in->rflags & FZ_RFLAGS_START_MASK) | FZ_RFLAGS_FIXED;
	rc = m->be->set_regs(m->vcpu, &r);
	if (!rc)
		rc = m->be->run(m->vcpu, &x);
	if (!rc)
		rc = m->be->get_regs(m->vcpu, &r);
	if (rc)
		return rc;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < FZ_NGPR; i++)
		out->st.gpr[i] = *reg_of(&r, i);
	out->st.rflags = r.rflags;
	out->st.rip = r.rip;
	out->vector = -1;
	if (x.reason == TV_EXIT_HLT) {
		out->st.rip = r.rip - 1; /* the hlt is the fuzzer's, not the snippet's */
	} else if (x.reason == TV_EXIT_SHUTDOWN && x.exception >= 0) {
		out->vector = x.exception;
	} else {
		tv_set_error("%s: the snippet ended in %s%s%s, neither at its end nor at a fault the "
			     "engine names", e->name, tv_exit_reason_name(x.reason),
			     x.detail[0] ? ": " : "", x.detail);
		return -EIO;
	}
	return tv_ram_read(&m->ram, FZ_SCRATCH_ADDR, out->st.scratch, FZ_SCRATCH_SIZE);
}

static void engine_close(struct fz_oracle *o)
{
	struct engine *e = (struct engine *)o;

	if (!e)
		return;
	tv_machine_destroy(&e->m);
	if (e->console)
		fclose(e->console);
	free(e);
}

int fz_engine_open(const struct tv_backend_ops *be, const char *cpu_model, struct fz_oracle **out,
		   char *why, size_t len)
{
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT, .quiet = true,
				       .cpu_model = cpu_model };
	struct engine *e = calloc(1, sizeof(*e));

	if (!e) {
		snprintf(why, len, "%s oracle: out of memory", be->name);
		return -ENOMEM;
	}
	snprintf(e->name, sizeof(e->name), "%s", be->name);
	e->o = (struct fz_oracle){ .name = e->name, .run = engine_run, .close = engine_close };
	e->console = opt.console = fopen("/dev/null", "w");
	if (!opt.console || tv_machine_create(&e->m, &opt) != 0) {
		snprintf(why, len, "%s", opt.console ? tv_last_error() : "cannot open /dev/null");
		e->m.be = NULL; /* nothing to destroy */
		engine_close(&e->o);
		return -ENODEV;
	}
	if (tv_machine_enter_mode(&e->m, TV_MODE_LONG) != 0) {
		snprintf(why, len, "%s cannot run long mode: %s", be->name, tv_last_error());
		engine_close(&e->o);
		return -ENOTSUP;
	}
	if (e->m.be->snapshot && e->m.be->snapshot(e->m.vcpu, false) != 0) {
		snprintf(why, len, "%s: %s", be->name, tv_last_error());
		engine_close(&e->o);
		return -ENODEV;
	}
	*out = &e->o;
	return 0;
}
