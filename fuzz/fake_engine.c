/* The fuzzers' fake engine: operations from the input instead of a CPU. */
#include "fake_engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tv_engine {
	int unused;
};

struct tv_vm {
	int unused;
};

struct tv_vcpu {
	struct fz *ops;
	const struct tv_ram *ram;
	tv_io_fn on_io;
	void *ctx;
	unsigned flags;
	struct tv_regs regs;
	struct tv_sregs sregs;
	bool fail_regs, fail_sregs;
	/* The last IO exit's data: exactly count * size bytes on the heap, freed by the next run(),
	 * so that a handler reading or writing past it, or keeping it too long, is an ASan report. */
	uint8_t *data;
};

#define IO_DATA_MAX 4096 /* KVM's data area is one page */

static struct fz *next_ops;
static const struct tv_ram *next_ram;

void fake_engine_feed(struct fz *ops, const struct tv_ram *ram)
{
	next_ops = ops;
	next_ram = ram;
}

static int fake_open(struct tv_engine **out, FILE *api_log)
{
	(void)api_log;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void fake_close(struct tv_engine *e)
{
	free(e);
}

static int fake_get_caps(struct tv_engine *e, struct tv_caps *caps)
{
	(void)e;
	memset(caps, 0, sizeof(*caps));
	strcpy(caps->version, "fake");
	caps->mmu_translates = true;
	return 0;
}

static int fake_vm_create(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out)
{
	(void)e, (void)ram, (void)ram_size;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void fake_vm_destroy(struct tv_vm *vm)
{
	free(vm);
}

static int fake_vcpu_create(struct tv_vm *vm, const struct tv_vcpu_config *cfg,
			    struct tv_vcpu **out)
{
	struct tv_vcpu *v = calloc(1, sizeof(*v));

	(void)vm;
	if (!v)
		return -ENOMEM;
	v->ops = next_ops;
	v->ram = next_ram;
	v->on_io = cfg->on_io;
	v->ctx = cfg->ctx;
	*out = v;
	return 0;
}

static void fake_vcpu_destroy(struct tv_vcpu *v)
{
	if (v)
		free(v->data);
	free(v);
}

static int fake_get_regs(struct tv_vcpu *v, struct tv_regs *r)
{
	if (v->fail_regs) {
		v->fail_regs = false;
		tv_set_error("fake: get_regs fails, as the input asked");
		return -EIO;
	}
	*r = v->regs;
	return 0;
}

static int fake_set_regs(struct tv_vcpu *v, const struct tv_regs *r)
{
	v->regs = *r;
	return 0;
}

static int fake_get_sregs(struct tv_vcpu *v, struct tv_sregs *s)
{
	if (v->fail_sregs) {
		v->fail_sregs = false;
		tv_set_error("fake: get_sregs fails, as the input asked");
		return -EIO;
	}
	*s = v->sregs;
	return 0;
}

static int fake_set_sregs(struct tv_vcpu *v, const struct tv_sregs *s)
{
	v->sregs = *s;
	return 0;
}

static int fake_set_run_flags(struct tv_vcpu *v, unsigned flags)
{
	v->flags = flags;
	return 0;
}

static void fake_kick(struct tv_vcpu *v)
{
	(void)v; /* the input ends, so every run does */
}

static int fake_set_signal_mask(struct tv_vcpu *v, const sigset_t *mask)
{
	(void)v, (void)mask;
	return 0;
}

static void op_ram(struct tv_vcpu *v)
{
	uint8_t buf[32];
	uint64_t gpa = fz_u32(v->ops);
	size_t len = fz_u8(v->ops) % sizeof(buf) + 1;

	fz_bytes(v->ops, buf, len);
	tv_ram_write(v->ram, gpa, buf, len); /* outside RAM: the guest could not store there */
}

static void op_sreg(struct tv_vcpu *v)
{
	struct tv_sregs *s = &v->sregs;
	unsigned index = fz_u8(v->ops) % 12;
	uint64_t value = fz_u64(v->ops);

	switch (index) {
	case 0: s->cr0 = value; break;
	case 1: s->cr3 = value; break;
	case 2: s->cr4 = value; break;
	case 3: s->efer = value; break;
	case 4: s->cs.l = value & 1; break;
	case 5: s->cs.db = value & 1; break;
	case 6: s->cs.base = value; break;
	case 7: s->ds.base = value; break;
	case 8: s->cs.selector = (uint16_t)value; break;
	case 9: s->gdt.base = value; break;
	case 10: s->cr2 = value; break;
	default: s->cr8 = value; break;
	}
}

static int op_io(struct tv_vcpu *v, struct tv_exit *e)
{
	static const uint8_t sizes[4] = { 1, 2, 4, 4 };
	uint8_t flags = fz_u8(v->ops);
	size_t len;

	e->reason = TV_EXIT_IO;
	e->io.direction = flags & 1 ? TV_IO_OUT : TV_IO_IN;
	e->io.size = sizes[(flags >> 1) & 3];
	e->io.port = fz_u16(v->ops);
	e->io.count = fz_u16(v->ops) % (IO_DATA_MAX / e->io.size) + 1;
	e->io.exits = 0; /* no coalesced ports: the fake has no coalesce_pio */
	len = (size_t)e->io.count * e->io.size;
	free(v->data); /* the fast mode's previous exit, handled already */
	v->data = malloc(len);
	if (!v->data)
		return -ENOMEM;
	e->io.data = v->data;
	if (e->io.direction == TV_IO_OUT)
		fz_bytes(v->ops, v->data, len);
	else
		memset(v->data, 0xff, len);
	return 0;
}

static void op_mmio(struct tv_vcpu *v, struct tv_exit *e)
{
	e->reason = TV_EXIT_MMIO;
	e->mmio.addr = fz_u64(v->ops);
	e->mmio.len = fz_u8(v->ops) % 8 + 1;
	e->mmio.is_write = fz_u8(v->ops) & 1;
	fz_bytes(v->ops, e->mmio.data, sizeof(e->mmio.data));
	if (!e->mmio.is_write)
		memset(e->mmio.data, 0xff, sizeof(e->mmio.data));
}

static void op_exit(struct tv_vcpu *v, struct tv_exit *e)
{
	static const int reasons[7] = { TV_EXIT_HLT, TV_EXIT_SHUTDOWN, TV_EXIT_DEBUG, TV_EXIT_INTR,
					TV_EXIT_FAIL_ENTRY, TV_EXIT_INTERNAL_ERROR, TV_EXIT_UNKNOWN };

	e->reason = reasons[fz_u8(v->ops) % 7];
	e->fail.code = fz_u64(v->ops);
}

static int fake_run(struct tv_vcpu *v, struct tv_exit *e)
{
	free(v->data);
	v->data = NULL;
	for (;;) {
		int rc;

		memset(e, 0, sizeof(*e));
		if (fz_empty(v->ops)) {
			e->reason = TV_EXIT_HLT;
			return 0;
		}
		switch (fz_u8(v->ops) % 7) {
		case 0: op_ram(v); continue;
		case 1: {
			unsigned index = fz_u8(v->ops) % 18;
			uint64_t value = fz_u64(v->ops);

			memcpy((uint8_t *)&v->regs + index * sizeof(value), &value, sizeof(value));
			continue;
		}
		case 2: op_sreg(v); continue;
		case 3:
			rc = op_io(v, e);
			if (rc)
				return rc;
			break;
		case 4: op_mmio(v, e); break;
		case 5: op_exit(v, e); return 0;
		default: {
			uint8_t bits = fz_u8(v->ops);

			v->fail_regs |= bits & 1;
			v->fail_sregs |= (bits & 2) != 0;
			if (bits & 4) {
				tv_set_error("fake: run fails, as the input asked");
				return -EIO;
			}
			continue;
		}
		}
		/* An IO or MMIO exit: the handler sees it before the instruction completes. The fast
		 * mode (no flags) runs on after it unless the handler stops; the others return it. */
		rc = v->on_io(v->ctx, e);
		if (rc < 0)
			return rc;
		if (rc == TV_IO_STOP || (v->flags & (TV_RUN_PRECISE | TV_RUN_STEP)))
			return 0;
	}
}

const struct tv_backend_ops fake_backend_ops = {
	.name = "fake",
	.description = "operations from a fuzzer's input",
	.open = fake_open,
	.close = fake_close,
	.get_caps = fake_get_caps,
	.vm_create = fake_vm_create,
	.vm_destroy = fake_vm_destroy,
	.vcpu_create = fake_vcpu_create,
	.vcpu_destroy = fake_vcpu_destroy,
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.get_sregs = fake_get_sregs,
	.set_sregs = fake_set_sregs,
	.set_run_flags = fake_set_run_flags,
	.run = fake_run,
	.kick = fake_kick,
	.set_signal_mask = fake_set_signal_mask,
};
