/* The engine oracles: a snippet runs as a guest, through the backend interface, on the emulator
 * or on KVM. One long-mode machine serves every snippet: the snippet and a hlt go to a code slot,
 * the scratch memory to FZ_SCRATCH_ADDR, the start state to the registers, and the run ends at
 * the hlt (one exit per snippet) or at a fault. twinvm's long mode identity-maps the first 4 GiB,
 * so the snippet's data addresses are the native oracle's.
 *
 * The code goes to a new slot each time, and RIP is reported as if it had run at FZ_CODE_ADDR
 * (snippets are position independent: no branches, no RIP-relative operands). The emulator
 * translates code once and keeps it: rewriting one address for every snippet needed an
 * invalidation per snippet, and Unicorn 2.1.1's range invalidation was seen to loop for good
 * after a few hundred thousand, while a whole flush costs ~0.4 ms. With 2048 slots the flush
 * comes once per 2048 snippets. */
#include "fz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "machine.h"

#define SLOT_AREA 0x100000ull /* 1 MiB of guest RAM, above twinvm's layout and the fuzzer's data */
#define SLOT_SIZE 0x200u      /* a snippet, FZ_CODE_MAX bytes, and its hlt */
#define SLOTS 2048u

struct engine {
	struct fz_oracle o;
	unsigned next_slot;
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
	uint64_t code;
	struct tv_exit x;
	int rc;

	if (s->len > FZ_CODE_MAX) {
		tv_set_error("%s: a snippet of %u bytes (at most %u)", e->name, s->len, FZ_CODE_MAX);
		return -EINVAL;
	}
	if (e->next_slot == SLOTS) {
		/* Every slot used: the engine may hold translations of all of them. */
		if (m->be->code_written) {
			rc = m->be->code_written(m->vcpu, SLOT_AREA, (uint64_t)SLOTS * SLOT_SIZE);
			if (rc)
				return rc;
		}
		e->next_slot = 0;
	}
	code = SLOT_AREA + (uint64_t)e->next_slot++ * SLOT_SIZE;
	if (tv_ram_write(&m->ram, code, s->code, s->len) != 0 ||
	    tv_ram_write(&m->ram, code + s->len, &hlt, 1) != 0 ||
	    tv_ram_write(&m->ram, FZ_SCRATCH_ADDR, in->scratch, FZ_SCRATCH_SIZE) != 0) {
		tv_set_error("%s: the fuzzer's addresses lie outside guest RAM", e->name);
		return -EFAULT;
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
	r.rip = code;
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
	out->st.rip = r.rip - code + FZ_CODE_ADDR; /* as if it had run where the others run it */
	out->vector = -1;
	if (x.reason == TV_EXIT_HLT) {
		out->st.rip -= 1; /* the hlt is the fuzzer's, not the snippet's */
	} else if (x.reason == TV_EXIT_SHUTDOWN) {
		out->vector = x.exception >= 0 ? x.exception : FZ_VECTOR_UNKNOWN;
	} else if (x.reason == TV_EXIT_INTERNAL_ERROR) {
		tv_set_error("%s: %s", e->name, x.detail);
		return -ENOTSUP;
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

int fz_engine_open(const struct tv_backend_ops *be, enum tv_mode mode, const char *cpu_model,
		   struct fz_oracle **out, char *why, size_t len)
{
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT, .quiet = true,
				       .cpu_model = cpu_model };
	struct engine *e;

	if (mode != TV_MODE_LONG) {
		snprintf(why, len, "the %s oracle runs long mode only so far", be->name);
		return -ENOTSUP;
	}
	e = calloc(1, sizeof(*e));
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
