/* The KVM engine: /dev/kvm opened, its API version and the capabilities twinvm needs checked,
 * and the CPUID it offers guests. */
#include "kvm.h"
#include "x86.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define KVM_NOTE_OPEN "open the KVM subsystem"

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

/* The capabilities twinvm asks KVM about, in the order of the --trace-api lines. */
enum kvm_cap_index {
	CAP_USER_MEMORY,
	CAP_IMMEDIATE_EXIT,
	CAP_SET_GUEST_DEBUG,
	CAP_SYNC_REGS,
	CAP_SET_TSS_ADDR,
	CAP_EXT_CPUID,
	CAP_COUNT,
};

#define KVM_CAP(c) KVM_CAP_##c, "KVM_CAP_" #c

static const struct kvm_cap_need {
	long cap;
	const char *name;
	const char *use;     /* what twinvm uses it for, for the caps notes */
	const char *missing; /* NULL: optional; else open fails without it, saying this after */
} kvm_caps[CAP_COUNT] = {
	[CAP_USER_MEMORY] = { KVM_CAP(USER_MEMORY), "guest RAM from a host buffer", "" },
	/* The exit model rests on it: precise exits and kick() both use immediate_exit. */
	[CAP_IMMEDIATE_EXIT] = { KVM_CAP(IMMEDIATE_EXIT), "precise exits, kick",
				 " (Linux 4.11 or later needed)" },
	[CAP_SET_GUEST_DEBUG] = { KVM_CAP(SET_GUEST_DEBUG), "single-step", NULL },
	/* Single-step reads RIP, CS and CR0 at every step from kvm_run instead of two ioctls. */
	[CAP_SYNC_REGS] = { KVM_CAP(SYNC_REGS), "single-step: the registers at every step", NULL },
	[CAP_SET_TSS_ADDR] = { KVM_CAP(SET_TSS_ADDR), "real mode on Intel", NULL },
	[CAP_EXT_CPUID] = { KVM_CAP(EXT_CPUID), "guest CPUID describes the host's CPU", NULL },
};

/* Asks KVM about every capability of kvm_caps, notes each answer with what twinvm uses it for in
 * the caps notes, and fails on a mandatory one missing. answer[] gets KVM's answers (> 0:
 * present). */
static int kvm_check_caps(struct tv_engine *e, int answer[CAP_COUNT])
{
	for (int i = 0; i < CAP_COUNT; i++) {
		const struct kvm_cap_need *c = &kvm_caps[i];
		int ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_check_extension, (unsigned long)c->cap);
		size_t len = strlen(e->caps.notes);

		if (ret < 0)
			return ret;
		snprintf(e->caps.notes + len, sizeof(e->caps.notes) - len, "%s: %s (%s)\n", c->name,
			 ret > 0 ? "yes" : "no", c->use);
		if (ret == 0 && c->missing) {
			tv_set_error("/dev/kvm: %s missing%s", c->name, c->missing);
			return -EOPNOTSUPP;
		}
		answer[i] = ret;
	}
	return 0;
}

/* The CPUID KVM can offer a guest, for KVM_SET_CPUID2. Without it the guest's CPUID instruction
 * describes an empty CPU: no long mode, no SSE. (On the kvm-pvm 6.18 host, KVM_SET_SREGS took
 * long mode and CR4.OSFXSR/OSXSAVE without it too; kvm-hello-world and QEMU set it anyway.) */
/* A struct kvm_cpuid2 with room for KVM_CPUID_ENTRIES, filled by the ioctl desc on fd (a GET):
 * NULL, with ret set to -errno, when that fails. */
static struct kvm_cpuid2 *kvm_cpuid2_get(FILE *log, int fd, const struct kvm_ioctl_desc *desc,
					 int *ret)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + KVM_CPUID_ENTRIES * sizeof(c->entries[0]));

	if (!c) {
		tv_set_error("%s: out of memory", desc->name);
		*ret = -ENOMEM;
		return NULL;
	}
	c->nent = KVM_CPUID_ENTRIES;
	*ret = kvm_ioctl(log, fd, desc, (unsigned long)c);
	if (*ret < 0) {
		free(c);
		return NULL;
	}
	return c;
}

static int kvm_get_supported_cpuid(struct tv_engine *e)
{
	int ret;
	struct kvm_cpuid2 *cpuid = kvm_cpuid2_get(e->log, e->fd, &kvm_ioc_get_supported_cpuid, &ret);

	if (!cpuid) {
		return ret;
	}
	/* Leaf 1: KVM offers x2APIC, which it emulates only with its in-kernel APIC: twinvm's
	 * guests have the xAPIC page (dev_apic.c), and x2APIC's MSRs would #GP. QEMU clears it too.
	 * EBX[31:24], the initial APIC ID, is the host CPU's that made this call (0 or 1 from run
	 * to run): the one vCPU's is 0, as its APIC's ID register says. */
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		if (cpuid->entries[i].function == 1) {
			cpuid->entries[i].ecx &= ~TV_CPUID1_ECX_X2APIC;
			cpuid->entries[i].ebx &= ~TV_CPUID1_EBX_APIC_ID;
		}
	}
	e->cpuid = cpuid;
	return 0;
}

/* Opens /dev/kvm into e->fd and checks it speaks the API version twinvm does. */
static int kvm_open_dev(struct tv_engine *e)
{
	int ret;

	/* The switch for running everything on the emulator on a KVM host (scripts/mutate.sh, a
	 * user comparing): KVM then counts as absent, the way a host without /dev/kvm has it. */
	if (getenv("TWINVM_NO_KVM")) {
		tv_set_error("/dev/kvm: not used here: TWINVM_NO_KVM is set");
		return -ENODEV;
	}
	e->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (e->fd < 0) {
		int err = errno;

		if (e->log)
			kvm_log_line(e->log, KVM_NOTE_OPEN,
				     "open(\"/dev/kvm\", O_RDWR|O_CLOEXEC) = -1 %s (%s)",
				     strerrorname_np(err), strerror(err));
		tv_set_error("/dev/kvm: %s%s", strerror(err), kvm_open_hint(err));
		return -err;
	}
	if (e->log)
		kvm_log_line(e->log, KVM_NOTE_OPEN, "open(\"/dev/kvm\", O_RDWR|O_CLOEXEC) = fd %d",
			     e->fd);

	ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_get_api_version, 0);
	if (ret >= 0 && ret != KVM_API_VERSION) {
		tv_set_error("/dev/kvm: KVM API version %d, twinvm speaks version %d", ret,
			     KVM_API_VERSION);
		ret = -ENODEV;
	}
	if (ret < 0) {
		kvm_close_fd(e->log, e->fd, "/dev/kvm", "done with KVM");
		return ret;
	}
	snprintf(e->caps.version, sizeof(e->caps.version), "KVM API %d", KVM_API_VERSION);
	return 0;
}

int kvm_open(struct tv_engine **out, FILE *api_log)
{
	int answer[CAP_COUNT];
	struct tv_engine *e;
	int ret;

	e = calloc(1, sizeof(*e));
	if (!e) {
		tv_set_error("KVM engine: out of memory");
		return -ENOMEM;
	}
	e->log = api_log;
	ret = kvm_open_dev(e);
	if (ret < 0) {
		free(e);
		return ret;
	}
	ret = kvm_check_caps(e, answer);
	if (ret < 0)
		goto close_kvm;
	e->can_step = answer[CAP_SET_GUEST_DEBUG] > 0 &&
		      ((unsigned)answer[CAP_SYNC_REGS] & KVM_SYNC_STEP) == KVM_SYNC_STEP;
	e->has_guest_debug = answer[CAP_SET_GUEST_DEBUG] > 0;
	e->breakpoints_fire = e->watchpoints_fire = -1;
	e->has_tss_addr = answer[CAP_SET_TSS_ADDR] > 0;
	if (answer[CAP_EXT_CPUID] > 0) {
		ret = kvm_get_supported_cpuid(e);
		if (ret < 0)
			goto close_kvm;
	}

	ret = kvm_ioctl(e->log, e->fd, &kvm_ioc_get_vcpu_mmap_size, 0);
	if (ret >= 0 && (size_t)ret < sizeof(struct kvm_run)) {
		tv_set_error("KVM_GET_VCPU_MMAP_SIZE: %d bytes, smaller than struct kvm_run", ret);
		ret = -EPROTO;
	}
	if (ret < 0)
		goto free_cpuid;
	e->run_size = (size_t)ret;

	e->caps.mmu_translates = true;
	e->caps.single_step = e->can_step;
	*out = e;
	return 0;

free_cpuid:
	free(e->cpuid);
close_kvm:
	kvm_close_fd(e->log, e->fd, "/dev/kvm", "done with KVM");
	free(e);
	return ret;
}

void kvm_close(struct tv_engine *e)
{
	if (!e)
		return;
	free(e->cpuid);
	kvm_close_fd(e->log, e->fd, "/dev/kvm", "done with KVM");
	free(e);
}

int kvm_get_caps(struct tv_engine *e, struct tv_caps *caps)
{
	*caps = e->caps;
	kvm_debug_probe(e); /* a guest run, once: only twinvm info and failed probes ask */
	snprintf(caps->debug_points, sizeof(caps->debug_points), "%s", e->debug_probe);
	return 0;
}

int kvm_cpuid(struct tv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
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

/* KVM_GET_CPUID2, not the table the vCPU was given: KVM has adjusted that to the vCPU's state
 * (the APIC bit, OSXSAVE, XSAVE's area size). */
int kvm_cpuid_table(struct tv_vcpu *v, struct tv_cpuid_table *out)
{
	int ret;
	struct kvm_cpuid2 *c = kvm_cpuid2_get(v->log, v->fd, &kvm_ioc_get_cpuid2, &ret);

	out->n = 0;
	out->e = NULL;
	if (!c)
		return ret;
	if (!(out->e = calloc(c->nent ? c->nent : 1, sizeof(*out->e)))) {
		tv_set_error("KVM_GET_CPUID2: out of memory");
		ret = -ENOMEM;
	}
	for (uint32_t i = 0; out->e && i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *x = &c->entries[i];

		out->e[i] = (struct tv_cpuid_entry){
			.leaf = x->function, .subleaf = x->index,
			.by_subleaf = x->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.r = { x->eax, x->ebx, x->ecx, x->edx },
		};
		out->n++;
	}
	free(c);
	return ret < 0 ? ret : 0;
}
