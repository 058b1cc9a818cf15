/* The CPU models and the measurement of their CPUID (emu_cpu_models.h): the code both the
 * process (emu_cpu.c, when the build's table is not for its Unicorn) and the build's generator
 * (emu_cpu_gen.c) run, so the two cannot measure differently. */
#include "emu_cpu_models.h"

#include <stdio.h>
#include <string.h>

#if EMU_HAVE_CPU_MODEL

/* The order of enum uc_cpu_x86, oldest family first within each vendor: "later" breaks ties. */
const struct emu_cpu_id emu_cpu_models[EMU_CPU_NMODELS] = {
	{ "qemu64", UC_CPU_X86_QEMU64 },
	{ "phenom", UC_CPU_X86_PHENOM },
	{ "core2duo", UC_CPU_X86_CORE2DUO },
	{ "kvm64", UC_CPU_X86_KVM64 },
	{ "qemu32", UC_CPU_X86_QEMU32 },
	{ "kvm32", UC_CPU_X86_KVM32 },
	{ "coreduo", UC_CPU_X86_COREDUO },
	{ "486", UC_CPU_X86_486 },
	{ "pentium", UC_CPU_X86_PENTIUM },
	{ "pentium2", UC_CPU_X86_PENTIUM2 },
	{ "pentium3", UC_CPU_X86_PENTIUM3 },
	{ "athlon", UC_CPU_X86_ATHLON },
	{ "n270", UC_CPU_X86_N270 },
	{ "conroe", UC_CPU_X86_CONROE },
	{ "penryn", UC_CPU_X86_PENRYN },
	{ "nehalem", UC_CPU_X86_NEHALEM },
	{ "westmere", UC_CPU_X86_WESTMERE },
	{ "sandybridge", UC_CPU_X86_SANDYBRIDGE },
	{ "ivybridge", UC_CPU_X86_IVYBRIDGE },
	{ "haswell", UC_CPU_X86_HASWELL },
	{ "broadwell", UC_CPU_X86_BROADWELL },
	{ "skylake-client", UC_CPU_X86_SKYLAKE_CLIENT },
	{ "skylake-server", UC_CPU_X86_SKYLAKE_SERVER },
	{ "cascadelake-server", UC_CPU_X86_CASCADELAKE_SERVER },
	{ "cooperlake", UC_CPU_X86_COOPERLAKE },
	{ "icelake-client", UC_CPU_X86_ICELAKE_CLIENT },
	{ "icelake-server", UC_CPU_X86_ICELAKE_SERVER },
	{ "denverton", UC_CPU_X86_DENVERTON },
	{ "snowridge", UC_CPU_X86_SNOWRIDGE },
	{ "knightsmill", UC_CPU_X86_KNIGHTSMILL },
	{ "opteron-g1", UC_CPU_X86_OPTERON_G1 },
	{ "opteron-g2", UC_CPU_X86_OPTERON_G2 },
	{ "opteron-g3", UC_CPU_X86_OPTERON_G3 },
	{ "opteron-g4", UC_CPU_X86_OPTERON_G4 },
	{ "opteron-g5", UC_CPU_X86_OPTERON_G5 },
	{ "epyc", UC_CPU_X86_EPYC },
	{ "dhyana", UC_CPU_X86_DHYANA },
	{ "epyc-rome", UC_CPU_X86_EPYC_ROME },
};

/* The feature leaves, their range leaves, and 0x80000008 (MAXPHYADDR, which every machine
 * asks). */
const uint32_t emu_cpu_queries[EMU_CPU_QUERIES][2] = {
	{ 0, 0 }, { 1, 0 }, { 7, 0 }, { 0x80000000u, 0 }, { 0x80000001u, 0 }, { 0x80000008u, 0 },
};

static unsigned long measured; /* scratch instances opened by emu_cpu_measure */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

#define SCRATCH_CODE 0x1000u
#define SCRATCH_DATA 0x2000u

/* 64-bit code that runs cpuid for every query and stores EAX, EBX, ECX, EDX at SCRATCH_DATA. */
static size_t scratch_code(uint8_t *code)
{
	static const uint8_t modrm[4] = { 0x04, 0x1c, 0x0c, 0x14 }; /* [disp32] <- eax ebx ecx edx */
	size_t n = 0;

	for (unsigned q = 0; q < EMU_CPU_QUERIES; q++) {
		code[n++] = 0xb8; /* mov eax, leaf */
		put32(code + n, emu_cpu_queries[q][0]);
		n += 4;
		code[n++] = 0xb9; /* mov ecx, subleaf */
		put32(code + n, emu_cpu_queries[q][1]);
		n += 4;
		code[n++] = 0x0f; /* cpuid */
		code[n++] = 0xa2;
		for (unsigned r = 0; r < 4; r++) {
			code[n++] = 0x89; /* mov [SCRATCH_DATA + 16q + 4r], reg (SIB: no base) */
			code[n++] = modrm[r];
			code[n++] = 0x25;
			put32(code + n, SCRATCH_DATA + 16 * q + 4 * r);
			n += 4;
		}
	}
	return n;
}

uc_err emu_cpu_measure(int id, uint32_t out[EMU_CPU_QUERIES][4])
{
	uint8_t code[EMU_CPU_QUERIES * 40];
	size_t len = scratch_code(code);
	uc_engine *uc;
	uc_err err;

	if (emu_uc_load() != 0)
		return UC_ERR_ARCH; /* no Unicorn to measure with */
	err = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
	if (err)
		return err;
	__atomic_add_fetch(&measured, 1, __ATOMIC_RELAXED);
	err = uc_ctl_set_cpu_model(uc, id);
#ifdef uc_ctl_set_tcg_buffer_size
	if (!err) /* a few instructions: nothing like the default 1 GiB buffer */
		err = uc_ctl_set_tcg_buffer_size(uc, 1u << 20);
#endif
	if (!err)
		err = uc_mem_map(uc, SCRATCH_CODE, 0x2000, UC_PROT_ALL);
	if (!err)
		err = uc_mem_write(uc, SCRATCH_CODE, code, len);
	if (!err)
		err = uc_emu_start(uc, SCRATCH_CODE, SCRATCH_CODE + len, 0, 0);
	if (!err)
		err = uc_mem_read(uc, SCRATCH_DATA, out, sizeof(uint32_t) * 4 * EMU_CPU_QUERIES);
	uc_close(uc);
	return err;
}

void emu_cpu_measure_all(struct emu_cpu_answers m[EMU_CPU_NMODELS], char *error, size_t len)
{
	if (len)
		error[0] = '\0';
	for (size_t i = 0; i < EMU_CPU_NMODELS; i++) {
		uc_err err = emu_cpu_measure(emu_cpu_models[i].id, m[i].out);

		m[i].ok = err == UC_ERR_OK;
		if (err && len && !error[0])
			snprintf(error, len, "model %s: %s", emu_cpu_models[i].name,
				 uc_strerror(err));
	}
}

unsigned long emu_cpu_measured_count(void)
{
	return __atomic_load_n(&measured, __ATOMIC_RELAXED);
}

#endif
