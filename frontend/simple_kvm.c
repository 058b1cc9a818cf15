/* simple-kvm: the assignment's program. Runs the hello guest in the mode its flag names:
 * -r real, -s protected ("segmented"), -p paged32, -l long. Any other twinvm run flag works too,
 * so `simple-kvm -l --backend emu` runs it where there is no /dev/kvm. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	struct tv_run_options o;
	int i;

	tv_run_options_default(&o);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-r")) {
			o.mode = TV_MODE_REAL;
		} else if (!strcmp(a, "-s")) {
			o.mode = TV_MODE_PROTECTED;
		} else if (!strcmp(a, "-p")) {
			o.mode = TV_MODE_PAGED32;
		} else if (!strcmp(a, "-l")) {
			o.mode = TV_MODE_LONG;
		} else if (!strcmp(a, "--backend") && i + 1 < argc) {
			o.backend = argv[++i];
		} else if (!strcmp(a, "--cpu") && i + 1 < argc) {
			if (tv_cpu_option("run", argv[++i], &o.cpu_model) != TV_EXIT_STATUS_OK)
				return TV_EXIT_STATUS_USAGE;
		} else if (!strcmp(a, "--trace-api")) {
			o.trace_api = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			printf("usage: simple-kvm [-r | -s | -p | -l] [--backend auto|kvm|emu] [--cpu MODEL]\n"
			       "                 [--trace-api]\n"
			       "Runs the hello guest in real (-r), protected (-s), 32-bit paged (-p) or\n"
			       "long (-l, the default) mode. Exit status as `twinvm run`.\n");
			return TV_EXIT_STATUS_OK;
		} else {
			fprintf(stderr, "simple-kvm: unknown option '%s' (see simple-kvm --help)\n", a);
			return TV_EXIT_STATUS_USAGE;
		}
	}
	return tv_stdout_status("simple-kvm", tv_run_guest(&o));
}
