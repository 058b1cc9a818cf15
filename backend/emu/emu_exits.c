/* The emulator's exits as they happen: the IN and OUT hooks and the MMIO callbacks hand each
 * exit to the I/O handler, then keep it for run() (precise and step modes) or stop the engine
 * when the handler says so (fast mode). */
#include "emu.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Room for one more queued exit: false when the queue is at EMU_QUEUE_MAX or out of memory. */
bool emu_queue_room(struct tv_vcpu *v)
{
	struct emu_pending *grown;
	unsigned cap;

	if (v->q_len < v->q_cap)
		return true;
	if (v->q_cap >= EMU_QUEUE_MAX)
		return false;
	cap = v->q_cap ? v->q_cap * 2 : EMU_QUEUE;
	grown = realloc(v->queue, cap * sizeof(*grown));
	if (!grown)
		return false;
	v->queue = grown;
	v->q_cap = cap;
	return true;
}

static struct emu_pending *emu_exit_begin(struct tv_vcpu *v, int reason)
{
	struct emu_pending *p = &v->scratch;

	if (emu_precise(v->flags) && emu_queue_room(v))
		p = &v->queue[v->q_len];
	p->exit.reason = reason;
	p->exit.exception = -1;
	p->exit.detail[0] = '\0';
	return p;
}

/* Stops the engine from a hook. From a code or block hook the engine stops before the
 * instruction the hook was called for; from an I/O hook only at the end of the block. why is
 * EMU_STOP_NONE for the I/O hooks' stops, which run() tells apart by the exit they kept. */
void emu_stop_engine(struct tv_vcpu *v, enum emu_stop why, const char *note)
{
	uc_err err = uc_emu_stop(v->vm->uc);

	if (why != EMU_STOP_NONE)
		v->stop = why;
	EMU_LOG(v->log, "  uc_emu_stop() = %s (%s)", emu_err_name(err), note);
}

static const char *emu_io_note(int rc)
{
	if (rc == TV_IO_CONTINUE)
		return "";
	return rc == TV_IO_STOP ? " (handler: STOP)" : " (handler: error)";
}

/* After the I/O handler ran for the exit in p and said rc. */
static void emu_exit_end(struct tv_vcpu *v, struct emu_pending *p, int rc)
{
	if (rc < 0 && !v->io_error)
		v->io_error = rc;
	if (emu_precise(v->flags)) {
		/* Kept for run(); the code hook of the next instruction stops the engine. */
		if (p == &v->scratch)
			v->q_lost++;
		else
			v->q_len++;
		return;
	}
	if (rc == TV_IO_CONTINUE && !(v->kicked && !emu_block_hooked(v->flags)))
		return;
	if (rc != TV_IO_CONTINUE && v->q_len == 0) {
		v->queue[0] = *p;
		if (p->exit.reason == TV_EXIT_IO)
			v->queue[0].exit.io.data = v->queue[0].data;
		v->q_len = 1;
	}
	/* With a block hook, let it stop at the next block: an exact boundary, and a run that ends
	 * before it then can only have ended on a HLT. Without one, stop as soon as Unicorn can
	 * (a kick() that came just before uc_emu_start began is caught here too). */
	if (!emu_block_hooked(v->flags))
		emu_stop_engine(v, EMU_STOP_NONE,
				rc == TV_IO_CONTINUE ? "kick" : "handler; lands at the block's end");
}

static void emu_io_fill(struct emu_pending *p, uint8_t dir, uint32_t port, int size)
{
	p->exit.io.direction = dir;
	p->exit.io.size = (uint8_t)size;
	p->exit.io.port = (uint16_t)port;
	p->exit.io.count = 1; /* Unicorn calls the hooks once per element of string I/O */
	p->exit.io.exits = 0;
	p->exit.io.data = p->data;
}

/* IN outside the fast mode (precise, step, or --trace-api): the exit kept for run() or logged. */
static __attribute__((noinline)) uint32_t emu_in_kept(struct tv_vcpu *v, uint32_t port, int size)
{
	struct emu_pending *p = emu_exit_begin(v, TV_EXIT_IO);
	uint32_t value = 0;
	int rc;

	emu_io_fill(p, TV_IO_IN, port, size);
	memset(p->data, 0xff, sizeof(p->data)); /* no device: all ones */
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	memcpy(&value, p->data, (size_t)size);
	EMU_LOG(v->log, "  hook IN port 0x%x size %d -> 0x%x%s", port, size, value, emu_io_note(rc));
	emu_exit_end(v, p, rc);
	return value;
}

/* OUT outside the fast mode, as emu_in_kept. */
static __attribute__((noinline)) void emu_out_kept(struct tv_vcpu *v, uint32_t port, int size,
						   uint32_t value)
{
	struct emu_pending *p = emu_exit_begin(v, TV_EXIT_IO);
	int rc;

	emu_io_fill(p, TV_IO_OUT, port, size);
	memcpy(p->data, &value, sizeof(value));
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	EMU_LOG(v->log, "  hook OUT port 0x%x size %d value 0x%x%s", port, size, value,
		emu_io_note(rc));
	emu_exit_end(v, p, rc);
}

/* The fast mode's handler's answer other than TV_IO_CONTINUE, or a kick: what emu_exit_end
 * does with any exit. */
static __attribute__((noinline)) void emu_io_fast_end(struct tv_vcpu *v, int rc)
{
	emu_exit_end(v, &v->fast_io, rc);
}

void emu_exits_init(struct tv_vcpu *v)
{
	struct tv_exit *x = &v->fast_io.exit;

	memset(&v->fast_io, 0, sizeof(v->fast_io));
	x->reason = TV_EXIT_IO;
	x->exception = -1;
	x->io.count = 1; /* Unicorn calls the hooks once per element of string I/O */
	x->io.data = v->fast_io.data;
}

int emu_coalesce_pio(struct tv_vcpu *v, uint16_t port, bool on)
{
	uint8_t bit = (uint8_t)(1u << (port % 8));

	if (on)
		v->coalesced[port / 8] |= bit;
	else
		v->coalesced[port / 8] &= (uint8_t)~bit;
	EMU_LOG(v->log, "coalesce_pio(port 0x%x, %s): one-byte OUTs %s", port, on ? "on" : "off",
		on ? "gathered in the fast mode" : "one exit each");
	return 0;
}

int emu_ring_flush(struct tv_vcpu *v)
{
	struct tv_exit *x = &v->fast_io.exit;
	int rc;

	if (!v->ring_len)
		return TV_IO_CONTINUE;
	x->io.direction = TV_IO_OUT;
	x->io.size = 1;
	x->io.port = v->ring_port;
	x->io.count = x->io.exits = v->ring_len;
	x->io.data = v->ring;
	v->ring_len = 0;
	rc = v->cfg.on_io(v->cfg.ctx, x);
	x->io.count = 1;
	x->io.exits = 0;
	x->io.data = v->fast_io.data;
	return rc;
}

/* Before any other exit: the coalesced OUTs the guest made first. false when the handler did not
 * take them (an output failure), which ends the run like the handler's answer to any exit. */
static bool emu_ring_before(struct tv_vcpu *v)
{
	int rc = emu_ring_flush(v);

	if (__builtin_expect(rc == TV_IO_CONTINUE, 1))
		return true;
	emu_io_fast_end(v, rc);
	return false;
}

/* A one-byte OUT to a coalesced port, in the fast mode: kept in the ring, which is handed over
 * first when full or when another port's OUTs come. */
static void emu_ring_add(struct tv_vcpu *v, uint32_t port, uint32_t value)
{
	if ((v->ring_len == EMU_RING_MAX || (v->ring_len && v->ring_port != port)) &&
	    !emu_ring_before(v))
		return;
	v->ring_port = (uint16_t)port;
	v->ring[v->ring_len++] = (uint8_t)value;
}

/* The fast mode's IN and OUT (no run flag that keeps exits, no --trace-api) are the exits a
 * guest makes most: they use the vCPU's own slot, whose constant fields emu_exits_init set once,
 * write only what the instruction says, and on the handler's TV_IO_CONTINUE return to the guest
 * with nothing else done. Anything else goes through the *_kept functions, out of line. */
uint32_t emu_on_in(uc_engine *uc, uint32_t port, int size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	struct tv_exit *x = &v->fast_io.exit;
	uint32_t value = 0;
	int rc;

	(void)uc;
	if (size < 1 || size > 4)
		size = 4;
	if (__builtin_expect(!v->io_fast, 0))
		return emu_in_kept(v, port, size);
	if (v->ring_len && !emu_ring_before(v))
		return ~0u;
	x->io.direction = TV_IO_IN;
	x->io.size = (uint8_t)size;
	x->io.port = (uint16_t)port;
	memset(v->fast_io.data, 0xff, sizeof(v->fast_io.data)); /* no device: all ones */
	rc = v->cfg.on_io(v->cfg.ctx, x);
	memcpy(&value, v->fast_io.data, (size_t)size);
	if (__builtin_expect(rc != TV_IO_CONTINUE || v->kicked, 0))
		emu_io_fast_end(v, rc);
	return value;
}

void emu_on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque)
{
	struct tv_vcpu *v = opaque;
	struct tv_exit *x = &v->fast_io.exit;
	int rc;

	(void)uc;
	if (size < 1 || size > 4)
		size = 4;
	if (__builtin_expect(!v->io_fast, 0)) {
		emu_out_kept(v, port, size, value);
		return;
	}
	if (size == 1 && (v->coalesced[port / 8] & (1u << (port % 8)))) {
		emu_ring_add(v, port, value);
		return;
	}
	if (v->ring_len && !emu_ring_before(v))
		return;
	x->io.direction = TV_IO_OUT;
	x->io.size = (uint8_t)size;
	x->io.port = (uint16_t)port;
	memcpy(v->fast_io.data, &value, sizeof(value));
	rc = v->cfg.on_io(v->cfg.ctx, x);
	if (__builtin_expect(rc != TV_IO_CONTINUE || v->kicked, 0))
		emu_io_fast_end(v, rc);
}

static struct emu_pending *emu_mmio_begin(struct tv_vcpu *v, uint64_t addr, unsigned size,
					  uint8_t is_write)
{
	struct emu_pending *p;

	if (v->ring_len) /* a failure there ends the run; this exit is still handled */
		emu_ring_before(v);
	p = emu_exit_begin(v, TV_EXIT_MMIO);

	p->exit.mmio.addr = addr;
	p->exit.mmio.len = size;
	p->exit.mmio.is_write = is_write;
	return p;
}

uint64_t emu_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *opaque)
{
	struct tv_vm *vm = opaque;
	struct tv_vcpu *v = vm->vcpu;
	uint64_t addr = vm->ram_size + offset, value = 0;
	struct emu_pending *p;
	int rc;

	(void)uc;
	if (size < 1 || size > 8)
		size = 8;
	if (!v || !v->in_run) {
		/* Not the guest's access (nothing of ours reads MMIO outside a run): no device. */
		EMU_LOG(vm->e->log, "callback MMIO read 0x%" PRIx64 " size %u outside a run -> ones",
			addr, size);
		return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	}
	p = emu_mmio_begin(v, addr, size, 0);
	memset(p->exit.mmio.data, 0xff, sizeof(p->exit.mmio.data));
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	memcpy(&value, p->exit.mmio.data, size);
	EMU_LOG(v->log, "  hook MMIO read 0x%" PRIx64 " size %u -> 0x%" PRIx64 "%s", addr, size, value,
		emu_io_note(rc));
	emu_exit_end(v, p, rc);
	return value;
}

void emu_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *opaque)
{
	struct tv_vm *vm = opaque;
	struct tv_vcpu *v = vm->vcpu;
	uint64_t addr = vm->ram_size + offset;
	struct emu_pending *p;
	int rc;

	(void)uc;
	if (size < 1 || size > 8)
		size = 8;
	if (!v || !v->in_run) {
		EMU_LOG(vm->e->log, "callback MMIO write 0x%" PRIx64 " size %u value 0x%" PRIx64
			" outside a run: dropped", addr, size, value);
		return;
	}
	p = emu_mmio_begin(v, addr, size, 1);
	memset(p->exit.mmio.data, 0, sizeof(p->exit.mmio.data));
	memcpy(p->exit.mmio.data, &value, size);
	rc = v->cfg.on_io(v->cfg.ctx, &p->exit);
	EMU_LOG(v->log, "  hook MMIO write 0x%" PRIx64 " size %u value 0x%" PRIx64 "%s", addr, size,
		value, emu_io_note(rc));
	emu_exit_end(v, p, rc);
}

void emu_raise(struct tv_vcpu *v, unsigned vector, uint32_t error, const char *why)
{
	v->exception = vector;
	v->exc_raised = true;
	v->exc_raised_error = error;
	EMU_LOG(v->log, "  raise vector %u: %s", vector, why);
	emu_stop_engine(v, EMU_STOP_EXCEPTION, "exception raised by twinvm");
}
