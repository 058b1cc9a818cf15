/* What every backend shares: the engine list, the exit-reason names and the error text. */
#include "backend.h"

#include <stdarg.h>
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

const char *tv_exit_reason_name(int reason)
{
	switch (reason) {
	case TV_EXIT_IO: return "IO";
	case TV_EXIT_DEBUG: return "DEBUG";
	case TV_EXIT_HLT: return "HLT";
	case TV_EXIT_MMIO: return "MMIO";
	case TV_EXIT_SHUTDOWN: return "SHUTDOWN";
	case TV_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case TV_EXIT_INTR: return "INTR";
	case TV_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	default: return "UNKNOWN";
	}
}

static _Thread_local char tv_error_text[512];

void tv_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tv_error_text, sizeof(tv_error_text), fmt, ap);
	va_end(ap);
}

const char *tv_last_error(void)
{
	return tv_error_text[0] ? tv_error_text : "unknown error";
}
