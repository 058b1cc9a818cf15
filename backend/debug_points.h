/* What both engines check of set_debug_points' arguments (backend.h), for backend/ only. */
#ifndef TWINVM_DEBUG_POINTS_H
#define TWINVM_DEBUG_POINTS_H

#include "backend.h"

/* 0, or -EINVAL with the reason in tv_last_error(): more than TV_DEBUG_POINTS_MAX points, an
 * unknown kind, an EXEC point whose len is not 1, a data point whose len is not 1, 2, 4 or 8 or
 * whose address is not aligned to it. engine names the caller in the text ("KVM", "emulator"). */
int tv_debug_points_check(const char *engine, const struct tv_debug_point *p, size_t n);

/* Whether the access [addr, addr + size) touches any byte of point p. */
static inline bool tv_debug_point_overlaps(const struct tv_debug_point *p, uint64_t addr,
					   uint64_t size)
{
	return addr < p->addr + p->len && p->addr < addr + size;
}

#endif
