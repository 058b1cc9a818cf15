/* The JSON Lines trace reader. */
#include "trace_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int tv_trace_parse_line(const char *buf, size_t len, json_t **obj, char *msg, size_t msglen)
{
	json_error_t err;
	json_t *line;

	*obj = NULL;
	line = json_loadb(buf, len, 0, &err);
	if (!line) {
		snprintf(msg, msglen, "not JSON: %s (column %d)", err.text, err.column);
		return -EINVAL;
	}
	if (!json_is_object(line)) {
		json_decref(line);
		snprintf(msg, msglen, "not a JSON object");
		return -EINVAL;
	}
	*obj = line;
	return 0;
}

/* One line of f into a buffer of its own (*buf, freed by the caller) without its newline: 1; 0 at
 * the end; -EFBIG past TV_TRACE_LINE_MAX - 1 bytes, -EIO, -ENOMEM. NUL bytes are kept: *len says
 * where the line ends. */
static int read_line(struct tv_trace_reader *r, char **buf, size_t *len)
{
	size_t n = 0, cap = 0;
	char *b = NULL;
	int c, rc = 1;

	flockfile(r->f);
	while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
		if (n + 1 >= cap) {
			char *more;

			if (cap == TV_TRACE_LINE_MAX) {
				rc = -EFBIG;
				break;
			}
			cap = cap ? 2 * cap : 4096;
			more = realloc(b, cap);
			if (!more) {
				rc = -ENOMEM;
				break;
			}
			b = more;
		}
		b[n++] = (char)c;
	}
	funlockfile(r->f);
	if (rc == 1 && ferror(r->f))
		rc = -EIO;
	if (rc == 1 && c == EOF && n == 0)
		rc = 0;
	if (rc != 1) {
		free(b);
		return rc;
	}
	r->terminated = c == '\n';
	*buf = b;
	*len = n;
	return 1;
}

int tv_trace_read(struct tv_trace_reader *r, json_t **obj, char *msg, size_t msglen)
{
	const char *name = r->name ? r->name : "", *sep = r->name ? " " : "";
	char *buf = NULL, why[256];
	size_t n = 0;
	int rc;

	*obj = NULL;
	rc = read_line(r, &buf, &n);
	if (rc == 1) {
		r->line++;
		rc = tv_trace_parse_line(buf ? buf : "", n, obj, why, sizeof(why));
		free(buf);
		if (rc == 0)
			return 1;
		snprintf(msg, msglen, "%s%sline %" PRIu64 ": %s", name, sep, r->line, why);
	} else if (rc == -EFBIG) {
		snprintf(msg, msglen, "%s%sline %" PRIu64 ": longer than %d bytes", name, sep,
			 r->line + 1, TV_TRACE_LINE_MAX - 1);
	} else if (rc == -EIO || rc == -ENOMEM) {
		snprintf(msg, msglen, "%s%sline %" PRIu64 ": %s", name, sep, r->line + 1,
			 rc == -ENOMEM ? strerror(ENOMEM) : strerror(errno ? errno : EIO));
	}
	return rc;
}
