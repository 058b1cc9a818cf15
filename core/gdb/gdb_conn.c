/* The stub's connection: one TCP client at a time, the protocol's acknowledgements. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdb_session.h"

#define ACK_TIMEOUT_MS 5000 /* gdb acknowledges at once; a silent peer is gone */
#define RESENDS 3

/* "[HOST:]PORT" into host (loopback when none) and port; false when malformed. */
static bool split_address(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon = strrchr(spec, ':');
	const char *p = colon ? colon + 1 : spec;
	size_t n = colon ? (size_t)(colon - spec) : 0;

	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 || atoi(p) > 65535 ||
	    n >= hlen || strlen(p) >= plen)
		return false;
	memcpy(host, spec, n);
	host[n] = '\0';
	if (!n)
		snprintf(host, hlen, "127.0.0.1");
	snprintf(port, plen, "%s", p);
	return true;
}

/* The socket listening on o->listen, said on the log with the port it got. */
static int listen_on(struct tv_gdb *g)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char host[256], port[8], shost[64], sport[8];
	int one = 1, rc;

	if (!split_address(g->o.listen, host, sizeof(host), port, sizeof(port))) {
		tv_set_error("--gdb '%s': give [HOST:]PORT, e.g. :1234 or 127.0.0.1:1234", g->o.listen);
		return -EINVAL;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		tv_set_error("--gdb %s: %s", g->o.listen, gai_strerror(rc));
		return -EINVAL;
	}
	g->lfd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (g->lfd < 0 || setsockopt(g->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(g->lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(g->lfd, 1) != 0 ||
	    getsockname(g->lfd, (struct sockaddr *)&sa, &salen) != 0 ||
	    getnameinfo((struct sockaddr *)&sa, salen, shost, sizeof(shost), sport, sizeof(sport),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		rc = -errno;
		tv_set_error("--gdb %s: %s", g->o.listen, strerror(errno));
		freeaddrinfo(ai);
		return rc ? rc : -EIO;
	}
	freeaddrinfo(ai);
	fprintf(g->o.log, "twinvm: gdb: listening on %s:%s (in gdb: target remote %s:%s)\n", shost,
		sport, shost, sport);
	fflush(g->o.log);
	return 0;
}

int gdb_listen(struct tv_gdb *g)
{
	return listen_on(g);
}


int gdb_accept(struct tv_gdb *g, bool block)
{
	struct pollfd p = { .fd = g->lfd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, block ? -1 : 0) <= 0)
		return block ? -errno : 0;
	fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (g->cfd >= 0) {
		static const char busy[] = "E.one gdb at a time: another one is connected";
		char msg[2 * sizeof(busy) + 8];
		size_t n = tv_gdb_frame(busy, strlen(busy), msg, sizeof(msg));

		(void)!write(fd, msg, n);
		close(fd);
		fprintf(g->o.log, "twinvm: gdb: refused a second connection\n");
		return 0;
	}
	g->cfd = fd;
	g->noack = false;
	g->in_pos = g->in_len = 0;
	tv_gdb_rx_init(&g->rx);
	fprintf(g->o.log, "twinvm: gdb: connected\n");
	fflush(g->o.log);
	return 1;
}

void gdb_hangup(struct tv_gdb *g, const char *why)
{
	if (g->cfd < 0)
		return;
	close(g->cfd);
	g->cfd = -1;
	if (why)
		fprintf(g->o.log, "twinvm: gdb: %s\n", why);
}

/* The next byte from gdb within timeout_ms: 0-255, -ETIMEDOUT, or -ECONNRESET when it went
 * away. A second client knocking meanwhile is turned away. */
static int next_byte(struct tv_gdb *g, int timeout_ms)
{
	while (g->in_pos == g->in_len) {
		struct pollfd p[2] = { { .fd = g->cfd, .events = POLLIN },
				       { .fd = g->lfd, .events = POLLIN } };
		ssize_t n;
		int r = poll(p, 2, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		if (p[1].revents & POLLIN)
			gdb_accept(g, false);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(g->cfd, g->in, sizeof(g->in));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -ECONNRESET;
		g->in_pos = 0;
		g->in_len = (size_t)n;
	}
	return g->in[g->in_pos++];
}

static int put(struct tv_gdb *g, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(g->cfd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int gdb_send(struct tv_gdb *g, const char *payload)
{
	g->frame_len = tv_gdb_frame(payload, strlen(payload), g->frame, sizeof(g->frame));
	if (!g->frame_len)
		return -E2BIG; /* our own replies fit: a bug */
	for (int tries = 0; tries <= RESENDS; tries++) {
		int c, rc = put(g, g->frame, g->frame_len);

		if (rc || g->noack)
			return rc;
		do
			c = next_byte(g, ACK_TIMEOUT_MS);
		while (c >= 0 && c != '+' && c != '-');
		if (c < 0)
			return c == -ETIMEDOUT ? -ECONNRESET : c;
		if (c == '+')
			return 0;
	}
	return -ECONNRESET; /* gdb refused our packet RESENDS times */
}

int gdb_recv(struct tv_gdb *g, int timeout_ms)
{
	for (;;) {
		int c = next_byte(g, timeout_ms);

		if (c == -ECONNRESET)
			return 0;
		if (c < 0)
			return c;
		switch (tv_gdb_rx_byte(&g->rx, (uint8_t)c)) {
		case TV_GDB_RX_PACKET:
			return g->noack || put(g, "+", 1) == 0 ? 1 : 0;
		case TV_GDB_RX_BAD:
			if (!g->noack && put(g, "-", 1) != 0)
				return 0;
			break;
		case TV_GDB_RX_INTERRUPT:
			g->ctrl_c = true; /* came as the guest stopped: the next resume stops at once */
			break;
		case TV_GDB_RX_NACK:
			if (g->frame_len && put(g, g->frame, g->frame_len) != 0)
				return 0;
			break;
		default:
			break;
		}
	}
}

int gdb_poll_interrupt(struct tv_gdb *g)
{
	for (;;) {
		int c = next_byte(g, 0);

		if (c == -ETIMEDOUT)
			return 0;
		if (c < 0)
			return -ECONNRESET;
		if (tv_gdb_rx_byte(&g->rx, (uint8_t)c) == TV_GDB_RX_INTERRUPT)
			g->ctrl_c = true;
	}
}
