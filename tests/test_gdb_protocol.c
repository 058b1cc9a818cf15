/* The GDB stub spoken to byte by byte, as a hostile or clumsy client would: malformed packets get
 * defined answers, Ctrl-C stops a running guest, a second client is turned away, a client that
 * vanishes ends the run, and the guest's end is reported. No gdb needed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdb_session.h"
#include "run_binary.h"
#include "tv_test.h"

static int dial(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_raw(int fd, const char *bytes, size_t n)
{
	ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
}

static void send_packet(int fd, const char *payload)
{
	char frame[512];
	unsigned sum = 0;

	for (const char *c = payload; *c; c++)
		sum += (unsigned char)*c;
	snprintf(frame, sizeof(frame), "$%s#%02x", payload, sum & 0xff);
	send_raw(fd, frame, strlen(frame));
}

/* Everything the stub sends within ms, or until a whole packet has come: into buf. */
static const char *receive(int fd, char *buf, size_t len, int ms)
{
	size_t n = 0;

	buf[0] = '\0';
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *hash = strchr(buf, '#');
		ssize_t r;

		if (hash && strlen(hash) >= 3)
			return buf;
		if (poll(&p, 1, ms) <= 0 || (r = read(fd, buf + n, len - 1 - n)) <= 0)
			return buf;
		n += (size_t)r;
		buf[n] = '\0';
	}
}

/* The payload of the packet in what receive() got. */
static const char *payload(const char *got, char *buf, size_t len)
{
	const char *d = strchr(got, '$'), *h = d ? strchr(d, '#') : NULL;

	snprintf(buf, len, "%.*s", d && h ? (int)(h - d - 1) : 0, d ? d + 1 : "");
	return buf;
}

/* Hex text into a string (the O packet's console output). */
static void unhex(const char *hex, char *out, size_t len)
{
	size_t i = 0;
	unsigned v;

	for (; i + 1 < len && hex[2 * i] && sscanf(hex + 2 * i, "%2x", &v) == 1; i++)
		out[i] = (char)v;
	out[i] = '\0';
}

static void start(struct gdb_twinvm *t, const char *guest, const char *extra)
{
	char why[512];

	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	ck_assert_msg(gdb_twinvm_start(t, (const char *const[]){ "--backend", "emu", "--mode",
					       "real", "--guest", guest, NULL }, extra, why,
				       sizeof(why)), "%s", why);
}

/* Sends payload and returns the answer's payload (the stub acks first). */
static const char *ask(int fd, const char *p, char *buf, size_t len)
{
	char got[40000];

	send_packet(fd, p);
	receive(fd, got, sizeof(got), 5000);
	ck_assert_msg(got[0] == '+', "no ack for %s: %s", p, got);
	send_raw(fd, "+", 1); /* ours for its answer */
	return payload(got, buf, len);
}

START_TEST(test_malformed_packets_get_defined_answers)
{
	static char longp[20000];
	struct gdb_twinvm t;
	char buf[40000], got[64];
	int fd;

	start(&t, "hello", NULL);
	fd = dial(t.port);
	send_raw(fd, "$g#00", 5); /* a wrong checksum */
	ck_assert_str_eq(receive(fd, got, sizeof(got), 2000), "-");
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '$';
	send_raw(fd, longp, sizeof(longp) - 1);
	send_raw(fd, "#00", 3); /* too long for the stub */
	ck_assert_str_eq(receive(fd, got, sizeof(got), 2000), "-");
	ck_assert_str_eq(ask(fd, "vNoSuchPacket", buf, sizeof(buf)), "");
	ck_assert_str_eq(ask(fd, "m", buf, sizeof(buf)), "E16");
	ck_assert_str_eq(ask(fd, "mfffff000,4", buf, sizeof(buf)), "E0e"); /* outside RAM */
	ck_assert_str_eq(ask(fd, "m0,ffffffff", buf, sizeof(buf)), "E16");  /* too long */
	ck_assert_str_eq(ask(fd, "p999", buf, sizeof(buf)), "E16");
	ck_assert_str_eq(ask(fd, "Mzz,1:00", buf, sizeof(buf)), "E16");
	ck_assert_str_eq(ask(fd, "Z9,0,1", buf, sizeof(buf)), "E16");
	ck_assert_str_eq(ask(fd, "?", buf, sizeof(buf)), "T05thread:1;");
	/* monitor gpa 0x0 6: guest-physical memory, the real-mode hello's mov edx, 0x25 */
	unhex(ask(fd, "qRcmd,67706120307830203620", buf, sizeof(buf)), got, sizeof(got));
	ck_assert_str_eq(got, "0x00000000: 66 ba 25 00 00 00\n");
	unhex(ask(fd, "qRcmd,677061203078666666666666", buf, sizeof(buf)), buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "is not all in guest RAM"), "%s", buf);
	ck_assert_str_eq(ask(fd, "D", buf, sizeof(buf)), "OK"); /* the guest runs on to its end */
	close(fd);
	ck_assert_int_eq(gdb_twinvm_end(&t, 30, buf, sizeof(buf)), 0);
	ck_assert_msg(strstr(buf, "Hello, world!\n"), "%s", buf);
}
END_TEST

/* guest1-noio never halts: gdb's Ctrl-C (0x03) stops it, and a kill ends the run. */
START_TEST(test_ctrl_c_stops_a_running_guest)
{
	struct gdb_twinvm t;
	char got[512], buf[256];
	int fd;

	start(&t, "guest1-noio", NULL);
	fd = dial(t.port);
	send_packet(fd, "c");
	ck_assert_str_eq(receive(fd, got, sizeof(got), 300), "+"); /* acked, and running */
	send_raw(fd, "\x03", 1);
	receive(fd, got, sizeof(got), 5000);
	ck_assert_msg(!strncmp(payload(got, buf, sizeof(buf)), "T02", 3), "%s", got);
	send_raw(fd, "+", 1);
	send_packet(fd, "k");
	ck_assert_int_eq(gdb_twinvm_end(&t, 30, NULL, 0), 1);
	ck_assert_msg(strstr(t.err, "gdb killed the guest"), "%s", t.err);
	close(fd);
}
END_TEST

START_TEST(test_second_client_is_turned_away)
{
	struct gdb_twinvm t;
	char got[512], buf[256];
	int one, two;

	start(&t, "hello", NULL);
	one = dial(t.port);
	ck_assert_str_eq(ask(one, "qAttached", buf, sizeof(buf)), "1");
	two = dial(t.port);
	send_packet(two, "?");
	receive(two, got, sizeof(got), 5000);
	ck_assert_msg(strstr(got, "E.one gdb at a time"), "%s", got);
	close(two);
	ck_assert_str_eq(ask(one, "?", buf, sizeof(buf)), "T05thread:1;");
	send_packet(one, "k");
	gdb_twinvm_end(&t, 30, NULL, 0);
	ck_assert_msg(strstr(t.err, "refused a second connection"), "%s", t.err);
	close(one);
}
END_TEST

/* A client that goes away without detaching while the guest runs: the run stops, exit 1. */
START_TEST(test_vanishing_client_ends_the_run)
{
	struct gdb_twinvm t;
	char got[64];
	int fd;

	start(&t, "guest1-noio", NULL);
	fd = dial(t.port);
	send_packet(fd, "c");
	receive(fd, got, sizeof(got), 300);
	close(fd);
	ck_assert_int_eq(gdb_twinvm_end(&t, 30, NULL, 0), 1);
	ck_assert_msg(strstr(t.err, "gdb went away without detaching"), "%s", t.err);
}
END_TEST

/* The guest's halt is told to gdb as W with twinvm's status; "monitor exits on" first stops at
 * each exit, named on gdb's console. */
START_TEST(test_exits_on_and_the_end_reported)
{
	struct gdb_twinvm t;
	char got[1024], buf[512], text[256];
	int fd;

	start(&t, "hello", NULL);
	fd = dial(t.port);
	ask(fd, "qRcmd,6578697473206f6e", buf, sizeof(buf)); /* "exits on" */
	send_packet(fd, "c");
	receive(fd, got, sizeof(got), 5000); /* "+" and the O packet */
	payload(got, buf, sizeof(buf));
	ck_assert_msg(buf[0] == 'O', "%s", got);
	unhex(buf + 1, text, sizeof(text));
	ck_assert_msg(strstr(text, "VM exit IO out port 0xe9 size 1: HC_print8bit"), "%s", text);
	send_raw(fd, "+", 1);
	receive(fd, got, sizeof(got), 5000);
	ck_assert_msg(!strncmp(payload(got, buf, sizeof(buf)), "T05", 3), "%s", got);
	send_raw(fd, "+", 1);
	ask(fd, "qRcmd,6578697473206f6666", buf, sizeof(buf)); /* "exits off" */
	send_packet(fd, "c");
	receive(fd, got, sizeof(got), 10000);
	ck_assert_str_eq(payload(got, buf, sizeof(buf)), "W00");
	send_raw(fd, "+", 1);
	ck_assert_int_eq(gdb_twinvm_end(&t, 30, NULL, 0), 0);
	close(fd);
}
END_TEST

START_TEST(test_no_wait_runs_without_gdb_and_bad_flags_are_refused)
{
	struct gdb_twinvm t;
	struct result r;
	char out[256];

	start(&t, "hello", "--gdb-no-wait");
	ck_assert_int_eq(gdb_twinvm_end(&t, 30, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "Hello, world!\n"), "%s", out);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--gdb", "nope", NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "give [HOST:]PORT"), "%s", r.err);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--gdb-no-wait", NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "needs --gdb"), "%s", r.err);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--gdb", ":0", "--step", NULL },
		      &r);
	ck_assert_msg(r.status == 2 && tv_count_lines(r.err) == 1, "%s", r.err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gdb_protocol");
	TCase *tc = tcase_create("protocol");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_malformed_packets_get_defined_answers);
	tcase_add_test(tc, test_ctrl_c_stops_a_running_guest);
	tcase_add_test(tc, test_second_client_is_turned_away);
	tcase_add_test(tc, test_vanishing_client_ends_the_run);
	tcase_add_test(tc, test_exits_on_and_the_end_reported);
	tcase_add_test(tc, test_no_wait_runs_without_gdb_and_bad_flags_are_refused);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
