/* The KVM backend's --trace-api output: one line per system call on /dev/kvm and its fds, with the
 * call's inputs and its result, in the order they are made. Private to backend/kvm/.
 *
 * Nothing here is called when the trace is off: every call site checks the FILE first, so a run
 * without --trace-api formats nothing. */
#ifndef TWINVM_KVM_LOG_H
#define TWINVM_KVM_LOG_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kvm_trace; /* one line being built; kvm_log.c only */

/* How one ioctl is named and described. The ioctl's argument is passed as ioctl(2) takes it: an
 * integer (KVM_CREATE_VM's type) or a pointer to a struct, cast to unsigned long. */
struct kvm_ioctl_desc {
	unsigned long request;
	const char *name;
	void (*in)(struct kvm_trace *t, unsigned long arg);           /* inputs; NULL: none */
	void (*out)(struct kvm_trace *t, unsigned long arg, int ret); /* success; NULL: ret */
	/* What the call does in a run, written after TV_API_NOTE (backend.h); NULL: it only
	 * checks something. note_of, when set, writes one that depends on the input instead. */
	const char *note;
	void (*note_of)(struct kvm_trace *t, unsigned long arg);
};

/* Every ioctl the backend makes except KVM_RUN, which kvm_log_run() describes. */
extern const struct kvm_ioctl_desc kvm_ioc_get_api_version;
extern const struct kvm_ioctl_desc kvm_ioc_check_extension;
extern const struct kvm_ioctl_desc kvm_ioc_get_vcpu_mmap_size;
extern const struct kvm_ioctl_desc kvm_ioc_get_supported_cpuid;
extern const struct kvm_ioctl_desc kvm_ioc_create_vm;
extern const struct kvm_ioctl_desc kvm_ioc_set_tss_addr;
extern const struct kvm_ioctl_desc kvm_ioc_set_user_memory_region;
extern const struct kvm_ioctl_desc kvm_ioc_create_vcpu;
extern const struct kvm_ioctl_desc kvm_ioc_set_cpuid2;
extern const struct kvm_ioctl_desc kvm_ioc_get_cpuid2;
extern const struct kvm_ioctl_desc kvm_ioc_get_regs;
extern const struct kvm_ioctl_desc kvm_ioc_set_regs;
extern const struct kvm_ioctl_desc kvm_ioc_get_sregs;
extern const struct kvm_ioctl_desc kvm_ioc_set_sregs;
extern const struct kvm_ioctl_desc kvm_ioc_set_guest_debug;
extern const struct kvm_ioctl_desc kvm_ioc_translate;
extern const struct kvm_ioctl_desc kvm_ioc_set_signal_mask;
extern const struct kvm_ioctl_desc kvm_ioc_interrupt;

/* "KVM_EXIT_HLT"; "KVM_EXIT_?" for a number this table does not know. */
const char *kvm_exit_name(uint32_t reason);

/* "KVM_CAP_IMMEDIATE_EXIT"; "KVM_CAP_?" for one this table does not know. */
const char *kvm_cap_name(long cap);

/* "EMULATION" for KVM_INTERNAL_ERROR_EMULATION; "?" for one this table does not know. */
const char *kvm_internal_error_name(uint32_t suberror);

/* "suberror 1 (KVM_INTERNAL_ERROR_EMULATION): cannot emulate the instruction at 66 48 0f ..."
 * for a KVM_EXIT_INTERNAL_ERROR exit. */
void kvm_describe_internal_error(char *buf, size_t len, const struct kvm_run *run);

/* A free-form line, for the calls that are not ioctls (open, mmap, munmap, close), with its step
 * note after TV_API_NOTE (NULL: none). */
void kvm_log_line(FILE *log, const char *note, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "NAME(inputs) = result": ret and err are ioctl(2)'s result and errno. */
void kvm_log_ioctl(FILE *log, const struct kvm_ioctl_desc *d, unsigned long arg, int ret, int err);

/* Why KVM_RUN was entered with immediate_exit set, if it was. */
enum kvm_run_entry {
	KVM_RUN_GUEST,      /* immediate_exit 0: run the guest */
	KVM_RUN_KICKED,     /* kick() had set immediate_exit: return at once */
	KVM_RUN_COMPLETING, /* set by the backend, only to finish the pending I/O instruction */
};

/* "KVM_RUN() = 0: KVM_EXIT_IO out port 0xe9 size 1 count 1 data 41  # run until an exit": every
 * KVM_RUN the run loop makes has the same note, the one that ends it (HLT, SHUTDOWN...) its own. */
void kvm_log_run(FILE *log, const struct kvm_run *run, enum kvm_run_entry entry, int ret, int err);

/* What userspace wrote back into the kvm_run page for an IN or an MMIO read, which KVM hands to
 * the guest at the next KVM_RUN. Nothing for OUT and MMIO writes. */
void kvm_log_io_reply(FILE *log, const struct kvm_run *run);

#endif
