/* The KVM VM and its vCPU: the VM fd with the caller's RAM as memory slot 0, the vCPU fd with its
 * mmap'd struct kvm_run, and the signal mask KVM_RUN runs under. */
#include "kvm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The step notes of the calls that are not ioctls (kvm_log.c has the ioctls'). */
#define KVM_NOTE_MMAP "the shared struct kvm_run: each exit is read from it"
#define KVM_NOTE_CLOSE_VM "the VM freed (our RAM buffer stays ours)"

int kvm_vm_create(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out)
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
	kvm_close_fd(e->log, vm->fd, "vm", KVM_NOTE_CLOSE_VM);
free_vm:
	free(vm);
	return ret;
}

void kvm_vm_destroy(struct tv_vm *vm)
{
	if (!vm)
		return;
	kvm_close_fd(vm->e->log, vm->fd, "vm", KVM_NOTE_CLOSE_VM);
	free(vm);
}

int kvm_vm_label(struct tv_vm *vm)
{
	return vm->fd;
}

int kvm_vcpu_create(struct tv_vm *vm, const struct tv_vcpu_config *cfg, struct tv_vcpu **out)
{
	struct tv_engine *e = vm->e;
	struct kvm_sregs ks;
	struct tv_vcpu *v;
	int ret;

	if (!cfg || !cfg->on_io) {
		tv_set_error("KVM vCPU: no I/O handler");
		return -EINVAL;
	}
	if (cfg->cpuid) {
		tv_set_error("KVM vCPU: its guest sees KVM's own CPUID table, not one given");
		return -ENOTSUP;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		tv_set_error("KVM vCPU: out of memory");
		return -ENOMEM;
	}
	v->vm = vm;
	v->log = e->log;
	v->cfg = *cfg;
	v->irq = -1;

	ret = kvm_ioctl(v->log, vm->fd, &kvm_ioc_create_vcpu, 0);
	if (ret < 0)
		goto free_vcpu;
	v->fd = ret;

	v->run_size = e->run_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int err = errno;

		if (v->log)
			kvm_log_line(v->log, KVM_NOTE_MMAP, "mmap(vcpu fd %d, %zu bytes) = -1 %s (%s)",
				     v->fd, v->run_size, strerrorname_np(err), strerror(err));
		tv_set_error("mmap of the vCPU's struct kvm_run: %s", strerror(err));
		ret = -err;
		goto close_vcpu;
	}
	if (v->log)
		kvm_log_line(v->log, KVM_NOTE_MMAP, "mmap(vcpu fd %d, %zu bytes) = %p", v->fd,
			     v->run_size, (void *)v->run);

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
		kvm_log_line(v->log, "the kvm_run area unmapped", "munmap(%p, %zu bytes) = 0",
			     (void *)v->run, v->run_size);
close_vcpu:
	kvm_close_fd(v->log, v->fd, "vcpu", "the vCPU freed");
free_vcpu:
	free(v);
	return ret;
}

void kvm_vcpu_destroy(struct tv_vcpu *v)
{
	if (!v)
		return;
	munmap(v->run, v->run_size);
	if (v->log)
		kvm_log_line(v->log, "the kvm_run area unmapped", "munmap(%p, %zu bytes) = 0",
			     (void *)v->run, v->run_size);
	kvm_close_fd(v->log, v->fd, "vcpu", "the vCPU freed");
	free(v);
}

/* KVM takes the kernel's sigset layout: 8 bytes on x86-64, not glibc's 128-byte sigset_t. */
int kvm_set_signal_mask(struct tv_vcpu *v, const sigset_t *mask)
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
