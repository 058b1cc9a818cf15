/* Canonical exit records, with string I/O merged, and the traced run that writes them. */
#include "record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "insn.h"
#include "x86.h"
#include "trace.h"

/* Takes one raw exit into r: the exit, a copy of its data, the hypercall it made, the state. */
static void take_exit(struct tv_machine *m, struct tv_record *r, const struct tv_exit *e)
{
	r->exit = *e;
	r->hc = m->hc;
	if (e->reason == TV_EXIT_IO) {
		size_t len = (size_t)e->io.size * e->io.count;

		if (len > sizeof(r->data))
			len = sizeof(r->data); /* KVM's data area is one page: never */
		memcpy(r->data, e->io.data, len);
		r->exit.io.data = r->data;
	}
	r->have_state = m->be->get_regs(m->vcpu, &r->regs) == 0 &&
			m->be->get_sregs(m->vcpu, &r->sregs) == 0;
}

static bool same_stream(const struct tv_exit *a, const struct tv_exit *b)
{
	return b->reason == TV_EXIT_IO && a->io.port == b->io.port &&
	       a->io.direction == b->io.direction && a->io.size == b->io.size;
}

/* r is an IO exit of a string instruction that has elements left: pull its further exits into r.
 * An exit that belongs to something else is kept in rec->pending for the next record. */
static int merge_string_io(struct tv_recorder *rec, struct tv_machine *m, struct tv_record *r,
			   const struct tv_string_io *sio)
{
	uint64_t rip = r->regs.rip;

	while (sio->rep && (r->regs.rcx & sio->count_mask) != 0 && r->regs.rip == rip) {
		struct tv_exit e;
		size_t have = (size_t)r->exit.io.size * r->exit.io.count, add;
		int rc = tv_machine_step(m, &e);

		if (rc)
			return rc;
		add = (size_t)e.io.size * e.io.count;
		if (!same_stream(&r->exit, &e) || have + add > sizeof(r->data)) {
			if (!rec->pending) {
				rec->pending = malloc(sizeof(*rec->pending));
				if (!rec->pending)
					return -ENOMEM;
			}
			take_exit(m, rec->pending, &e);
			rec->has_pending = true;
			return 0;
		}
		memcpy(r->data + have, e.io.data, add);
		r->exit.io.count += e.io.count;
		r->hc = m->hc;
		r->have_state = m->be->get_regs(m->vcpu, &r->regs) == 0;
		r->regs.rflags &= ~TV_RFLAGS_RF;
	}
	/* Every element done: the instruction is complete, whatever RIP the engine left. */
	if ((!sio->rep || (r->regs.rcx & sio->count_mask) == 0) && r->regs.rip == rip)
		r->regs.rip += sio->len;
	return 0;
}

void tv_recorder_free(struct tv_recorder *rec)
{
	free(rec->pending);
	rec->pending = NULL;
	rec->has_pending = false;
}

/* The record's instruction (struct tv_record's insn), from guest memory as it is now. */
static void find_insn(struct tv_machine *m, struct tv_record *r)
{
	r->insn_len = 0;
	if (!r->have_state || r->exit.reason == TV_EXIT_MMIO)
		return;
	if (r->exit.reason == TV_EXIT_IO || r->exit.reason == TV_EXIT_HLT) {
		r->insn_len = tv_exit_insn(&m->ram, &r->sregs, r->regs.rip, &r->exit, &r->insn_addr,
					   r->insn);
		return;
	}
	r->insn_addr = r->regs.rip;
	r->insn_len = tv_insn_fetch(&m->ram, &r->sregs, r->regs.rip, r->insn);
}

/* The next record, its exit's instruction not yet found. */
static int next_record(struct tv_recorder *rec, struct tv_machine *m, struct tv_record *r)
{
	struct tv_string_io sio;
	uint8_t bytes[TV_INSN_MAX];
	struct tv_exit e;
	size_t n;
	int rc;

	if (rec->has_pending) {
		*r = *rec->pending;
		if (r->exit.reason == TV_EXIT_IO)
			r->exit.io.data = r->data;
		rec->has_pending = false;
	} else {
		rc = tv_machine_step(m, &e);
		if (rc)
			return rc;
		take_exit(m, r, &e);
	}
	/* RFLAGS.RF (bit 16) is no part of the canonical state: KVM leaves it set on a rep string
	 * instruction its emulator restarts and at a SHUTDOWN; the CPU clears it once an
	 * instruction completes, and the emulator never sets it. */
	if (r->have_state)
		r->regs.rflags &= ~TV_RFLAGS_RF;
	if (r->exit.reason != TV_EXIT_IO || !r->have_state)
		return 0;
	n = tv_insn_fetch(&m->ram, &r->sregs, r->regs.rip, bytes);
	if (!tv_decode_string_io(bytes, n, tv_code_bits(&r->sregs), &sio))
		return 0;
	return merge_string_io(rec, m, r, &sio);
}

int tv_record_next(struct tv_recorder *rec, struct tv_machine *m, struct tv_record *r)
{
	int rc = next_record(rec, m, r);

	if (!rc)
		find_insn(m, r);
	return rc;
}

json_t *tv_record_json(int vm, uint64_t seq, const struct tv_record *r)
{
	json_t *rec = tv_trace_record(vm, seq, &r->exit, r->have_state ? &r->regs : NULL,
				      r->have_state ? &r->sregs : NULL);

	if (rec && r->hc.name && r->exit.reason == TV_EXIT_IO)
		json_object_set_new(rec, "hypercall", tv_trace_hypercall(&r->hc));
	if (rec && r->insn_len) {
		char hex[2 * sizeof(r->insn) + 1];

		for (size_t i = 0; i < r->insn_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", r->insn[i]);
		json_object_set_new(rec, "insn", json_pack("{s:o,s:s}", "rip",
							   tv_json_hex(r->insn_addr), "bytes", hex));
	}
	return rec;
}

/* One trace line (tv_trace_write flushes it), checked. */
static int trace_line(struct tv_machine *m, json_t *line)
{
	bool ok;

	if (!line)
		return -ENOMEM;
	errno = 0;
	ok = tv_trace_write(m->opt.trace, line) == 0;
	json_decref(line);
	if (!ok)
		tv_machine_output_failed(m, m->opt.trace, "trace", errno);
	return ok ? 0 : -EIO;
}

int tv_record_write(struct tv_machine *m, uint64_t seq, const struct tv_record *r)
{
	return trace_line(m, tv_record_json(m->opt.id, seq, r));
}

int tv_record_write_header(struct tv_machine *m)
{
	return m->opt.trace_info ? trace_line(m, tv_trace_header(m, m->opt.trace_info)) : 0;
}

int tv_record_write_ram(struct tv_machine *m)
{
	return trace_line(m, json_pack("{s:i,s:{s:o,s:o}}", "vm", m->opt.id, "ram", "size",
				       tv_json_hex(m->ram.size), "fnv1a64",
				       tv_json_hex(tv_ram_hash(&m->ram))));
}

/* The run loop with a trace: one canonical record a line. */
static int run_traced(struct tv_machine *m, struct tv_exit *last)
{
	struct tv_recorder rec = { 0 };
	struct tv_record *r = malloc(sizeof(*r));
	uint64_t records = 0;
	int rc;

	if (!r)
		return -ENOMEM;
	if ((rc = tv_record_write_header(m))) {
		free(r);
		return rc;
	}
	for (;;) {
		rc = tv_record_next(&rec, m, r);
		if (rc)
			break;
		rc = tv_record_write(m, ++records, r);
		if (rc)
			break;
		if (r->exit.reason != TV_EXIT_IO && r->exit.reason != TV_EXIT_MMIO)
			break;
		if ((m->opt.max_exits && records >= m->opt.max_exits) || m->guest_exit)
			break;
	}
	*last = r->exit;
	if (last->reason == TV_EXIT_IO)
		last->io.data = NULL; /* r's buffer is gone after this */
	free(r);
	tv_recorder_free(&rec);
	if (!rc && last->reason != TV_EXIT_INTR)
		rc = tv_record_write_ram(m);
	return rc;
}

int tv_run(struct tv_machine *m, double timeout_s, struct tv_exit *last)
{
	if (!m->opt.trace)
		return tv_machine_run(m, timeout_s, last);
	return tv_machine_run_loop(m, timeout_s, last, run_traced);
}
