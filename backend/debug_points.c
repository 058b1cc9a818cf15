/* The checks set_debug_points makes on every engine, so both refuse the same sets. */
#include "debug_points.h"

#include <errno.h>

int tv_debug_points_check(const char *engine, const struct tv_debug_point *p, size_t n)
{
	if (n > TV_DEBUG_POINTS_MAX) {
		tv_set_error("%s debug points: %zu asked for, at most %d", engine, n,
			     TV_DEBUG_POINTS_MAX);
		return -EINVAL;
	}
	if (n && !p) {
		tv_set_error("%s debug points: %zu points and no array", engine, n);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned len = p[i].len;

		if (p[i].kind != TV_DEBUG_EXEC && p[i].kind != TV_DEBUG_WRITE &&
		    p[i].kind != TV_DEBUG_ACCESS) {
			tv_set_error("%s debug point %zu: unknown kind %d", engine, i, (int)p[i].kind);
			return -EINVAL;
		}
		if (p[i].kind == TV_DEBUG_EXEC ? len != 1
					       : (len != 1 && len != 2 && len != 4 && len != 8)) {
			tv_set_error("%s debug point %zu: length %u (1 for a breakpoint; 1, 2, 4 or 8 "
				     "for a watchpoint)", engine, i, len);
			return -EINVAL;
		}
		if (p[i].addr % len) {
			tv_set_error("%s debug point %zu: address 0x%llx is not aligned to its "
				     "length %u", engine, i, (unsigned long long)p[i].addr, len);
			return -EINVAL;
		}
	}
	return 0;
}
