/* Drives the command-line parsers of frontend/cli.h (--mem sizes, counts, times) over a
 * NUL-terminated copy of the input, through the header only. A finding is a crash or sanitizer
 * report, or a value accepted against what the header promises: --mem a multiple of 4 KiB
 * within [TV_RAM_MIN, TV_RAM_MAX], a count above zero, a time from 0 to TV_TIME_MAX_S. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kick.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	uint64_t v;
	double d;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	tv_parse_size(s, &v);
	if (tv_parse_mem(s, &v) == 0 && (v % TV_PAGE_SIZE || v < TV_RAM_MIN || v > TV_RAM_MAX))
		abort();
	if (tv_parse_count(s, &v) == 0 && v == 0)
		abort();
	if (tv_parse_seconds(s, &d) == 0 && (!isfinite(d) || d < 0 || d > TV_TIME_MAX_S))
		abort();
	free(s);
	return 0;
}
