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
