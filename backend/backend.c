/* The engines built into this binary, and finding one by name. (The error text and the exit
 * names every engine uses are in error.c and exit_name.c: the engines call them, and this list
 * refers to the engines, so they cannot live here without a call loop.) */
#include "backend.h"

#include <string.h>

extern const struct tv_backend_ops tv_kvm_backend;
extern const struct tv_backend_ops tv_emu_backend;

const struct tv_backend_ops *const tv_backends[] = {
#ifdef TWINVM_HAVE_KVM
	&tv_kvm_backend,
#endif
#ifdef TWINVM_HAVE_EMU
	&tv_emu_backend,
#endif
	NULL,
};
const size_t tv_backend_count = sizeof(tv_backends) / sizeof(tv_backends[0]) - 1;

const struct tv_backend_ops *tv_backend_find(const char *name)
{
	for (size_t i = 0; i < tv_backend_count; i++)
		if (strcmp(tv_backends[i]->name, name) == 0)
			return tv_backends[i];
	return NULL;
}
