/* The emulator's CPU models: the Unicorn model every instance of a VM is opened with, and the
 * default one, chosen once per process.
 *
 * Unicorn's own default (qemu64) lacks popcnt, lzcnt, BMI1, BMI2 and ADX, so a guest built for a
 * current CPU takes #UD on the emulator where KVM runs it. The default here is the model closest
 * to the host's CPU that offers nothing the host lacks: for every model, the feature bits its
 * CPUID reports (leaves 1 ECX/EDX, 7.0 EBX/ECX/EDX, 0x80000001 ECX/EDX) are compared with the
 * host's own cpuid's, those that are a subset are kept, and the one with the most bits wins (a
 * tie goes to the later, newer model). So the emulator offers what a KVM guest sees wherever
 * Unicorn implements it, and never an instruction the host's KVM guest would take #UD on.
 *
 * What each model's CPUID answers depends on the Unicorn library only. The build measures it
 * (emu_cpu_gen.c) into a table; a process whose Unicorn is the one measured takes the answers
 * from there, and only runs the host's cpuid. Any other process measures them itself at its
 * first VM, before that VM's instance is opened: one scratch instance per model (38, 0.1 ms
 * each here, emu_cpu_models.c). Either way the answers also serve the guest's CPUID for the
 * leaves they cover (emu_cpuid.c). */
#include "../backend.h"
#include "emu.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define EMU_HOST_X86 1
#else
#define EMU_HOST_X86 0
#endif

#if EMU_HAVE_CPU_MODEL

/* Indices into emu_cpu_queries. */
enum { Q_MAX, Q_1, Q_7, Q_XMAX, Q_X1, Q_X8 };

/* Feature words: 1.ECX, 1.EDX, 7.0.EBX, 7.0.ECX, 7.0.EDX, 0x80000001.ECX, 0x80000001.EDX. */
#define NWORDS 7
static const char *const word_names[NWORDS] = { "1.ecx", "1.edx", "7.ebx", "7.ecx", "7.edx",
						 "80000001.ecx", "80000001.edx" };
/* Bits that say what the OS or a hypervisor enabled, not what the CPU can run: OSXSAVE
 * (CR4.OSXSAVE), the hypervisor bit, OSPKE (CR4.PKE). */
static const uint32_t not_features[NWORDS] = { (1u << 27) | (1u << 31), 0, 0, 1u << 4, 0, 0, 0 };
/* AMD repeats most of leaf 1 EDX in 0x80000001 EDX; they are named once, as one item. */
#define AMD_EDX_COPIES 0x0183f3ffu

/* The names Linux gives in /proc/cpuinfo, so `grep flags /proc/cpuinfo` reads alongside. */
static const struct {
	uint8_t word, bit;
	const char *name;
} feature_names[] = {
	{ 0, 0, "pni" }, { 0, 1, "pclmulqdq" }, { 0, 2, "dtes64" }, { 0, 3, "monitor" },
	{ 0, 4, "ds_cpl" }, { 0, 5, "vmx" }, { 0, 6, "smx" }, { 0, 7, "est" }, { 0, 8, "tm2" },
	{ 0, 9, "ssse3" }, { 0, 10, "cid" }, { 0, 11, "sdbg" }, { 0, 12, "fma" }, { 0, 13, "cx16" },
	{ 0, 14, "xtpr" }, { 0, 15, "pdcm" }, { 0, 17, "pcid" }, { 0, 18, "dca" },
	{ 0, 19, "sse4_1" }, { 0, 20, "sse4_2" }, { 0, 21, "x2apic" }, { 0, 22, "movbe" },
	{ 0, 23, "popcnt" }, { 0, 24, "tsc_deadline_timer" }, { 0, 25, "aes" }, { 0, 26, "xsave" },
	{ 0, 28, "avx" }, { 0, 29, "f16c" }, { 0, 30, "rdrand" },

	{ 1, 0, "fpu" }, { 1, 1, "vme" }, { 1, 2, "de" }, { 1, 3, "pse" }, { 1, 4, "tsc" },
	{ 1, 5, "msr" }, { 1, 6, "pae" }, { 1, 7, "mce" }, { 1, 8, "cx8" }, { 1, 9, "apic" },
	{ 1, 11, "sep" }, { 1, 12, "mtrr" }, { 1, 13, "pge" }, { 1, 14, "mca" }, { 1, 15, "cmov" },
	{ 1, 16, "pat" }, { 1, 17, "pse36" }, { 1, 18, "pn" }, { 1, 19, "clflush" }, { 1, 21, "dts" },
	{ 1, 22, "acpi" }, { 1, 23, "mmx" }, { 1, 24, "fxsr" }, { 1, 25, "sse" }, { 1, 26, "sse2" },
	{ 1, 27, "ss" }, { 1, 28, "ht" }, { 1, 29, "tm" }, { 1, 30, "ia64" }, { 1, 31, "pbe" },

	{ 2, 0, "fsgsbase" }, { 2, 1, "tsc_adjust" }, { 2, 2, "sgx" }, { 2, 3, "bmi1" },
	{ 2, 4, "hle" }, { 2, 5, "avx2" }, { 2, 6, "fdp_excptn_only" }, { 2, 7, "smep" },
	{ 2, 8, "bmi2" }, { 2, 9, "erms" }, { 2, 10, "invpcid" }, { 2, 11, "rtm" }, { 2, 12, "cqm" },
	{ 2, 13, "zero_fcs_fds" }, { 2, 14, "mpx" }, { 2, 15, "rdt_a" }, { 2, 16, "avx512f" },
	{ 2, 17, "avx512dq" }, { 2, 18, "rdseed" }, { 2, 19, "adx" }, { 2, 20, "smap" },
	{ 2, 21, "avx512ifma" }, { 2, 22, "pcommit" }, { 2, 23, "clflushopt" }, { 2, 24, "clwb" },
	{ 2, 25, "intel_pt" }, { 2, 26, "avx512pf" }, { 2, 27, "avx512er" }, { 2, 28, "avx512cd" },
	{ 2, 29, "sha_ni" }, { 2, 30, "avx512bw" }, { 2, 31, "avx512vl" },

	{ 3, 0, "prefetchwt1" }, { 3, 1, "avx512vbmi" }, { 3, 2, "umip" }, { 3, 3, "pku" },
	{ 3, 5, "waitpkg" }, { 3, 6, "avx512_vbmi2" }, { 3, 7, "cet_ss" }, { 3, 8, "gfni" },
	{ 3, 9, "vaes" }, { 3, 10, "vpclmulqdq" }, { 3, 11, "avx512_vnni" },
	{ 3, 12, "avx512_bitalg" }, { 3, 13, "tme" }, { 3, 14, "avx512_vpopcntdq" },
	{ 3, 16, "la57" }, { 3, 22, "rdpid" }, { 3, 23, "kl" }, { 3, 24, "bus_lock_detect" },
	{ 3, 25, "cldemote" }, { 3, 27, "movdiri" }, { 3, 28, "movdir64b" }, { 3, 29, "enqcmd" },
	{ 3, 30, "sgx_lc" },

	{ 4, 2, "avx512_4vnniw" }, { 4, 3, "avx512_4fmaps" }, { 4, 4, "fsrm" },
	{ 4, 8, "avx512_vp2intersect" }, { 4, 10, "md_clear" }, { 4, 14, "serialize" },
	{ 4, 16, "tsxldtrk" }, { 4, 18, "pconfig" }, { 4, 20, "ibt" }, { 4, 22, "amx_bf16" },
	{ 4, 23, "avx512_fp16" }, { 4, 24, "amx_tile" }, { 4, 25, "amx_int8" },
	{ 4, 26, "spec_ctrl" }, { 4, 27, "intel_stibp" }, { 4, 28, "flush_l1d" },
	{ 4, 29, "arch_capabilities" }, { 4, 30, "core_capabilities" }, { 4, 31, "ssbd" },

	{ 5, 0, "lahf_lm" }, { 5, 1, "cmp_legacy" }, { 5, 2, "svm" }, { 5, 3, "extapic" },
	{ 5, 4, "cr8_legacy" }, { 5, 5, "abm(lzcnt)" }, { 5, 6, "sse4a" }, { 5, 7, "misalignsse" },
	{ 5, 8, "3dnowprefetch" }, { 5, 9, "osvw" }, { 5, 10, "ibs" }, { 5, 11, "xop" },
	{ 5, 12, "skinit" }, { 5, 13, "wdt" }, { 5, 15, "lwp" }, { 5, 16, "fma4" }, { 5, 17, "tce" },
	{ 5, 19, "nodeid_msr" }, { 5, 21, "tbm" }, { 5, 22, "topoext" }, { 5, 23, "perfctr_core" },
	{ 5, 24, "perfctr_nb" }, { 5, 26, "bpext" }, { 5, 27, "ptsc" }, { 5, 28, "perfctr_llc" },
	{ 5, 29, "mwaitx" },

	{ 6, 11, "syscall" }, { 6, 19, "mp" }, { 6, 20, "nx" }, { 6, 22, "mmxext" },
	{ 6, 25, "fxsr_opt" }, { 6, 26, "pdpe1gb" }, { 6, 27, "rdtscp" }, { 6, 29, "lm" },
	{ 6, 30, "3dnowext" }, { 6, 31, "3dnow" },
};

static struct {
	pthread_once_t once;
	struct emu_cpu_answers model[EMU_CPU_NMODELS];
	uint32_t words[EMU_CPU_NMODELS][NWORDS]; /* the feature words of each model's answers */
	uint32_t host[NWORDS];
	bool host_known;
	size_t default_model;
	char error[200]; /* the first scratch instance that failed, for the log */
} cpu = { .once = PTHREAD_ONCE_INIT };

/* The feature words of cpuid answers to emu_cpu_queries[], honouring the CPU's range leaves (a
 * leaf past them answers with other data, not with zero). */
static void words_of(const uint32_t out[EMU_CPU_QUERIES][4], uint32_t w[NWORDS])
{
	uint32_t max = out[Q_MAX][0], xmax = out[Q_XMAX][0];
	bool x1 = (xmax & 0xffff0000u) == 0x80000000u && xmax >= 0x80000001u;

	w[0] = max >= 1 ? out[Q_1][2] : 0;
	w[1] = max >= 1 ? out[Q_1][3] : 0;
	for (int i = 0; i < 3; i++)
		w[2 + i] = max >= 7 ? out[Q_7][1 + i] : 0;
	w[5] = x1 ? out[Q_X1][2] : 0;
	w[6] = x1 ? out[Q_X1][3] : 0;
	for (int i = 0; i < NWORDS; i++)
		w[i] &= ~not_features[i];
}

static void measure_host(void)
{
#if EMU_HOST_X86
	uint32_t out[EMU_CPU_QUERIES][4];

	memset(out, 0, sizeof(out));
	for (unsigned q = 0; q < EMU_CPU_QUERIES; q++) /* 0, out left zero, past the range */
		__get_cpuid_count(emu_cpu_queries[q][0], emu_cpu_queries[q][1], &out[q][0],
				  &out[q][1], &out[q][2], &out[q][3]);
	words_of(out, cpu.host);
	cpu.host_known = true;
#endif
}

static unsigned popcount_words(const uint32_t w[NWORDS])
{
	unsigned n = 0;

	for (int i = 0; i < NWORDS; i++)
		n += (unsigned)__builtin_popcount(w[i]);
	return n;
}

static bool subset_of_host(bool ok, const uint32_t words[NWORDS])
{
	if (!ok || !cpu.host_known)
		return false;
	for (int i = 0; i < NWORDS; i++)
		if (words[i] & ~cpu.host[i])
			return false;
	return true;
}

/* The default among the answers m: the model with the most feature bits among those that are a
 * subset of the host's (a tie goes to the later one); Unicorn's own default (qemu64, the first)
 * when none is, or the host is not x86. */
static size_t choose(const struct emu_cpu_answers m[EMU_CPU_NMODELS])
{
	size_t chosen = 0;
	unsigned best = 0;
	uint32_t w[NWORDS];

	for (size_t i = 0; i < EMU_CPU_NMODELS; i++) {
		if (!m[i].ok)
			continue;
		words_of(m[i].out, w);
		if (subset_of_host(true, w) && popcount_words(w) >= best) {
			best = popcount_words(w);
			chosen = i;
		}
	}
	return chosen;
}

#ifdef EMU_CPU_TABLE
/* The answers the build measured (emu_cpu_gen.c), if it measured them on this very Unicorn: the
 * full uc_version(), as another release may change a model's tables. */
static bool from_table(struct emu_cpu_answers m[EMU_CPU_NMODELS])
{
	if (emu_cpu_built.version == 0 || emu_cpu_built.version != uc_version(NULL, NULL))
		return false;
	for (size_t i = 0; i < EMU_CPU_NMODELS; i++)
		if (emu_cpu_built.id[i] != emu_cpu_models[i].id)
			return false;
	for (size_t i = 0; i < EMU_CPU_NMODELS; i++) {
		m[i].ok = true;
		memcpy(m[i].out, emu_cpu_built.out[i], sizeof(m[i].out));
	}
	return true;
}
#else /* a build that could not run its generator (cross) */
static bool from_table(struct emu_cpu_answers m[EMU_CPU_NMODELS])
{
	(void)m;
	return false;
}
#endif

static void measure_all(void)
{
	measure_host();
	if (emu_uc_load() != 0) /* no models then: the reason is what they say */
		snprintf(cpu.error, sizeof(cpu.error), "%s", tv_last_error());
	else if (!from_table(cpu.model))
		emu_cpu_measure_all(cpu.model, cpu.error, sizeof(cpu.error));
	for (size_t i = 0; i < EMU_CPU_NMODELS; i++)
		if (cpu.model[i].ok)
			words_of(cpu.model[i].out, cpu.words[i]);
	cpu.default_model = choose(cpu.model);
}

static void measure(void)
{
	pthread_once(&cpu.once, measure_all);
}

/* Appends the names of the bits in w (per word) to buf, space separated. */
static void name_bits(const uint32_t w[NWORDS], char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int word = 0; word < NWORDS; word++) {
		uint32_t bits = w[word];

		if (word == 6 && (bits & AMD_EDX_COPIES)) {
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? " " : "", "80000001.edx:leaf1-copies");
			bits &= ~AMD_EDX_COPIES;
		}
		for (unsigned bit = 0; bit < 32; bit++) {
			const char *name = NULL;
			char unnamed[32];

			if (!(bits & (1u << bit)))
				continue;
			for (size_t k = 0; k < sizeof(feature_names) / sizeof(feature_names[0]); k++)
				if (feature_names[k].word == word && feature_names[k].bit == bit)
					name = feature_names[k].name;
			if (!name) {
				snprintf(unnamed, sizeof(unnamed), "%s[%u]", word_names[word], bit);
				name = unnamed;
			}
			if (used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
							 name);
		}
	}
}

int emu_cpu_model(size_t i, struct tv_cpu_model *out)
{
	const uint32_t *words;
	uint32_t diff[NWORDS];
	bool ok;

	if (i >= EMU_CPU_NMODELS)
		return -ENOENT;
	measure();
	ok = cpu.model[i].ok;
	words = cpu.words[i];
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", emu_cpu_models[i].name);
	out->is_default = i == cpu.default_model;
	out->host_subset = subset_of_host(ok, words);
	if (!ok) {
		snprintf(out->extra, sizeof(out->extra), "(not measured: %s)", cpu.error);
		return 0;
	}
	out->features = popcount_words(words);
	if (!cpu.host_known) {
		snprintf(out->lacks, sizeof(out->lacks), "(the host's CPU is not x86)");
		return 0;
	}
	for (int w = 0; w < NWORDS; w++)
		diff[w] = cpu.host[w] & ~words[w];
	name_bits(diff, out->lacks, sizeof(out->lacks));
	for (int w = 0; w < NWORDS; w++)
		diff[w] = words[w] & ~cpu.host[w];
	name_bits(diff, out->extra, sizeof(out->extra));
	return 0;
}

int emu_cpu_find(const char *name)
{
	for (size_t i = 0; i < EMU_CPU_NMODELS; i++)
		if (strcmp(emu_cpu_models[i].name, name) == 0)
			return (int)i;
	tv_set_error("unknown CPU model '%s' (twinvm info lists them)", name);
	return -ENOENT;
}

size_t emu_cpu_default_of(const struct emu_cpu_answers m[EMU_CPU_NMODELS])
{
	measure(); /* the host's words */
	return choose(m);
}

int emu_cpu_resolve(int model)
{
	if (model >= 0)
		return model;
	measure();
	return (int)cpu.default_model;
}

const char *emu_cpu_name(int model)
{
	return model >= 0 && model < EMU_CPU_NMODELS ? emu_cpu_models[model].name
						     : "unicorn-default";
}

int emu_cpu_apply(uc_engine *uc, int model, FILE *log)
{
	uc_err err;

	if (model < 0 || model >= EMU_CPU_NMODELS)
		return 0;
	err = uc_ctl_set_cpu_model(uc, emu_cpu_models[model].id);
	EMU_STEP(log, "what CPUID tells the guest: a CPU model", "uc_ctl_set_cpu_model(%d: %s) = %s",
		 emu_cpu_models[model].id, emu_cpu_models[model].name, emu_err_name(err));
	if (err)
		return emu_fail("uc_ctl_set_cpu_model", err);
	return 0;
}

bool emu_cpu_leaf(int model, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	if (model < 0 || model >= EMU_CPU_NMODELS)
		return false;
	measure();
	if (!cpu.model[model].ok)
		return false;
	for (unsigned q = 0; q < EMU_CPU_QUERIES; q++) {
		if (emu_cpu_queries[q][0] == leaf && emu_cpu_queries[q][1] == subleaf) {
			memcpy(out, cpu.model[model].out[q], sizeof(uint32_t) * 4);
			return true;
		}
	}
	return false;
}

#else /* Unicorn without uc_ctl_set_cpu_model: every instance has Unicorn's default model. */

static int no_models(void)
{
	unsigned major, minor;

	if (emu_uc_load() != 0)
		return -ENODEV;
	uc_version(&major, &minor);
	tv_set_error("CPU models: not supported by this Unicorn (%u.%u has no "
		     "uc_ctl_set_cpu_model)", major, minor);
	return -ENOTSUP;
}

int emu_cpu_model(size_t i, struct tv_cpu_model *out)
{
	(void)i;
	(void)out;
	return no_models();
}

int emu_cpu_find(const char *name)
{
	(void)name;
	return no_models();
}

int emu_cpu_resolve(int model)
{
	(void)model;
	return EMU_MODEL_DEFAULT;
}

const char *emu_cpu_name(int model)
{
	(void)model;
	return "unicorn-default";
}

int emu_cpu_apply(uc_engine *uc, int model, FILE *log)
{
	(void)uc;
	(void)model;
	(void)log;
	return 0;
}

bool emu_cpu_leaf(int model, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)model;
	(void)leaf;
	(void)subleaf;
	(void)out;
	return false;
}

#endif
