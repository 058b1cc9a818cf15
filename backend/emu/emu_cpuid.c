/* The guest's CPUID on the emulator. Unicorn has no call that reports it, and running cpuid on
 * the vCPU's own instance would disturb the guest's registers. The leaves measured when the CPU
 * models were (emu_cpu.c) are answered from there; any other runs on a scratch instance of the
 * VM's model. The answer depends on the model only (not on the uc mode: measured), so one per
 * model and leaf holds for every vCPU of the process; it is cached.
 *
 * A vCPU given a table (tv_vcpu_config.cpuid: twinvm diff gives KVM's) answers from it instead,
 * both here and to the guest's instruction (emu_on_cpuid), by KVM's rules (cpuid_table.h). */
#include "../backend.h"
#include "../cpuid_table.h"
#include "emu.h"
#include "pagewalk.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#if UC_API_MAJOR > 2 || (UC_API_MAJOR == 2 && UC_API_MINOR >= 1)
#define EMU_HAVE_TCG_CTL 1
#else
#define EMU_HAVE_TCG_CTL 0
#endif

#define SCRATCH_CODE 0x1000ull
/* The scratch instance translates two bytes: it needs nothing like the default 1 GiB buffer. */
#define SCRATCH_TCG_BUFFER (1u << 20)
#define CACHE_SIZE 16

static struct {
	int model;
	uint32_t leaf, subleaf, out[4];
} cache[CACHE_SIZE];
static unsigned cache_len;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Runs cpuid with EAX = leaf, ECX = subleaf on a fresh UC_MODE_64 instance of model. */
static int cpuid_scratch(int model, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	static const uint8_t code[] = { 0x0f, 0xa2 }; /* cpuid */
	static const int ids[4] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX };
	uint64_t rax = leaf, rcx = subleaf, val;
	uc_engine *uc;
	uc_err err;
	int rc = 0;

	err = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
	if (err)
		return emu_fail("uc_open (cpuid)", err);
	rc = emu_cpu_apply(uc, model, NULL);
	if (rc) {
		uc_close(uc);
		return rc;
	}
#if EMU_HAVE_TCG_CTL
	err = uc_ctl_set_tcg_buffer_size(uc, SCRATCH_TCG_BUFFER);
#endif
	if (!err)
		err = uc_mem_map(uc, SCRATCH_CODE, 0x1000, UC_PROT_ALL);
	if (!err)
		err = uc_mem_write(uc, SCRATCH_CODE, code, sizeof(code));
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_RAX, &rax);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
	if (!err)
		err = uc_emu_start(uc, SCRATCH_CODE, SCRATCH_CODE + sizeof(code), 0, 1);
	for (int i = 0; !err && i < 4; i++) {
		err = uc_reg_read(uc, ids[i], &val);
		out[i] = (uint32_t)val;
	}
	if (err)
		rc = emu_fail("cpuid on a scratch instance", err);
	uc_close(uc);
	return rc;
}

/* The cached answer for leaf.subleaf into out; false when there is none yet. */
static bool cache_find(int model, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	bool found = false;

	pthread_mutex_lock(&cache_lock);
	for (unsigned i = 0; i < cache_len && !found; i++) {
		if (cache[i].model == model && cache[i].leaf == leaf &&
		    cache[i].subleaf == subleaf) {
			memcpy(out, cache[i].out, sizeof(cache[i].out));
			found = true;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

static void cache_add(int model, uint32_t leaf, uint32_t subleaf, const uint32_t out[4])
{
	pthread_mutex_lock(&cache_lock);
	if (cache_len < CACHE_SIZE) {
		cache[cache_len].model = model;
		cache[cache_len].leaf = leaf;
		cache[cache_len].subleaf = subleaf;
		memcpy(cache[cache_len].out, out, sizeof(cache[cache_len].out));
		cache_len++;
	}
	pthread_mutex_unlock(&cache_lock);
}

/* CR4 as the guest has it now: OSXSAVE and OSPKE in a table's answers follow it. */
static uint64_t guest_cr4(struct tv_vcpu *v)
{
	uint64_t cr4 = 0;

	if (v->vm && v->vm->uc && uc_reg_read(v->vm->uc, UC_X86_REG_CR4, &cr4) != UC_ERR_OK)
		cr4 = 0;
	return v->vm && v->vm->uc ? cr4 : v->shadow.cr4;
}

int emu_on_cpuid(uc_engine *uc, void *user)
{
	static const int in[2] = { UC_X86_REG_EAX, UC_X86_REG_ECX };
	struct tv_vcpu *v = user;
	bool wide = v->vm->mode == UC_MODE_64;
	const int out_ids[4] = { wide ? UC_X86_REG_RAX : UC_X86_REG_EAX,
				 wide ? UC_X86_REG_RBX : UC_X86_REG_EBX,
				 wide ? UC_X86_REG_RCX : UC_X86_REG_ECX,
				 wide ? UC_X86_REG_RDX : UC_X86_REG_EDX };
	uint64_t q[2] = { 0, 0 };
	uint32_t out[4];

	for (int i = 0; i < 2; i++)
		if (uc_reg_read(uc, in[i], &q[i]) != UC_ERR_OK)
			return 0; /* Unicorn's own answer rather than none */
	tv_cpuid_table_answer(&v->cpuid, (uint32_t)q[0], (uint32_t)q[1], guest_cr4(v), out);
	for (int i = 0; i < 4; i++) {
		uint64_t value = out[i]; /* zero-extended in 64-bit mode, as the CPU does */

		uc_reg_write(uc, out_ids[i], &value);
	}
	EMU_LOG(v->log, "  hook CPUID(0x%x.%u): eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x (the given table)",
		(uint32_t)q[0], (uint32_t)q[1], out[0], out[1], out[2], out[3]);
	return 1; /* Unicorn's cpuid skipped */
}

int emu_cpuid(struct tv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	int model = v->vm ? v->vm->model : EMU_MODEL_DEFAULT;
	bool cached;
	int rc = 0;

	if (v->cpuid.n) {
		tv_cpuid_table_answer(&v->cpuid, leaf, subleaf, guest_cr4(v), out);
		return 0;
	}
	cached = emu_cpu_leaf(model, leaf, subleaf, out) || cache_find(model, leaf, subleaf, out);
	if (!cached) {
		rc = cpuid_scratch(model, leaf, subleaf, out);
		if (rc) {
			EMU_LOG(v->log, "cpuid(0x%x.%u) on a scratch UC_MODE_64 %s instance = %s", leaf,
				subleaf, emu_cpu_name(model), tv_last_error());
			return rc;
		}
		cache_add(model, leaf, subleaf, out);
	}
	EMU_LOG(v->log, "cpuid(0x%x.%u) = eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x (%s, %s)", leaf,
		subleaf, out[0], out[1], out[2], out[3], emu_cpu_name(model),
		cached ? "cached" : "run on a scratch UC_MODE_64 instance");
	return 0;
}

unsigned emu_maxphyaddr(struct tv_vcpu *v)
{
	uint32_t out[4];

	if (emu_cpuid(v, 0x80000008u, 0, out) != 0 || (out[0] & 0xff) < TV_MAXPHYADDR_MIN ||
	    (out[0] & 0xff) > TV_MAXPHYADDR_MAX)
		return TV_MAXPHYADDR_DEFAULT;
	return out[0] & 0xff;
}
