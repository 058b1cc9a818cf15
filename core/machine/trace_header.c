/* The trace's header line (trace_header.h). */
#include "trace_header.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "machine.h"
#include "trace.h"

/* The CPU as the guest sees it: CPUID's vendor, leaf 1's signature, and the brand string. */
static json_t *cpu_json(struct tv_machine *m, const char *model)
{
	uint32_t r[4] = { 0 }, max_ext = 0;
	char vendor[13] = "", brand[49] = "";
	json_t *cpu = json_object();

	if (!cpu || !m->be->cpuid)
		return cpu;
	if (m->be->cpuid(m->vcpu, 0, 0, r) == 0) {
		memcpy(vendor, &r[1], 4);
		memcpy(vendor + 4, &r[3], 4);
		memcpy(vendor + 8, &r[2], 4);
		json_object_set_new(cpu, "vendor", tv_json_bytes_text(vendor, strlen(vendor)));
	}
	if (m->be->cpuid(m->vcpu, 1, 0, r) == 0)
		json_object_set_new(cpu, "signature", tv_json_hex(r[0]));
	if (m->be->cpuid(m->vcpu, 0x80000000u, 0, r) == 0)
		max_ext = r[0];
	for (uint32_t leaf = 0x80000002u; max_ext >= 0x80000004u && leaf <= 0x80000004u; leaf++) {
		if (m->be->cpuid(m->vcpu, leaf, 0, r) != 0)
			break;
		memcpy(brand + 16 * (leaf - 0x80000002u), r, 16);
	}
#if defined(__x86_64__) || defined(__i386__)
	/* KVM offers no brand leaves of its own (KVM_GET_SUPPORTED_CPUID leaves them out): its
	 * guest runs on the host's CPU, whose brand the host's cpuid gives. */
	if (!brand[0] && !m->be->set_cpu_model && (unsigned)__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
		for (uint32_t leaf = 0x80000002u; leaf <= 0x80000004u; leaf++) {
			__get_cpuid(leaf, &r[0], &r[1], &r[2], &r[3]);
			memcpy(brand + 16 * (leaf - 0x80000002u), r, 16);
		}
	}
#endif
	if (brand[0]) {
		const char *b = brand + strspn(brand, " ");

		json_object_set_new(cpu, "brand", tv_json_bytes_text(b, strlen(b)));
	}
	if (model)
		json_object_set_new(cpu, "model", json_string(model));
	return cpu;
}

json_t *tv_trace_header(struct tv_machine *m, const struct tv_trace_info *info)
{
	json_t *h = json_pack("{s:i,s:s,s:o,s:s,s:o,s:I,s:s,s:s,s:o}", "format", TV_TRACE_FORMAT,
			      "version", info->version ? info->version : "unknown", "guest",
			      tv_json_bytes_text(info->guest, strlen(info->guest)), "mode",
			      tv_mode_name(m->mode), "mem", tv_json_hex(m->ram.size), "max_exits",
			      (json_int_t)info->max_exits, "level", "exit", "engine", m->be->name,
			      "cpu", cpu_json(m, info->cpu_model));

	/* Only where it is not the default, so a trace of the plain machine reads as before. */
	if (h && m->opt.platform == TV_PLATFORM_PC)
		json_object_set_new(h, "platform", json_string("pc"));
	return h ? json_pack("{s:o}", TV_TRACE_HEADER_KEY, h) : NULL;
}
