/* The stub's insides, shared by its files: the session, the connection (gdb_conn.c), the
 * commands (gdb_cmds.c) and the run control (gdb_run.c). */
#ifndef TWINVM_GDB_SESSION_H
#define TWINVM_GDB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "gdb.h"
#include "gdb_packet.h"
#include "gdb_regs.h"

#define GDB_POINTS_MAX 64 /* breakpoints and watchpoints gdb may set at once */

/* One breakpoint or watchpoint as gdb set it (Z type 0-4). */
struct gdb_point {
	int type;      /* 0 software, 1 hardware breakpoint, 2 write, 3 read, 4 access watchpoint */
	uint64_t addr; /* as gdb gave it: a linear address */
	uint8_t len;
	uint8_t old[8]; /* a write watchpoint's bytes, when the run compares them step by step */
};

/* What the next packet asked of the run. */
enum gdb_resume { GDB_NONE, GDB_CONTINUE, GDB_STEP, GDB_DETACH, GDB_KILL, GDB_GONE };

struct tv_gdb {
	struct tv_machine *m;
	struct tv_gdb_opts o;
	int lfd, cfd; /* the listening socket, and gdb's (-1: none) */
	struct tv_gdb_rx rx;
	uint8_t in[4096]; /* bytes read from gdb and not yet parsed: in[in_pos..in_len) */
	size_t in_pos, in_len;
	bool noack;          /* QStartNoAckMode */
	bool exits_stop;     /* monitor exits on */
	bool ctrl_c;         /* gdb sent 0x03 while the guest ran */
	bool ended;          /* the guest has ended: only queries and kill/detach from now */
	enum tv_gdb_arch arch;
	struct gdb_point pt[GDB_POINTS_MAX];
	int npt;
	double run_s; /* the guest's running time so far, against o.timeout_s */
	char reply[2 * TV_GDB_PACKET_MAX + 16]; /* the packet being built */
	char frame[4 * TV_GDB_PACKET_MAX + 16]; /* the last one framed, for a resend */
	size_t frame_len;
};

/* The connection (gdb_conn.c). */
int gdb_listen(struct tv_gdb *g); /* the listening socket, said on the log */
int gdb_accept(struct tv_gdb *g, bool block); /* 1 connected, 0 none yet (!block), -errno */
int gdb_send(struct tv_gdb *g, const char *payload); /* frames, sends, waits for '+' */
/* The next packet into g->rx (1), 0 when gdb went away, -errno. Waits at most timeout_ms (< 0:
 * forever); -ETIMEDOUT after. A 0x03 sets g->ctrl_c. */
int gdb_recv(struct tv_gdb *g, int timeout_ms);
void gdb_hangup(struct tv_gdb *g, const char *why);
/* Reads what gdb sent while the guest runs, without waiting: sets g->ctrl_c on a 0x03. 0, or
 * -ECONNRESET when gdb went away. */
int gdb_poll_interrupt(struct tv_gdb *g);

/* The commands (gdb_cmds.c): answers the packet in g->rx, or says what it asks of the run. */
enum gdb_resume gdb_command(struct tv_gdb *g);

/* 'qRcmd,HEX': a monitor command (gdb_monitor.c), its output in g->reply. */
void gdb_monitor(struct tv_gdb *g, const char *hex);
/* Guest memory at linear address la through the vCPU's page walk (gdb_cmds.c): read into out,
 * or written from in. 0, -EFAULT (unmapped or outside RAM), -EIO. */
int gdb_guest_memory(struct tv_gdb *g, uint64_t la, size_t len, uint8_t *out, const uint8_t *in);

/* The run control (gdb_run.c): runs as gdb asked, to the next stop. 1 stopped (the stop reply
 * sent), 0 the guest ended (*e), -errno. */
int gdb_resume(struct tv_gdb *g, enum gdb_resume how, struct tv_exit *e);
/* gdb's points given to the engine (set_debug_points): true when it took them all, or there are
 * none; false (the engine's cleared) when they must be found by single steps. */
bool gdb_engine_points(struct tv_gdb *g);
/* The stop reply for the vCPU stopped now with signal sig, into g->reply. */
void gdb_stop_reply(struct tv_gdb *g, int sig, const char *why);

#endif
