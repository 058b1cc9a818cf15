/* The GDB remote serial protocol's framing: $payload#xx with a two-hex-digit checksum (the sum of
 * the payload bytes as sent, mod 256), '+'/'-' acknowledgements, 0x03 (Ctrl-C) out of band, and the
 * binary escape '}' (0x7d) followed by the byte XOR 0x20.
 *
 * Everything here reads bytes from a socket, so nothing trusts them: the parser keeps all its
 * state in struct tv_gdb_rx, allocates nothing and never writes past data. */
#ifndef TWINVM_GDB_PACKET_H
#define TWINVM_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload we take, after unescaping (we advertise PacketSize=4000 hex, i.e. 16384). */
#define TV_GDB_PACKET_MAX 16384

enum tv_gdb_rx_event {
	TV_GDB_RX_MORE,      /* nothing complete yet */
	TV_GDB_RX_PACKET,    /* rx->data[0..rx->len) holds a packet's payload, unescaped,
			      * NUL-terminated */
	TV_GDB_RX_BAD,       /* a packet ended, but its checksum was wrong or it was too long
			      * (rx->why says which); answer '-' */
	TV_GDB_RX_INTERRUPT, /* 0x03 between packets: the user pressed Ctrl-C */
	TV_GDB_RX_ACK,       /* '+' */
	TV_GDB_RX_NACK,      /* '-': resend the last packet */
};

struct tv_gdb_rx {
	/* private state of the byte-at-a-time parser */
	enum tv_gdb_rx_state { TV_GDB_RXS_IDLE, TV_GDB_RXS_DATA, TV_GDB_RXS_ESCAPE,
			       TV_GDB_RXS_SUM_HI, TV_GDB_RXS_SUM_LO } state;
	uint8_t sum;      /* of the payload bytes as sent, so far */
	uint8_t got;      /* the checksum sent, from its digits */
	bool bad_digit;   /* a checksum character that is not a hex digit */
	bool too_long;    /* more than TV_GDB_PACKET_MAX bytes after unescaping */
	bool escape_end;  /* the payload ended inside an escape ("}#xx") */
	char data[TV_GDB_PACKET_MAX + 1];
	size_t len;
	char why[64];
};

/* An idle parser, waiting for a packet. */
void tv_gdb_rx_init(struct tv_gdb_rx *rx);

/* Feeds one byte; returns what it completed. Bytes between packets other than '+', '-', 0x03 and
 * '$' are ignored. A '$' inside a packet starts a new packet (the old one is dropped). A packet
 * longer than TV_GDB_PACKET_MAX is read to its '#xx' and then reported as TV_GDB_RX_BAD ("too
 * long"), never overflowing data. Inside a packet every byte but '$' and '#' is payload (0x03 too,
 * as in X's binary data); '$' and '#' are framing even after '}', as in gdb, so a payload ending in
 * a lone '}' is TV_GDB_RX_BAD too, as is a checksum that is not two hex digits. */
enum tv_gdb_rx_event tv_gdb_rx_byte(struct tv_gdb_rx *rx, uint8_t c);

/* Frames payload as "$" escaped-payload "#xx" into out: the length written (no NUL counted; out is
 * NUL-terminated), or 0 when it does not fit in outlen. '#', '$', '}' and '*' in the payload are
 * escaped. At most 2 * len + 5 bytes are needed. */
size_t tv_gdb_frame(const void *payload, size_t len, char *out, size_t outlen);

/* Hex helpers the commands use. */
void tv_gdb_hex_encode(const void *bytes, size_t n, char *out); /* 2n lower-case digits + NUL */
/* Decodes exactly hexlen digits (hexlen even) into out (at most max bytes): bytes decoded, or -1
 * for a non-hex digit, an odd length or more than max bytes (out is then left as it was). */
long tv_gdb_hex_decode(const char *hex, size_t hexlen, void *out, size_t max);
/* Parses one hex number at *p (1 to 16 digits; leading zeros do not count), advancing *p past it:
 * false when there is no digit or it overflows 64 bits (then *p is left as it was). */
bool tv_gdb_parse_hex(const char **p, uint64_t *value);

#endif
