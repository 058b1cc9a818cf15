/* Canonical exit records, with string I/O merged. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "insn.h"
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

static int run_raw(struct tv_machine *m, struct tv_exit *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	rc = m->be->run(m->vcpu, e);
	if (!rc)
		tv_machine_count_exit(m, e);
	return rc;
}

static bool same_stream(const struct tv_exit *a, const struct tv_exit *b)
{
	return b->reason == TV_EXIT_IO && a->io.port == b->io.port &&
	       a->io.direction == b->io.direction && a->io.size == b->io.size;
}

/* r is an IO exit of a string instruction that has elements left: pull its further exits into r.
 * An exit that belongs to something else is kept in m->pending for the next record. */
static int merge_string_io(struct tv_machine *m, struct tv_record *r, const struct tv_string_io *sio)
{
	uint64_t rip = r->regs.rip;

	while (sio->rep && (r->regs.rcx & sio->count_mask) != 0 && r->regs.rip == rip) {
		struct tv_exit e;
		size_t have = (size_t)r->exit.io.size * r->exit.io.count, add;
		int rc = run_raw(m, &e);

		if (rc)
			return rc;
		add = (size_t)e.io.size * e.io.count;
		if (!same_stream(&r->exit, &e) || have + add > sizeof(r->data)) {
			if (!m->pending) {
				m->pending = malloc(sizeof(*m->pending));
				if (!m->pending)
					return -12; /* -ENOMEM */
			}
			take_exit(m, m->pending, &e);
			m->has_pending = true;
			return 0;
		}
		memcpy(r->data + have, e.io.data, add);
		r->exit.io.count += e.io.count;
		r->hc = m->hc;
		r->have_state = m->be->get_regs(m->vcpu, &r->regs) == 0;
		r->regs.rflags &= ~(1ull << 16);
	}
	/* Every element done: the instruction is complete, whatever RIP the engine left. */
	if ((!sio->rep || (r->regs.rcx & sio->count_mask) == 0) && r->regs.rip == rip)
		r->regs.rip += sio->len;
	return 0;
}

int tv_machine_next_record(struct tv_machine *m, struct tv_record *r)
{
	struct tv_string_io sio;
	uint8_t bytes[TV_INSN_MAX];
	struct tv_exit e;
	size_t n;
	int rc;

	if (m->has_pending) {
		*r = *m->pending;
		if (r->exit.reason == TV_EXIT_IO)
			r->exit.io.data = r->data;
		m->has_pending = false;
	} else {
		rc = run_raw(m, &e);
		if (rc)
			return rc;
		take_exit(m, r, &e);
	}
	/* RFLAGS.RF (bit 16) is no part of the canonical state: KVM leaves it set on a rep string
	 * instruction its emulator restarts and at a SHUTDOWN; the CPU clears it once an
	 * instruction completes, and the emulator never sets it. */
	if (r->have_state)
		r->regs.rflags &= ~(1ull << 16);
	if (r->exit.reason != TV_EXIT_IO || !r->have_state)
		return 0;
	n = tv_insn_fetch(&m->ram, &r->sregs, r->regs.rip, bytes);
	if (!tv_decode_string_io(bytes, n, tv_code_bits(&r->sregs), &sio))
		return 0;
	return merge_string_io(m, r, &sio);
}

json_t *tv_record_json(int vm, uint64_t seq, const struct tv_record *r)
{
	json_t *rec = tv_trace_record(vm, seq, &r->exit, r->have_state ? &r->regs : NULL,
				      r->have_state ? &r->sregs : NULL);

	if (rec && r->hc.name && r->exit.reason == TV_EXIT_IO)
		json_object_set_new(rec, "hypercall", tv_trace_hypercall(&r->hc));
	return rec;
}
