/* Step mode: each instruction, the exit it made and the registers it changed, as text. */
#include "step_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "disasm.h"
#include "insn.h"
#include "record.h"
#include "x86.h"

#define LINE_MAX_LEN 512
#define DATA_SHOWN 32 /* bytes of a string I/O exit's data on its line */

/* The run's state between two instructions. */
struct step {
	struct tv_machine *m;
	FILE *out;
	struct tv_regs regs; /* the state before the instruction */
	struct tv_sregs sregs;
	int bits;	 /* its code width */
	size_t len;	 /* its length; 0 when unknown (unreadable, or no Capstone) */
	bool rep;	 /* a repeated string instruction: a step may leave it where it was */
	bool finishing;	 /* the engine's next step only finishes the string I/O shown */
	uint64_t records; /* exits written to the trace */
	int err;	 /* the first failed write to out, or 0 */
};

static void emit(struct step *st, const char *line)
{
	if (fputs(line, st->out) == EOF && !st->err)
		st->err = errno ? errno : EIO;
}

/* A rep or repne prefix on movs, cmps, stos, lods, scas, ins or outs: the SDM has the CPU take
 * a single-step trap after each iteration, and an engine may run several per step. */
static bool rep_string(const uint8_t *b, size_t n, int bits)
{
	bool rep = false;
	size_t i = 0;

	for (; i < n; i++) {
		if (b[i] == 0xf2 || b[i] == 0xf3)
			rep = true;
		else if (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0x26 ||
			 b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x64 || b[i] == 0x65)
			;
		else if (!(bits == 64 && (b[i] & 0xf0) == 0x40)) /* REX */
			break;
	}
	return rep && i < n &&
	       ((b[i] >= 0xa4 && b[i] <= 0xa7) || (b[i] >= 0xaa && b[i] <= 0xaf) ||
		(b[i] >= 0x6c && b[i] <= 0x6f));
}

/* The instruction's line: the address (CS:IP for 16-bit code, else the linear address), its
 * bytes, its disassembly. Sets st->len, st->bits and st->rep. */
static void insn_line(struct step *st)
{
	uint8_t bytes[TV_INSN_MAX];
	char line[LINE_MAX_LEN], text[160], hex[3 * TV_INSN_MAX + 1] = "";
	size_t n, shown, h = 0;
	int at;

	st->bits = tv_code_bits(&st->sregs);
	if (st->bits == 16)
		at = snprintf(line, sizeof(line), "%04x:%04" PRIx64, st->sregs.cs.selector,
			      st->regs.rip & 0xffff);
	else if (st->bits == 32)
		at = snprintf(line, sizeof(line), "0x%08" PRIx64,
			      (st->sregs.cs.base + st->regs.rip) & 0xffffffffu);
	else /* 64-bit code: CS's base is 0 */
		at = snprintf(line, sizeof(line), "0x%016" PRIx64, st->regs.rip);
	n = tv_insn_fetch(&st->m->ram, &st->sregs, st->regs.rip, bytes);
	st->len = n ? tv_disasm(bytes, n, st->bits, st->regs.rip, text, sizeof(text)) : 0;
	st->rep = st->len && rep_string(bytes, st->len, st->bits);
	if (!n) {
		snprintf(line + at, sizeof(line) - at, "  <unreadable>\n");
		emit(st, line);
		return;
	}
	if (!st->len)
		snprintf(text, sizeof(text), "%s", tv_disasm_none());
	shown = st->len ? st->len : 1; /* without a length, the first byte */
	for (size_t i = 0; i < shown; i++)
		h += (size_t)snprintf(hex + h, sizeof(hex) - h, i ? " %02x" : "%02x", bytes[i]);
	snprintf(line + at, sizeof(line) - at, "  %-29s %s\n", hex, text);
	emit(st, line);
}

/* Appends " data=0x48" (one element or an MMIO access: its value) or " data=48656c6c6f" (the
 * bytes of string I/O, the first DATA_SHOWN of them). */
static int data_text(char *p, size_t size, const uint8_t *data, size_t len, bool value)
{
	uint64_t v = 0;
	int at = snprintf(p, size, " data=");

	if (value && len <= sizeof(v)) {
		memcpy(&v, data, len); /* little-endian, as the guest wrote it */
		return at + snprintf(p + at, size - at, "0x%" PRIx64, v);
	}
	for (size_t i = 0; i < len && i < DATA_SHOWN; i++)
		at += snprintf(p + at, size - at, "%02x", data[i]);
	return at + snprintf(p + at, size - at, "%s", len > DATA_SHOWN ? "..." : "");
}

/* "    exit IO out port=0xe9 size=1 data=0x48 hypercall=HC_print8bit", "    exit HLT". Only
 * what both engines say the same: no engine's own words, no exception number. */
static void exit_line(struct step *st, const struct tv_record *r)
{
	const struct tv_exit *e = &r->exit;
	char line[LINE_MAX_LEN];
	size_t size = sizeof(line) - 1; /* room for the newline */
	int at = snprintf(line, size, "    exit %s", tv_exit_reason_name(e->reason));

	if (e->reason == TV_EXIT_IO) {
		at += snprintf(line + at, size - at, " %s port=0x%x size=%u",
			       e->io.direction == TV_IO_IN ? "in" : "out", e->io.port, e->io.size);
		if (e->io.count > 1)
			at += snprintf(line + at, size - at, " count=%u", e->io.count);
		at += data_text(line + at, size - at, r->data, (size_t)e->io.size * e->io.count,
				e->io.count == 1);
		if (r->hc.name)
			at += snprintf(line + at, size - at, " hypercall=%s", r->hc.name);
	} else if (e->reason == TV_EXIT_MMIO) {
		at += snprintf(line + at, size - at, " %s addr=0x%" PRIx64 " len=%u",
			       e->mmio.is_write ? "write" : "read", e->mmio.addr, e->mmio.len);
		at += data_text(line + at, size - at, e->mmio.data,
				e->mmio.len < sizeof(e->mmio.data) ? e->mmio.len : sizeof(e->mmio.data),
				true);
	}
	snprintf(line + at, sizeof(line) - at, "\n");
	emit(st, line);
}

#define REG(name) { #name, offsetof(struct tv_regs, name) }
#define SREG(name, field) { #name, offsetof(struct tv_sregs, field) }

static const struct reg_field {
	const char *name;
	size_t off;
} gprs[] = { REG(rax), REG(rbx), REG(rcx), REG(rdx), REG(rsi), REG(rdi), REG(rsp), REG(rbp),
	     REG(r8),  REG(r9),	 REG(r10), REG(r11), REG(r12), REG(r13), REG(r14), REG(r15) },
  selectors[] = { SREG(cs, cs.selector), SREG(ds, ds.selector), SREG(es, es.selector),
		  SREG(fs, fs.selector), SREG(gs, gs.selector), SREG(ss, ss.selector) },
  controls[] = { SREG(cr0, cr0), SREG(cr3, cr3), SREG(cr4, cr4), SREG(efer, efer) };

static uint64_t u64_at(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static uint16_t u16_at(const void *base, size_t off)
{
	uint16_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static int changed(char *p, size_t size, const char *name, uint64_t was, uint64_t is)
{
	return was == is ? 0 : snprintf(p, size, " %s=0x%" PRIx64, name, is);
}

/* Where the instruction goes when it does not jump: past it, within the code's offset size. */
static uint64_t fall_through(const struct step *st)
{
	uint64_t next = st->regs.rip + st->len;

	return st->bits == 16 ? next & 0xffff : st->bits == 32 ? next & 0xffffffffu : next;
}

/* "    rax=0x2a rflags=0x46": the registers the instruction changed, RIP only when it did not go
 * on to the next instruction (or its length is unknown). Nothing when none changed. A step the
 * timeout or Ctrl-C stopped (ran false) ran nothing: its RIP is where it was. */
static void changes_line(struct step *st, const struct tv_regs *r, const struct tv_sregs *s,
			 bool ran)
{
	char line[LINE_MAX_LEN];
	size_t size = sizeof(line) - 1, i;
	int at = snprintf(line, size, "   ");

	for (i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		at += changed(line + at, size - at, gprs[i].name, u64_at(&st->regs, gprs[i].off),
			      u64_at(r, gprs[i].off));
	if (r->rip != (st->len && ran ? fall_through(st) : st->regs.rip))
		at += snprintf(line + at, size - at, " rip=0x%" PRIx64, r->rip);
	at += changed(line + at, size - at, "rflags", st->regs.rflags, r->rflags);
	for (i = 0; i < sizeof(selectors) / sizeof(selectors[0]); i++)
		at += changed(line + at, size - at, selectors[i].name,
			      u16_at(&st->sregs, selectors[i].off), u16_at(s, selectors[i].off));
	for (i = 0; i < sizeof(controls) / sizeof(controls[0]); i++)
		at += changed(line + at, size - at, controls[i].name,
			      u64_at(&st->sregs, controls[i].off), u64_at(s, controls[i].off));
	if (at == 3)
		return;
	snprintf(line + at, sizeof(line) - at, "\n");
	emit(st, line);
}

/* A guest that jumps where nothing can be fetched: KVM steps over the jump, then fails at the
 * next step; the emulator fetches ahead and fails in the jump's own step, with RIP already at
 * the target. That failure is shown as KVM's: the jump's changes, then the target's line
 * ("<unreadable>"), then the exit. */
static void fetch_failed(struct step *st, const struct tv_record *r)
{
	uint8_t bytes[TV_INSN_MAX];

	if (r->exit.reason != TV_EXIT_SHUTDOWN || !r->have_state || r->regs.rip == st->regs.rip ||
	    tv_insn_fetch(&st->m->ram, &r->sregs, r->regs.rip, bytes) != 0)
		return;
	changes_line(st, &r->regs, &r->sregs, true);
	st->regs = r->regs;
	st->sregs = r->sregs;
	insn_line(st);
}

/* The step's own exit, not the guest's: out of the counts HC_numExits, --max-exits and the
 * summary read, so that they are what they are without --step. */
static void uncount_step(struct tv_machine *m)
{
	tv_machine_uncount(m, TV_EXIT_DEBUG);
}

/* A repeated string instruction a step left where it was, iterations to go: it goes on. */
static bool still_repeating(const struct step *st, const struct tv_record *r)
{
	return st->rep && r->have_state && r->exit.reason == TV_EXIT_DEBUG &&
	       r->regs.rip == st->regs.rip && r->sregs.cs.selector == st->sregs.cs.selector;
}

/* After the last element of repeated string I/O, the record counts the instruction done (RIP
 * past it: record.c) while both engines still have RIP on it: their next step only finishes it. */
static bool engine_behind(const struct step *st, const struct tv_record *r)
{
	struct tv_regs now;

	return st->rep && r->have_state && r->exit.reason == TV_EXIT_IO &&
	       st->m->be->get_regs(st->m->vcpu, &now) == 0 && now.rip != r->regs.rip;
}

/* rc, or -EIO once a write to the step stream failed (said through m->output_failed). */
static int output_checked(struct step *st, int rc)
{
	if (!st->err && ferror(st->out))
		st->err = EIO;
	if (st->err && !rc) {
		tv_machine_output_failed(st->m, st->out, "step", st->err);
		rc = -EIO;
	}
	return rc;
}

/* One record the engine gave after a step: its lines, the trace's record, the output checked.
 * *again: the next step belongs to the same instruction, which gets no new line. 0 or -errno. */
static int take(struct step *st, const struct tv_record *r, bool *again)
{
	bool final = r->exit.reason != TV_EXIT_DEBUG && r->exit.reason != TV_EXIT_IO &&
		     r->exit.reason != TV_EXIT_MMIO;
	bool finishing = st->finishing;
	int rc = 0;

	st->finishing = false;
	if (r->exit.reason == TV_EXIT_DEBUG) {
		uncount_step(st->m);
		if (finishing && r->have_state && r->regs.rip == st->regs.rip) {
			*again = false;
			return output_checked(st, 0); /* the string I/O finished: nothing to show */
		}
	} else {
		fetch_failed(st, r);
		exit_line(st, r);
		if (st->m->opt.trace)
			rc = tv_record_write(st->m, ++st->records, r);
	}
	*again = still_repeating(st, r);
	if (r->have_state && !*again) {
		st->finishing = *again = engine_behind(st, r);
		changes_line(st, &r->regs, &r->sregs, r->exit.reason != TV_EXIT_INTR);
		st->regs = r->regs;
		st->sregs = r->sregs;
	} else if (!r->have_state && !final && !rc) {
		tv_set_error("the registers after a step: %s", tv_last_error());
		rc = -EIO;
	}
	return output_checked(st, rc);
}

/* Whether the run goes on after r: not past an exit that ends it, nor past --max-exits (counted
 * as the traced run counts them when there is a trace, else as the plain run does). */
static bool goes_on(const struct step *st, const struct tv_record *r)
{
	const struct tv_machine *m = st->m;
	uint64_t done = m->opt.trace ? st->records : m->stats.total;

	if (r->exit.reason == TV_EXIT_DEBUG)
		return true;
	if (r->exit.reason != TV_EXIT_IO && r->exit.reason != TV_EXIT_MMIO)
		return false;
	return !(m->opt.max_exits && done >= m->opt.max_exits) && !m->guest_exit;
}

/* The step run's loop, inside tv_machine_run_loop's bracket. */
static int step_loop(struct tv_machine *m, struct tv_exit *last)
{
	struct step st = { .m = m, .out = m->opt.step };
	struct tv_recorder rec = { 0 };
	struct tv_record *r = calloc(1, sizeof(*r));
	bool again = false; /* the same instruction goes on: no new line for it */
	int rc;

	memset(last, 0, sizeof(*last));
	if (!r)
		return -ENOMEM;
	rc = m->opt.trace ? tv_record_write_header(m) : 0;
	if (!rc)
		rc = m->be->get_regs(m->vcpu, &st.regs);
	if (!rc)
		rc = m->be->get_sregs(m->vcpu, &st.sregs);
	st.regs.rflags &= ~TV_RFLAGS_RF; /* as in every record (record.c) */
	while (!rc) {
		if (!again)
			insn_line(&st);
		rc = tv_record_next(&rec, m, r);
		if (!rc)
			rc = take(&st, r, &again);
		if (rc || !goes_on(&st, r))
			break;
	}
	*last = r->exit;
	if (last->reason == TV_EXIT_IO)
		last->io.data = NULL; /* r's buffer is gone after this */
	free(r);
	tv_recorder_free(&rec);
	if (!rc && m->opt.trace && last->reason != TV_EXIT_INTR)
		rc = tv_record_write_ram(m);
	if (!tv_machine_flush(m, st.out, "step") && !rc)
		rc = -EIO;
	return rc;
}

int tv_step_run(struct tv_machine *m, double timeout_s, struct tv_exit *last)
{
	if (!m->opt.step) {
		tv_set_error("a step run needs a stream for its lines");
		return -EINVAL;
	}
	return tv_machine_run_loop(m, timeout_s, last, step_loop);
}
