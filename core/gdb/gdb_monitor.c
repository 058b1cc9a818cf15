/* `monitor` commands (qRcmd): what gdb's own commands cannot say about a VM. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_session.h"
#include "guestmem.h"

#define GPA_MAX 4096 /* bytes one "monitor gpa" shows */

static const char help[] =
	"twinvm monitor commands:\n"
	"  monitor exits on|off     stop at every VM exit (I/O, MMIO, hypercalls), with its name\n"
	"  monitor gpa ADDR [LEN]   guest-physical memory, LEN bytes (default 64, at most 4096)\n"
	"  monitor info             the engine, the mode, guest RAM and the breakpoints in use\n"
	"  monitor help             this text\n";

/* Appends to the text of the reply being built. */
static void say(char *text, size_t size, size_t *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(char *text, size_t size, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(text + *o, size - *o, fmt, ap);
	va_end(ap);
	*o = n < 0 ? *o : *o + (size_t)n < size ? *o + (size_t)n : size - 1;
}

/* "gpa ADDR [LEN]": a hex dump, 16 bytes a line, from the RAM accessor (never past RAM). */
static void gpa_dump(struct tv_gdb *g, const char *args, char *text, size_t size, size_t *o)
{
	static uint8_t buf[GPA_MAX];
	char *end;
	uint64_t addr = strtoull(args, &end, 0), len = 64;

	if (end == args) {
		say(text, size, o, "monitor gpa: give an address, e.g. monitor gpa 0x400 32\n");
		return;
	}
	if (*end && (len = strtoull(end, &end, 0)) == 0)
		len = 64;
	if (len > GPA_MAX)
		len = GPA_MAX;
	if (tv_ram_read(&g->m->ram, addr, buf, len) != 0) {
		say(text, size, o, "monitor gpa: 0x%" PRIx64 "+%" PRIu64 " is not all in guest RAM "
		    "(0x%" PRIx64 " bytes)\n", addr, len, g->m->ram.size);
		return;
	}
	for (uint64_t i = 0; i < len; i++) {
		if (i % 16 == 0)
			say(text, size, o, "0x%08" PRIx64 ":", addr + i);
		say(text, size, o, " %02x", buf[i]);
		if (i % 16 == 15 || i + 1 == len)
			say(text, size, o, "\n");
	}
}

void gdb_monitor(struct tv_gdb *g, const char *hex)
{
	static char cmd[256], text[GPA_MAX * 4];
	long n = tv_gdb_hex_decode(hex, strlen(hex), cmd, sizeof(cmd) - 1);
	size_t o = 0;

	if (n < 0) {
		snprintf(g->reply, sizeof(g->reply), "E%02x", EINVAL);
		return;
	}
	cmd[n] = '\0';
	if (!strcmp(cmd, "exits on") || !strcmp(cmd, "exits off")) {
		g->exits_stop = cmd[7] == 'n';
		say(text, sizeof(text), &o, "every VM exit %s\n",
		    g->exits_stop ? "stops the guest" : "is handled without stopping");
	} else if (!strncmp(cmd, "gpa", 3) && (cmd[3] == ' ' || !cmd[3])) {
		gpa_dump(g, cmd + 3, text, sizeof(text), &o);
	} else if (!strcmp(cmd, "info")) {
		say(text, sizeof(text), &o, "engine %s, %s mode, guest RAM 0x%" PRIx64 " bytes; "
		    "%d breakpoints and watchpoints set now (gdb sets them as the guest runs); "
		    "the engine's own take up to %d of them, more are found by single steps\n",
		    g->m->be->name, tv_mode_name(g->m->mode), g->m->ram.size, g->npt,
		    g->m->be->set_debug_points ? TV_DEBUG_POINTS_MAX : 0);
	} else {
		say(text, sizeof(text), &o, "%s%s", cmd[0] && strcmp(cmd, "help") ? "unknown "
		    "monitor command\n" : "", help);
	}
	tv_gdb_hex_encode(text, o, g->reply);
}
