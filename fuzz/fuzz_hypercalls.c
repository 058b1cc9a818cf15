/* Drives the machine's exit handling (the device table of core/machine/machine.c, the hypercalls
 * of hypercalls.c and the warning bus of bus.c, the string I/O merging and decoding of record.c
 * and core/guest/insn.c, the trace records of trace.c) through tv_run, with the fake engine of
 * fake_engine.h in place of KVM or Unicorn: every exit, register value and byte of guest RAM the
 * handlers see comes from the input. Guest RAM is
 * a heap buffer of exactly its size, so a host access outside it is an AddressSanitizer report.
 *
 * Input: u8 pages (RAM is 1 + pages % 64 pages of 4 KiB), u8 mode (% 5: real, protected,
 * paged32, long with twinvm's own tables and registers when RAM holds them; 4: all zero), u8 flags
 * (bit 0 no warnings, bit 1 --trace, bit 2 precise, bit 3 step), u8 max_exits (0: no limit), then the
 * fake engine's operations (fake_engine.h). A finding is a crash or sanitizer report: some exit,
 * register or RAM content an engine could report makes the host misbehave.
 *
 * With TWINVM_FUZZ_SHOW=1 in the environment the guest's console output and the trace go to
 * stdout, to see what an input (a reproducer, say) does. */
#include <stdio.h>
#include <stdlib.h>

#include "devices.h"
#include "fake_engine.h"
#include "record.h"

static FILE *devnull; /* the console and the trace */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	struct tv_machine *m = malloc(sizeof(*m));
	struct tv_machine_opts opt = { .backend = &fake_backend_ops };
	unsigned mode, flags;
	struct tv_exit last;
	uint8_t *mapped;

	if (!devnull)
		devnull = getenv("TWINVM_FUZZ_SHOW") ? stdout : fopen("/dev/null", "w");
	if (!m || !devnull)
		abort();
	opt.ram_size = (1 + fz_u8(&in) % 64) * 4096ull;
	mode = fz_u8(&in) % 5;
	flags = fz_u8(&in);
	opt.max_exits = fz_u8(&in);
	opt.console = devnull;
	opt.warnings = flags & 1 ? NULL : devnull;
	opt.trace = flags & 2 ? devnull : NULL;
	opt.run_flags = (flags & 4 ? TV_RUN_PRECISE : 0) | (flags & 8 ? TV_RUN_STEP : 0);

	fake_engine_feed(&in, &m->ram);
	if (tv_machine_create(m, &opt) != 0 || tv_hypercalls_attach(m, opt.warnings) != 0 ||
	    (opt.warnings && tv_bus_warn_attach(m, opt.warnings) != 0))
		abort(); /* the fake cannot fail here */
	/* Guest RAM moves to the heap, where ASan guards its ends; the engine is the fake, which
	 * reaches RAM only through m->ram. */
	mapped = m->ram.host;
	m->ram.host = calloc(1, m->ram.size);
	if (!m->ram.host)
		abort();
	if (mode < TV_MODE_COUNT)
		tv_machine_enter_mode(m, (enum tv_mode)mode); /* fails in too little RAM: all zero */
	tv_run(m, 0, &last);

	free(m->ram.host);
	m->ram.host = mapped;
	tv_machine_destroy(m);
	free(m);
	return 0;
}
