/* The Unicorn engine, its VMs and vCPUs: the library checked at open, a VM's RAM and CPU model
 * (its instance opens later, emu_instance.c), the vCPU's exit queue and hooks, and the calls on
 * the whole CPU state (snapshot) or its translations (code_written). */
#include "../cpuid_table.h"
#include "emu.h"
#include "emu_env.h"
#include "x86.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* VMs opened by this process, to number them. */
static atomic_int emu_vm_count;

int emu_open(struct tv_engine **out, FILE *api_log)
{
	struct tv_engine *e;
	unsigned major, minor;
	int rc = emu_uc_load();

	if (rc)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e) {
		tv_set_error("Unicorn engine: out of memory");
		return -ENOMEM;
	}
	e->log = api_log;
	e->model = EMU_MODEL_DEFAULT;
	e->version = uc_version(&major, &minor);
	EMU_STEP(e->log, "the library this code runs on: 2.x, paging needs 2.1",
		 "uc_version() = 0x%08x (%u.%u)", e->version, major, minor);
	if (major < 2) {
		tv_set_error("Unicorn %u.%u: twinvm needs Unicorn 2 or later", major, minor);
		free(e);
		return -ENODEV;
	}
	if (!uc_arch_supported(UC_ARCH_X86)) {
		EMU_LOG(e->log, "uc_arch_supported(UC_ARCH_X86) = false");
		tv_set_error("Unicorn %u.%u was built without x86 support", major, minor);
		free(e);
		return -ENODEV;
	}
	/* 2.0 walks the guest's page tables for faults but translates virtual = physical. */
	e->mmu = major > 2 || minor >= 1;
	*out = e;
	return 0;
}

void emu_close(struct tv_engine *e)
{
	free(e);
}

int emu_set_cpu_model(struct tv_engine *e, const char *name)
{
	int model = name ? emu_cpu_find(name) : EMU_MODEL_DEFAULT;

	EMU_LOG(e->log, "set_cpu_model(%s) = %s", name ? name : "default",
		model >= EMU_MODEL_DEFAULT ? "ok" : tv_last_error());
	if (model < EMU_MODEL_DEFAULT)
		return model;
	e->model = model;
	return 0;
}

int emu_get_caps(struct tv_engine *e, struct tv_caps *caps)
{
	memset(caps, 0, sizeof(*caps));
	snprintf(caps->version, sizeof(caps->version), "Unicorn %u.%u.%u", e->version >> 24,
		 (e->version >> 16) & 0xff, (e->version >> 8) & 0xff);
	caps->mmu_translates = e->mmu;
	caps->single_step = true;
	snprintf(caps->notes, sizeof(caps->notes),
		 "uc_open once per VM in the guest's mode (UC_MODE_16/32/64), again when it changes\n"
		 "RAM: uc_mem_map_ptr; MMIO up to 4 GiB: uc_mmio_map\n"
		 "port I/O: UC_HOOK_INSN IN/OUT, one exit per string element\n"
		 "exceptions: %s\n"
		 "precise and step: UC_HOOK_CODE (much slower)\n"
		 "preemptible: UC_HOOK_BLOCK\n"
		 "%s\n"
		 "translate: none (Unicorn has no call for it)\n"
		 "CPU model: %s\n",
		 emu_env_layout() == 0
			 ? "UC_HOOK_INTR stops, delivered in software through the guest's IVT or IDT"
			 : "UC_HOOK_INTR stops; not delivered (this Unicorn's CPU state is not laid "
			   "out as expected): SHUTDOWN",
		 e->mmu ? "TLB: UC_TLB_CPU (the guest's page tables)"
			: "TLB: virtual = physical (Unicorn before 2.1 ignores page tables)",
		 EMU_HAVE_CPU_MODEL ? "uc_ctl_set_cpu_model after every uc_open (--cpu)"
				    : "Unicorn's default (this Unicorn cannot pick one)");
	return 0;
}

int emu_vm_create(struct tv_engine *e, void *ram, uint64_t ram_size, struct tv_vm **out)
{
	struct tv_vm *vm;

	if (!ram || ((uintptr_t)ram & 0xfff) || !ram_size || (ram_size & 0xfff)) {
		tv_set_error("vm_create: guest RAM must be page aligned and a non-zero multiple of "
			     "4 KiB (%p, 0x%" PRIx64 " bytes)", ram, ram_size);
		return -EINVAL;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		tv_set_error("Unicorn VM: out of memory");
		return -ENOMEM;
	}
	vm->e = e;
	vm->ram = ram;
	vm->ram_size = ram_size;
	vm->label = atomic_fetch_add(&emu_vm_count, 1) + 1;
	/* Before the VM's instance opens: the default is measured on scratch instances, and
	 * Unicorn leaks when two are open at once. */
	vm->model = emu_cpu_resolve(e->model);
	/* No instance yet: the first set_sregs opens it in the mode the guest needs (emu_instance.c),
	 * so that a VM pays for one uc_open. */
	vm->mode = UC_MODE_16;
	*out = vm;
	return 0;
}

void emu_vm_destroy(struct tv_vm *vm)
{
	uc_err err;

	if (!vm)
		return;
	if (vm->vcpu)
		vm->vcpu->vm = NULL; /* its hooks go with the instance */
	if (vm->uc) {
		err = uc_close(vm->uc);
		EMU_STEP(vm->e->log, "the VM and its CPU freed (our RAM buffer stays ours)",
			 "uc_close(%p) = %s", (void *)vm->uc, emu_err_name(err));
	}
	free(vm);
}

int emu_vm_label(struct tv_vm *vm)
{
	return vm->label;
}

/* The hooks of a vCPU created on a VM whose instance is open already (its previous vCPU was
 * destroyed): the blocks that called the old one's code or block hook go first. */
static int emu_vcpu_attach(struct tv_vcpu *v)
{
	if (v->vm->tb_stale) {
		int rc = emu_flush_tb(v);

		if (rc)
			return rc;
		v->vm->tb_stale = false;
	}
	return emu_hooks_install(v, false);
}

int emu_vcpu_create(struct tv_vm *vm, const struct tv_vcpu_config *cfg,
			   struct tv_vcpu **out)
{
	struct tv_vcpu *v;
	int rc;

	if (!cfg || !cfg->on_io) {
		tv_set_error("vcpu_create: an I/O handler is mandatory");
		return -EINVAL;
	}
	if (vm->vcpu) {
		tv_set_error("vcpu_create: the emulator backend runs one vCPU per VM");
		return -EBUSY;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		tv_set_error("Unicorn vCPU: out of memory");
		return -ENOMEM;
	}
	v->vm = vm;
	v->log = vm->e->log;
	v->cfg = *cfg;
	v->cfg.cpuid = NULL; /* the caller's: v->cpuid is the vCPU's own copy */
	if (cfg->cpuid && (rc = tv_cpuid_table_copy(&v->cpuid, cfg->cpuid)) != 0) {
		free(v);
		return rc;
	}
	v->io_fast = !v->log;
	emu_exits_init(v);
	if (!emu_queue_room(v)) { /* the fast mode keeps its stopping exit in slot 0 */
		tv_cpuid_table_free(&v->cpuid);
		free(v);
		tv_set_error("Unicorn vCPU: out of memory");
		return -ENOMEM;
	}
	v->exception = -1;
	v->dbg.hit = -1;
	v->irq = -1;
	v->regs_unopened.rflags = TV_RFLAGS_FIXED; /* as a CPU comes out of reset */
	v->msr.apic_base = TV_APIC_BASE_RESET;
	v->msr.apic = cfg->apic_base_msr;
	v->msr.dr[7] = TV_DR7_RESET;
	if (!(v->msr.pages = calloc(EMU_MSR_PAGES, sizeof(uint64_t)))) {
		tv_cpuid_table_free(&v->cpuid);
		free(v->queue);
		free(v);
		tv_set_error("Unicorn vCPU: out of memory");
		return -ENOMEM;
	}
	atomic_init(&v->async_uc, NULL);
	rc = vm->uc ? emu_vcpu_attach(v) : 0;
	if (rc) {
		emu_hooks_remove(v);
		tv_cpuid_table_free(&v->cpuid);
		free(v->msr.pages);
		free(v->queue);
		free(v);
		return rc;
	}
	vm->vcpu = v;
	*out = v;
	return 0;
}

void emu_vcpu_destroy(struct tv_vcpu *v)
{
	if (!v)
		return;
	if (v->vm) {
		if (v->vm->uc)
			emu_hooks_remove(v);
		v->vm->vcpu = NULL;
	}
	if (v->snap)
		uc_context_free(v->snap);
	tv_cpuid_table_free(&v->cpuid);
	free(v->msr.pages);
	free(v->queue);
	free(v);
}

/* The whole translation cache is flushed, not the range: uc_ctl_remove_cache (2.1.1) was seen to
 * loop for good inside tb_invalidate_phys_range after a few hundred thousand snippets of the
 * fuzzer rewritten at one address. A flush costs the next run a fresh translation, which a
 * rewritten snippet needs anyway. */
int emu_code_written(struct tv_vcpu *v, uint64_t addr, uint64_t len)
{
	if (emu_instance_lost(v->vm))
		return -EIO;
	if (!len || addr > UINT64_MAX - len)
		return -EINVAL;
	emu_sites_forget_pages(v); /* the new code may name IA32_APIC_BASE */
	if (!v->vm->uc)
		return 0; /* nothing translated yet */
	EMU_LOG(v->log, "0x%" PRIx64 "-0x%" PRIx64 " rewritten: every block dropped", addr,
		addr + len);
	return emu_flush_tb(v);
}

/* The whole CPU state through Unicorn's context, with what this backend keeps of it itself: the
 * uc mode, the segments' hidden parts, R8-R15 outside UC_MODE_64, IA32_APIC_BASE. */
int emu_snapshot(struct tv_vcpu *v, bool restore)
{
	uc_err err;
	int rc = emu_instance_need(v);

	if (rc)
		return rc;
	if (restore) {
		if (!v->snap) {
			tv_set_error("snapshot: nothing saved to restore");
			return -ENOENT;
		}
		if (v->snap_mode != v->vm->mode) {
			tv_set_error("snapshot: saved in %s, the instance is now %s",
				     emu_mode_name(v->snap_mode), emu_mode_name(v->vm->mode));
			return -EINVAL;
		}
		err = uc_context_restore(v->vm->uc, v->snap);
		EMU_LOG(v->log, "uc_context_restore(%p) = %s", (void *)v->vm->uc, emu_err_name(err));
		if (err)
			return emu_fail("uc_context_restore", err);
		v->shadow = v->snap_shadow;
		v->shadow_valid = v->snap_shadow_valid;
		memcpy(v->high_regs, v->snap_high, sizeof(v->high_regs));
		memcpy(v->high_env, v->snap_high_env, sizeof(v->high_env));
		v->msr.apic_base = v->snap_apic_base;
		return 0;
	}
	if (v->snap) {
		uc_context_free(v->snap); /* it may belong to an instance since replaced */
		v->snap = NULL;
	}
	err = uc_context_alloc(v->vm->uc, &v->snap);
	if (!err)
		err = uc_context_save(v->vm->uc, v->snap);
	EMU_LOG(v->log, "uc_context_alloc + uc_context_save(%p) = %s", (void *)v->vm->uc,
		emu_err_name(err));
	if (err) {
		if (v->snap)
			uc_context_free(v->snap);
		v->snap = NULL;
		return emu_fail("uc_context_save", err);
	}
	v->snap_mode = v->vm->mode;
	v->snap_shadow = v->shadow;
	v->snap_shadow_valid = v->shadow_valid;
	memcpy(v->snap_high, v->high_regs, sizeof(v->high_regs));
	memcpy(v->snap_high_env, v->high_env, sizeof(v->high_env));
	v->snap_apic_base = v->msr.apic_base;
	return 0;
}
