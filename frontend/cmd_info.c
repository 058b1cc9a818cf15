/* `twinvm info`: the engines on this host, what they are and what probes found they can run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "commands.h"
#include "probe.h"

static void print_notes(const char *notes)
{
	const char *line = notes;

	while (*line) {
		const char *nl = strchr(line, '\n');
		int n = nl ? (int)(nl - line) : (int)strlen(line);

		if (n)
			printf("    %.*s\n", n, line);
		line += n + (nl ? 1 : 0);
	}
}

/* The engine's CPU models (--cpu): which the host's CPU covers, the default, and what the
 * default lacks of the host's features. */
static void cpu_models_info(const struct tv_backend_ops *be)
{
	struct tv_cpu_model m, def = { .name = "" };
	int rc = 0;

	printf("  CPU models (--cpu; auto = the default: of the models whose CPUID features the host\n"
	       "  has all of, the one with the most):\n");
	for (size_t i = 0; (rc = be->cpu_model(i, &m)) == 0; i++) {
		printf("    %-20s %s%s%s\n", m.name, m.is_default ? "default, " : "",
		       m.host_subset ? "subset of the host's" : "not a subset: the host lacks ",
		       m.host_subset ? "" : m.extra);
		if (m.is_default)
			def = m;
	}
	if (rc != -ENOENT) {
		printf("    none: %s\n", tv_last_error());
		return;
	}
	if (def.name[0])
		printf("  the default, %s, lacks these host features: %s\n", def.name,
		       def.lacks[0] ? def.lacks : "none");
}

static void engine_info(const struct tv_backend_ops *be, const char **auto_pick)
{
	struct tv_engine *e;
	struct tv_caps caps;
	char reason[256];

	printf("%s: %s\n", be->name, be->description);
	if (be->open(&e, NULL) != 0) {
		printf("  unusable here: %s\n", tv_last_error());
		return;
	}
	memset(&caps, 0, sizeof(caps));
	if (be->get_caps(e, &caps) != 0) {
		printf("  capabilities unreadable: %s\n", tv_last_error());
		be->close(e);
		return;
	}
	be->close(e);
	printf("  version: %s\n", caps.version);
	printf("  guest MMU: %s\n", caps.mmu_translates
					    ? "translates through the guest page tables"
					    : "IGNORES guest page tables (virtual = physical): paged modes refused");
	printf("  single-step: %s\n", caps.single_step ? "yes" : "no");
	if (caps.debug_points[0])
		printf("  debug registers: %s\n", caps.debug_points);
	if (caps.notes[0]) {
		printf("  capabilities used:\n");
		print_notes(caps.notes);
	}
	if (be->cpu_model)
		cpu_models_info(be);
	else
		printf("  CPU model: the host's (its guests see the host's CPUID)\n");
	printf("  modes (probed by running a guest):\n");
	for (int m = 0; m < TV_MODE_COUNT; m++) {
		int rc = tv_probe_mode(be, (enum tv_mode)m, reason, sizeof(reason));

		printf("    %-10s %s\n", tv_mode_name((enum tv_mode)m),
		       rc == 0 ? "runs" : reason);
		if (rc == 0 && !auto_pick[m])
			auto_pick[m] = be->name;
	}
}

int tv_cmd_info(int argc, char **argv)
{
	const char *auto_pick[TV_MODE_COUNT] = { 0 };
	static const char *const all_engines[] = { "kvm", "emu" };

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: twinvm info\n"
		       "Lists the engines built in, their versions and capabilities, their CPU models\n"
		       "(--cpu) measured against the host's CPU, and which CPU modes each runs on\n"
		       "this host, found by running a probe guest per mode.\n");
		return TV_EXIT_STATUS_OK;
	}
	if (argc > 1)
		return tv_usage_error("info", "unexpected argument '%s'", argv[1]);

	for (size_t i = 0; i < sizeof(all_engines) / sizeof(all_engines[0]); i++) {
		const struct tv_backend_ops *be = tv_backend_find(all_engines[i]);

		if (be)
			engine_info(be, auto_pick);
		else
			printf("%s: not built in (its dependency was missing at build time)\n",
			       all_engines[i]);
	}
	printf("auto picks:");
	for (int m = 0; m < TV_MODE_COUNT; m++)
		printf(" %s=%s", tv_mode_name((enum tv_mode)m), auto_pick[m] ? auto_pick[m] : "none");
	printf("\n");
	return TV_EXIT_STATUS_OK;
}
