/* Unicorn's functions, found with dlopen at the first use (emu_uc.h says why). The build names
 * the library found with pkg-config: by its path first (a project-local Unicorn has no place on
 * the loader's path), then by its soname. */
#include "../backend.h"
#include "emu_uc.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

struct emu_uc_api emu_uc_api;

static struct {
	pthread_once_t once;
	int rc;
	char why[300];
} load = { .once = PTHREAD_ONCE_INIT };

static void load_once(void)
{
	void *lib = dlopen(EMU_UNICORN_PATH, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		lib = dlopen(EMU_UNICORN_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load.why, sizeof(load.why), "Unicorn could not be loaded: %s", dlerror());
		load.rc = -ENODEV;
		return;
	}
#define EMU_UC_FIND(name)                                                                      \
	if (!(*(void **)&emu_uc_api.name = dlsym(lib, "uc_" #name))) {                        \
		snprintf(load.why, sizeof(load.why), "%s has no uc_%s", EMU_UNICORN_SONAME, #name); \
		load.rc = -ENODEV;                                                              \
		return;                                                                         \
	}
	EMU_UC_FUNCTIONS(EMU_UC_FIND)
#undef EMU_UC_FIND
}

int emu_uc_load(void)
{
	pthread_once(&load.once, load_once);
	if (load.rc)
		tv_set_error("%s", load.why);
	return load.rc;
}
