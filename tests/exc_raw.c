/* The runner of the raw exception cases (exc_raw.h). */
#include "exc_raw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run_guest.h"

/* Whether /dev/kvm is this host's kvm-pvm, whose differences the cases record. */
static bool kvm_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static void put(struct tv_test_run *t, uint64_t gpa, uint64_t value, size_t len)
{
	void *p = tv_ram_ptr(&t->m.ram, gpa, len);

	ck_assert_ptr_nonnull(p);
	memcpy(p, &value, len);
}

/* The IDT (IVT) gates, the descriptor and the trigger of c, in the guest's RAM. */
static void write_tables(struct tv_test_run *t, const struct exc_case *c)
{
	for (size_t i = 0; i < sizeof(c->gates) / sizeof(c->gates[0]) && c->gates[i].handler; i++) {
		const struct gate *g = &c->gates[i];
		uint64_t sel = g->sel ? g->sel : c->mode == TV_MODE_LONG ? TV_SEL_CODE64 : TV_SEL_CODE32;

		if (c->mode == TV_MODE_REAL) {
			put(t, IVT + 4ull * g->vector, g->handler, 4); /* offset, segment 0 */
			continue;
		}
		put(t, IDT + (c->mode == TV_MODE_LONG ? 16ull : 8ull) * g->vector,
		    g->handler | sel << 16 | (uint64_t)g->attr << 32, 8);
	}
	if (c->mode == TV_MODE_REAL) {
		put(t, RIDTR, c->limit | (uint64_t)IVT << 16, 8);
		put(t, RTRIGGER, c->trigger, 2);
	} else {
		put(t, IDTR, c->limit | (uint64_t)IDT << 16, 8);
		put(t, TRIGGER, c->trigger, 8);
	}
}

/* o's console with its numbers in. */
static void render(const struct outcome *o, char *buf, size_t len)
{
	size_t n = 0, k = 0;

	buf[0] = 0;
	for (const char *s = o->console; *s; s++) {
		if (*s == '#')
			n += (size_t)snprintf(buf + n, len - n, "%u\n", (unsigned)o->num[k++]);
		else
			n += (size_t)snprintf(buf + n, len - n, "%c", *s);
		ck_assert_uint_lt(n, len);
	}
}

/* s with newlines as "\n", for a message. */
static const char *escaped(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 3 < len; s++) {
		if (*s == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = 0;
	return buf;
}

void exc_raw_run(const char *engine, const struct exc_case *c)
{
	const struct outcome *want = &c->sdm;
	const struct tv_backend_ops *be;
	char why[256], expect[512], got_s[512], want_s[512];
	struct tv_test_run t;

	be = tv_test_engine(engine, c->mode, why, sizeof(why));
	if (!be)
		TV_SKIP("%s on %s: %s", c->name, engine, why);
	if (strcmp(engine, "kvm") == 0 && c->pvm.reason && kvm_is_pvm())
		want = &c->pvm;
	if (strcmp(engine, "emu") == 0 && c->emu_gap.reason)
		want = &c->emu_gap;
	tv_test_prepare(&t, be, c->mode, c->image, c->len, NULL);
	if (c->tables)
		write_tables(&t, c);
	tv_test_finish(&t, 30);
	render(want, expect, sizeof(expect));
	ck_assert_msg(t.last.reason == want->reason && strcmp(t.console, expect) == 0 &&
			      (want->rip == ANY || t.regs.rip == want->rip) &&
			      (want->rsp == ANY || t.regs.rsp == want->rsp),
		      "%s on %s%s: ended in %s (%s) printing \"%s\" with rip 0x%" PRIx64
		      " rsp 0x%" PRIx64 "; want %s printing \"%s\" with rip 0x%" PRIx64
		      " rsp 0x%" PRIx64 " (~0: any)",
		      c->name, engine,
		      want == &c->pvm ? " (kvm-pvm)" : want == &c->emu_gap ? " (engine gap)" : "",
		      tv_exit_reason_name(t.last.reason), t.last.detail,
		      escaped(t.console, got_s, sizeof(got_s)), t.regs.rip, t.regs.rsp,
		      tv_exit_reason_name(want->reason), escaped(expect, want_s, sizeof(want_s)),
		      want->rip, want->rsp);
	tv_test_run_end(&t);
}
