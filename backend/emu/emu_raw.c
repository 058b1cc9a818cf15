/* The benchmarks' baseline on Unicorn: uc_emu_start on a real-mode guest with, at most, one bare
 * OUT hook that counts (and prints HC_print8bit's byte when asked), and nothing of twinvm in the
 * loop. What `twinvm bench` compares twinvm's own emulator run with. */
#include "../backend.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include "emu_uc.h"

#include "emu.h"
#include "emu_raw.h"

struct raw_hook {
	const struct tv_raw_io *io;
	uint64_t count;
};

static void count_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
	(void)uc, (void)port, (void)size, (void)value;
	((struct raw_hook *)user)->count++;
}

/* The least a hypervisor does for HC_print8bit: the byte into a stdio buffer. */
static void print_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
	struct raw_hook *h = user;

	(void)uc, (void)size;
	h->count++;
	if (port == h->io->print_port)
		fputc((int)(value & 0xff), h->io->console);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int emu_raw_run(void *ram, uint64_t ram_size, const struct tv_raw_io *io,
		struct tv_raw_result *res)
{
	struct raw_hook h = { .io = io };
	uint64_t sp = 0xf000;
	uc_hook hook;
	uc_engine *uc;
	uc_err err;
	double t0;

	int model;

	memset(res, 0, sizeof(*res));
	if (emu_uc_load() != 0)
		return -ENODEV;
	model = emu_cpu_resolve(EMU_MODEL_DEFAULT); /* before the instance: see emu_cpu.c */
	err = uc_open(UC_ARCH_X86, UC_MODE_16, &uc);
	if (err) {
		tv_set_error("uc_open: %s", uc_strerror(err));
		return -EIO;
	}
	/* The default model twinvm's own VMs get, so both run the same CPU. */
	if (emu_cpu_apply(uc, model, NULL) != 0) {
		uc_close(uc);
		return -EIO;
	}
#if UC_API_MAJOR > 2 || (UC_API_MAJOR == 2 && UC_API_MINOR >= 1)
	/* The same translation cache as twinvm's engine gets, so both pay alike. */
	err = uc_ctl_set_tcg_buffer_size(uc, EMU_TCG_BUFFER);
	if (!err)
#endif
		err = uc_mem_map_ptr(uc, 0, ram_size, UC_PROT_ALL, ram);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_SP, &sp);
	if (!err && io->hook)
		err = uc_hook_add(uc, &hook, UC_HOOK_INSN,
				  io->console ? (void *)print_out : (void *)count_out, &h, 1, 0,
				  UC_X86_INS_OUT);
	if (err) {
		tv_set_error("raw Unicorn set-up: %s", uc_strerror(err));
		uc_close(uc);
		return -EIO;
	}
	t0 = now_s();
	err = uc_emu_start(uc, 0, 0xfffff, 0, 0); /* ends at the guest's hlt */
	res->seconds = now_s() - t0;
	res->io_exits = h.count;
	uc_close(uc);
	if (err) {
		tv_set_error("raw uc_emu_start: %s", uc_strerror(err));
		return -EIO;
	}
	return 0;
}
