/* The machine: creation, loading, mode entry and the run loop. */
#include "machine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "kick.h"
#include "layout.h"
#include "pagewalk.h"
#include "record.h"
#include "trace.h"

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

int tv_machine_create(struct tv_machine *m, const struct tv_machine_opts *opt)
{
	struct tv_vcpu_config cfg = { .on_io = tv_io_handle, .ctx = m };
	unsigned flags;
	int rc;

	memset(m, 0, sizeof(*m));
	m->opt = *opt;
	m->be = opt->backend;
	if (!m->opt.console)
		m->opt.console = stdout;

	rc = tv_ram_alloc(&m->ram, opt->ram_size);
	if (rc) {
		tv_set_error("guest RAM of %" PRIu64 " bytes: %s", opt->ram_size, strerror(-rc));
		return rc;
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
	/* A trace records the canonical state at every exit, which needs the precise mode. */
	flags = opt->run_flags | (opt->trace ? TV_RUN_PRECISE : 0);
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
	return rc;
}

void tv_machine_destroy(struct tv_machine *m)
{
	tv_hypercall_log_flush(m); /* the run is over: say what was suppressed */
	if (!m->be)
		return;
	m->be->vcpu_destroy(m->vcpu);
	m->be->vm_destroy(m->vm);
	m->be->close(m->engine);
	tv_ram_free(&m->ram);
	free(m->pending);
	m->pending = NULL;
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

void tv_machine_count_exit(struct tv_machine *m, const struct tv_exit *e)
{
	/* IO and MMIO exits were counted by the I/O handler as they happened. */
	if (e->reason == TV_EXIT_IO || e->reason == TV_EXIT_MMIO)
		return;
	m->stats.total++;
	if ((unsigned)e->reason < TV_EXIT_REASON_MAX)
		m->stats.by_reason[e->reason]++;
}

/* Keeps the first output failure; always false, for the callers' return. */
static bool output_failed(struct tv_machine *m, FILE *f, const char *what, int err)
{
	if (!m->output_failed) {
		m->output_failed = what;
		m->output_errno = err ? err : EIO;
	}
	clearerr(f); /* reported once, through m */
	tv_set_error("writing the %s: %s", what, strerror(m->output_errno));
	return false;
}

bool tv_machine_flush(struct tv_machine *m, FILE *f, const char *what)
{
	errno = 0;
	if (fflush(f) == 0 && !ferror(f))
		return true;
	return output_failed(m, f, what, errno);
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
		output_failed(m, m->opt.trace, "trace", errno);
	return ok ? 0 : -EIO;
}

/* The run loop with a trace: one canonical record a line (record.h). */
static int run_traced(struct tv_machine *m, struct tv_exit *last)
{
	struct tv_record *r = malloc(sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	for (;;) {
		rc = tv_machine_next_record(m, r);
		if (rc)
			break;
		rc = trace_line(m, tv_record_json(m->opt.id, ++m->records, r));
		if (rc)
			break;
		if (r->exit.reason != TV_EXIT_IO && r->exit.reason != TV_EXIT_MMIO)
			break;
		if (m->opt.max_exits && m->records >= m->opt.max_exits)
			break;
	}
	*last = r->exit;
	if (last->reason == TV_EXIT_IO)
		last->io.data = NULL; /* r's buffer is gone after this */
	free(r);
	/* The trace closes with guest RAM's size and hash, for `diff --against` to compare. */
	if (!rc && last->reason != TV_EXIT_INTR) {
		rc = trace_line(m, json_pack("{s:i,s:{s:o,s:o}}", "vm", m->opt.id, "ram", "size",
					     tv_json_hex(m->ram.size), "fnv1a64",
					     tv_json_hex(tv_ram_hash(&m->ram))));
	}
	return rc;
}

int tv_machine_run(struct tv_machine *m, double timeout_s, struct tv_exit *last)
{
	int rc = tv_kick_arm(m->be, m->vcpu, timeout_s);

	if (rc)
		return rc;
	if (m->opt.trace) {
		rc = run_traced(m, last);
	} else {
		do {
			memset(last, 0, sizeof(*last));
			rc = m->be->run(m->vcpu, last);
			if (!rc)
				tv_machine_count_exit(m, last);
		} while (!rc && (last->reason == TV_EXIT_IO || last->reason == TV_EXIT_MMIO) &&
			 !(m->opt.max_exits && m->stats.total >= m->opt.max_exits));
	}
	tv_kick_disarm();
	return rc;
}

void tv_format_regs(const struct tv_regs *r, char *buf, size_t len)
{
	snprintf(buf, len,
		 "rax=0x%" PRIx64 " rbx=0x%" PRIx64 " rcx=0x%" PRIx64 " rdx=0x%" PRIx64
		 " rsi=0x%" PRIx64 " rdi=0x%" PRIx64 " rsp=0x%" PRIx64 " rbp=0x%" PRIx64
		 " rip=0x%" PRIx64 " rflags=0x%" PRIx64,
		 r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp, r->rip, r->rflags);
}
