/* The engine oracles: a snippet runs as a guest, through the backend interface, on the emulator
 * or on KVM, in any of twinvm's four modes. One machine serves every snippet: the snippet and a hlt
 * go to a code slot, the scratch memory to FZ_SCRATCH_ADDR, the start state to the registers, and
 * the run ends at the hlt (one exit per snippet, plus one per in/out of the system class) or at
 * a fault, which the CPU delivers to the fuzzer's own handlers (traps.h). twinvm's modes map
 * guest-virtual to guest-physical one to one, so the snippet's data addresses are the native
 * oracle's; real mode reaches them through segments as fz.h says.
 *
 * The code goes to a new slot each time, and RIP is reported as if it had run where fz.h puts the
 * snippet (snippets are position independent: no branches, no RIP-relative operands). The emulator
 * translates code once and keeps it: rewriting one address for every snippet needed an
 * invalidation per snippet, and Unicorn 2.1.1's range invalidation was seen to loop for good after
 * a few hundred thousand, while a whole flush costs ~0.4 ms. With 2048 slots the flush comes once
 * per 2048 snippets (120 in real mode, whose slots share one 64 KiB code segment). */
#include "fz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "layout.h"
#include "traps.h"

#define SLOT_AREA 0x100000ull /* 1 MiB of guest RAM, above twinvm's layout and the fuzzer's data */
#define SLOT_SIZE 0x200u      /* a snippet, FZ_CODE_MAX bytes, and its hlt */
#define SLOTS 2048u
#define IO_EXITS_MAX 64u      /* in/out exits one snippet may take (16 instructions at most) */

struct engine {
	struct fz_oracle o;
	enum tv_mode mode;
	unsigned bits;
	unsigned next_slot, slots;
	uint64_t slot_base; /* linear address of slot 0 */
	uint64_t slot_ip;   /* slot 0 as the code's IP (real mode: an offset in FZ_REAL_CS) */
	struct tv_sregs start; /* the system state every snippet starts from */
	bool dirty; /* the last snippet may have changed it (the system class, or a fault: CR2) */
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

/* The next slot's linear address and IP, after a flush when every slot has been used. */
static int next_slot(struct engine *e, uint64_t *addr, uint64_t *ip)
{
	struct tv_machine *m = &e->m;

	if (e->next_slot == e->slots) {
		/* Every slot used: the engine may hold translations of all of them. */
		if (m->be->code_written) {
			int rc = m->be->code_written(m->vcpu, e->slot_base,
						     (uint64_t)e->slots * SLOT_SIZE);
			if (rc)
				return rc;
		}
		e->next_slot = 0;
	}
	*addr = e->slot_base + (uint64_t)e->next_slot * SLOT_SIZE;
	*ip = e->slot_ip + (uint64_t)e->next_slot * SLOT_SIZE;
	e->next_slot++;
	return 0;
}

/* Runs to the snippet's end or its fault: port I/O (the system class's in/out to ports nobody
 * owns) is handled as twinvm run handles it, and the run goes on. */
static int run_to_stop(struct engine *e, struct tv_exit *x)
{
	struct tv_machine *m = &e->m;

	for (unsigned n = 0;; n++) {
		int rc = tv_machine_step(m, x);

		if (rc || x->reason != TV_EXIT_IO)
			return rc;
		if (n == IO_EXITS_MAX) {
			tv_set_error("%s: more than %u port I/O exits in one snippet", e->name,
				     IO_EXITS_MAX);
			return -EIO;
		}
		rc = tv_machine_io(m, x);
		if (rc < 0)
			return rc;
	}
}

/* A HLT at one of the fuzzer's handlers: the fault the CPU delivered, from its frame. */
static int take_frame(struct engine *e, int vector, const struct tv_regs *r, uint64_t entry_ip,
		      struct fz_result *out)
{
	struct fz_trap_frame f;
	uint64_t ss_base = e->mode == TV_MODE_REAL ? e->start.ss.base : 0;

	if (fz_trap_frame(&e->m.ram, e->mode, vector, r->rsp, ss_base, &f) != 0) {
		tv_set_error("%s: the exception frame of vector %d lies outside RAM", e->name, vector);
		return -EIO;
	}
	out->vector = vector;
	out->error_code = f.error_code;
	out->error_code_known = f.has_error_code;
	out->has_frame = true;
	out->frame_cs = f.cs;
	out->frame_ss = f.ss;
	out->st.rip = f.ip - entry_ip + fz_code_start(e->bits);
	out->st.rflags = f.flags;
	out->st.gpr[FZ_RSP] = f.sp;
	if (f.clobber_hi > f.clobber_lo) {
		uint64_t lo = f.clobber_lo < FZ_SCRATCH_ADDR ? FZ_SCRATCH_ADDR : f.clobber_lo;
		uint64_t hi = f.clobber_hi > FZ_SCRATCH_ADDR + FZ_SCRATCH_SIZE
				      ? FZ_SCRATCH_ADDR + FZ_SCRATCH_SIZE
				      : f.clobber_hi;

		if (hi > lo) {
			out->clobber_at = (uint16_t)(lo - FZ_SCRATCH_ADDR);
			out->clobber_len = (uint16_t)(hi - lo);
		}
	}
	return 0;
}

/* Fills out from the exit x and the registers r. */
static int outcome(struct engine *e, const struct fz_snippet *s, const struct tv_exit *x,
		   struct tv_regs *r, uint64_t entry_ip, struct fz_result *out)
{
	struct tv_machine *m = &e->m;
	const uint64_t keep = fz_gpr_mask(e->bits);
	int rc = 0, vector;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < fz_gprs(e->bits); i++)
		out->st.gpr[i] = *reg_of(r, i) & keep;
	out->st.rflags = r->rflags;
	out->st.rip = r->rip - entry_ip + fz_code_start(e->bits); /* where the others run it */
	out->vector = -1;
	if (x->reason == TV_EXIT_HLT) {
		vector = fz_traps_vector(e->mode, r->rip);
		if (vector >= 0)
			rc = take_frame(e, vector, r, entry_ip, out);
		else
			out->st.rip -= 1; /* the hlt is the fuzzer's, not the snippet's */
	} else if (x->reason == TV_EXIT_SHUTDOWN) {
		out->vector = x->exception >= 0 ? x->exception : FZ_VECTOR_UNKNOWN;
	} else if (x->reason == TV_EXIT_INTERNAL_ERROR) {
		tv_set_error("%s: %s", e->name, x->detail);
		return -ENOTSUP;
	} else {
		tv_set_error("%s: the snippet ended in %s%s%s, neither at its end nor at a fault the "
			     "engine names", e->name, tv_exit_reason_name(x->reason),
			     x->detail[0] ? ": " : "", x->detail);
		return -EIO;
	}
	out->st.rip &= keep;
	out->st.gpr[FZ_RSP] &= keep;
	/* The system state, where a snippet can have changed it: its system instructions, and
	 * a fault (CR2). */
	if (!rc && (s->system || out->vector >= 0)) {
		rc = m->be->get_sregs(m->vcpu, &out->system);
		out->has_system = rc == 0;
	}
	if (!rc)
		rc = tv_ram_read(&m->ram, FZ_SCRATCH_ADDR, out->st.scratch, FZ_SCRATCH_SIZE);
	return rc;
}

static int engine_run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
		      struct fz_result *out)
{
	struct engine *e = (struct engine *)o;
	struct tv_machine *m = &e->m;
	const uint8_t hlt = 0xf4;
	struct tv_regs r = { 0 };
	uint64_t code, ip;
	struct tv_exit x;
	int rc;

	if (s->len > FZ_CODE_MAX || s->bits != e->bits) {
		tv_set_error("%s: a snippet of %u bytes of %u-bit code (this oracle: at most %u "
			     "bytes, %u-bit)", e->name, s->len, s->bits, FZ_CODE_MAX, e->bits);
		return -EINVAL;
	}
	rc = next_slot(e, &code, &ip);
	if (rc)
		return rc;
	if (tv_ram_write(&m->ram, code, s->code, s->len) != 0 ||
	    tv_ram_write(&m->ram, code + s->len, &hlt, 1) != 0 ||
	    tv_ram_write(&m->ram, FZ_SCRATCH_ADDR, in->scratch, FZ_SCRATCH_SIZE) != 0) {
		tv_set_error("%s: the fuzzer's addresses lie outside guest RAM", e->name);
		return -EFAULT;
	}
	/* Every snippet starts from the state the machine was set up in, whatever the last one
	 * did to it (the emulator keeps an exception in flight after a fault otherwise). Without
	 * a snapshot (KVM) only the system state can have changed, by system instructions. */
	if (m->be->snapshot)
		rc = m->be->snapshot(m->vcpu, true);
	else if (e->dirty)
		rc = m->be->set_sregs(m->vcpu, &e->start);
	if (rc)
		return rc;
	for (int i = 0; i < FZ_NGPR; i++)
		*reg_of(&r, i) = in->gpr[i];
	r.rip = ip;
	r.rflags = (in->rflags & FZ_RFLAGS_START_MASK) | FZ_RFLAGS_FIXED;
	rc = m->be->set_regs(m->vcpu, &r);
	if (!rc)
		rc = run_to_stop(e, &x);
	if (!rc)
		rc = m->be->get_regs(m->vcpu, &r);
	if (!rc)
		rc = outcome(e, s, &x, &r, ip, out);
	/* A system instruction may have changed the system state, and a fault did: CR2 after a
	 * #PF, which the next snippet's fault would otherwise report as its own. */
	e->dirty = s->system || rc || out->vector >= 0;
	return rc;
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

/* The mode's segments for snippets, the fuzzer's interrupt table, and the code slots. */
static int prepare(struct engine *e)
{
	struct tv_machine *m = &e->m;
	int rc = m->be->get_sregs(m->vcpu, &e->start);

	if (rc)
		return rc;
	if (e->mode == TV_MODE_REAL) {
		/* CS over the slots, and data, extra and stack segments over the scratch area. */
		const uint16_t data = (uint16_t)(FZ_SCRATCH_ADDR >> 4);

		e->start.cs.selector = FZ_REAL_CS;
		e->start.cs.base = (uint64_t)FZ_REAL_CS << 4;
		e->start.ds.selector = e->start.es.selector = e->start.ss.selector = data;
		e->start.ds.base = e->start.es.base = e->start.ss.base = FZ_SCRATCH_ADDR;
		e->slot_base = e->start.cs.base;
		e->slot_ip = 0;
		e->slots = FZ_REAL_SLOT_END / SLOT_SIZE;
	} else {
		e->slot_base = e->slot_ip = SLOT_AREA;
		e->slots = SLOTS;
	}
	rc = fz_traps_install(&m->ram, e->mode, &e->start);
	if (rc) {
		tv_set_error("%s: guest RAM is too small for the fuzzer's tables", e->name);
		return rc;
	}
	return m->be->set_sregs(m->vcpu, &e->start);
}

int fz_engine_open(const struct tv_backend_ops *be, enum tv_mode mode, const char *cpu_model,
		   struct fz_oracle **out, char *why, size_t len)
{
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT,
				       .cpu_model = cpu_model };
	struct engine *e = calloc(1, sizeof(*e));
	int rc;

	if (!e) {
		snprintf(why, len, "%s oracle: out of memory", be->name);
		return -ENOMEM;
	}
	snprintf(e->name, sizeof(e->name), "%s", be->name);
	e->o = (struct fz_oracle){ .name = e->name, .run = engine_run, .close = engine_close };
	e->mode = mode;
	e->bits = (unsigned)tv_mode_bits(mode);
	e->console = opt.console = fopen("/dev/null", "w");
	rc = opt.console ? tv_machine_boot(&e->m, &opt, NULL, 0, mode) : -ENODEV;
	if (rc == -ENODEV) {
		snprintf(why, len, "%s", opt.console ? tv_last_error() : "cannot open /dev/null");
		engine_close(&e->o);
		return -ENODEV;
	}
	if (rc) {
		snprintf(why, len, "%s cannot run %s mode: %s", be->name, tv_mode_name(mode),
			 tv_last_error());
		engine_close(&e->o);
		return -ENOTSUP;
	}
	if (prepare(e) != 0 ||
	    (e->m.be->snapshot && e->m.be->snapshot(e->m.vcpu, false) != 0)) {
		snprintf(why, len, "%s: %s", be->name, tv_last_error());
		engine_close(&e->o);
		return -ENODEV;
	}
	*out = &e->o;
	return 0;
}
