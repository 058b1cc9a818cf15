/* The GDB remote protocol's packet layer (core/gdb/gdb_packet.c): framing, the byte-at-a-time
 * parser and the hex helpers, on the exact bytes gdb sends. No engine involved. */
#include <string.h>

#include "gdb_packet.h"
#include "tv_test.h"

static struct tv_gdb_rx rx; /* 16 KiB: static rather than on the stack */
static char framed[2 * TV_GDB_PACKET_MAX + 8];

/* Feeds n bytes; every one before the last must complete nothing. Returns the last one's event. */
static enum tv_gdb_rx_event feed(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		ck_assert_int_eq(tv_gdb_rx_byte(&rx, (uint8_t)s[i]), TV_GDB_RX_MORE);
	return tv_gdb_rx_byte(&rx, (uint8_t)s[n - 1]);
}

#define FEED(lit) feed(lit, sizeof(lit) - 1)

static void assert_packet(const void *payload, size_t len)
{
	ck_assert_uint_eq(rx.len, len);
	ck_assert_mem_eq(rx.data, payload, len);
	ck_assert_int_eq(rx.data[len], '\0');
}

static void setup(void)
{
	tv_gdb_rx_init(&rx);
}

START_TEST(test_known_checksum_frames_and_parses_g)
{
	ck_assert_uint_eq(tv_gdb_frame("g", 1, framed, sizeof(framed)), 5);
	ck_assert_str_eq(framed, "$g#67");
	ck_assert_int_eq(FEED("$g#67"), TV_GDB_RX_PACKET);
	assert_packet("g", 1);
	ck_assert_uint_eq(tv_gdb_frame("", 0, framed, sizeof(framed)), 4);
	ck_assert_str_eq(framed, "$#00");
}
END_TEST

START_TEST(test_every_byte_value_round_trips)
{
	uint8_t all[256];

	for (int c = 0; c < 256; c++) {
		uint8_t one = (uint8_t)c;
		size_t n = tv_gdb_frame(&one, 1, framed, sizeof(framed));

		all[c] = one;
		/* Exactly the four framing bytes take an escape. */
		ck_assert_uint_eq(n, strchr("#$}*", c) && c ? 6 : 5);
		ck_assert_int_eq(framed[n], '\0');
		ck_assert_int_eq(feed(framed, n), TV_GDB_RX_PACKET);
		assert_packet(&one, 1);
	}
	ck_assert_int_eq(feed(framed, tv_gdb_frame(all, sizeof(all), framed, sizeof(framed))),
			 TV_GDB_RX_PACKET);
	assert_packet(all, sizeof(all));
}
END_TEST

START_TEST(test_brace_hash_dollar_star_are_escaped)
{
	/* '}' -> "}]", '#' -> "}\x03", '$' -> "}\x04", '*' -> "}\x0a"; sums by hand. */
	ck_assert_uint_eq(tv_gdb_frame("a}b#c", 5, framed, sizeof(framed)), 11);
	ck_assert_str_eq(framed, "$a}]b}\x03" "c#80");
	ck_assert_int_eq(FEED("$a}]b}\x03" "c#80"), TV_GDB_RX_PACKET);
	assert_packet("a}b#c", 5);
	ck_assert_uint_eq(tv_gdb_frame("$*", 2, framed, sizeof(framed)), 8);
	ck_assert_str_eq(framed, "$}\x04}\x0a#08");
}
END_TEST

START_TEST(test_frame_refuses_a_buffer_one_short)
{
	char out[8];

	ck_assert_uint_eq(tv_gdb_frame("g", 1, out, 6), 5);
	memset(out, 'x', sizeof(out));
	ck_assert_uint_eq(tv_gdb_frame("g", 1, out, 5), 0);
	ck_assert_int_eq(out[0], '\0');
	ck_assert_int_eq(out[5], 'x');
	ck_assert_uint_eq(tv_gdb_frame("#", 1, out, 7), 6);
	ck_assert_uint_eq(tv_gdb_frame("#", 1, out, 6), 0);
	ck_assert_uint_eq(tv_gdb_frame("", 0, out, 4), 0);
}
END_TEST

START_TEST(test_bad_checksum_is_bad_then_next_packet_reads)
{
	ck_assert_int_eq(FEED("$g#68"), TV_GDB_RX_BAD);
	ck_assert_ptr_nonnull(strstr(rx.why, "checksum"));
	ck_assert_int_eq(FEED("$g#6z"), TV_GDB_RX_BAD);
	ck_assert_ptr_nonnull(strstr(rx.why, "hex digits"));
	ck_assert_int_eq(FEED("$g#67"), TV_GDB_RX_PACKET);
	assert_packet("g", 1);
}
END_TEST

/* Sends "$" n*'a' "#xx" with the right checksum. */
static enum tv_gdb_rx_event feed_run(size_t n)
{
	uint8_t sum = 0;
	char tail[4];

	ck_assert_int_eq(tv_gdb_rx_byte(&rx, '$'), TV_GDB_RX_MORE);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(tv_gdb_rx_byte(&rx, 'a'), TV_GDB_RX_MORE);
		sum = (uint8_t)(sum + 'a');
	}
	snprintf(tail, sizeof(tail), "#%02x", sum);
	return FEED(tail);
}

START_TEST(test_overlong_packet_is_bad_then_next_packet_reads)
{
	ck_assert_int_eq(feed_run(TV_GDB_PACKET_MAX), TV_GDB_RX_PACKET);
	ck_assert_uint_eq(rx.len, TV_GDB_PACKET_MAX);
	ck_assert_int_eq(feed_run(TV_GDB_PACKET_MAX + 1), TV_GDB_RX_BAD);
	ck_assert_ptr_nonnull(strstr(rx.why, "too long"));
	ck_assert_uint_le(rx.len, TV_GDB_PACKET_MAX);
	ck_assert_int_eq(feed_run(3 * TV_GDB_PACKET_MAX), TV_GDB_RX_BAD);
	ck_assert_int_eq(FEED("$g#67"), TV_GDB_RX_PACKET);
	assert_packet("g", 1);
}
END_TEST

START_TEST(test_ctrl_c_interrupts_between_packets_only)
{
	ck_assert_int_eq(tv_gdb_rx_byte(&rx, 0x03), TV_GDB_RX_INTERRUPT);
	/* Inside a packet 0x03 is data, as in X's binary payload. */
	ck_assert_int_eq(FEED("$X0,1:\x03#22"), TV_GDB_RX_PACKET);
	assert_packet("X0,1:\x03", 6);
	ck_assert_int_eq(tv_gdb_rx_byte(&rx, 0x03), TV_GDB_RX_INTERRUPT);
}
END_TEST

START_TEST(test_plus_acks_and_minus_nacks)
{
	ck_assert_int_eq(tv_gdb_rx_byte(&rx, '+'), TV_GDB_RX_ACK);
	ck_assert_int_eq(tv_gdb_rx_byte(&rx, '-'), TV_GDB_RX_NACK);
	/* Inside a packet they are data. */
	ck_assert_int_eq(FEED("$+-#58"), TV_GDB_RX_PACKET);
	assert_packet("+-", 2);
}
END_TEST

START_TEST(test_garbage_between_packets_is_ignored)
{
	for (int c = 0; c < 256; c++) {
		if (c == '$' || c == '+' || c == '-' || c == 0x03)
			continue;
		ck_assert_int_eq(tv_gdb_rx_byte(&rx, (uint8_t)c), TV_GDB_RX_MORE);
		/* No packet was opened: a payload and checksum without '$' complete nothing. */
		ck_assert_int_eq(FEED("g#67"), TV_GDB_RX_MORE);
	}
	ck_assert_int_eq(FEED("$g#67"), TV_GDB_RX_PACKET);
	assert_packet("g", 1);
}
END_TEST

START_TEST(test_dollar_inside_a_packet_starts_a_new_one)
{
	ck_assert_int_eq(FEED("$m10$g#67"), TV_GDB_RX_PACKET);
	assert_packet("g", 1);
	/* Also after an escape and in place of a checksum digit, as in gdb. */
	ck_assert_int_eq(FEED("$a}$g#67"), TV_GDB_RX_PACKET);
	assert_packet("g", 1);
	ck_assert_int_eq(FEED("$m10#c$g#67"), TV_GDB_RX_PACKET);
	assert_packet("g", 1);
}
END_TEST

START_TEST(test_escape_at_the_end_is_bad)
{
	/* "a}" sums to 0xde: the checksum is right, the payload is not. */
	ck_assert_int_eq(FEED("$a}#de"), TV_GDB_RX_BAD);
	ck_assert_ptr_nonnull(strstr(rx.why, "escape"));
	ck_assert_int_eq(FEED("$g#67"), TV_GDB_RX_PACKET);
}
END_TEST

START_TEST(test_hex_encode_is_lower_case)
{
	char out[9];

	tv_gdb_hex_encode("\x00\xab\x7f\xff", 4, out);
	ck_assert_str_eq(out, "00ab7fff");
	tv_gdb_hex_encode("", 0, out);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_hex_decode_refuses_odd_nonhex_and_too_many)
{
	uint8_t out[4] = { 0x55, 0x55, 0x55, 0x55 };

	ck_assert_int_eq(tv_gdb_hex_decode("00aBfF7f", 8, out, 4), 4);
	ck_assert_mem_eq(out, "\x00\xab\xff\x7f", 4);
	ck_assert_int_eq(tv_gdb_hex_decode("", 0, out, 0), 0);
	memset(out, 0x55, sizeof(out));
	ck_assert_int_eq(tv_gdb_hex_decode("abc", 3, out, 4), -1);
	ck_assert_int_eq(tv_gdb_hex_decode("ab0g", 4, out, 4), -1);
	ck_assert_int_eq(tv_gdb_hex_decode("ab 0", 4, out, 4), -1);
	ck_assert_int_eq(tv_gdb_hex_decode("0102030405", 10, out, 4), -1);
	ck_assert_mem_eq(out, "\x55\x55\x55\x55", 4); /* a refused string writes nothing */
	/* Only hexlen digits are read: the ones after are not looked at. */
	ck_assert_int_eq(tv_gdb_hex_decode("12zz", 2, out, 1), 1);
	ck_assert_uint_eq(out[0], 0x12);
}
END_TEST

START_TEST(test_parse_hex_edges)
{
	const char *empty = "", *comma = ",1", *max = "FFFFffffFFFFffff;";
	const char *big = "10000000000000000", *zeros = "00000000000000001", *num = "1f,4", *p;
	uint64_t v = 7;

	p = empty;
	ck_assert(!tv_gdb_parse_hex(&p, &v));
	ck_assert_ptr_eq(p, empty);
	p = comma;
	ck_assert(!tv_gdb_parse_hex(&p, &v));
	ck_assert_ptr_eq(p, comma);
	p = big; /* 17 digits: one bit past 64 */
	ck_assert(!tv_gdb_parse_hex(&p, &v));
	ck_assert_ptr_eq(p, big);
	ck_assert_uint_eq(v, 7);
	p = max;
	ck_assert(tv_gdb_parse_hex(&p, &v));
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_ptr_eq(p, max + 16);
	p = zeros;
	ck_assert(tv_gdb_parse_hex(&p, &v));
	ck_assert_uint_eq(v, 1);
	p = num;
	ck_assert(tv_gdb_parse_hex(&p, &v));
	ck_assert_uint_eq(v, 0x1f);
	ck_assert_ptr_eq(p, num + 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gdb_packet");
	TCase *tc = tcase_create("packet");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_known_checksum_frames_and_parses_g);
	tcase_add_test(tc, test_every_byte_value_round_trips);
	tcase_add_test(tc, test_brace_hash_dollar_star_are_escaped);
	tcase_add_test(tc, test_frame_refuses_a_buffer_one_short);
	tcase_add_test(tc, test_bad_checksum_is_bad_then_next_packet_reads);
	tcase_add_test(tc, test_overlong_packet_is_bad_then_next_packet_reads);
	tcase_add_test(tc, test_ctrl_c_interrupts_between_packets_only);
	tcase_add_test(tc, test_plus_acks_and_minus_nacks);
	tcase_add_test(tc, test_garbage_between_packets_is_ignored);
	tcase_add_test(tc, test_dollar_inside_a_packet_starts_a_new_one);
	tcase_add_test(tc, test_escape_at_the_end_is_bad);
	tcase_add_test(tc, test_hex_encode_is_lower_case);
	tcase_add_test(tc, test_hex_decode_refuses_odd_nonhex_and_too_many);
	tcase_add_test(tc, test_parse_hex_edges);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
