/* Unicorn, opened at the first use rather than linked.
 *
 * libunicorn carries some 36,000 symbol relocations that the dynamic loader resolves at the start
 * of every process that links it (it is built with BIND_NOW): most of a KVM run's start-up, which
 * never calls it. So the emulator backend calls Unicorn through a table that emu_uc_load() fills
 * with dlopen at the first engine, baseline run or CPU-model query. Every file of backend/emu/
 * includes this header instead of <unicorn/unicorn.h>: each uc_* function it calls is a macro for
 * the table's member (Unicorn's own uc_ctl_* macros expand to uc_ctl, which follows). A program
 * linked with Unicorn itself (the build's CPU-model generator) defines EMU_UC_LINKED first. */
#ifndef TWINVM_EMU_UC_H
#define TWINVM_EMU_UC_H

#include <unicorn/unicorn.h>

#ifndef EMU_UC_LINKED
/* The functions backend/emu/ calls, typed as Unicorn's header declares them. */
#define EMU_UC_FUNCTIONS(X)                                                                  \
	X(version) X(arch_supported) X(open) X(close) X(ctl) X(strerror) X(reg_write)          \
	X(reg_read) X(reg_write_batch) X(reg_read_batch) X(mem_write) X(mem_read) X(emu_start) \
	X(emu_stop) X(hook_add) X(hook_del) X(mem_map) X(mem_map_ptr) X(mmio_map)              \
	X(context_alloc) X(context_free) X(context_save) X(context_restore) X(context_size)

struct emu_uc_api {
#define EMU_UC_MEMBER(name) __typeof__(uc_##name) *name;
	EMU_UC_FUNCTIONS(EMU_UC_MEMBER)
#undef EMU_UC_MEMBER
};

/* The table; filled (or not: see emu_uc_load) once per process. */
extern struct emu_uc_api emu_uc_api;

/* Opens Unicorn once: 0, or -ENODEV with the reason in tv_last_error(). Each way into the
 * emulator that can run before an engine exists calls it first. */
int emu_uc_load(void);

#define uc_version (emu_uc_api.version)
#define uc_arch_supported (emu_uc_api.arch_supported)
#define uc_open (emu_uc_api.open)
#define uc_close (emu_uc_api.close)
#define uc_ctl (emu_uc_api.ctl)
#define uc_strerror (emu_uc_api.strerror)
#define uc_reg_write (emu_uc_api.reg_write)
#define uc_reg_read (emu_uc_api.reg_read)
#define uc_reg_write_batch (emu_uc_api.reg_write_batch)
#define uc_reg_read_batch (emu_uc_api.reg_read_batch)
#define uc_mem_write (emu_uc_api.mem_write)
#define uc_mem_read (emu_uc_api.mem_read)
#define uc_emu_start (emu_uc_api.emu_start)
#define uc_emu_stop (emu_uc_api.emu_stop)
#define uc_hook_add (emu_uc_api.hook_add)
#define uc_hook_del (emu_uc_api.hook_del)
#define uc_mem_map (emu_uc_api.mem_map)
#define uc_mem_map_ptr (emu_uc_api.mem_map_ptr)
#define uc_mmio_map (emu_uc_api.mmio_map)
#define uc_context_alloc (emu_uc_api.context_alloc)
#define uc_context_free (emu_uc_api.context_free)
#define uc_context_save (emu_uc_api.context_save)
#define uc_context_restore (emu_uc_api.context_restore)
#define uc_context_size (emu_uc_api.context_size)
#else
static inline int emu_uc_load(void)
{
	return 0;
}
#endif

#endif
