/* twinvm-raw-kvm: the start-up baseline of `twinvm bench --startup` on KVM. The least code that
 * runs the built-in hello guest in protected mode straight on /dev/kvm, as `twinvm run --backend
 * kvm --mode protected` does: 2 MiB of RAM with the image at 0, one vCPU with CR0.PE and flat
 * 4 GiB segments set through KVM_SET_SREGS (KVM takes the hidden parts from there: no GDT in
 * memory), the stack below 0xF000, a KVM_RUN loop that prints HC_print8bit's byte, to the HLT.
 * Nothing of twinvm is linked in but the guest's bytes. Exit status 0 when the guest halted with
 * 42 in EAX, as hello does. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

extern const uint8_t tv_blob_hello_32[];
extern const size_t tv_blob_hello_32_len;

#define RAM_SIZE (2u << 20)

static int fail(const char *what)
{
	perror(what);
	return 2;
}

static void flat(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
	*s = (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = selector,
				   .type = type, .present = 1, .s = 1, .db = 1, .g = 1 };
}

/* Runs to the HLT; each OUT to 0xE9 prints its bytes. 0, or -1 with errno or a strange exit. */
static int run_loop(int vcpu, struct kvm_run *run)
{
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			return -1;
		if (run->exit_reason == KVM_EXIT_HLT)
			return 0;
		if (run->exit_reason != KVM_EXIT_IO)
			return -1;
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0xE9) /* HC_print8bit */
			for (uint32_t i = 0; i < run->io.count; i++)
				fputc(((uint8_t *)run)[run->io.data_offset + i * run->io.size], stdout);
	}
}

int main(void)
{
	struct kvm_regs regs = { .rip = 0, .rsp = 0xF000, .rflags = 2 };
	struct kvm_sregs sregs;
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	void *ram;

	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		return fail("/dev/kvm");
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return fail("mmap");
	memcpy(ram, tv_blob_hello_32, tv_blob_hello_32_len);
	struct kvm_userspace_memory_region region = { .memory_size = RAM_SIZE,
						       .userspace_addr = (uintptr_t)ram };
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0 ||
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 ||
	    (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) < 0)
		return fail("KVM set-up");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM vCPU");
	flat(&sregs.cs, 0x08, 0xb);
	flat(&sregs.ds, 0x10, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 |= 1; /* PE */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM registers");
	if (run_loop(vcpu, run) != 0 || ioctl(vcpu, KVM_GET_REGS, &regs) < 0) {
		fprintf(stderr, "twinvm-raw-kvm: the guest did not halt (exit reason %u)\n",
			run->exit_reason);
		return 2;
	}
	return regs.rax == 42 ? 0 : 1;
}
