/* The guest's console, and the machine's notes beside it (console.h). */
#include "console.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "machine.h"

/* The machine's output streams (the console, the trace): a failure is kept in m, once. */
bool tv_machine_output_failed(struct tv_machine *m, FILE *f, const char *what, int err)
{
	if (!m->output_failed) {
		m->output_failed = what;
		m->output_errno = err ? err : EIO;
	}
	clearerr(f); /* reported once, through m */
	tv_set_error("writing the %s: %s", what, strerror(m->output_errno));
	return false;
}

bool tv_machine_flush(struct tv_machine *m, FILE *f, const char *what)
{
	errno = 0;
	if (fflush(f) == 0 && !ferror(f))
		return true;
	return tv_machine_output_failed(m, f, what, errno);
}

static void put(struct tv_machine *m, const char *bytes, size_t len)
{
	errno = 0;
	if (len && fwrite(bytes, 1, len, m->opt.console) != len)
		tv_machine_output_failed(m, m->opt.console, "console", errno);
}

void tv_console_notes_out(struct tv_machine *m)
{
	struct tv_console *c = &m->console;

	if (!c->note_len)
		return;
	tv_machine_flush(m, m->opt.console, "console");
	fwrite(c->notes, 1, c->note_len, c->note_out);
	fflush(c->note_out);
	c->note_len = 0;
}

void tv_console_write(struct tv_machine *m, const void *bytes, size_t len)
{
	struct tv_console *c = &m->console;
	const char *p = bytes, *nl;

	if (c->note_len && (nl = memchr(p, '\n', len))) {
		size_t head = (size_t)(nl - p) + 1;

		put(m, p, head);
		c->mid_line = false;
		tv_console_notes_out(m);
		p += head;
		len -= head;
	}
	put(m, p, len);
	if (len)
		c->mid_line = p[len - 1] != '\n';
}

void tv_console_note(struct tv_machine *m, FILE *out, const char *fmt, ...)
{
	struct tv_console *c = &m->console;
	char line[sizeof(c->notes) / 2];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) /* cut: still one line */
		memcpy(line + sizeof(line) - 5, "...\n", 5), n = (int)sizeof(line) - 1;
	/* A note to another stream, or one that does not fit, sends the waiting ones out first. */
	if (c->note_len && (c->note_out != out || c->note_len + (size_t)n > sizeof(c->notes)))
		tv_console_notes_out(m);
	if (!c->mid_line || c->note_len + (size_t)n > sizeof(c->notes)) {
		tv_machine_flush(m, m->opt.console, "console"); /* after the guest's output so far */
		fputs(line, out);
		return;
	}
	memcpy(c->notes + c->note_len, line, (size_t)n);
	c->note_len += (size_t)n;
	c->note_out = out;
}
