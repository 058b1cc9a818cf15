/* Whether this KVM's debug registers stop a guest, found by running one: KVM_SET_GUEST_DEBUG
 * takes DR0-DR3 and DR7 on any KVM that knows USE_HW_BP, but a KVM may still not stop at them.
 * kvm-pvm (6.18) stops at breakpoints and not at watchpoints: its guests' memory accesses never
 * raise the data breakpoint (measured in real, protected and long mode). */
#include "kvm.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#define PROBE_RAM 0x10000ul
#define PROBE_DATA 0x100 /* the byte the probe writes */
#define PROBE_NOP 5      /* the instruction after the write */

/* Real mode at 0: mov byte [0x100], 1; nop; hlt. */
static const uint8_t probe_code[] = { 0xc6, 0x06, 0x00, 0x01, 0x01, 0x90, 0xf4 };

static int probe_io(void *ctx, struct tv_exit *exit)
{
	(void)ctx;
	(void)exit;
	return TV_IO_CONTINUE;
}

/* The vCPU at 0 in real mode with a WRITE point on the byte and an EXEC point on the nop. */
static int probe_setup(struct tv_vcpu *v)
{
	struct kvm_regs regs = { .rip = 0, .rsp = 0xf000, .rflags = 2 };
	struct kvm_sregs sregs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	v->points[0] = (struct tv_debug_point){ .kind = TV_DEBUG_WRITE, .addr = PROBE_DATA, .len = 1 };
	v->points[1] = (struct tv_debug_point){ .kind = TV_DEBUG_EXEC, .addr = PROBE_NOP, .len = 1 };
	v->npoints = 2;
	return kvm_guest_debug_apply(v, 0);
}

/* Runs the probe to its breakpoint (or at most three exits), noting in saw what stopped it. */
static int probe_run(struct tv_vcpu *v, bool *bp, bool *wp, char *saw, size_t len)
{
	const struct kvm_run *run = v->run;

	for (int i = 0; i < 3 && !*bp; i++) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0)
			return -errno;
		if (run->exit_reason != KVM_EXIT_DEBUG) {
			snprintf(saw, len, "%s", kvm_exit_name(run->exit_reason));
			return 0;
		}
		*wp = *wp || (run->debug.arch.dr6 & 1);
		*bp = run->debug.arch.dr6 & 2;
		snprintf(saw, len, "KVM_EXIT_DEBUG dr6 0x%llx pc 0x%llx",
			 (unsigned long long)run->debug.arch.dr6, (unsigned long long)run->debug.arch.pc);
	}
	return 0;
}

/* One probe VM on e (its --trace-api lines left out): 0, or -errno with the reason set. */
static int probe_vm(struct tv_engine *e, bool *bp, bool *wp, char *saw, size_t len)
{
	struct tv_engine quiet = *e;
	struct tv_vcpu_config cfg = { .on_io = probe_io };
	struct tv_vm *vm = NULL;
	struct tv_vcpu *v = NULL;
	void *ram;
	int ret;

	ram = mmap(NULL, PROBE_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return -ENOMEM;
	memcpy(ram, probe_code, sizeof(probe_code));
	quiet.log = NULL;
	ret = kvm_vm_create(&quiet, ram, PROBE_RAM, &vm);
	if (!ret)
		ret = kvm_vcpu_create(vm, &cfg, &v);
	if (!ret)
		ret = probe_setup(v);
	if (!ret)
		ret = probe_run(v, bp, wp, saw, len);
	kvm_vcpu_destroy(v);
	kvm_vm_destroy(vm);
	munmap(ram, PROBE_RAM);
	return ret;
}

void kvm_debug_probe(struct tv_engine *e)
{
	bool bp = false, wp = false;
	char saw[96] = "no exit";
	int ret;

	if (e->breakpoints_fire >= 0 || e->debug_probe[0])
		return;
	if (!e->has_guest_debug) {
		snprintf(e->debug_probe, sizeof(e->debug_probe), "none (no KVM_CAP_SET_GUEST_DEBUG)");
		e->breakpoints_fire = e->watchpoints_fire = 0;
		return;
	}
	ret = probe_vm(e, &bp, &wp, saw, sizeof(saw));
	if (ret < 0) { /* unknown: set_debug_points lets the points be tried */
		snprintf(e->debug_probe, sizeof(e->debug_probe), "unknown (the probe guest failed: %s)",
			 strerror(-ret));
		return;
	}
	e->breakpoints_fire = bp;
	e->watchpoints_fire = wp;
	snprintf(e->debug_probe, sizeof(e->debug_probe),
		 "%s (a real-mode probe guest with a WRITE point on a byte it writes and an EXEC "
		 "point on the next instruction stopped with %s)",
		 bp && wp ? "breakpoints and watchpoints"
		 : bp	  ? "breakpoints only, watchpoints do not fire"
		 : wp	  ? "watchpoints only, breakpoints do not fire"
			  : "none fire",
		 saw);
}
