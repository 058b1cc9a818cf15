/* The GDB remote protocol's packet framing, read a byte at a time, and its hex helpers. */
#include "gdb_packet.h"

#include <limits.h>
#include <stdio.h>

static const char hex_digits[] = "0123456789abcdef";

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void tv_gdb_rx_init(struct tv_gdb_rx *rx)
{
	rx->state = TV_GDB_RXS_IDLE;
	rx->sum = 0;
	rx->got = 0;
	rx->bad_digit = false;
	rx->too_long = false;
	rx->escape_end = false;
	rx->len = 0;
	rx->data[0] = '\0';
	rx->why[0] = '\0';
}

static enum tv_gdb_rx_event start_packet(struct tv_gdb_rx *rx)
{
	tv_gdb_rx_init(rx);
	rx->state = TV_GDB_RXS_DATA;
	return TV_GDB_RX_MORE;
}

/* Past TV_GDB_PACKET_MAX the bytes are only counted as sent (for the checksum), not kept. */
static void keep(struct tv_gdb_rx *rx, uint8_t c)
{
	if (rx->len < TV_GDB_PACKET_MAX)
		rx->data[rx->len++] = (char)c;
	else
		rx->too_long = true;
}

static enum tv_gdb_rx_event between_packets(struct tv_gdb_rx *rx, uint8_t c)
{
	switch (c) {
	case '$':
		return start_packet(rx);
	case '+':
		return TV_GDB_RX_ACK;
	case '-':
		return TV_GDB_RX_NACK;
	case 0x03:
		return TV_GDB_RX_INTERRUPT;
	default:
		return TV_GDB_RX_MORE;
	}
}

static enum tv_gdb_rx_event finish(struct tv_gdb_rx *rx)
{
	rx->state = TV_GDB_RXS_IDLE;
	if (rx->too_long)
		snprintf(rx->why, sizeof(rx->why), "too long: over %d bytes", TV_GDB_PACKET_MAX);
	else if (rx->escape_end)
		snprintf(rx->why, sizeof(rx->why), "ends inside an escape '}'");
	else if (rx->bad_digit)
		snprintf(rx->why, sizeof(rx->why), "checksum is not two hex digits");
	else if (rx->got != rx->sum)
		snprintf(rx->why, sizeof(rx->why), "bad checksum: sent %02x, payload sums to %02x",
			 rx->got, rx->sum);
	else {
		rx->data[rx->len] = '\0';
		return TV_GDB_RX_PACKET;
	}
	rx->len = 0;
	rx->data[0] = '\0';
	return TV_GDB_RX_BAD;
}

enum tv_gdb_rx_event tv_gdb_rx_byte(struct tv_gdb_rx *rx, uint8_t c)
{
	int digit;

	if (rx->state == TV_GDB_RXS_IDLE)
		return between_packets(rx, c);
	if (c == '$')
		return start_packet(rx);
	if (rx->state == TV_GDB_RXS_DATA || rx->state == TV_GDB_RXS_ESCAPE) {
		if (c == '#') {
			rx->escape_end = rx->state == TV_GDB_RXS_ESCAPE;
			rx->state = TV_GDB_RXS_SUM_HI;
			return TV_GDB_RX_MORE;
		}
		rx->sum = (uint8_t)(rx->sum + c);
		if (rx->state == TV_GDB_RXS_ESCAPE) {
			keep(rx, c ^ 0x20);
			rx->state = TV_GDB_RXS_DATA;
		} else if (c == '}') {
			rx->state = TV_GDB_RXS_ESCAPE;
		} else {
			keep(rx, c);
		}
		return TV_GDB_RX_MORE;
	}
	digit = hex_value(c);
	if (digit < 0)
		rx->bad_digit = true;
	else
		rx->got = (uint8_t)(rx->got << 4 | digit);
	if (rx->state == TV_GDB_RXS_SUM_HI) {
		rx->state = TV_GDB_RXS_SUM_LO;
		return TV_GDB_RX_MORE;
	}
	return finish(rx);
}

static bool needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

size_t tv_gdb_frame(const void *payload, size_t len, char *out, size_t outlen)
{
	const uint8_t *in = payload;
	uint8_t sum = 0;
	size_t n = 0;

	/* From here on outlen - n >= 4 holds: room for "#xx" and the NUL. */
	if (outlen < 5)
		goto no_room;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		bool esc = needs_escape(in[i]);
		uint8_t c = esc ? in[i] ^ 0x20 : in[i];

		if (outlen - n < (esc ? 2u : 1u) + 4)
			goto no_room;
		if (esc) {
			out[n++] = '}';
			sum = (uint8_t)(sum + '}');
		}
		out[n++] = (char)c;
		sum = (uint8_t)(sum + c);
	}
	out[n++] = '#';
	out[n++] = hex_digits[sum >> 4];
	out[n++] = hex_digits[sum & 0xf];
	out[n] = '\0';
	return n;
no_room:
	if (outlen)
		out[0] = '\0';
	return 0;
}

void tv_gdb_hex_encode(const void *bytes, size_t n, char *out)
{
	const uint8_t *b = bytes;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[b[i] >> 4];
		out[2 * i + 1] = hex_digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

long tv_gdb_hex_decode(const char *hex, size_t hexlen, void *out, size_t max)
{
	uint8_t *o = out;

	if (hexlen % 2 || hexlen / 2 > max || hexlen / 2 > LONG_MAX)
		return -1;
	/* Checked in full first, so a refused string leaves out as it was. */
	for (size_t i = 0; i < hexlen; i++)
		if (hex_value((uint8_t)hex[i]) < 0)
			return -1;
	for (size_t i = 0; i < hexlen / 2; i++)
		o[i] = (uint8_t)(hex_value((uint8_t)hex[2 * i]) << 4 |
				 hex_value((uint8_t)hex[2 * i + 1]));
	return (long)(hexlen / 2);
}

bool tv_gdb_parse_hex(const char **p, uint64_t *value)
{
	const char *s = *p;
	uint64_t v = 0;
	int digit;

	if (hex_value((uint8_t)*s) < 0)
		return false;
	while ((digit = hex_value((uint8_t)*s)) >= 0) {
		if (v >> 60)
			return false; /* one more digit would shift bits out of 64 */
		v = v << 4 | (uint64_t)digit;
		s++;
	}
	*value = v;
	*p = s;
	return true;
}
