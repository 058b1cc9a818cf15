/* The machine: creation, loading, mode entry, the device table and the run loop. */
#include "machine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kick.h"
#include "layout.h"
#include "pagewalk.h"

/* The vCPU's MAXPHYADDR, CPUID 0x80000008 EAX[7:0], asked once per vCPU. The op is optional and
 * the leaf may be missing; then 36 bits, the least a CPU with PAE has. The guess cannot let a
 * hypercall through that the CPU would fault on: guest RAM ends below 4 GiB, so an address with a
 * bit at 32 or above is refused as outside RAM anyway, and the guess only picks which reason a
 * refused hypercall names. */
static unsigned vcpu_maxphyaddr(struct tv_machine *m)
{
	uint32_t out[4];

	if (!m->be->cpuid || m->be->cpuid(m->vcpu, 0x80000000u, 0, out) != 0 ||
	    out[0] < 0x80000008u || m->be->cpuid(m->vcpu, 0x80000008u, 0, out) != 0 ||
	    (out[0] & 0xff) < TV_MAXPHYADDR_MIN || (out[0] & 0xff) > TV_MAXPHYADDR_MAX)
		return TV_MAXPHYADDR_DEFAULT;
	return out[0] & 0xff;
}

/* What answers a port or MMIO access nobody claimed: an empty ISA bus, where writes go nowhere
 * and reads float to all ones (the engines preset MMIO read data to all ones). */
static int empty_bus(void *ctx, struct tv_machine *m, struct tv_exit *e)
{
	(void)ctx, (void)m;
	if (e->reason == TV_EXIT_IO && e->io.direction == TV_IO_IN)
		memset(e->io.data, 0xff, (size_t)e->io.size * e->io.count);
	return TV_IO_CONTINUE;
}

int tv_machine_init_devices(struct tv_machine *m)
{
	m->pio_slot = calloc(65536, 1); /* every port on pio[0] */
	if (!m->pio_slot)
		return -ENOMEM;
	m->pio[0] = (struct tv_device){ .fn = empty_bus };
	m->mmio_unclaimed = (struct tv_device){ .fn = empty_bus };
	m->npio = 1;
	for (int i = 0; i < TV_IRQ_SOURCES; i++)
		m->irq_src[i].vector = -1;
	m->irq_at_engine = -1;
	m->be_irq_vector = -1;
	return 0;
}

/* Gives the engine the vector of the first source that asserts one (ExtINT before the local
 * APIC), or none, when that changed. */
static int irq_update(struct tv_machine *m)
{
	int src = -1;

	for (int i = 0; i < TV_IRQ_SOURCES && src < 0; i++)
		if (m->irq_src[i].vector >= 0)
			src = i;
	if (src == m->irq_at_engine && (src < 0 || m->be_irq_vector == m->irq_src[src].vector))
		return 0;
	m->irq_at_engine = src;
	m->be_irq_vector = src < 0 ? -1 : m->irq_src[src].vector;
	if (!m->vcpu)
		return 0; /* a machine without an engine (tests of devices): nothing to deliver to */
	return m->be->set_irq(m->vcpu, m->be_irq_vector);
}

/* The engine's interrupt acknowledge: the engine has forgotten the vector; its source is told,
 * and may assert its next one, and the other source's vector, if any, goes to the engine. */
static void irq_ack(void *ctx, unsigned vector)
{
	struct tv_machine *m = ctx;
	int src = m->irq_at_engine;

	m->irq_at_engine = -1;
	m->be_irq_vector = -1;
	if (src < 0)
		return; /* nothing was asserted (cannot happen: the engine delivers only set_irq's) */
	m->irq_src[src].vector = -1;
	if (m->irq_src[src].ack)
		m->irq_src[src].ack(m->irq_src[src].ctx, m, vector);
	irq_update(m);
}

/* Tells the engine interrupts may come, once: -ENOTSUP for an engine that cannot take them. */
static int irq_engine_ready(struct tv_machine *m)
{
	if (m->vcpu && !m->be->set_irq) {
		tv_set_error("the %s engine cannot inject interrupts", m->be->name);
		return -ENOTSUP;
	}
	return m->vcpu && m->irq_at_engine < 0 ? m->be->set_irq(m->vcpu, -1) : 0;
}

int tv_machine_set_irq_chip(struct tv_machine *m, const struct tv_irq_chip *chip)
{
	int rc = irq_engine_ready(m);

	if (rc)
		return rc;
	m->irq_chip = *chip;
	m->irq_src[TV_IRQ_EXTINT].ack = chip->ack;
	m->irq_src[TV_IRQ_EXTINT].ctx = chip->ctx;
	return 0;
}

int tv_machine_set_irq_ack(struct tv_machine *m, enum tv_irq_source src,
			   void (*ack)(void *ctx, struct tv_machine *m, unsigned vector), void *ctx)
{
	int rc = irq_engine_ready(m);

	if (rc)
		return rc;
	m->irq_src[src].ack = ack;
	m->irq_src[src].ctx = ctx;
	return 0;
}

void tv_machine_set_timer(struct tv_machine *m, const struct tv_machine_timer *t)
{
	m->timer = *t;
}

int tv_machine_irq_line(struct tv_machine *m, unsigned line, bool level)
{
	if (!m->irq_chip.set_line)
		return -ENODEV;
	return m->irq_chip.set_line(m->irq_chip.ctx, m, line, level);
}

int tv_machine_assert_irq_from(struct tv_machine *m, enum tv_irq_source src, int vector)
{
	if ((unsigned)src >= TV_IRQ_SOURCES || vector < -1 || vector > 255)
		return -EINVAL;
	m->irq_src[src].vector = vector;
	return irq_update(m);
}

int tv_machine_assert_irq(struct tv_machine *m, int vector)
{
	return tv_machine_assert_irq_from(m, TV_IRQ_EXTINT, vector);
}

int tv_machine_create(struct tv_machine *m, const struct tv_machine_opts *opt)
{
	/* The PC's devices include the APIC, whose base the guest reads (dev_apic.c). */
	struct tv_vcpu_config cfg = { .on_io = tv_machine_io, .ctx = m, .on_irq_ack = irq_ack,
				      .apic_base_msr = opt->platform == TV_PLATFORM_PC,
				      .cpuid = opt->cpuid };
	unsigned flags;
	int rc;

	memset(m, 0, sizeof(*m));
	m->opt = *opt;
	m->be = opt->backend;
	if (!m->opt.console)
		m->opt.console = stdout;

	rc = tv_machine_init_devices(m);
	if (rc)
		goto free_slots;
	rc = tv_ram_alloc(&m->ram, opt->ram_size);
	if (rc) {
		tv_set_error("guest RAM of %" PRIu64 " bytes: %s", opt->ram_size, strerror(-rc));
		goto free_slots;
	}
	rc = m->be->open(&m->engine, opt->api_log);
	if (rc)
		goto free_ram;
	if (opt->cpu_model && m->be->set_cpu_model) {
		rc = m->be->set_cpu_model(m->engine, opt->cpu_model);
		if (rc)
			goto close_engine;
	}
	rc = m->be->vm_create(m->engine, m->ram.host, m->ram.size, &m->vm);
	if (rc)
		goto close_engine;
	rc = m->be->vcpu_create(m->vm, &cfg, &m->vcpu);
	if (rc)
		goto destroy_vm;
	/* The local APIC's timer kicks the vCPU and the run goes on (dev_lapic_timer.c): the kick
	 * must land on an instruction boundary. */
	if (opt->platform == TV_PLATFORM_PC)
		m->opt.run_flags |= TV_RUN_PREEMPTIBLE;
	/* A trace records the canonical state at every exit, which needs the precise mode. */
	flags = m->opt.run_flags | (opt->trace ? TV_RUN_PRECISE : 0);
	rc = m->be->set_run_flags(m->vcpu, flags);
	if (rc)
		goto destroy_vcpu;
	m->maxphyaddr = vcpu_maxphyaddr(m);
	return 0;

destroy_vcpu:
	m->be->vcpu_destroy(m->vcpu);
destroy_vm:
	m->be->vm_destroy(m->vm);
close_engine:
	m->be->close(m->engine);
free_ram:
	tv_ram_free(&m->ram);
free_slots:
	free(m->pio_slot);
	m->pio_slot = NULL;
	m->be = NULL; /* nothing left for tv_machine_destroy, which callers may still call */
	return rc;
}

void tv_machine_destroy(struct tv_machine *m)
{
	while (m->ncleanup > 0) {
		m->ncleanup--;
		if (m->cleanup[m->ncleanup].fn)
			m->cleanup[m->ncleanup].fn(m->cleanup[m->ncleanup].ctx, m);
		if (m->cleanup[m->ncleanup].owned)
			free(m->cleanup[m->ncleanup].ctx);
	}
	free(m->pio_slot);
	m->pio_slot = NULL;
	if (!m->be)
		return;
	m->be->vcpu_destroy(m->vcpu);
	m->be->vm_destroy(m->vm);
	m->be->close(m->engine);
	tv_ram_free(&m->ram);
	m->be = NULL;
}

int tv_image_check(size_t len, uint64_t ram_size)
{
	if (len == 0) {
		tv_set_error("the image is empty");
		return -EINVAL;
	}
	if (len > ram_size) {
		tv_set_error("the image (%zu bytes) is larger than guest RAM (%" PRIu64
			     " bytes); raise --mem", len, ram_size);
		return -EINVAL;
	}
	if (TV_IMAGE_BASE + len > TV_IMAGE_LIMIT) {
		tv_set_error("the image (%zu bytes, 0x%zx) would overlap the hypervisor's stack at 0x%llx: "
			     "guest images load at 0x%llx and must end at or below 0x%llx",
			     len, len, TV_STACK_BOTTOM, TV_IMAGE_BASE, TV_IMAGE_LIMIT);
		return -EINVAL;
	}
	return 0;
}

int tv_machine_load(struct tv_machine *m, const void *image, size_t len)
{
	int rc = tv_image_check(len, m->ram.size);

	if (rc)
		return rc;
	return tv_ram_write(&m->ram, TV_IMAGE_BASE, image, len);
}

int tv_machine_enter_mode(struct tv_machine *m, enum tv_mode mode)
{
	struct tv_sregs want, got;
	struct tv_regs regs;
	int rc;

	rc = tv_mode_setup(mode, m->ram.host, m->ram.size, &want, &regs);
	if (rc) {
		tv_set_error("%s mode needs at least 0x%llx bytes of RAM", tv_mode_name(mode),
			     TV_LAYOUT_END);
		return rc;
	}
	_Static_assert(TV_ENTRY == 0, "a zeroed opt.entry is where raw images start");
	regs.rip = m->opt.entry;
	regs.rax = m->opt.entry_rax;
	regs.rbx = m->opt.entry_rbx;
	rc = m->be->set_sregs(m->vcpu, &want);
	if (!rc)
		rc = m->be->set_regs(m->vcpu, &regs);
	if (!rc)
		rc = m->be->get_sregs(m->vcpu, &got);
	if (rc)
		return rc;

	/* An engine may accept a state it cannot run and quietly drop the bits (kvm-pvm drops
	 * CR0.PG without EFER.LME): read back and say so instead of running into a SHUTDOWN. */
	const char *dropped = (got.cr0 & TV_CR0_PE) != (want.cr0 & TV_CR0_PE)	  ? "CR0.PE"
			      : (got.cr0 & TV_CR0_PG) != (want.cr0 & TV_CR0_PG)   ? "CR0.PG"
			      : (got.efer & TV_EFER_LMA) != (want.efer & TV_EFER_LMA) ? "EFER.LMA"
										     : NULL;
	if (dropped) {
		tv_set_error("%s mode is not supported by this host's %s: it dropped %s when the "
			     "registers were set (cr0 0x%" PRIx64 " read back as 0x%" PRIx64
			     ", efer 0x%" PRIx64 " as 0x%" PRIx64 ")",
			     tv_mode_name(mode), m->be->name, dropped, want.cr0, got.cr0, want.efer,
			     got.efer);
		return -ENOTSUP;
	}
	m->mode = mode;
	return 0;
}

/* Takes coalescing off the ports [first, first + count) that have it. */
static void uncoalesce(struct tv_machine *m, uint32_t first, uint32_t count)
{
	for (unsigned i = 0; i < m->ncoalesced;) {
		if (m->coalesced[i] - first < count) {
			m->be->coalesce_pio(m->vcpu, m->coalesced[i], false);
			m->coalesced[i] = m->coalesced[--m->ncoalesced];
		} else {
			i++;
		}
	}
}

int tv_machine_add_pio(struct tv_machine *m, uint16_t first, uint32_t count, tv_device_fn fn,
		       void *ctx)
{
	if (!fn || (uint64_t)first + count > 65536) {
		tv_set_error("ports 0x%x+%u: no handler or past port 0xffff", first, count);
		return -EINVAL;
	}
	if (count == 0) {
		m->pio[0] = (struct tv_device){ .fn = fn, .ctx = ctx };
		return 0;
	}
	if (m->npio == TV_PIO_HANDLERS_MAX) {
		tv_set_error("more than %d port handlers", TV_PIO_HANDLERS_MAX);
		return -ENOSPC;
	}
	m->pio[m->npio] = (struct tv_device){ .fn = fn, .ctx = ctx, .first = first, .count = count };
	memset(m->pio_slot + first, (int)m->npio, count);
	m->npio++;
	uncoalesce(m, first, count); /* the new handler may want every exit */
	return 0;
}

int tv_machine_coalesce_pio(struct tv_machine *m, uint16_t port)
{
	int rc;

	if (m->opt.max_exits || !m->be || !m->be->coalesce_pio)
		return 0;
	if (m->ncoalesced == TV_COALESCED_MAX) {
		tv_set_error("more than %d coalesced ports", TV_COALESCED_MAX);
		return -ENOSPC;
	}
	rc = m->be->coalesce_pio(m->vcpu, port, true);
	if (!rc)
		m->coalesced[m->ncoalesced++] = port;
	return rc;
}

int tv_machine_add_mmio(struct tv_machine *m, uint64_t first, uint64_t len, tv_device_fn fn,
			void *ctx)
{
	if (!fn || first + len < first) {
		tv_set_error("MMIO 0x%" PRIx64 "+0x%" PRIx64 ": no handler or past 2^64", first, len);
		return -EINVAL;
	}
	if (len == 0) {
		m->mmio_unclaimed = (struct tv_device){ .fn = fn, .ctx = ctx };
		return 0;
	}
	if (m->nmmio == TV_MMIO_HANDLERS_MAX) {
		tv_set_error("more than %d MMIO handlers", TV_MMIO_HANDLERS_MAX);
		return -ENOSPC;
	}
	m->mmio[m->nmmio++] = (struct tv_device){ .fn = fn, .ctx = ctx, .first = first, .count = len };
	return 0;
}

const struct tv_device *tv_machine_pio_at(const struct tv_machine *m, uint16_t port)
{
	return &m->pio[m->pio_slot[port]];
}

int tv_machine_add_cleanup(struct tv_machine *m, void (*fn)(void *ctx, struct tv_machine *m),
			   void *ctx)
{
	if (m->ncleanup == TV_CLEANUPS_MAX) {
		tv_set_error("more than %d device clean-ups", TV_CLEANUPS_MAX);
		return -ENOSPC;
	}
	m->cleanup[m->ncleanup].fn = fn;
	m->cleanup[m->ncleanup].ctx = ctx;
	m->cleanup[m->ncleanup].owned = false;
	m->ncleanup++;
	return 0;
}

void *tv_machine_device_alloc(struct tv_machine *m, size_t size,
			      void (*fn)(void *ctx, struct tv_machine *m))
{
	void *state = calloc(1, size);

	if (!state) {
		tv_set_error("a device's state: out of memory");
		return NULL;
	}
	if (tv_machine_add_cleanup(m, fn, state) != 0) {
		free(state);
		return NULL;
	}
	m->cleanup[m->ncleanup - 1].owned = true;
	return state;
}

/* Counts one exit in m->stats, wherever it was taken. Inline: it is part of every exit. */
static inline void count_exit(struct tv_machine *m, const struct tv_exit *e)
{
	uint64_t n = e->reason == TV_EXIT_IO && e->io.exits ? e->io.exits : 1; /* coalesced */

	m->stats.total += n;
	if ((unsigned)e->reason < TV_EXIT_REASON_MAX)
		m->stats.by_reason[e->reason] += n;
	if (e->reason == TV_EXIT_IO && e->io.direction == TV_IO_IN)
		m->stats.io_in += n;
	else if (e->reason == TV_EXIT_IO)
		m->stats.io_out += n;
}

static const struct tv_device *mmio_device(const struct tv_machine *m, uint64_t addr)
{
	for (unsigned i = 0; i < m->nmmio; i++) {
		if (addr - m->mmio[i].first < m->mmio[i].count)
			return &m->mmio[i];
	}
	return &m->mmio_unclaimed;
}

int tv_machine_io(void *machine, struct tv_exit *e)
{
	struct tv_machine *m = machine;
	const struct tv_device *d;
	int rc;

	/* A --strict run ends at its first misused hypercall, but the emulator runs on to the end
	 * of its block: later exits reach no device, and the first misuse stays the one reported. */
	if (m->hc.failed && m->opt.strict)
		return -EPROTO;
	m->hc.name = NULL;
	count_exit(m, e);
	if (e->reason == TV_EXIT_IO)
		d = &m->pio[m->pio_slot[e->io.port]];
	else if (e->reason == TV_EXIT_MMIO)
		d = mmio_device(m, e->mmio.addr);
	else
		return TV_IO_CONTINUE;
	rc = d->fn(d->ctx, m, e);
	if (m->output_failed)
		return -EIO; /* the guest's output is being lost: stop (tv_machine_flush) */
	if (rc == TV_IO_CONTINUE && m->opt.max_exits && m->stats.total >= m->opt.max_exits)
		return TV_IO_STOP;
	return rc;
}

void tv_machine_uncount(struct tv_machine *m, int reason)
{
	if (reason >= 0 && reason < TV_EXIT_REASON_MAX && m->stats.by_reason[reason] &&
	    m->stats.total) {
		m->stats.by_reason[reason]--;
		m->stats.total--;
	}
}

int tv_machine_step(struct tv_machine *m, struct tv_exit *e)
{
	int rc;

	do {
		memset(e, 0, sizeof(*e));
		rc = m->be->run(m->vcpu, e);
	} while (!rc && m->timer.resume && (e->reason == TV_EXIT_INTR || e->reason == TV_EXIT_HLT) &&
		 m->timer.resume(m->timer.ctx, m, e));
	/* IO and MMIO exits were counted by tv_machine_io as they happened. */
	if (!rc && e->reason != TV_EXIT_IO && e->reason != TV_EXIT_MMIO)
		count_exit(m, e);
	return rc;
}

int tv_machine_run_loop(struct tv_machine *m, double timeout_s, struct tv_exit *last,
			int (*loop)(struct tv_machine *m, struct tv_exit *last))
{
	int rc = tv_kick_arm(m->be, m->vcpu, timeout_s);

	if (rc)
		return rc;
	rc = loop(m, last);
	tv_kick_disarm();
	/* Devices leave the console's bytes in its buffer; the run's end is where they go out. */
	if (!tv_machine_flush(m, m->opt.console, "console") && !rc)
		rc = -EIO;
	tv_console_notes_out(m); /* a note still waiting for a guest line that never ended */
	return rc;
}

/* The plain run's loop: on to the first exit no device handles in the engine. */
static int plain_loop(struct tv_machine *m, struct tv_exit *last)
{
	int rc;

	do {
		rc = tv_machine_step(m, last);
	} while (!rc && (last->reason == TV_EXIT_IO || last->reason == TV_EXIT_MMIO) &&
		 !(m->opt.max_exits && m->stats.total >= m->opt.max_exits) && !m->guest_exit);
	return rc;
}

int tv_machine_run(struct tv_machine *m, double timeout_s, struct tv_exit *last)
{
	if (m->opt.trace) {
		tv_set_error("a traced machine runs with tv_run (record.h)");
		return -EINVAL;
	}
	return tv_machine_run_loop(m, timeout_s, last, plain_loop);
}

void tv_format_regs(const struct tv_regs *r, char *buf, size_t len)
{
	snprintf(buf, len,
		 "rax=0x%" PRIx64 " rbx=0x%" PRIx64 " rcx=0x%" PRIx64 " rdx=0x%" PRIx64
		 " rsi=0x%" PRIx64 " rdi=0x%" PRIx64 " rsp=0x%" PRIx64 " rbp=0x%" PRIx64
		 " rip=0x%" PRIx64 " rflags=0x%" PRIx64,
		 r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp, r->rip, r->rflags);
}
