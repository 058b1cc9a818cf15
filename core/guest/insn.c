/* String I/O decoding and instruction fetch. */
#include "insn.h"

#include "modes.h"
#include "pagewalk.h"

int tv_code_bits(const struct tv_sregs *s)
{
	if ((s->efer & TV_EFER_LMA) && s->cs.l)
		return 64;
	return (s->cr0 & TV_CR0_PE) && s->cs.db ? 32 : 16;
}

size_t tv_insn_fetch(const struct tv_ram *ram, const struct tv_sregs *s, uint64_t rip,
		     uint8_t *bytes)
{
	struct tv_sregs code = *s;
	size_t n = 0;

	/* The page walk adds DS.base; an instruction is fetched through CS. The instruction has run,
	 * so its bytes translated: the widest MAXPHYADDR checks only the fixed reserved bits. */
	code.ds = s->cs;
	for (; n < TV_INSN_MAX; n++) {
		uint64_t gpa;

		if (tv_gva_to_gpa(ram, &code, TV_MAXPHYADDR_MAX, rip + n, &gpa) != TV_WALK_OK ||
		    tv_ram_read(ram, gpa, &bytes[n], 1) != 0)
			break;
	}
	return n;
}

bool tv_decode_string_io(const uint8_t *bytes, size_t n, int bits, struct tv_string_io *io)
{
	bool addr_override = false;
	size_t i = 0;

	io->rep = false;
	for (; i < n; i++) {
		uint8_t b = bytes[i];

		if (b == 0xf2 || b == 0xf3)
			io->rep = true;
		else if (b == 0x67)
			addr_override = true;
		else if (b == 0x66 || b == 0xf0 || b == 0x26 || b == 0x2e || b == 0x36 ||
			 b == 0x3e || b == 0x64 || b == 0x65)
			;
		else if (bits == 64 && (b & 0xf0) == 0x40)
			; /* REX */
		else
			break;
	}
	if (i >= n || bytes[i] < 0x6c || bytes[i] > 0x6f)
		return false;
	io->len = (unsigned)i + 1;
	switch (bits) {
	case 16: io->count_mask = addr_override ? 0xffffffffull : 0xffffull; break;
	case 32: io->count_mask = addr_override ? 0xffffull : 0xffffffffull; break;
	default: io->count_mask = addr_override ? 0xffffffffull : ~0ull; break;
	}
	return true;
}

/* The length of the I/O instruction at the start of bytes (n of them) when it is one that makes
 * exit e (direction, size, and the port for the imm8 forms), else 0. */
static size_t io_insn_len(const uint8_t *bytes, size_t n, int bits, const struct tv_exit *e)
{
	bool opsize = false;
	size_t i = 0, len;
	uint8_t op, size;

	for (; i < n; i++) {
		uint8_t b = bytes[i];

		if (b == 0x66)
			opsize = true;
		else if (!(b == 0xf2 || b == 0xf3 || b == 0x67 || b == 0x26 || b == 0x2e ||
			   b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65 ||
			   (bits == 64 && (b & 0xf0) == 0x40)))
			break;
	}
	if (i >= n)
		return 0;
	op = bytes[i];
	if ((op >= 0xe4 && op <= 0xe7) && (i + 1 >= n || bytes[i + 1] != (e->io.port & 0xff) ||
					   e->io.port > 0xff))
		return 0;
	if (op >= 0xe4 && op <= 0xe7)
		len = i + 2;
	else if ((op >= 0xec && op <= 0xef) || (op >= 0x6c && op <= 0x6f))
		len = i + 1;
	else
		return 0;
	size = (op & 1) == 0 ? 1 : (bits == 16) != opsize ? 2 : 4;
	if (((op & 2) == 0) != (e->io.direction == TV_IO_IN) || size != e->io.size)
		return 0;
	return len;
}

size_t tv_exit_insn(const struct tv_ram *ram, const struct tv_sregs *s, uint64_t rip,
		    const struct tv_exit *e, uint64_t *addr, uint8_t *bytes)
{
	int bits = tv_code_bits(s);

	/* The state is the one after the instruction: look back for the shortest one that ends at
	 * rip and makes this exit. */
	for (size_t k = 1; k <= TV_INSN_MAX && k <= rip; k++) {
		size_t n = tv_insn_fetch(ram, s, rip - k, bytes);

		if (n < k)
			continue;
		if (e->reason == TV_EXIT_HLT ? k == 1 && bytes[0] == 0xf4
					     : io_insn_len(bytes, k, bits, e) == k) {
			*addr = rip - k;
			return k;
		}
		if (e->reason == TV_EXIT_HLT)
			break;
	}
	return 0;
}
