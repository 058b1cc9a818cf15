/* The per-thread error text every engine leaves for the user (tv_set_error, tv_last_error). */
#include "backend.h"

#include <stdarg.h>

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
