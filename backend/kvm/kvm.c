/* The Linux KVM engine: backend.h on /dev/kvm.
 *
 * An engine is an open /dev/kvm; a VM is a KVM VM fd whose memory slot 0 is the caller's RAM; a
 * vCPU is a vCPU fd plus its mmap'd struct kvm_run, the page where KVM reports each exit and where
 * userspace leaves the answer (IN data, MMIO read data) for the next KVM_RUN.
 *
 * How backend.h's exit model maps onto KVM_RUN:
 * - fast (no run flags): KVM_RUN in a loop. IO and MMIO exits go to the I/O handler and straight
 *   back into KVM_RUN, which finishes the exiting instruction with the handler's data before
 *   running on. One ioctl per exit, nothing else.
 * - precise: after the handler, one more KVM_RUN with kvm_run->immediate_exit set. KVM completes
 *   the pending instruction (loads the IN data, moves RIP past it) and returns -EINTR without
 *   running any further guest instruction. The completion can itself end in a new exit (the next
 *   element of a rep string instruction, or the single-step trap): KVM_RUN then returns 0, and
 *   that exit is kept for the next run(), which reports it without entering the guest.
 * - step: KVM_SET_GUEST_DEBUG with SINGLESTEP; KVM ends every instruction with KVM_EXIT_DEBUG.
 *   Two things are normalised so that every instruction gives exactly one exit: the DEBUG that
 *   completing an IN or MMIO read raises is dropped (the IO or MMIO exit already marks that
 *   instruction's end, and OUT and MMIO writes raise none), and a stepped HLT, which kvm-pvm
 *   reports as DEBUG and does not halt at all, is reported as HLT (kvm_stepped_over_hlt).
 * - kick: the caller's signal handler sets immediate_exit. A signal that arrives while the guest
 *   runs makes KVM_RUN return -EINTR; one that arrives between two KVM_RUNs leaves immediate_exit
 *   set, so the next KVM_RUN returns -EINTR at once (after completing any pending I/O). Either way
 *   the guest stops on an instruction boundary. */
#include "backend.h"
#include "kvm_log.h"
#include "kvm_raw.h"
#include "ram_range.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Where KVM puts the three pages of TSS it needs to run real mode on Intel CPUs without
 * unrestricted guest support: just below the 4 GiB BIOS area, as QEMU and kvm-hello-world do. It
 * must not overlap guest RAM. */
#define KVM_TSS_ADDR 0xfffbd000ul

/* KVM_GET_SUPPORTED_CPUID fails with E2BIG when nent is below the host's count; it never returns
 * more than KVM_MAX_CPUID_ENTRIES, 256 in current kernels. */
#define KVM_CPUID_ENTRIES 256

/* What single-step needs KVM to copy into kvm_run at every exit (KVM_CAP_SYNC_REGS). */
#define KVM_SYNC_STEP (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

#define CR0_PG (1ull << 31)
#define EFER_LMA (1ull << 10)

#define TV_RUN_ALL_FLAGS (TV_RUN_PRECISE | TV_RUN_STEP | TV_RUN_PREEMPTIBLE)

struct tv_engine {
	int fd;		 /* /dev/kvm */
	FILE *log;	 /* --trace-api, or NULL */
	size_t run_size; /* KVM_GET_VCPU_MMAP_SIZE */
	bool has_tss_addr, can_step; /* can_step: SET_GUEST_DEBUG and SYNC_REGS */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, given to every vCPU; NULL without */
	struct tv_caps caps;
};

struct tv_vm {
	struct tv_engine *e;
	int fd;
	const uint8_t *ram; /* the caller's; read only to recognise a stepped HLT */
	uint64_t ram_size;
};

struct tv_vcpu {
	struct tv_vm *vm;
	FILE *log;
	int fd;
	struct kvm_run *run; /* mmap'd from fd, run_size bytes */
	size_t run_size;
	struct tv_vcpu_config cfg;
	unsigned flags; /* enum tv_run_flags */
	/* kvm_run holds an exit that a completion KVM_RUN produced and run() has not reported. */
	bool exit_pending;
	/* KVM_SET_SREGS also sets the APIC base, which the portable sregs do not carry: keep KVM's. */
	uint64_t apic_base;
	volatile sig_atomic_t kicked; /* kick() was called since the last INTR exit */
};

/* immediate_exit is written from the signal handler too (kick): volatile, so the compiler neither
 * drops a store nor moves it across the stores to kicked. */
static void set_immediate_exit(struct kvm_run *run, uint8_t value)
{
	*(volatile uint8_t *)&run->immediate_exit = value;
}

/* Makes one ioctl, writes its --trace-api line, and on failure leaves "KVM_SET_SREGS: Invalid
 * argument" in tv_last_error(). Returns what the ioctl returned, or -errno. */
static int kvm_ioctl(FILE *log, int fd, const struct kvm_ioctl_desc *d, unsigned long arg)
{
	int ret = ioctl(fd, d->request, arg);
	int err = ret < 0 ? errno : 0;

	if (log)
		kvm_log_ioctl(log, d, arg, ret, err);
	if (ret < 0) {
		tv_set_error("%s: %s", d->name, strerror(err));
		return -err;
	}
	return ret;
}

static void kvm_close_fd(FILE *log, int fd, const char *what)
{
	int ret = close(fd);

	if (log)
		kvm_log_line(log, "close(%s fd %d) = %d", what, fd, ret);
}

/* -------------------------------------------------------------------------------------------
 * Engine */

/* What to do about a failed open of /dev/kvm, appended to the error text. */
static const char *kvm_open_hint(int err)
{
	switch (err) {
	case ENOENT:
		return " (no KVM on this host, or /dev/kvm not passed into the container; "
		       "--backend emu runs without it)";
	case EACCES:
	case EPERM:
		return " (add your user to the kvm group, or run as root)";
	case ENXIO:
	case ENODEV:
		return " (the kvm module is loaded but cannot run guests: is VT-x/AMD-V enabled?)";
	default:
		return "";
	}
}

/* Asks KVM about one capability and notes the answer, with what twinvm uses it for, in the caps
 * notes. Returns KVM's answer (> 0: present), or -errno. */
static int kvm_check_cap(struct tv_engine *e, long cap, const char *use)
{
	int ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_check_extension, (unsigned long)cap);
	size_t len = strlen(e->caps.notes);

	if (ret >= 0)
		snprintf(e->caps.notes + len, sizeof(e->caps.notes) - len, "%s: %s (%s)\n",
			 kvm_cap_name(cap), ret > 0 ? "yes" : "no", use);
	return ret;
}

/* The CPUID KVM can offer a guest, for KVM_SET_CPUID2. Without it the guest's CPUID instruction
 * describes an empty CPU: no long mode, no SSE. (On the kvm-pvm 6.18 host, KVM_SET_SREGS took
 * long mode and CR4.OSFXSR/OSXSAVE without it too; kvm-hello-world and QEMU set it anyway.) */
static int kvm_get_supported_cpuid(struct tv_engine *e)
{
	struct kvm_cpuid2 *cpuid;
	int ret;

	cpuid = calloc(1, sizeof(*cpuid) + KVM_CPUID_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid) {
		tv_set_error("KVM_GET_SUPPORTED_CPUID: out of memory");
		return -ENOMEM;
	}
	cpuid->nent = KVM_CPUID_ENTRIES;
	ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_get_supported_cpuid, (unsigned long)cpuid);
	if (ret < 0) {
		free(cpuid);
		return ret;
	}
	e->cpuid = cpuid;
	return 0;
}

static int kvm_open(struct tv_engine **out, FILE *api_log)
{
	struct tv_engine *e;
	int ret;

	e = calloc(1, sizeof(*e));
	if (!e) {
		tv_set_error("KVM engine: out of memory");
		return -ENOMEM;
	}
	e->log = api_log;

	/* The switch for running everything on the emulator on a KVM host (scripts/mutate.sh, a
	 * user comparing): KVM then counts as absent, the way a host without /dev/kvm has it. */
	if (getenv("TWINVM_NO_KVM")) {
		tv_set_error("/dev/kvm: not used here: TWINVM_NO_KVM is set");
		ret = -ENODEV;
		goto free_engine;
	}
	e->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (e->fd < 0) {
		int err = errno;

		if (e->log)
			kvm_log_line(e->log, "open(\"/dev/kvm\", O_RDWR|O_CLOEXEC) = -1 %s (%s)",
				     strerrorname_np(err), strerror(err));
		tv_set_error("/dev/kvm: %s%s", strerror(err), kvm_open_hint(err));
		ret = -err;
		goto free_engine;
	}
	if (e->log)
		kvm_log_line(e->log, "open(\"/dev/kvm\", O_RDWR|O_CLOEXEC) = fd %d", e->fd);

	ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_get_api_version, 0);
	if (ret < 0)
		goto close_kvm;
	if (ret != KVM_API_VERSION) {
		tv_set_error("/dev/kvm: KVM API version %d, twinvm speaks version %d", ret,
			     KVM_API_VERSION);
		ret = -ENODEV;
		goto close_kvm;
	}
	snprintf(e->caps.version, sizeof(e->caps.version), "KVM API %d", KVM_API_VERSION);

	ret = kvm_check_cap(e, KVM_CAP_USER_MEMORY, "guest RAM from a host buffer");
	if (ret < 0)
		goto close_kvm;
	if (ret == 0) {
		tv_set_error("/dev/kvm: KVM_CAP_USER_MEMORY missing");
		ret = -EOPNOTSUPP;
		goto close_kvm;
	}
	/* The exit model rests on it: precise exits and kick() both use immediate_exit. */
	ret = kvm_check_cap(e, KVM_CAP_IMMEDIATE_EXIT, "precise exits, kick");
	if (ret < 0)
		goto close_kvm;
	if (ret == 0) {
		tv_set_error("/dev/kvm: KVM_CAP_IMMEDIATE_EXIT missing (Linux 4.11 or later needed)");
		ret = -EOPNOTSUPP;
		goto close_kvm;
	}
	ret = kvm_check_cap(e, KVM_CAP_SET_GUEST_DEBUG, "single-step");
	if (ret < 0)
		goto close_kvm;
	e->can_step = ret > 0;
	/* Single-step reads RIP, CS and CR0 at every step from kvm_run instead of two ioctls. */
	ret = kvm_check_cap(e, KVM_CAP_SYNC_REGS, "single-step: the registers at every step");
	if (ret < 0)
		goto close_kvm;
	e->can_step = e->can_step && ((unsigned)ret & KVM_SYNC_STEP) == KVM_SYNC_STEP;
	ret = kvm_check_cap(e, KVM_CAP_SET_TSS_ADDR, "real mode on Intel");
	if (ret < 0)
		goto close_kvm;
	e->has_tss_addr = ret > 0;
	ret = kvm_check_cap(e, KVM_CAP_EXT_CPUID, "guest CPUID describes the host's CPU");
	if (ret < 0)
		goto close_kvm;
	if (ret > 0) {
		ret = kvm_get_supported_cpuid(e);
		if (ret < 0)
			goto close_kvm;
	}

	ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_get_vcpu_mmap_size, 0);
	if (ret < 0)
		goto free_cpuid;
	if ((size_t)ret < sizeof(struct kvm_run)) {
		tv_set_error("KVM_GET_VCPU_MMAP_SIZE: %d bytes, smaller than struct kvm_run", ret);
		ret = -EPROTO;
		goto free_cpuid;
	}
	e->run_size = (size_t)ret;

	e->caps.mmu_translates = true;
	e->caps.single_step = e->can_step;
	*out = e;
	return 0;

free_cpuid:
	free(e->cpuid);
close_kvm:
	kvm_close_fd(e->log, e->fd, "/dev/kvm");
free_engine:
	free(e);
	return ret;
}

static void kvm_close(struct tv_engine *e)
{
	if (!e)
		return;
	free(e->cpuid);
	kvm_close_fd(e->log, e->fd, "/dev/kvm");
	free(e);
}

static int kvm_get_caps(struct tv_engine *e, struct tv_caps *caps)
{
	*caps = e->caps;
	return 0;
}

/* -------------------------------------------------------------------------------------------
 * VM */

static int kvm_vm_create(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = ram_size,
		.userspace_addr = (uintptr_t)ram,
	};
	struct tv_vm *vm;
	int ret;

	/* KVM would say only "Invalid argument". */
	if (!ram || (uintptr_t)ram % 4096 || !ram_size || ram_size % 4096) {
		tv_set_error("guest RAM %p size 0x%llx: must be page aligned and a multiple of 4 KiB",
			     ram, (unsigned long long)ram_size);
		return -EINVAL;
	}
	if (e->has_tss_addr && ram_size > KVM_TSS_ADDR) {
		tv_set_error("guest RAM of 0x%llx bytes overlaps KVM's TSS at 0x%lx",
			     (unsigned long long)ram_size, KVM_TSS_ADDR);
		return -EINVAL;
	}

	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		tv_set_error("KVM VM: out of memory");
		return -ENOMEM;
	}
	vm->e = e;
	vm->ram = ram;
	vm->ram_size = ram_size;

	ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_create_vm, 0);
	if (ret < 0)
		goto free_vm;
	vm->fd = ret;

	if (e->has_tss_addr) {
		ret = kvm_ioctl(e->log, vm->fd, &kvm_ioc_set_tss_addr, KVM_TSS_ADDR);
		if (ret < 0)
			goto close_vm;
	}

	/* The buffer stays the caller's: KVM maps it into the guest but never frees it, nor do we. */
	ret = kvm_ioctl(e->log, vm->fd, &kvm_ioc_set_user_memory_region, (unsigned long)&region);
	if (ret < 0)
		goto close_vm;

	*out = vm;
	return 0;

close_vm:
	kvm_close_fd(e->log, vm->fd, "vm");
free_vm:
	free(vm);
	return ret;
}

static void kvm_vm_destroy(struct tv_vm *vm)
{
	if (!vm)
		return;
	kvm_close_fd(vm->e->log, vm->fd, "vm");
	free(vm);
}

/* -------------------------------------------------------------------------------------------
 * vCPU */

static int kvm_vcpu_create(struct tv_vm *vm, const struct tv_vcpu_config *cfg,
			   struct tv_vcpu **out)
{
	struct tv_engine *e = vm->e;
	struct kvm_sregs ks;
	struct tv_vcpu *v;
	int ret;

	if (!cfg || !cfg->on_io) {
		tv_set_error("KVM vCPU: no I/O handler");
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		tv_set_error("KVM vCPU: out of memory");
		return -ENOMEM;
	}
	v->vm = vm;
	v->log = e->log;
	v->cfg = *cfg;

	ret = kvm_ioctl(v->log, vm->fd, &kvm_ioc_create_vcpu, 0);
	if (ret < 0)
		goto free_vcpu;
	v->fd = ret;

	v->run_size = e->run_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int err = errno;

		if (v->log)
			kvm_log_line(v->log, "mmap(vcpu fd %d, %zu bytes) = -1 %s (%s)", v->fd,
				     v->run_size, strerrorname_np(err), strerror(err));
		tv_set_error("mmap of the vCPU's struct kvm_run: %s", strerror(err));
		ret = -err;
		goto close_vcpu;
	}
	if (v->log)
		kvm_log_line(v->log, "mmap(vcpu fd %d, %zu bytes) = %p: the shared struct kvm_run",
			     v->fd, v->run_size, (void *)v->run);

	if (e->cpuid) {
		ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_cpuid2, (unsigned long)e->cpuid);
		if (ret < 0)
			goto unmap_run;
	}

	/* For the APIC base, which every KVM_SET_SREGS must hand back (see struct tv_vcpu). */
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_sregs, (unsigned long)&ks);
	if (ret < 0)
		goto unmap_run;
	v->apic_base = ks.apic_base;

	*out = v;
	return 0;

unmap_run:
	munmap(v->run, v->run_size);
	if (v->log)
		kvm_log_line(v->log, "munmap(%p, %zu bytes) = 0", (void *)v->run, v->run_size);
close_vcpu:
	kvm_close_fd(v->log, v->fd, "vcpu");
free_vcpu:
	free(v);
	return ret;
}

static void kvm_vcpu_destroy(struct tv_vcpu *v)
{
	if (!v)
		return;
	munmap(v->run, v->run_size);
	if (v->log)
		kvm_log_line(v->log, "munmap(%p, %zu bytes) = 0", (void *)v->run, v->run_size);
	kvm_close_fd(v->log, v->fd, "vcpu");
	free(v);
}

/* -------------------------------------------------------------------------------------------
 * Registers. struct kvm_regs and struct kvm_segment map field by field onto the portable ones. */

static int kvm_get_regs(struct tv_vcpu *v, struct tv_regs *r)
{
	struct kvm_regs kr;
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_regs, (unsigned long)&kr);

	if (ret < 0)
		return ret;
	*r = (struct tv_regs){
		.rax = kr.rax, .rbx = kr.rbx, .rcx = kr.rcx, .rdx = kr.rdx,
		.rsi = kr.rsi, .rdi = kr.rdi, .rsp = kr.rsp, .rbp = kr.rbp,
		.r8 = kr.r8,   .r9 = kr.r9,   .r10 = kr.r10, .r11 = kr.r11,
		.r12 = kr.r12, .r13 = kr.r13, .r14 = kr.r14, .r15 = kr.r15,
		.rip = kr.rip, .rflags = kr.rflags,
	};
	return 0;
}

static int kvm_set_regs(struct tv_vcpu *v, const struct tv_regs *r)
{
	struct kvm_regs kr = {
		.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx,
		.rsi = r->rsi, .rdi = r->rdi, .rsp = r->rsp, .rbp = r->rbp,
		.r8 = r->r8,   .r9 = r->r9,   .r10 = r->r10, .r11 = r->r11,
		.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
		.rip = r->rip, .rflags = r->rflags,
	};
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_regs, (unsigned long)&kr);

	if (ret < 0)
		return ret;
	/* Stepping reads the registers from kvm_run's sync copy: keep it current. */
	v->run->s.regs.regs = kr;
	return 0;
}

static void segment_from_kvm(struct tv_segment *s, const struct kvm_segment *k)
{
	*s = (struct tv_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector, .type = k->type,
		.present = k->present, .dpl = k->dpl, .db = k->db, .s = k->s, .l = k->l, .g = k->g,
		.avl = k->avl, .unusable = k->unusable,
	};
}

static void segment_to_kvm(struct kvm_segment *k, const struct tv_segment *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector, .type = s->type,
		.present = s->present, .dpl = s->dpl, .db = s->db, .s = s->s, .l = s->l, .g = s->g,
		.avl = s->avl, .unusable = s->unusable,
	};
}

static int kvm_get_sregs(struct tv_vcpu *v, struct tv_sregs *s)
{
	struct kvm_sregs ks;
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_sregs, (unsigned long)&ks);

	if (ret < 0)
		return ret;
	v->apic_base = ks.apic_base;
	segment_from_kvm(&s->cs, &ks.cs);
	segment_from_kvm(&s->ds, &ks.ds);
	segment_from_kvm(&s->es, &ks.es);
	segment_from_kvm(&s->fs, &ks.fs);
	segment_from_kvm(&s->gs, &ks.gs);
	segment_from_kvm(&s->ss, &ks.ss);
	segment_from_kvm(&s->tr, &ks.tr);
	segment_from_kvm(&s->ldt, &ks.ldt);
	s->gdt = (struct tv_dtable){ .base = ks.gdt.base, .limit = ks.gdt.limit };
	s->idt = (struct tv_dtable){ .base = ks.idt.base, .limit = ks.idt.limit };
	s->cr0 = ks.cr0;
	s->cr2 = ks.cr2;
	s->cr3 = ks.cr3;
	s->cr4 = ks.cr4;
	s->cr8 = ks.cr8;
	s->efer = ks.efer;
	return 0;
}

static int kvm_set_sregs(struct tv_vcpu *v, const struct tv_sregs *s)
{
	/* interrupt_bitmap stays zero: twinvm never queues an external interrupt. */
	struct kvm_sregs ks = {
		.gdt = { .base = s->gdt.base, .limit = s->gdt.limit },
		.idt = { .base = s->idt.base, .limit = s->idt.limit },
		.cr0 = s->cr0, .cr2 = s->cr2, .cr3 = s->cr3, .cr4 = s->cr4, .cr8 = s->cr8,
		.efer = s->efer,
		.apic_base = v->apic_base,
	};
	int ret;

	segment_to_kvm(&ks.cs, &s->cs);
	segment_to_kvm(&ks.ds, &s->ds);
	segment_to_kvm(&ks.es, &s->es);
	segment_to_kvm(&ks.fs, &s->fs);
	segment_to_kvm(&ks.gs, &s->gs);
	segment_to_kvm(&ks.ss, &s->ss);
	segment_to_kvm(&ks.tr, &s->tr);
	segment_to_kvm(&ks.ldt, &s->ldt);
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_sregs, (unsigned long)&ks);
	if (ret < 0)
		return ret;
	v->run->s.regs.sregs = ks;
	return 0;
}

/* -------------------------------------------------------------------------------------------
 * Running */

/* Makes every KVM_RUN copy the registers into kvm_run (s.regs) on its way out, and fills the
 * copy once now, for the first step. */
static int kvm_sync_regs_on(struct tv_vcpu *v)
{
	struct kvm_sync_regs *sync = &v->run->s.regs;
	int ret;

	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_regs, (unsigned long)&sync->regs);
	if (ret < 0)
		return ret;
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_sregs, (unsigned long)&sync->sregs);
	if (ret < 0)
		return ret;
	v->run->kvm_valid_regs = KVM_SYNC_STEP;
	return 0;
}

/* The linear address of the next instruction, from kvm_run's copy of the registers. */
static uint64_t kvm_linear_pc(const struct kvm_sync_regs *sync)
{
	const struct kvm_sregs *s = &sync->sregs;

	if ((s->efer & EFER_LMA) && s->cs.l)
		return sync->regs.rip; /* 64-bit code: CS base is ignored */
	return (uint32_t)(s->cs.base + sync->regs.rip);
}

/* kvm-pvm steps over HLT as over any instruction: the step ends in KVM_EXIT_DEBUG with RIP past
 * the hlt, and the vCPU never halts (a VMX host reports KVM_EXIT_HLT instead). Recognise it by
 * the byte the step began on. Only a step that moved one byte can be a hlt, so the byte is read,
 * and with paging translated by KVM_TRANSLATE, only then. */
static bool kvm_stepped_over_hlt(struct tv_vcpu *v, uint64_t from)
{
	const struct kvm_sync_regs *sync = &v->run->s.regs;
	const uint8_t *op;
	uint64_t gpa = from;

	if (kvm_linear_pc(sync) != from + 1)
		return false;
	if (sync->sregs.cr0 & CR0_PG) {
		struct kvm_translation tl = { .linear_address = from };

		if (kvm_ioctl(v->log, v->fd, &kvm_ioc_translate, (unsigned long)&tl) < 0 ||
		    !tl.valid)
			return false;
		gpa = tl.physical_address;
	}
	op = tv_ram_range(v->vm->ram, v->vm->ram_size, gpa, 1);
	return op && *op == 0xf4;
}

static int kvm_set_run_flags(struct tv_vcpu *v, unsigned flags)
{
	if (flags & ~(unsigned)TV_RUN_ALL_FLAGS) {
		tv_set_error("KVM: unknown run flags 0x%x", flags);
		return -EINVAL;
	}
	/* Guest debug is vCPU state in KVM: set it when stepping starts or stops, not per run. */
	if ((flags ^ v->flags) & TV_RUN_STEP) {
		struct kvm_guest_debug dbg = {
			.control = flags & TV_RUN_STEP ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP
						       : 0,
		};
		int ret;

		if (!v->vm->e->can_step) {
			tv_set_error("KVM single-step: KVM_CAP_SET_GUEST_DEBUG or KVM_CAP_SYNC_REGS "
				     "missing");
			return -EOPNOTSUPP;
		}
		if (flags & TV_RUN_STEP) {
			ret = kvm_sync_regs_on(v);
			if (ret < 0)
				return ret;
		}
		ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_guest_debug, (unsigned long)&dbg);
		if (ret < 0)
			return ret;
		if (!(flags & TV_RUN_STEP))
			v->run->kvm_valid_regs = 0;
	}
	/* TV_RUN_PREEMPTIBLE needs nothing: a KVM_RUN interrupted by a signal always stops the
	 * guest between two instructions. */
	v->flags = flags;
	return 0;
}

/* Hands an IO or MMIO exit to the I/O handler, then leaves the handler's IN or MMIO read data in
 * kvm_run, where the next KVM_RUN picks it up. Returns enum tv_io_action or -errno. */
static int kvm_handle_io(struct tv_vcpu *v, struct tv_exit *exit)
{
	struct kvm_run *run = v->run;
	int ret;

	memset(exit, 0, sizeof(*exit));
	exit->exception = -1; /* KVM does not say which */
	if (run->exit_reason == KVM_EXIT_IO) {
		exit->reason = TV_EXIT_IO;
		exit->io.direction = run->io.direction;
		exit->io.size = run->io.size;
		exit->io.port = run->io.port;
		exit->io.count = run->io.count;
		/* The data lives in the kvm_run mapping itself: OUT data KVM put there, IN data
		 * the handler writes there for KVM to load. */
		exit->io.data = tv_ram_range(run, v->run_size, run->io.data_offset,
					     (uint64_t)run->io.size * run->io.count);
		if (!exit->io.data) {
			/* KVM keeps the data inside the mapping; a guest's count never moves it. */
			tv_set_error("KVM: IO exit data (offset 0x%llx, %u x %u bytes) lies outside "
				     "the %zu-byte kvm_run mapping", (unsigned long long)run->io.data_offset,
				     run->io.count, run->io.size, v->run_size);
			return -EIO;
		}
		/* An IN nobody answers reads all ones, as on an empty ISA bus. */
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset(exit->io.data, 0xff, (size_t)run->io.size * run->io.count);
	} else {
		exit->reason = TV_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = run->mmio.len <= 8 ? run->mmio.len : 8;
		exit->mmio.is_write = run->mmio.is_write;
		if (run->mmio.is_write)
			memcpy(exit->mmio.data, run->mmio.data, exit->mmio.len);
		else
			memset(exit->mmio.data, 0xff, sizeof(exit->mmio.data));
	}

	ret = v->cfg.on_io(v->cfg.ctx, exit);
	if (ret < 0)
		return ret;
	if (ret != TV_IO_CONTINUE && ret != TV_IO_STOP) {
		tv_set_error("KVM: the I/O handler returned %d", ret);
		return -EINVAL;
	}
	if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write)
		memcpy(run->mmio.data, exit->mmio.data, exit->mmio.len);
	if (v->log)
		kvm_log_io_reply(v->log, run);
	return ret;
}

/* Precise mode: finishes the instruction that exited, without letting the guest run on. With
 * immediate_exit set, KVM_RUN completes the pending I/O and returns -EINTR before entering the
 * guest. If completing it raised a new exit instead (rep string I/O, a single-step trap), KVM_RUN
 * returns 0 and the exit waits in kvm_run for the next run(). */
static int kvm_complete_io(struct tv_vcpu *v)
{
	struct kvm_run *run = v->run;
	int ret, err;

	set_immediate_exit(run, 1);
	ret = ioctl(v->fd, KVM_RUN, 0);
	err = errno;
	/* Clear it first, then look at the flag: a kick landing in between sets both again. */
	set_immediate_exit(run, 0);
	if (v->kicked)
		set_immediate_exit(run, 1);
	if (v->log)
		kvm_log_run(v->log, run, KVM_RUN_COMPLETING, ret, err);

	if (ret == 0) {
		/* Under single-step, completing the instruction ends in its DEBUG trap; the IO or
		 * MMIO exit being returned already reports that instruction's end. */
		if ((v->flags & TV_RUN_STEP) && run->exit_reason == KVM_EXIT_DEBUG)
			return 0;
		v->exit_pending = true;
		return 0;
	}
	if (err == EINTR)
		return 0;
	tv_set_error("KVM_RUN (completing I/O): %s", strerror(err));
	return -err;
}

/* The guest stopped for a signal: a kick, or any other signal the thread let in. Both are
 * reported as INTR; the caller knows whether it kicked. */
static int kvm_exit_intr(struct tv_vcpu *v, struct tv_exit *exit)
{
	/* immediate_exit first: a kick landing between the two stores leaves it set, so that kick
	 * is not lost but makes the next run() return INTR at once. */
	set_immediate_exit(v->run, 0);
	v->kicked = 0;
	memset(exit, 0, sizeof(*exit));
	exit->exception = -1; /* KVM does not say which */
	exit->reason = TV_EXIT_INTR;
	return 0;
}

/* Every exit that ends run() other than IO, MMIO and INTR. */
static void kvm_convert_exit(const struct kvm_run *run, struct tv_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	exit->exception = -1; /* KVM does not say which */
	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		exit->reason = TV_EXIT_HLT;
		break;
	case KVM_EXIT_DEBUG:
		exit->reason = TV_EXIT_DEBUG;
		break;
	case KVM_EXIT_SHUTDOWN:
		exit->reason = TV_EXIT_SHUTDOWN;
		snprintf(exit->detail, sizeof(exit->detail),
			 "KVM_EXIT_SHUTDOWN: the vCPU shut down (a triple fault, or a guest state "
			 "this KVM cannot run)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit->reason = TV_EXIT_FAIL_ENTRY;
		exit->fail.code = run->fail_entry.hardware_entry_failure_reason;
		snprintf(exit->detail, sizeof(exit->detail),
			 "KVM_EXIT_FAIL_ENTRY: hardware_entry_failure_reason 0x%llx on cpu %u "
			 "(the CPU refused the guest state)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			 run->fail_entry.cpu);
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		char what[sizeof(exit->detail)];

		exit->reason = TV_EXIT_INTERNAL_ERROR;
		exit->fail.code = run->internal.suberror;
		kvm_describe_internal_error(what, sizeof(what), run);
		snprintf(exit->detail, sizeof(exit->detail), "KVM_EXIT_INTERNAL_ERROR: %.130s", what);
		break;
	}
	case KVM_EXIT_UNKNOWN:
		exit->reason = TV_EXIT_UNKNOWN;
		exit->fail.code = run->hw.hardware_exit_reason;
		snprintf(exit->detail, sizeof(exit->detail),
			 "KVM exit reason 0 (KVM_EXIT_UNKNOWN): hardware_exit_reason 0x%llx",
			 (unsigned long long)run->hw.hardware_exit_reason);
		break;
	default:
		/* An exit twinvm never asked for (an MSR exit, a system event, a newer kernel's
		 * addition): report it and let the caller stop. */
		exit->reason = TV_EXIT_UNKNOWN;
		exit->fail.code = run->exit_reason;
		snprintf(exit->detail, sizeof(exit->detail), "KVM exit reason %u (%s)",
			 run->exit_reason, kvm_exit_name(run->exit_reason));
		break;
	}
}

static int kvm_run(struct tv_vcpu *v, struct tv_exit *exit)
{
	struct kvm_run *run = v->run;
	uint64_t step_from = 0;
	int ret;

	for (;;) {
		if (v->exit_pending) {
			v->exit_pending = false;
		} else {
			/* Only for the trace: a kick may have come before this KVM_RUN. */
			enum kvm_run_entry entry = v->log && run->immediate_exit ? KVM_RUN_KICKED
										: KVM_RUN_GUEST;

			if (v->flags & TV_RUN_STEP)
				step_from = kvm_linear_pc(&run->s.regs);
			ret = ioctl(v->fd, KVM_RUN, 0);
			if (ret < 0) {
				int err = errno;

				if (v->log)
					kvm_log_run(v->log, run, entry, ret, err);
				if (err == EINTR)
					return kvm_exit_intr(v, exit);
				tv_set_error("KVM_RUN: %s", strerror(err));
				return -err;
			}
			if (v->log)
				kvm_log_run(v->log, run, entry, ret, 0);
		}

		switch (run->exit_reason) {
		case KVM_EXIT_IO:
		case KVM_EXIT_MMIO:
			ret = kvm_handle_io(v, exit);
			if (ret < 0)
				return ret;
			if (v->flags & (TV_RUN_PRECISE | TV_RUN_STEP))
				return kvm_complete_io(v);
			/* Fast mode: the next KVM_RUN completes the instruction and runs on. On
			 * STOP it completes at the next run(). */
			if (ret == TV_IO_STOP)
				return 0;
			break;
		case KVM_EXIT_INTR:
			return kvm_exit_intr(v, exit);
		case KVM_EXIT_DEBUG:
			kvm_convert_exit(run, exit);
			if ((v->flags & TV_RUN_STEP) && kvm_stepped_over_hlt(v, step_from)) {
				exit->reason = TV_EXIT_HLT;
				if (v->log)
					kvm_log_line(v->log, "  the step ran the hlt at 0x%llx: "
						     "reported as KVM_EXIT_HLT",
						     (unsigned long long)step_from);
			}
			return 0;
		default:
			kvm_convert_exit(run, exit);
			return 0;
		}
	}
}

/* Async-signal-safe: two stores. Meant for the caller's signal handler on the vCPU's thread; from
 * another thread it also needs a signal to that thread to interrupt a guest that is running. */
static void kvm_kick(struct tv_vcpu *v)
{
	v->kicked = 1;
	set_immediate_exit(v->run, 1);
}

/* KVM takes the kernel's sigset layout: 8 bytes on x86-64, not glibc's 128-byte sigset_t. */
static int kvm_set_signal_mask(struct tv_vcpu *v, const sigset_t *mask)
{
	struct kvm_signal_mask *m;
	int ret;

	if (!mask) {
		/* A zero-length mask tells KVM to use the thread's own mask while the guest runs. */
		struct kvm_signal_mask none = { .len = 0 };

		ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_signal_mask, (unsigned long)&none);
		return ret < 0 ? ret : 0;
	}
	m = calloc(1, sizeof(*m) + 8);
	if (!m) {
		tv_set_error("KVM_SET_SIGNAL_MASK: out of memory");
		return -ENOMEM;
	}
	m->len = 8;
	memcpy(m->sigset, mask, 8);
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_signal_mask, (unsigned long)m);
	free(m);
	return ret < 0 ? ret : 0;
}

static int kvm_vm_label(struct tv_vm *vm)
{
	return vm->fd;
}

static int kvm_translate(struct tv_vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tl = { .linear_address = gva };
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_translate, (unsigned long)&tl);

	if (ret < 0)
		return ret;
	if (!tl.valid) {
		tv_set_error("KVM_TRANSLATE: guest virtual 0x%llx is not mapped",
			     (unsigned long long)gva);
		return -EFAULT;
	}
	*gpa = tl.physical_address;
	return 0;
}

/* The vCPU's CPUID is the table vcpu_create gave it with KVM_SET_CPUID2: answer from that. */
static int kvm_cpuid(struct tv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	const struct kvm_cpuid2 *c = v->vm->e->cpuid;

	for (uint32_t i = 0; c && i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *x = &c->entries[i];

		if (x->function != leaf ||
		    ((x->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && x->index != subleaf))
			continue;
		out[0] = x->eax;
		out[1] = x->ebx;
		out[2] = x->ecx;
		out[3] = x->edx;
		return 0;
	}
	tv_set_error("CPUID leaf 0x%x.%u is not in the vCPU's KVM_SET_CPUID2 table", leaf, subleaf);
	return -ENOENT;
}

const struct tv_backend_ops tv_kvm_backend = {
	.name = "kvm",
	.description = "Linux KVM (/dev/kvm)",
	.open = kvm_open,
	.close = kvm_close,
	.get_caps = kvm_get_caps,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.get_regs = kvm_get_regs,
	.set_regs = kvm_set_regs,
	.get_sregs = kvm_get_sregs,
	.set_sregs = kvm_set_sregs,
	.set_run_flags = kvm_set_run_flags,
	.run = kvm_run,
	.kick = kvm_kick,
	.set_signal_mask = kvm_set_signal_mask,
	.vm_label = kvm_vm_label,
	.raw_run = kvm_raw_run,
	.translate = kvm_translate,
	.cpuid = kvm_cpuid,
};
