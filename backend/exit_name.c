/* The exit reasons' names, the same on every engine ("HLT", "IO"...). */
#include "backend.h"

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
