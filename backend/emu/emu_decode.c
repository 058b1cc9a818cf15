/* x86-64 decoding for the fault corrections: see emu_decode.h. */
#include "emu_decode.h"

#include <string.h>

/* The one-byte opcodes with a ModRM byte in 64-bit code: bit (op & 15) of row op >> 4. */
static const uint16_t modrm_map0[16] = {
	0x0f0f, 0x0f0f, 0x0f0f, 0x0f0f, 0x0000, 0x0000, 0x0a08, 0x0000,
	0xffff, 0x0000, 0x0000, 0x0000, 0x00c3, 0xff0f, 0x0000, 0xc0c0,
};

/* The 0F opcodes without one: the system instructions that take none, Jcc rel32, PUSH/POP FS
 * and GS, CPUID, RSM, BSWAP; every other 0F opcode has one. */
static bool modrm_map1(uint8_t op)
{
	return !((op >= 0x04 && op <= 0x0c) || op == 0x0e || (op >= 0x30 && op <= 0x37) ||
		 op == 0x77 || (op >= 0x80 && op <= 0x8f) || (op >= 0xa0 && op <= 0xa2) ||
		 (op >= 0xa8 && op <= 0xaa) || op >= 0xc8);
}

static int seg_of(uint8_t b)
{
	switch (b) {
	case 0x26: return 0;
	case 0x2e: return 1;
	case 0x36: return 2;
	case 0x3e: return 3;
	case 0x64: return 4;
	case 0x65: return 5;
	default: return -1;
	}
}

/* VEX (C4, C5): its map and its inverted R, X, B as a REX; i at the opcode after it. */
static bool vex(const uint8_t *b, unsigned n, unsigned *i, struct emu_insn *d)
{
	uint8_t p1;

	if (*i + 2 >= n)
		return false;
	p1 = b[*i + 1];
	if (b[*i] == 0xc5) {
		d->map = 1;
		d->rex = (p1 & 0x80) ? 0 : 4;
		*i += 2;
	} else {
		if (*i + 3 >= n || (p1 & 0x1f) < 1 || (p1 & 0x1f) > 3)
			return false;
		d->map = p1 & 0x1f;
		d->rex = (uint8_t)(((~p1 >> 5) & 7) | ((b[*i + 2] & 0x80) ? 8 : 0));
		*i += 3;
	}
	d->op = b[(*i)++];
	d->has_modrm = true;
	return true;
}

/* The ModRM byte at b[i] and what follows it: SIB, displacement. */
static bool modrm(const uint8_t *b, unsigned n, unsigned i, struct emu_insn *d)
{
	unsigned mod, rm, dispsz = 0;

	if (i >= n)
		return false;
	d->modrm = b[i++];
	mod = d->modrm >> 6;
	rm = d->modrm & 7;
	d->mem = mod != 3;
	d->base = d->index = EMU_NO_REG;
	d->scale = 1;
	if (d->mem) {
		dispsz = mod == 1 ? 1 : mod == 2 ? 4 : 0;
		if (rm == 4) {
			uint8_t sib;
			unsigned idx;

			if (i >= n)
				return false;
			sib = b[i++];
			idx = ((sib >> 3) & 7) | ((d->rex & 2) << 2);
			d->index = idx == 4 ? EMU_NO_REG : (int)idx;
			d->scale = 1u << (sib >> 6);
			if ((sib & 7) == 5 && mod == 0)
				dispsz = 4; /* no base */
			else
				d->base = (int)((sib & 7) | ((d->rex & 1) << 3));
		} else if (rm == 5 && mod == 0) {
			d->base = EMU_REG_RIP;
			dispsz = 4;
		} else {
			d->base = (int)(rm | ((d->rex & 1) << 3));
		}
	}
	if (i + dispsz > n)
		return false;
	d->disp = dispsz == 1 ? (int8_t)b[i]
		  : dispsz == 4 ? (int32_t)((uint32_t)b[i] | (uint32_t)b[i + 1] << 8 |
					    (uint32_t)b[i + 2] << 16 | (uint32_t)b[i + 3] << 24)
				: 0;
	d->end = i + dispsz;
	return true;
}

bool emu_decode(const uint8_t *b, unsigned n, struct emu_insn *d)
{
	unsigned i = 0;

	memset(d, 0, sizeof(*d));
	d->seg = -1;
	d->base = d->index = EMU_NO_REG;
	for (; i < n && i < 14; i++) {
		uint8_t rex = 0; /* a REX counts only right before the opcode */

		if (seg_of(b[i]) >= 0)
			d->seg = seg_of(b[i]);
		else if (b[i] == 0x66)
			d->o16 = true;
		else if (b[i] == 0x67)
			d->a32 = true;
		else if ((b[i] & 0xf0) == 0x40)
			rex = b[i];
		else if (b[i] != 0xf0 && b[i] != 0xf2 && b[i] != 0xf3)
			break;
		d->rex = rex;
	}
	if (i >= n || b[i] == 0x62)
		return false; /* EVEX */
	if (b[i] == 0xc4 || b[i] == 0xc5) {
		if (d->rex || !vex(b, n, &i, d))
			return false;
	} else if (b[i] != 0x0f) {
		d->op = b[i++];
		d->has_modrm = modrm_map0[d->op >> 4] & (1u << (d->op & 15));
	} else if (i + 1 < n && (b[i + 1] == 0x38 || b[i + 1] == 0x3a)) {
		d->map = b[i + 1] == 0x38 ? 2 : 3;
		i += 2;
		if (i >= n)
			return false;
		d->op = b[i++];
		d->has_modrm = true;
	} else {
		if (++i >= n)
			return false;
		d->map = 1;
		d->op = b[i++];
		d->has_modrm = modrm_map1(d->op);
	}
	d->end = i;
	return !d->has_modrm || modrm(b, n, i, d);
}

uint64_t emu_insn_ea(const struct emu_insn *d, const uint64_t gpr[16], uint64_t rip_next)
{
	uint64_t ea = (uint64_t)d->disp;

	if (d->base == EMU_REG_RIP)
		ea += rip_next;
	else if (d->base != EMU_NO_REG)
		ea += gpr[d->base];
	if (d->index != EMU_NO_REG)
		ea += gpr[d->index] * d->scale;
	return d->a32 ? (uint32_t)ea : ea;
}

/* The immediate of the one-byte branches: rel8, rel32 (Intel ignores 66 on near branches in
 * 64-bit code: rel32 still), RET's imm16. */
static bool branch_map0(struct emu_branch *br, const uint8_t *imm, unsigned left)
{
	uint8_t op = br->d.op;
	unsigned sz = (op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3) || op == 0xeb ? 1
		      : op == 0xe8 || op == 0xe9					? 4
		      : op == 0xc2							? 2
											: 0;

	if (sz > left)
		return false;
	br->len = br->d.end + sz;
	if (op == 0xc3 || op == 0xc2) {
		br->kind = EMU_BR_RET;
		br->pop = op == 0xc2 ? (unsigned)(imm[0] | imm[1] << 8) : 0;
		return true;
	}
	if (op == 0xff && br->d.has_modrm && (emu_insn_reg(&br->d) == 2 || emu_insn_reg(&br->d) == 4)) {
		br->kind = EMU_BR_RM;
		br->call = emu_insn_reg(&br->d) == 2;
		return true;
	}
	if (!sz || op == 0xc2)
		return false;
	br->kind = EMU_BR_REL;
	br->call = op == 0xe8;
	br->loop = op >= 0xe0 && op <= 0xe2;
	br->rel = sz == 1 ? (int8_t)imm[0]
			  : (int32_t)((uint32_t)imm[0] | (uint32_t)imm[1] << 8 |
				      (uint32_t)imm[2] << 16 | (uint32_t)imm[3] << 24);
	return true;
}

bool emu_decode_branch(const uint8_t *b, unsigned n, struct emu_branch *br)
{
	memset(br, 0, sizeof(*br));
	if (!emu_decode(b, n, &br->d))
		return false;
	if (br->d.map == 0)
		return branch_map0(br, b + br->d.end, n - br->d.end);
	if (br->d.map != 1 || br->d.op < 0x80 || br->d.op > 0x8f || br->d.end + 4 > n)
		return false;
	br->kind = EMU_BR_REL; /* Jcc rel32 */
	br->len = br->d.end + 4;
	br->rel = (int32_t)((uint32_t)b[br->d.end] | (uint32_t)b[br->d.end + 1] << 8 |
			    (uint32_t)b[br->d.end + 2] << 16 | (uint32_t)b[br->d.end + 3] << 24);
	return true;
}
