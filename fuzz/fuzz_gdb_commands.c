/* Drives the GDB stub's command layer (core/gdb/gdb_cmds.c, gdb_monitor.c, gdb_memory.c,
 * gdb_regs.c) with fuzzed packets, on a machine whose engine is the fake (fake_engine.h) and whose
 * guest RAM is a heap buffer of exactly its size: every register, memory, breakpoint, query and
 * monitor packet a client can send reaches its real handler, and a read or write outside RAM is an
 * AddressSanitizer report.
 *
 * Input: u8 ram (RAM is (ram % 64 + 1) * 4 KiB), u8 mode (% 5: real, protected, paged32, long, or
 * none entered), then bytes for the packet parser (gdb_packet.h), as from the socket. Each packet
 * is answered; resume packets (c, s, vCont, D, k) are answered by nothing here.
 * A finding is a crash or sanitizer report, or a reply that does not fit a frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "fake_engine.h"
#include "gdb_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tv_gdb g; /* large: its buffers are packet-sized */
	struct fz in = { data, size }, none = { NULL, 0 };
	struct tv_machine *m = malloc(sizeof(*m));
	struct tv_machine_opts opt = { .backend = &fake_backend_ops };
	unsigned mode;
	uint8_t *mapped;

	if (!m)
		abort();
	opt.ram_size = (1 + fz_u8(&in) % 64) * 4096ull;
	mode = fz_u8(&in) % 5;
	fake_engine_feed(&none, &m->ram);
	if (tv_machine_create(m, &opt) != 0)
		abort(); /* the fake cannot fail here */
	mapped = m->ram.host;
	m->ram.host = calloc(1, m->ram.size);
	if (!m->ram.host)
		abort();
	if (mode < TV_MODE_COUNT)
		tv_machine_enter_mode(m, (enum tv_mode)mode);
	memset(&g, 0, sizeof(g));
	g.m = m;
	g.lfd = g.cfd = -1;
	g.arch = tv_gdb_arch_for(m->mode);
	tv_gdb_rx_init(&g.rx);
	for (size_t i = 0; i < in.n; i++) {
		if (tv_gdb_rx_byte(&g.rx, in.p[i]) != TV_GDB_RX_PACKET)
			continue;
		g.reply[0] = '\0';
		gdb_command(&g);
		if (!memchr(g.reply, '\0', sizeof(g.reply)) ||
		    !tv_gdb_frame(g.reply, strlen(g.reply), g.frame, sizeof(g.frame)))
			abort(); /* a reply that does not fit a frame */
	}
	free(m->ram.host);
	m->ram.host = mapped;
	tv_machine_destroy(m);
	free(m);
	return 0;
}
