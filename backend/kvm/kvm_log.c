/* The KVM backend's --trace-api output: how each ioctl, its inputs and its result are written.
 *
 * The lines are meant to be read as the KVM API's flowchart happening live, strace style:
 *
 *   KVM_CREATE_VM(type 0) = fd 4  # an empty VM: no memory, no CPU
 *   KVM_SET_USER_MEMORY_REGION(slot 0, flags 0x0, guest_phys 0x0, size 0x200000, userspace 0x7f..)
 *     = 0  # guest RAM: our buffer becomes guest-physical 0x0-0x1fffff
 *   KVM_RUN() = 0: KVM_EXIT_IO out port 0xe9 size 1 count 1 data 41  # run until an exit
 *
 * A call that is a step of the run ends with its note (TV_API_NOTE in backend.h), which is what
 * twinvm run --api-chart draws.
 *
 * Only the formatting lives here; the other kvm_*.c files decide what to call and check the FILE
 * before calling in, so none of this runs without --trace-api. */
#include "kvm_log.h"
#include "backend.h"
#include "x86.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* One line of trace output, built piece by piece and written with a single fputs so that lines
 * from different threads' vCPUs do not interleave mid-line. Text past the end is cut. */
struct kvm_trace {
	char text[1024];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void tr(struct kvm_trace *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->text + t->len, sizeof(t->text) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len > sizeof(t->text) - 1)
		t->len = sizeof(t->text) - 1;
}

/* The step note, when the call is one. */
static void tr_note(struct kvm_trace *t, const char *note)
{
	if (note)
		tr(t, TV_API_NOTE "%s", note);
}

static void tr_emit(FILE *log, struct kvm_trace *t)
{
	tr(t, "\n");
	fputs(t->text, log);
}

/* " = -1 EINVAL (Invalid argument)", as strace writes a failed call. */
static void tr_failure(struct kvm_trace *t, int err)
{
	const char *name = strerrorname_np(err);

	tr(t, " = -1 %s (%s)", name ? name : "E?", strerror(err));
}

static void tr_bytes(struct kvm_trace *t, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		tr(t, i ? " %02x" : "%02x", p[i]);
}

/* -------------------------------------------------------------------------------------------
 * Names */

const char *kvm_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
		[KVM_EXIT_IO] = "KVM_EXIT_IO",
		[KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
		[KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
		[KVM_EXIT_HLT] = "KVM_EXIT_HLT",
		[KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
		[KVM_EXIT_INTR] = "KVM_EXIT_INTR",
		[KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
		[KVM_EXIT_NMI] = "KVM_EXIT_NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
		[KVM_EXIT_WATCHDOG] = "KVM_EXIT_WATCHDOG",
		[KVM_EXIT_EPR] = "KVM_EXIT_EPR",
		[KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
		[KVM_EXIT_IOAPIC_EOI] = "KVM_EXIT_IOAPIC_EOI",
		[KVM_EXIT_HYPERV] = "KVM_EXIT_HYPERV",
		[KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR",
		[KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
		[KVM_EXIT_DIRTY_RING_FULL] = "KVM_EXIT_DIRTY_RING_FULL",
		[KVM_EXIT_AP_RESET_HOLD] = "KVM_EXIT_AP_RESET_HOLD",
		[KVM_EXIT_X86_BUS_LOCK] = "KVM_EXIT_X86_BUS_LOCK",
		[KVM_EXIT_XEN] = "KVM_EXIT_XEN",
		[KVM_EXIT_NOTIFY] = "KVM_EXIT_NOTIFY",
		/* Newer than the 6.1 uapi headers this may be built against. */
		[39] = "KVM_EXIT_MEMORY_FAULT",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "KVM_EXIT_?";
}

const char *kvm_cap_name(long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY: return "KVM_CAP_USER_MEMORY";
	case KVM_CAP_SET_TSS_ADDR: return "KVM_CAP_SET_TSS_ADDR";
	case KVM_CAP_EXT_CPUID: return "KVM_CAP_EXT_CPUID";
	case KVM_CAP_SET_GUEST_DEBUG: return "KVM_CAP_SET_GUEST_DEBUG";
	case KVM_CAP_SET_GUEST_DEBUG2: return "KVM_CAP_SET_GUEST_DEBUG2";
	case KVM_CAP_IMMEDIATE_EXIT: return "KVM_CAP_IMMEDIATE_EXIT";
	case KVM_CAP_SYNC_REGS: return "KVM_CAP_SYNC_REGS";
	default: return "KVM_CAP_?";
	}
}

const char *kvm_internal_error_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION: return "EMULATION";
	case KVM_INTERNAL_ERROR_SIMUL_EX: return "SIMUL_EX";
	case KVM_INTERNAL_ERROR_DELIVERY_EV: return "DELIVERY_EV";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "UNEXPECTED_EXIT_REASON";
	default: return "?";
	}
}

void kvm_describe_internal_error(char *buf, size_t len, const struct kvm_run *run)
{
	struct kvm_trace t = { .len = 0 };
	uint32_t suberror = run->internal.suberror;

	tr(&t, "suberror %u (KVM_INTERNAL_ERROR_%s)", suberror, kvm_internal_error_name(suberror));
	/* An emulation failure can carry the bytes at RIP (flags word, then size and bytes): name
	 * the instruction rather than dumping the words. */
	if (suberror == KVM_INTERNAL_ERROR_EMULATION && run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		uint8_t n = run->emulation_failure.insn_size;

		tr(&t, ": cannot emulate the instruction at ");
		tr_bytes(&t, run->emulation_failure.insn_bytes, n < 15 ? n : 15);
	} else {
		for (uint32_t i = 0; i < run->internal.ndata && i < 16; i++)
			tr(&t, " 0x%llx", (unsigned long long)run->internal.data[i]);
	}
	snprintf(buf, len, "%s", t.text);
}

/* -------------------------------------------------------------------------------------------
 * Registers. Zero general registers are left out: a line with eighteen of them is unreadable and
 * the zeros say nothing. */

static void tr_regs(struct kvm_trace *t, const struct kvm_regs *r)
{
	const struct {
		const char *name;
		uint64_t value;
	} gprs[] = {
		{ "rax", r->rax }, { "rbx", r->rbx }, { "rcx", r->rcx }, { "rdx", r->rdx },
		{ "rsi", r->rsi }, { "rdi", r->rdi }, { "rbp", r->rbp }, { "r8", r->r8 },
		{ "r9", r->r9 },   { "r10", r->r10 }, { "r11", r->r11 }, { "r12", r->r12 },
		{ "r13", r->r13 }, { "r14", r->r14 }, { "r15", r->r15 },
	};

	tr(t, "rip 0x%llx rsp 0x%llx rflags 0x%llx", (unsigned long long)r->rip,
	   (unsigned long long)r->rsp, (unsigned long long)r->rflags);
	for (size_t i = 0; i < sizeof(gprs) / sizeof(gprs[0]); i++)
		if (gprs[i].value)
			tr(t, " %s 0x%llx", gprs[i].name, (unsigned long long)gprs[i].value);
}

/* "cs {sel 0x8 base 0x0 limit 0xffffffff type 0xb s p db g}": flags only when set. */
static void tr_segment(struct kvm_trace *t, const char *name, const struct kvm_segment *s)
{
	tr(t, " %s {sel 0x%x base 0x%llx limit 0x%x type 0x%x", name, s->selector,
	   (unsigned long long)s->base, s->limit, s->type);
	if (s->s)
		tr(t, " s");
	if (s->present)
		tr(t, " p");
	if (s->dpl)
		tr(t, " dpl %u", s->dpl);
	if (s->db)
		tr(t, " db");
	if (s->l)
		tr(t, " l");
	if (s->g)
		tr(t, " g");
	if (s->avl)
		tr(t, " avl");
	if (s->unusable)
		tr(t, " unusable");
	tr(t, "}");
}

static bool same_segment(const struct kvm_segment *a, const struct kvm_segment *b)
{
	return a->base == b->base && a->limit == b->limit && a->selector == b->selector &&
	       a->type == b->type && a->present == b->present && a->dpl == b->dpl &&
	       a->db == b->db && a->s == b->s && a->l == b->l && a->g == b->g &&
	       a->avl == b->avl && a->unusable == b->unusable;
}

/* The control registers first, since they decide the mode; then the segments, with es, fs and gs
 * folded into ds when they are the same (they nearly always are). */
static void tr_sregs(struct kvm_trace *t, const struct kvm_sregs *s)
{
	tr(t, "cr0 0x%llx cr3 0x%llx cr4 0x%llx efer 0x%llx", (unsigned long long)s->cr0,
	   (unsigned long long)s->cr3, (unsigned long long)s->cr4, (unsigned long long)s->efer);
	if (s->cr2)
		tr(t, " cr2 0x%llx", (unsigned long long)s->cr2);
	if (s->cr8)
		tr(t, " cr8 0x%llx", (unsigned long long)s->cr8);
	tr_segment(t, "cs", &s->cs);
	tr_segment(t, "ss", &s->ss);
	if (same_segment(&s->ds, &s->es) && same_segment(&s->ds, &s->fs) &&
	    same_segment(&s->ds, &s->gs)) {
		tr_segment(t, "ds=es=fs=gs", &s->ds);
	} else {
		tr_segment(t, "ds", &s->ds);
		tr_segment(t, "es", &s->es);
		tr_segment(t, "fs", &s->fs);
		tr_segment(t, "gs", &s->gs);
	}
	tr_segment(t, "tr", &s->tr);
	tr_segment(t, "ldt", &s->ldt);
	tr(t, " gdt 0x%llx/0x%x idt 0x%llx/0x%x", (unsigned long long)s->gdt.base, s->gdt.limit,
	   (unsigned long long)s->idt.base, s->idt.limit);
	if (s->apic_base)
		tr(t, " apic_base 0x%llx", (unsigned long long)s->apic_base);
}

/* -------------------------------------------------------------------------------------------
 * The ioctls. Inputs are read from arg; outputs from arg after the call. */

static void in_cap(struct kvm_trace *t, unsigned long arg)
{
	tr(t, "%s", kvm_cap_name((long)arg));
}

static void in_vm_type(struct kvm_trace *t, unsigned long arg)
{
	tr(t, "type %lu", arg);
}

static void in_address(struct kvm_trace *t, unsigned long arg)
{
	tr(t, "0x%lx", arg);
}

static void in_vcpu_id(struct kvm_trace *t, unsigned long arg)
{
	tr(t, "id %lu", arg);
}

static void in_memory_region(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_userspace_memory_region *m = (const void *)arg;

	tr(t, "slot %u, flags 0x%x, guest_phys 0x%llx, size 0x%llx, userspace 0x%llx", m->slot,
	   m->flags, (unsigned long long)m->guest_phys_addr, (unsigned long long)m->memory_size,
	   (unsigned long long)m->userspace_addr);
}

static void in_cpuid(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_cpuid2 *c = (const void *)arg;

	tr(t, "%u entries", c->nent);
}

static void in_regs(struct kvm_trace *t, unsigned long arg)
{
	tr_regs(t, (const void *)arg);
}

static void in_sregs(struct kvm_trace *t, unsigned long arg)
{
	tr_sregs(t, (const void *)arg);
}

static void in_guest_debug(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_guest_debug *d = (const void *)arg;
	const unsigned known = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP;

	if (!d->control)
		tr(t, "off");
	else
		tr(t, "%s%s%s%s", d->control & KVM_GUESTDBG_ENABLE ? "ENABLE" : "",
		   d->control & KVM_GUESTDBG_SINGLESTEP ? "|SINGLESTEP" : "",
		   d->control & KVM_GUESTDBG_USE_HW_BP ? "|USE_HW_BP" : "",
		   d->control & ~known ? "|..." : "");
	if (d->control & KVM_GUESTDBG_USE_HW_BP)
		tr(t, " dr0-3 0x%llx 0x%llx 0x%llx 0x%llx dr7 0x%llx",
		   (unsigned long long)d->arch.debugreg[0], (unsigned long long)d->arch.debugreg[1],
		   (unsigned long long)d->arch.debugreg[2], (unsigned long long)d->arch.debugreg[3],
		   (unsigned long long)d->arch.debugreg[7]);
}

static void in_translation(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_translation *tl = (const void *)arg;

	tr(t, "gva 0x%llx", (unsigned long long)tl->linear_address);
}

static void in_interrupt(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_interrupt *irq = (const void *)arg;

	tr(t, "vector 0x%x", irq->irq);
}

static void out_fd(struct kvm_trace *t, unsigned long arg, int ret)
{
	(void)arg;
	tr(t, " = fd %d", ret);
}

static void out_cpuid(struct kvm_trace *t, unsigned long arg, int ret)
{
	const struct kvm_cpuid2 *c = (const void *)arg;

	tr(t, " = %d: %u entries", ret, c->nent);
}

static void out_regs(struct kvm_trace *t, unsigned long arg, int ret)
{
	tr(t, " = %d: ", ret);
	tr_regs(t, (const void *)arg);
}

static void out_sregs(struct kvm_trace *t, unsigned long arg, int ret)
{
	tr(t, " = %d: ", ret);
	tr_sregs(t, (const void *)arg);
}

static void out_translation(struct kvm_trace *t, unsigned long arg, int ret)
{
	const struct kvm_translation *tl = (const void *)arg;

	if (tl->valid)
		tr(t, " = %d: gpa 0x%llx%s%s", ret, (unsigned long long)tl->physical_address,
		   tl->writeable ? " writeable" : "", tl->usermode ? " user" : "");
	else
		tr(t, " = %d: not mapped (valid 0)", ret);
}

static void in_signal_mask(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_signal_mask *m = (const void *)arg;
	uint64_t set = 0;

	if (m->len == 0) {
		tr(t, "(len 0: the thread's own mask)");
		return;
	}
	memcpy(&set, m->sigset, m->len < 8 ? m->len : 8);
	tr(t, "(len %u, blocked while the guest runs 0x%llx)", m->len, (unsigned long long)set);
}

/* The notes that depend on the input: where the RAM goes, which mode the registers make. */
static void note_memory_region(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_userspace_memory_region *m = (const void *)arg;

	tr(t, TV_API_NOTE "guest RAM: our buffer becomes guest-physical 0x%llx-0x%llx",
	   (unsigned long long)m->guest_phys_addr,
	   (unsigned long long)(m->guest_phys_addr + m->memory_size - 1));
}

static void note_sregs(struct kvm_trace *t, unsigned long arg)
{
	const struct kvm_sregs *s = (const void *)arg;
	const char *mode;

	if (s->efer & TV_EFER_LMA)
		mode = "long mode: CR0.PG+PE, CR4.PAE, EFER.LME+LMA, 64-bit CS, CR3 = the PML4";
	else if (s->cr0 & TV_CR0_PG)
		mode = "32-bit paging: CR0.PG+PE, CR3 = the page directory, flat segments";
	else if (s->cr0 & TV_CR0_PE)
		mode = "protected mode: CR0.PE, flat 32-bit segments from the GDT, no paging";
	else
		mode = "real mode: CR0.PE clear, each segment's base = selector * 16";
	tr(t, TV_API_NOTE "%s", mode);
}

#define IOC(req, in, out, note) { req, #req, in, out, note, NULL }

const struct kvm_ioctl_desc kvm_ioc_get_api_version =
	IOC(KVM_GET_API_VERSION, NULL, NULL, "the API this code speaks: 12, the stable one");
const struct kvm_ioctl_desc kvm_ioc_check_extension =
	IOC(KVM_CHECK_EXTENSION, in_cap, NULL, "a capability this code relies on");
const struct kvm_ioctl_desc kvm_ioc_get_vcpu_mmap_size =
	IOC(KVM_GET_VCPU_MMAP_SIZE, NULL, NULL, "the size of each vCPU's shared kvm_run area");
const struct kvm_ioctl_desc kvm_ioc_get_supported_cpuid =
	IOC(KVM_GET_SUPPORTED_CPUID, NULL, out_cpuid, "the CPUID leaves KVM can give a guest");
const struct kvm_ioctl_desc kvm_ioc_create_vm =
	IOC(KVM_CREATE_VM, in_vm_type, out_fd, "an empty VM: no memory, no CPU");
const struct kvm_ioctl_desc kvm_ioc_set_tss_addr = IOC(KVM_SET_TSS_ADDR, in_address, NULL,
	"3 pages KVM needs for real mode on Intel, out of the guest's way");
const struct kvm_ioctl_desc kvm_ioc_set_user_memory_region = {
	KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION", in_memory_region, NULL, NULL,
	note_memory_region,
};
const struct kvm_ioctl_desc kvm_ioc_create_vcpu =
	IOC(KVM_CREATE_VCPU, in_vcpu_id, out_fd, "one virtual CPU, in its reset state");
const struct kvm_ioctl_desc kvm_ioc_set_cpuid2 =
	IOC(KVM_SET_CPUID2, in_cpuid, NULL, "what CPUID tells the guest");
/* For another engine to mirror (twinvm diff), not a step of the run. */
const struct kvm_ioctl_desc kvm_ioc_get_cpuid2 = IOC(KVM_GET_CPUID2, NULL, out_cpuid, NULL);
const struct kvm_ioctl_desc kvm_ioc_get_regs =
	IOC(KVM_GET_REGS, NULL, out_regs, "read the general registers");
const struct kvm_ioctl_desc kvm_ioc_set_regs = IOC(KVM_SET_REGS, in_regs, NULL,
	"the general registers: entry point (RIP) and stack (RSP)");
const struct kvm_ioctl_desc kvm_ioc_get_sregs = IOC(KVM_GET_SREGS, NULL, out_sregs,
	"read the special registers: mode, segments, tables");
const struct kvm_ioctl_desc kvm_ioc_set_sregs = {
	KVM_SET_SREGS, "KVM_SET_SREGS", in_sregs, NULL, NULL, note_sregs,
};
const struct kvm_ioctl_desc kvm_ioc_set_guest_debug = IOC(KVM_SET_GUEST_DEBUG, in_guest_debug,
	NULL, "guest debug: a KVM_EXIT_DEBUG after each instruction (single-step), at the debug "
	"points in DR0-DR3, or off");
/* A cross-check of twinvm's own page walk, not a step of the run. */
const struct kvm_ioctl_desc kvm_ioc_translate =
	IOC(KVM_TRANSLATE, in_translation, out_translation, NULL);
const struct kvm_ioctl_desc kvm_ioc_set_signal_mask = IOC(KVM_SET_SIGNAL_MASK, in_signal_mask,
	NULL, "the signals that may interrupt KVM_RUN");
const struct kvm_ioctl_desc kvm_ioc_interrupt = IOC(KVM_INTERRUPT, in_interrupt, NULL,
	"an external interrupt, injected when the guest can take it (no in-kernel irqchip)");

void kvm_log_line(FILE *log, const char *note, const char *fmt, ...)
{
	struct kvm_trace t = { .len = 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t.text, sizeof(t.text), fmt, ap);
	va_end(ap);
	t.len = n < 0 ? 0 : (size_t)n < sizeof(t.text) ? (size_t)n : sizeof(t.text) - 1;
	tr_note(&t, note);
	tr_emit(log, &t);
}

void kvm_log_ioctl(FILE *log, const struct kvm_ioctl_desc *d, unsigned long arg, int ret, int err)
{
	struct kvm_trace t = { .len = 0 };

	tr(&t, "%s(", d->name);
	if (d->in)
		d->in(&t, arg);
	tr(&t, ")");
	if (ret < 0)
		tr_failure(&t, err);
	else if (d->out)
		d->out(&t, arg, ret);
	else
		tr(&t, " = %d", ret);
	if (d->note_of)
		d->note_of(&t, arg);
	else
		tr_note(&t, d->note);
	tr_emit(log, &t);
}

/* -------------------------------------------------------------------------------------------
 * KVM_RUN */

static void tr_exit(struct kvm_trace *t, const struct kvm_run *run)
{
	tr(t, "%s", kvm_exit_name(run->exit_reason));
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		tr(t, " %s port 0x%x size %u count %u", run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
		   run->io.port, run->io.size, run->io.count);
		/* An IN's data does not exist yet: userspace supplies it (kvm_log_io_reply). */
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			tr(t, " data ");
			tr_bytes(t, (const char *)run + run->io.data_offset,
				 (size_t)run->io.size * run->io.count);
		}
		break;
	case KVM_EXIT_MMIO:
		tr(t, " %s gpa 0x%llx len %u", run->mmio.is_write ? "write" : "read",
		   (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		if (run->mmio.is_write) {
			tr(t, " data ");
			tr_bytes(t, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
		}
		break;
	case KVM_EXIT_DEBUG:
		tr(t, " exception %u pc 0x%llx dr6 0x%llx", run->debug.arch.exception,
		   (unsigned long long)run->debug.arch.pc, (unsigned long long)run->debug.arch.dr6);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		tr(t, " hardware_entry_failure_reason 0x%llx cpu %u",
		   (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
		   run->fail_entry.cpu);
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		char what[160];

		kvm_describe_internal_error(what, sizeof(what), run);
		tr(t, " %s", what);
		break;
	}
	case KVM_EXIT_UNKNOWN:
		tr(t, " hardware_exit_reason 0x%llx", (unsigned long long)run->hw.hardware_exit_reason);
		break;
	default:
		break;
	}
}

/* The run loop's KVM_RUNs share one note; the exit that ends the run has its own. reason -1:
 * KVM_RUN itself failed. */
static const char *run_note(int reason)
{
	switch (reason) {
	case KVM_EXIT_IO:
	case KVM_EXIT_MMIO:
	case KVM_EXIT_DEBUG:
	case KVM_EXIT_INTR: return "run until an exit";
	case KVM_EXIT_HLT: return "the guest halted (HLT): the run ends";
	case KVM_EXIT_SHUTDOWN: return "the guest shut down (a triple fault): the run ends";
	case -1: return "KVM_RUN failed: the run ends";
	default: return "KVM cannot go on with the guest: the run ends";
	}
}

void kvm_log_run(FILE *log, const struct kvm_run *run, enum kvm_run_entry entry, int ret, int err)
{
	static const char *const why_eintr[] = {
		[KVM_RUN_GUEST] = "a signal interrupted the guest (KVM_EXIT_INTR)",
		[KVM_RUN_KICKED] = "kick() had set immediate_exit: back before entering the guest",
		[KVM_RUN_COMPLETING] = "the I/O instruction completed, no further guest instruction ran",
	};
	struct kvm_trace t = { .len = 0 };

	tr(&t, entry == KVM_RUN_GUEST ? "KVM_RUN()" : "KVM_RUN(immediate_exit 1)");
	if (ret < 0) {
		tr_failure(&t, err);
		if (err == EINTR)
			tr(&t, ": %s", why_eintr[entry]);
	} else {
		tr(&t, " = %d: ", ret);
		tr_exit(&t, run);
	}
	tr_note(&t, run_note(ret < 0 ? (err == EINTR ? KVM_EXIT_INTR : -1) : (int)run->exit_reason));
	tr_emit(log, &t);
}

void kvm_log_io_reply(FILE *log, const struct kvm_run *run)
{
	struct kvm_trace t = { .len = 0 };

	if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN) {
		tr(&t, "  in data ");
		tr_bytes(&t, (const char *)run + run->io.data_offset,
			 (size_t)run->io.size * run->io.count);
		tr(&t, " -> kvm_run + 0x%llx; KVM loads it into the guest at the next KVM_RUN",
		   (unsigned long long)run->io.data_offset);
	} else if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write) {
		tr(&t, "  read data ");
		tr_bytes(&t, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
		tr(&t, " -> kvm_run->mmio.data; KVM loads it into the guest at the next KVM_RUN");
	} else {
		return;
	}
	tr_emit(log, &t);
}
