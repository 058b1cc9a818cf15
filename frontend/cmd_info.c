/* `twinvm info`: the engines on this host, what they are and what probes found they can run. */
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
	if (caps.notes[0]) {
		printf("  capabilities used:\n");
		print_notes(caps.notes);
	}
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
		       "Lists the engines built in, their versions and capabilities, and which CPU\n"
		       "modes each runs on this host, found by running a probe guest per mode.\n");
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
