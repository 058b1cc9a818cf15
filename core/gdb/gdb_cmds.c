/* The stub's commands: each packet gdb sends while the guest is stopped, answered. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gdb_session.h"
#include "guestmem.h"

/* The largest memory read or write one packet carries (hex doubles it). */
#define MEM_MAX ((TV_GDB_PACKET_MAX - 32) / 2)

static void reply_error(struct tv_gdb *g, int code)
{
	snprintf(g->reply, sizeof(g->reply), "E%02x", code & 0xff);
}

static bool state(struct tv_gdb *g, struct tv_regs *r, struct tv_sregs *s)
{
	return g->m->be->get_regs(g->m->vcpu, r) == 0 && g->m->be->get_sregs(g->m->vcpu, s) == 0;
}

/* 'g': every register, in the description's order. */
static void read_registers(struct tv_gdb *g)
{
	uint8_t buf[1024];
	struct tv_regs r;
	struct tv_sregs s;
	size_t o = 0;

	if (!state(g, &r, &s)) {
		reply_error(g, EIO);
		return;
	}
	for (int i = 0; i < tv_gdb_reg_count(g->arch); i++) {
		tv_gdb_reg_get(g->arch, i, &r, &s, buf + o);
		o += tv_gdb_reg_size(g->arch, i);
	}
	tv_gdb_hex_encode(buf, o, g->reply);
}

/* 'p N': one register. */
static void read_register(struct tv_gdb *g, const char *p)
{
	uint8_t buf[16];
	struct tv_regs r;
	struct tv_sregs s;
	uint64_t n;

	if (!tv_gdb_parse_hex(&p, &n) || *p || n >= 1024 || !tv_gdb_reg_size(g->arch, (int)n)) {
		reply_error(g, EINVAL);
		return;
	}
	if (!state(g, &r, &s)) {
		reply_error(g, EIO);
		return;
	}
	tv_gdb_reg_get(g->arch, (int)n, &r, &s, buf);
	tv_gdb_hex_encode(buf, tv_gdb_reg_size(g->arch, (int)n), g->reply);
}

/* Writes registers back: the general ones, and the special ones only when one of them changed
 * (a set_sregs reloads the segments' hidden parts on some engines). */
static bool put_state(struct tv_gdb *g, const struct tv_regs *r, const struct tv_sregs *s,
		      const struct tv_sregs *was)
{
	if (memcmp(s, was, sizeof(*s)) != 0 && g->m->be->set_sregs(g->m->vcpu, s) != 0)
		return false;
	return g->m->be->set_regs(g->m->vcpu, r) == 0;
}

/* 'G' (all, from n = -1) or 'P n=value' (one). */
static void write_registers(struct tv_gdb *g, int n, const char *hex)
{
	uint8_t buf[1024];
	struct tv_regs r;
	struct tv_sregs s, was;
	size_t want = n < 0 ? tv_gdb_regs_size(g->arch) : tv_gdb_reg_size(g->arch, n), o = 0;

	if (!want || tv_gdb_hex_decode(hex, strlen(hex), buf, sizeof(buf)) != (long)want) {
		reply_error(g, EINVAL);
		return;
	}
	if (!state(g, &r, &s)) {
		reply_error(g, EIO);
		return;
	}
	was = s;
	for (int i = n < 0 ? 0 : n; i < (n < 0 ? tv_gdb_reg_count(g->arch) : n + 1); i++) {
		tv_gdb_reg_set(g->arch, i, &r, &s, buf + o);
		o += tv_gdb_reg_size(g->arch, i);
	}
	if (!put_state(g, &r, &s, &was))
		reply_error(g, EIO);
	else
		snprintf(g->reply, sizeof(g->reply), "OK");
}

/* "ADDR,LEN" at *p; false when malformed or too long. */
static bool addr_len(const char **p, uint64_t *addr, uint64_t *len)
{
	return tv_gdb_parse_hex(p, addr) && *(*p)++ == ',' && tv_gdb_parse_hex(p, len) &&
	       *len <= MEM_MAX;
}

/* 'm ADDR,LEN', 'M ADDR,LEN:HEX' and 'X ADDR,LEN:BINARY'. */
static void memory(struct tv_gdb *g, char kind, const char *p)
{
	static uint8_t buf[MEM_MAX];
	uint64_t addr, len;
	const char *data;
	int rc;

	if (!addr_len(&p, &addr, &len) || (kind != 'm' && *p != ':')) {
		reply_error(g, EINVAL);
		return;
	}
	data = p + 1;
	if (kind == 'M' && tv_gdb_hex_decode(data, strlen(data), buf, sizeof(buf)) != (long)len) {
		reply_error(g, EINVAL);
		return;
	}
	if (kind == 'X') {
		size_t have = g->rx.len - (size_t)(data - g->rx.data);

		if (have != len) {
			reply_error(g, EINVAL);
			return;
		}
		memcpy(buf, data, len);
	}
	rc = gdb_guest_memory(g, addr, (size_t)len, kind == 'm' ? buf : NULL, buf);
	if (rc)
		reply_error(g, -rc);
	else if (kind == 'm')
		tv_gdb_hex_encode(buf, (size_t)len, g->reply);
	else
		snprintf(g->reply, sizeof(g->reply), "OK");
}

/* 'Z TYPE,ADDR,KIND' and 'z TYPE,ADDR,KIND'. */
static void point(struct tv_gdb *g, bool insert, const char *p)
{
	uint64_t type, addr, kind;
	int i;

	if (!tv_gdb_parse_hex(&p, &type) || type > 4 || *p++ != ',' ||
	    !tv_gdb_parse_hex(&p, &addr) || *p++ != ',' || !tv_gdb_parse_hex(&p, &kind)) {
		reply_error(g, EINVAL);
		return;
	}
	if (type >= 2 && kind != 1 && kind != 2 && kind != 4 && kind != 8) {
		reply_error(g, EINVAL);
		return;
	}

	for (i = 0; i < g->npt && !(g->pt[i].type == (int)type && g->pt[i].addr == addr); i++)
		;
	if (!insert && i < g->npt)
		g->pt[i] = g->pt[--g->npt];
	if (insert && i == g->npt && g->npt == GDB_POINTS_MAX) {
		reply_error(g, ENOSPC);
		return;
	}
	if (insert && i == g->npt) {
		g->pt[g->npt++] = (struct gdb_point){ (int)type, addr, type >= 2 ? (uint8_t)kind : 1,
						      { 0 } };
		/* Read and access watchpoints exist only as the engine's: "not supported" here
		 * (the empty reply) when it cannot take them, and gdb says so. */
		if (type >= 3 && !gdb_engine_points(g)) {
			g->npt--;
			g->reply[0] = '\0';
			return;
		}
	}
	snprintf(g->reply, sizeof(g->reply), "OK");
}

/* qXfer:features:read:target.xml:OFFSET,LENGTH */
static void target_xml(struct tv_gdb *g, const char *p)
{
	const char *xml = tv_gdb_target_xml(g->arch);
	size_t size = strlen(xml);
	uint64_t off, len;

	if (strncmp(p, "target.xml:", 11) != 0) {
		reply_error(g, ENOENT);
		return;
	}
	p += 11;
	if (!tv_gdb_parse_hex(&p, &off) || *p++ != ',' || !tv_gdb_parse_hex(&p, &len)) {
		reply_error(g, EINVAL);
		return;
	}
	if (len > TV_GDB_PACKET_MAX / 2)
		len = TV_GDB_PACKET_MAX / 2;
	if (off >= size) {
		snprintf(g->reply, sizeof(g->reply), "l");
		return;
	}
	snprintf(g->reply, sizeof(g->reply), "%c%.*s", off + len < size ? 'm' : 'l', (int)len,
		 xml + off);
}

/* The q and Q packets. */
static void query(struct tv_gdb *g, const char *p)
{
	if (!strncmp(p, "qSupported", 10))
		snprintf(g->reply, sizeof(g->reply), "PacketSize=%x;qXfer:features:read+;"
			 "QStartNoAckMode+;vContSupported+;swbreak+;hwbreak+", TV_GDB_PACKET_MAX);
	else if (!strncmp(p, "qXfer:features:read:", 20))
		target_xml(g, p + 20);
	else if (!strcmp(p, "qAttached"))
		snprintf(g->reply, sizeof(g->reply), "1");
	else if (!strcmp(p, "qC"))
		snprintf(g->reply, sizeof(g->reply), "QC1");
	else if (!strcmp(p, "qfThreadInfo"))
		snprintf(g->reply, sizeof(g->reply), "m1");
	else if (!strcmp(p, "qsThreadInfo"))
		snprintf(g->reply, sizeof(g->reply), "l");
	else if (!strncmp(p, "qSymbol", 7))
		snprintf(g->reply, sizeof(g->reply), "OK");
	else if (!strncmp(p, "qRcmd,", 6))
		gdb_monitor(g, p + 6);
	else if (!strcmp(p, "QStartNoAckMode"))
		snprintf(g->reply, sizeof(g->reply), "OK");
	else
		g->reply[0] = '\0'; /* not supported */
}

/* 'c [ADDR]' and 's [ADDR]': resume, from ADDR when given. */
static enum gdb_resume resume_at(struct tv_gdb *g, enum gdb_resume how, const char *p)
{
	struct tv_regs r;
	uint64_t addr;

	if (*p && (!tv_gdb_parse_hex(&p, &addr) || g->m->be->get_regs(g->m->vcpu, &r) != 0 ||
		   (r.rip = addr, g->m->be->set_regs(g->m->vcpu, &r)) != 0)) {
		reply_error(g, EINVAL);
		return GDB_NONE;
	}
	return how;
}

/* vCont;ACTION[:THREAD][;ACTION...]: the first action decides (there is one thread). */
static enum gdb_resume vcont(struct tv_gdb *g, const char *p)
{
	if (!strcmp(p, "?")) {
		snprintf(g->reply, sizeof(g->reply), "vCont;c;C;s;S");
		return GDB_NONE;
	}
	if (*p++ != ';' || !strchr("cCsS", *p)) {
		g->reply[0] = '\0';
		return GDB_NONE;
	}
	return *p == 'c' || *p == 'C' ? GDB_CONTINUE : GDB_STEP;
}

enum gdb_resume gdb_command(struct tv_gdb *g)
{
	const char *p = g->rx.data;
	uint64_t n;

	g->reply[0] = '\0';
	switch (p[0]) {
	case '?': gdb_stop_reply(g, 5, NULL); break;
	case 'g': read_registers(g); break;
	case 'G': write_registers(g, -1, p + 1); break;
	case 'p': read_register(g, p + 1); break;
	case 'P':
		p++;
		if (tv_gdb_parse_hex(&p, &n) && *p == '=' && n < 1024)
			write_registers(g, (int)n, p + 1);
		else
			reply_error(g, EINVAL);
		break;
	case 'm': case 'M': case 'X': memory(g, p[0], p + 1); break;
	case 'Z': case 'z': point(g, p[0] == 'Z', p + 1); break;
	case 'q': case 'Q': query(g, p); break;
	case 'H': case 'T': snprintf(g->reply, sizeof(g->reply), "OK"); break;
	case 'c': return resume_at(g, GDB_CONTINUE, p + 1);
	case 's': return resume_at(g, GDB_STEP, p + 1);
	case 'C': return GDB_CONTINUE; /* with a signal: the guest has no signals to take */
	case 'S': return GDB_STEP;
	case 'v':
		if (!strncmp(p, "vCont", 5))
			return vcont(g, p + 5);
		if (!strncmp(p, "vKill", 5))
			return GDB_KILL;
		break;
	case 'D': snprintf(g->reply, sizeof(g->reply), "OK"); return GDB_DETACH;
	case 'k': return GDB_KILL;
	default: break;
	}
	return GDB_NONE;
}
