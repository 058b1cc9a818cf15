/* Mode probes: a four-instruction guest per mode. */
#include "probe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "devices.h"
#include "layout.h"

#define PROBE_MARKER_GPA 0x500
#define PROBE_MARKER 0x314d5754u /* "TWM1" */
#define PROBE_ALIAS_GVA 0x400500 /* mapped to PROBE_MARKER_GPA by the probe's page tables */
#define PROBE_TIMEOUT_S 10.0

/* mov eax, [marker]; hlt, in each mode's encoding. */
static const uint8_t probe_real[] = { 0x66, 0xa1, 0x00, 0x05, 0xf4 };
static const uint8_t probe_flat[] = { 0xa1, 0x00, 0x05, 0x00, 0x00, 0xf4 };
static const uint8_t probe_paged32[] = { 0xa1, 0x00, 0x05, 0x40, 0x00, 0xf4 };
static const uint8_t probe_long[] = { 0x8b, 0x04, 0x25, 0x00, 0x05, 0x40, 0x00, 0xf4 };

/* Points the large page holding PROBE_ALIAS_GVA at physical 0, so the alias reads the marker. */
static void alias_marker_page(struct tv_machine *m, enum tv_mode mode)
{
	if (mode == TV_MODE_PAGED32) {
		uint32_t pde = TV_PTE_P | TV_PTE_RW | TV_PTE_PS;

		tv_ram_write(&m->ram, TV_PD32 + 4 * (PROBE_ALIAS_GVA >> 22), &pde, sizeof(pde));
	} else if (mode == TV_MODE_LONG) {
		uint64_t pde = TV_PTE_P | TV_PTE_RW | TV_PTE_PS;

		tv_ram_write(&m->ram, TV_PD64 + 8 * (PROBE_ALIAS_GVA >> 21), &pde, sizeof(pde));
	}
}

static int judge(const struct tv_machine *m, enum tv_mode mode, const struct tv_exit *e,
		 char *reason, size_t len)
{
	struct tv_regs regs;
	uint32_t eax;

	if (e->reason != TV_EXIT_HLT) {
		snprintf(reason, len, "%s mode: the probe guest ended in %s%s%s, not HLT",
			 tv_mode_name(mode), tv_exit_reason_name(e->reason),
			 e->detail[0] ? ": " : "", e->detail);
		return -ENOTSUP;
	}
	if (m->be->get_regs(m->vcpu, &regs) != 0) {
		snprintf(reason, len, "%s mode: %s", tv_mode_name(mode), tv_last_error());
		return -ENOTSUP;
	}
	eax = (uint32_t)regs.rax;
	if (eax != PROBE_MARKER) {
		struct tv_caps caps = { 0 };

		m->be->get_caps(m->engine, &caps);
		if (tv_mode_paged(mode))
			snprintf(reason, len, "%s mode: the engine (%s) ignores the guest page tables "
				 "(virtual 0x%x read 0x%08" PRIx32 ", not the marker at physical 0x%x)%s",
				 tv_mode_name(mode), caps.version, PROBE_ALIAS_GVA, eax,
				 PROBE_MARKER_GPA,
				 caps.mmu_translates ? "" : "; Unicorn 2.1 translates: see scripts/fetch-unicorn.sh");
		else
			snprintf(reason, len, "%s mode: the probe read 0x%08" PRIx32 ", not 0x%08x",
				 tv_mode_name(mode), eax, PROBE_MARKER);
		return -ENOTSUP;
	}
	snprintf(reason, len, "%s mode: runs", tv_mode_name(mode));
	return 0;
}

static unsigned long probes; /* probe VMs made by this process */

unsigned long tv_probe_count(void)
{
	return __atomic_load_n(&probes, __ATOMIC_RELAXED);
}

int tv_probe_mode(const struct tv_backend_ops *be, enum tv_mode mode, char *reason, size_t len)
{
	static const struct {
		const uint8_t *code;
		size_t len;
	} code[TV_MODE_COUNT] = {
		[TV_MODE_REAL] = { probe_real, sizeof(probe_real) },
		[TV_MODE_PROTECTED] = { probe_flat, sizeof(probe_flat) },
		[TV_MODE_PAGED32] = { probe_paged32, sizeof(probe_paged32) },
		[TV_MODE_LONG] = { probe_long, sizeof(probe_long) },
	};
	struct tv_machine_opts opt = { .backend = be, .ram_size = TV_RAM_DEFAULT };
	const uint32_t marker = PROBE_MARKER;
	struct tv_machine m;
	struct tv_exit e;
	int rc;

	__atomic_add_fetch(&probes, 1, __ATOMIC_RELAXED);
	rc = tv_machine_boot(&m, &opt, code[mode].code, code[mode].len, mode);
	if (rc) {
		snprintf(reason, len, "%s", tv_last_error());
		return rc == -ENODEV ? -ENODEV : -ENOTSUP;
	}
	rc = tv_ram_write(&m.ram, PROBE_MARKER_GPA, &marker, sizeof(marker));
	if (rc) {
		snprintf(reason, len, "%s mode: %s", tv_mode_name(mode), tv_last_error());
		rc = -ENOTSUP;
		goto out;
	}
	alias_marker_page(&m, mode);
	rc = tv_machine_run(&m, PROBE_TIMEOUT_S, &e);
	if (rc) {
		snprintf(reason, len, "%s mode: %s", tv_mode_name(mode), tv_last_error());
		rc = -ENOTSUP;
		goto out;
	}
	rc = judge(&m, mode, &e, reason, len);
out:
	tv_machine_destroy(&m);
	return rc;
}
