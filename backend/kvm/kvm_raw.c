/* The benchmarks' baseline on KVM: the least code that runs a real-mode guest to HLT, written
 * straight against /dev/kvm as kvm-hello-world does, with nothing of twinvm in the loop (an OUT
 * exit is counted, and HC_print8bit's byte printed when asked). What `twinvm bench` compares
 * twinvm's own run loop with. */
#include "../backend.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm_raw.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	int err = errno;

	tv_set_error("%s: %s", what, strerror(err));
	return -err;
}

/* The least a hypervisor does for HC_print8bit: each byte into a stdio buffer. */
static void print_out(const struct kvm_run *run, const struct tv_raw_io *io)
{
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != io->print_port)
		return;
	for (uint32_t i = 0; i < run->io.count; i++)
		fputc(data[(size_t)i * run->io.size], io->console);
}

int kvm_raw_run(void *ram, uint64_t ram_size, const struct tv_raw_io *io,
		struct tv_raw_result *res)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
		.userspace_addr = (uintptr_t)ram,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rsp = 0xf000, .rflags = 2 };
	struct kvm_run *run = MAP_FAILED;
	int kvm, vm = -1, vcpu = -1, size, rc = 0;
	double t0;

	/* io->hook is not asked: KVM always exits to user space for port I/O */
	memset(res, 0, sizeof(*res));
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0 || ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0 ||
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 ||
	    (vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) < 0) {
		rc = fail("raw KVM set-up");
		goto out;
	}
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
		rc = fail("raw KVM vCPU");
		goto out;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
		rc = fail("raw KVM registers");
		goto out;
	}

	t0 = now_s();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			rc = fail("KVM_RUN");
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			res->io_exits++;
			if (io->console)
				print_out(run, io);
			continue;
		}
		if (run->exit_reason != KVM_EXIT_HLT) {
			tv_set_error("raw KVM loop: exit reason %u", run->exit_reason);
			rc = -EIO;
		}
		break;
	}
	res->seconds = now_s() - t0;
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)size);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return rc;
}
