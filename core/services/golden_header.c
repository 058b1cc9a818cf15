/* Reading a golden trace's header line (golden_header.h). */
#include "golden_header.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "diff.h"
#include "trace.h"
#include "trace_header.h"

static int bad(char *msg, size_t len, const char *field, const char *what)
{
	snprintf(msg, len, "\"%s.%s\": %s", TV_TRACE_HEADER_KEY, field, what);
	return -EINVAL;
}

/* A string member that fits in out (size bytes); required or not. */
static int text(const json_t *h, const char *key, char *out, size_t size, bool required,
		char *msg, size_t len)
{
	const json_t *v = json_object_get(h, key);

	if (!v && !required)
		return 0;
	if (!json_is_string(v))
		return bad(msg, len, key, "not a string");
	if (json_string_length(v) >= size || strlen(json_string_value(v)) != json_string_length(v))
		return bad(msg, len, key, "too long, or with a NUL in it");
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int expectations(const json_t *h, struct tv_golden_header *g, char *msg, size_t len)
{
	const json_t *list = json_object_get(h, "expect"), *e;
	size_t i;
	int rc;

	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > TV_GOLDEN_EXPECT_MAX)
		return bad(msg, len, "expect", "not an array of at most 16 {field, reason}");
	json_array_foreach(list, i, e) {
		if (!json_is_object(e))
			return bad(msg, len, "expect", "an entry is not an object");
		if ((rc = text(e, "field", g->expect[i].field, sizeof(g->expect[i].field), true, msg,
			       len)) ||
		    (rc = text(e, "reason", g->expect[i].reason, sizeof(g->expect[i].reason), true,
			       msg, len)))
			return rc;
		if (!tv_diff_field_known(g->expect[i].field))
			return bad(msg, len, "expect",
				   "a field diff does not compare (--ignore's names: rax, io.data, "
				   "ram...)");
		g->nexpect++;
	}
	return 0;
}

bool tv_golden_is_header(const json_t *line)
{
	return json_object_get(line, TV_TRACE_HEADER_KEY) != NULL;
}

int tv_golden_header_parse(const json_t *line, struct tv_golden_header *g, char *msg, size_t len)
{
	const json_t *h = json_object_get(line, TV_TRACE_HEADER_KEY), *v;
	char mode[16], level[16] = "exit";
	int rc;

	memset(g, 0, sizeof(*g));
	strcpy(g->platform, "none");
	if (!json_is_object(h))
		return bad(msg, len, "", "not an object");
	v = json_object_get(h, "format");
	if (!json_is_integer(v) || json_integer_value(v) < 2)
		return bad(msg, len, "format", "not an integer from 2");
	if (json_integer_value(v) > TV_TRACE_FORMAT)
		return bad(msg, len, "format", "newer than this twinvm reads (2): update twinvm");
	if ((rc = text(h, "guest", g->guest, sizeof(g->guest), true, msg, len)) ||
	    (rc = text(h, "mode", mode, sizeof(mode), true, msg, len)) ||
	    (rc = text(h, "engine", g->engine, sizeof(g->engine), true, msg, len)) ||
	    (rc = text(h, "level", level, sizeof(level), false, msg, len)) ||
	    (rc = text(h, "platform", g->platform, sizeof(g->platform), false, msg, len)))
		return rc;
	if (!g->guest[0])
		return bad(msg, len, "guest", "empty");
	if (!tv_mode_parse(mode, &g->mode))
		return bad(msg, len, "mode", "not real, protected, paged32 or long");
	if (strcmp(level, "exit") != 0 && strcmp(level, "instruction") != 0)
		return bad(msg, len, "level", "not \"exit\" or \"instruction\"");
	g->instruction_level = strcmp(level, "instruction") == 0;
	if (strcmp(g->platform, "none") != 0 && strcmp(g->platform, "pc") != 0)
		return bad(msg, len, "platform", "not \"none\" or \"pc\"");
	if (tv_trace_hex(h, "mem", &g->mem) != 0 || g->mem == 0)
		return bad(msg, len, "mem", "not a \"0x...\" size above 0");
	v = json_object_get(h, "max_exits");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(msg, len, "max_exits", "not an integer from 0");
	g->max_exits = (uint64_t)json_integer_value(v);
	if ((rc = expectations(h, g, msg, len)))
		return rc;
	g->present = true;
	return 0;
}
