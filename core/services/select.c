/* Engine selection by probing. */
#include "select.h"

#include <stdio.h>
#include <string.h>

#include "probe.h"

static void list_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tv_backend_count && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 tv_backends[i]->name);
}

const struct tv_backend_ops *tv_select_named(const char *name, char *why, size_t why_len)
{
	const struct tv_backend_ops *be = tv_backend_find(name);
	char names[64];

	if (be)
		return be;
	list_names(names, sizeof(names));
	snprintf(why, why_len, "no engine called '%s' in this build (built in: %s)", name, names);
	return NULL;
}

const struct tv_backend_ops *tv_select_backend(const char *name, enum tv_mode mode, char *note,
					       size_t note_len, char *why, size_t why_len)
{
	char reason[256], tried[512] = "";
	size_t used = 0;

	note[0] = why[0] = '\0';
	if (strcmp(name, "auto") != 0) {
		const struct tv_backend_ops *be = tv_select_named(name, why, why_len);

		if (!be)
			return NULL;
		if (tv_probe_mode(be, mode, reason, sizeof(reason)) != 0) {
			snprintf(why, why_len, "%s: %s", be->name, reason);
			return NULL;
		}
		return be;
	}

	for (size_t i = 0; i < tv_backend_count; i++) {
		const struct tv_backend_ops *be = tv_backends[i];

		if (tv_probe_mode(be, mode, reason, sizeof(reason)) == 0) {
			snprintf(note, note_len, "engine %s (%s)%s%s", be->name, reason,
				 tried[0] ? "; passed over " : "", tried);
			return be;
		}
		if (used < sizeof(tried))
			used += (size_t)snprintf(tried + used, sizeof(tried) - used, "%s%s: %s",
						 used ? "; " : "", be->name, reason);
	}
	snprintf(why, why_len, "no engine can run %s mode here: %s", tv_mode_name(mode),
		 tried[0] ? tried : "no engine built in");
	return NULL;
}
