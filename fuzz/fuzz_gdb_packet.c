/* Drives the GDB remote stub's packet layer (core/gdb/gdb_packet.c) as a socket would. The input is
 * the raw byte stream gdb sends: fed a byte at a time to the parser, and also taken whole as one
 * payload to frame, as a hex string and as a hex number. A finding is a crash or sanitizer
 * report, or any of:
 *  - a PACKET longer than TV_GDB_PACKET_MAX or not NUL-terminated, or one whose payload, framed
 *    again with tv_gdb_frame and parsed by a fresh parser, does not come back as the same PACKET;
 *  - the whole input, framed, not parsing back to itself (or, past TV_GDB_PACKET_MAX, not to BAD);
 *  - tv_gdb_hex_decode accepting what is not an even run of hex digits within max, or refusing one,
 *    or decoding to bytes that tv_gdb_hex_encode does not turn back into the same digits;
 *  - tv_gdb_parse_hex moving the pointer when it fails, or a value strtoull reads differently. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_packet.h"

static struct tv_gdb_rx rx, back;
static char framed[2 * TV_GDB_PACKET_MAX + 8];

/* Frames payload and parses it back: the event that ends the frame, and the payload in back. */
static enum tv_gdb_rx_event reframe(const void *payload, size_t len)
{
	size_t n = tv_gdb_frame(payload, len, framed, sizeof(framed));
	enum tv_gdb_rx_event ev = TV_GDB_RX_MORE;

	if (n == 0 || n >= sizeof(framed) || framed[n] != '\0')
		abort();
	tv_gdb_rx_init(&back);
	for (size_t i = 0; i < n; i++) {
		if (ev != TV_GDB_RX_MORE)
			abort(); /* the frame ended early */
		ev = tv_gdb_rx_byte(&back, (uint8_t)framed[i]);
	}
	return ev;
}

static void check_same(const void *payload, size_t len)
{
	enum tv_gdb_rx_event ev = reframe(payload, len);

	if (len > TV_GDB_PACKET_MAX) {
		if (ev != TV_GDB_RX_BAD)
			abort();
		return;
	}
	if (ev != TV_GDB_RX_PACKET || back.len != len || memcmp(back.data, payload, len))
		abort();
}

static void parse_stream(const uint8_t *data, size_t size)
{
	tv_gdb_rx_init(&rx);
	for (size_t i = 0; i < size; i++) {
		enum tv_gdb_rx_event ev = tv_gdb_rx_byte(&rx, data[i]);

		if (rx.len > TV_GDB_PACKET_MAX)
			abort();
		if (ev != TV_GDB_RX_PACKET)
			continue;
		if (rx.data[rx.len] != '\0')
			abort();
		check_same(rx.data, rx.len);
	}
}

static void check_hex_decode(const char *s, size_t size)
{
	uint8_t out[64];
	char again[2 * sizeof(out) + 1];
	long n = tv_gdb_hex_decode(s, size, out, sizeof(out));
	bool ok = size % 2 == 0 && size / 2 <= sizeof(out);

	for (size_t i = 0; i < size && ok; i++)
		ok = isxdigit((unsigned char)s[i]);
	if (ok != (n >= 0) || (ok && (size_t)n != size / 2))
		abort();
	if (!ok)
		return;
	tv_gdb_hex_encode(out, (size_t)n, again);
	for (size_t i = 0; i < size; i++)
		if (again[i] != tolower((unsigned char)s[i]))
			abort();
}

/* s is the target's own copy, cut after its leading hex digits for strtoull, then mended. */
static void check_parse_hex(char *s)
{
	const char *p = s;
	size_t k = 0;
	uint64_t v = 0;
	unsigned long long want = 0;
	bool ok;
	char cut;

	while (isxdigit((unsigned char)s[k]))
		k++;
	cut = s[k];
	s[k] = '\0';
	errno = 0;
	if (k)
		want = strtoull(s, NULL, 16);
	ok = k > 0 && errno != ERANGE;
	s[k] = cut;
	if (tv_gdb_parse_hex(&p, &v) != ok)
		abort();
	if (ok ? p != s + k || v != want : p != s || v != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	parse_stream(data, size);
	check_same(data, size);
	check_hex_decode(s, size);
	check_parse_hex(s);
	free(s);
	return 0;
}
