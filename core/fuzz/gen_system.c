/* The system class: instructions a CPL-0 guest of twinvm may run without leaving the snippet's
 * world. Segment loads keep the scratch area where the code addresses it (16-bit: DS, ES, SS
 * only at FZ_SCRATCH_ADDR >> 4; FS and GS are free, no snippet uses them) or fault the same way
 * everywhere (a null DS then a memory access, an out-of-GDT selector); control register writes
 * toggle only bits that change nothing a snippet relies on and exist on every host; the ports
 * are ones nothing answers. */
#include "gen_parts.h"

#include "hypercalls.h"
#include "layout.h"
#include "traps.h"

#define CR0_TS (1u << 3)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PCE (1u << 8)

static const ZydisRegister data_sregs[] = { ZYDIS_REGISTER_DS, ZYDIS_REGISTER_ES,
					    ZYDIS_REGISTER_FS, ZYDIS_REGISTER_GS,
					    ZYDIS_REGISTER_SS };

/* mov sreg, r16 from a mov r32, imm just before it. */
static bool gen_sreg_load(struct gen *g)
{
	ZydisRegister sr = data_sregs[fzg_below(g, 5)];
	bool fs_gs = sr == ZYDIS_REGISTER_FS || sr == ZYDIS_REGISTER_GS;
	ZydisEncoderOperand reg = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	uint64_t sel;

	if (g->bits == 16)
		sel = fs_gs ? fzg_interesting(g, 16) : FZ_SCRATCH_ADDR >> 4;
	else if (sr == ZYDIS_REGISTER_SS)
		sel = TV_SEL_DATA;
	else if (fzg_chance(g, 80))
		sel = fzg_chance(g, 50) ? 0 : TV_SEL_DATA;
	else if (fzg_chance(g, 50))
		sel = TV_SEL_CODE32; /* execute/read: a valid data segment too */
	else /* past the fuzzer's GDT's limit (traps.h): #GP(selector) */
		sel = (FZ_GDT_ENTRIES + fzg_below(g, 0x2000 - FZ_GDT_ENTRIES)) << 3;
	reg.reg.value = fzg_pick_reg(g, 32, 0);
	if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &reg, 32, sel))
		return false;
	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, sr);
	fzg_op_reg(&r,
		   fzg_reg_at(16, (unsigned)(ZydisRegisterGetLargestEnclosing(
						     ZYDIS_MACHINE_MODE_LONG_64, reg.reg.value) -
					     ZYDIS_REGISTER_RAX)));
	return fzg_emit(g, &r);
}

/* mov r, sreg (r16, r32; r64 in 64-bit code). CS is left out: a 16-bit snippet's CS is where
 * its oracle put the code. */
static bool gen_sreg_read(struct gen *g)
{
	ZydisEncoderRequest r;

	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, fzg_pick_reg(g,
				    g->bits == 64 && fzg_chance(g, 30) ? 64
				    : fzg_chance(g, 50)		       ? 32
								       : 16,
				    0));
	fzg_op_reg(&r, data_sregs[fzg_below(g, 5)]);
	return fzg_emit(g, &r);
}

/* The control register operand size: 64 in 64-bit code, 32 otherwise. */
static unsigned cr_bits(const struct gen *g)
{
	return g->bits == 64 ? 64 : 32;
}

/* mov r, crN: any of CR0, CR2, CR3, CR4. */
static bool gen_cr_read(struct gen *g)
{
	static const ZydisRegister crs[] = { ZYDIS_REGISTER_CR0, ZYDIS_REGISTER_CR2,
					     ZYDIS_REGISTER_CR3, ZYDIS_REGISTER_CR4 };
	ZydisEncoderRequest r;

	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, fzg_pick_reg(g, cr_bits(g), 0));
	fzg_op_reg(&r, crs[fzg_below(g, 4)]);
	return fzg_emit(g, &r);
}

/* mov r, crN; xor r, bit; mov crN, r for a bit that changes nothing a snippet does (no x87 or
 * SSE, no alignment check at CPL 0, no paging change) and that every host has: never PE, PG,
 * PAE, nor a CR3 write. */
static bool gen_cr_toggle(struct gen *g)
{
	static const struct {
		ZydisRegister cr;
		uint32_t bit;
	} bits[] = {
		{ ZYDIS_REGISTER_CR0, CR0_TS },	    { ZYDIS_REGISTER_CR0, TV_CR0_MP },
		{ ZYDIS_REGISTER_CR0, TV_CR0_NE },  { ZYDIS_REGISTER_CR0, TV_CR0_WP },
		{ ZYDIS_REGISTER_CR0, TV_CR0_AM },  { ZYDIS_REGISTER_CR4, CR4_TSD },
		{ ZYDIS_REGISTER_CR4, CR4_DE },	    { ZYDIS_REGISTER_CR4, CR4_PCE },
		{ ZYDIS_REGISTER_CR4, TV_CR4_OSFXSR }, { ZYDIS_REGISTER_CR4, TV_CR4_OSXMMEXCPT },
	};
	unsigned k = fzg_below(g, sizeof(bits) / sizeof(bits[0]));
	ZydisEncoderOperand reg = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;

	reg.reg.value = fzg_pick_reg(g, cr_bits(g), 0);
	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, reg.reg.value);
	fzg_op_reg(&r, bits[k].cr);
	if (!fzg_emit(g, &r) || !fzg_emit_ri(g, ZYDIS_MNEMONIC_XOR, &reg, cr_bits(g), bits[k].bit))
		return false;
	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, bits[k].cr);
	fzg_op_reg(&r, reg.reg.value);
	return fzg_emit(g, &r);
}

/* mov r, imm; mov cr2, r: CR2 only holds the last page fault's address. */
static bool gen_cr2_write(struct gen *g)
{
	ZydisRegister reg = fzg_pick_reg(g, cr_bits(g), 0);
	ZydisEncoderRequest r;

	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, reg);
	fzg_op_imm(&r, fzg_interesting(g, cr_bits(g)));
	if (!fzg_emit(g, &r))
		return false;
	fzg_rq(&r, ZYDIS_MNEMONIC_MOV);
	fzg_op_reg(&r, ZYDIS_REGISTER_CR2);
	fzg_op_reg(&r, reg);
	return fzg_emit(g, &r);
}

/* The ports left alone: twinvm's hypercalls (guests/hypercall_abi.h) and the devices an engine might
 * model (PIC, PIT, keyboard controller and port B, CMOS, COM1, PCI configuration). Nothing
 * answers any other port in twinvm: writes are dropped, reads give all ones (the empty bus,
 * core/machine/machine.c). */
static const struct {
	uint16_t first, last;
} busy_ports[] = {
	{ 0x20, 0x21 },
	{ 0x40, 0x43 },
	{ 0x60, 0x64 },
	{ 0x70, 0x71 },
	{ 0xa0, 0xa1 },
	{ TV_HC_PRINT8BIT, TV_HC_PRINT8BIT },
	{ TV_HC_PRINT32BIT, TV_HC_PRINT32BIT },
	{ TV_HC_NUMEXITS, TV_HC_NUMEXITS },
	{ TV_HC_PRINTSTR, TV_HC_PRINTSTR },
	{ TV_HC_NUMEXITSBYTYPE, TV_HC_NUMEXITSBYTYPE },
	{ TV_HC_GVATOHVA, TV_HC_GVATOHVA },
	{ 0x3f8, 0x3ff },
	{ 0xcf8, 0xcff },
};

/* A port below limit that nothing answers. */
static unsigned free_port(struct gen *g, unsigned limit)
{
	for (;;) {
		unsigned p = fzg_below(g, limit);
		bool busy = false;

		for (unsigned i = 0; i < sizeof(busy_ports) / sizeof(busy_ports[0]); i++)
			busy |= p >= busy_ports[i].first && p <= busy_ports[i].last;
		if (!busy)
			return p;
	}
}

/* in or out of 1, 2 or 4 bytes on a free port, by imm8 or by DX from a mov just before. */
static bool gen_port(struct gen *g)
{
	static const ZydisRegister acc[] = { ZYDIS_REGISTER_AL, ZYDIS_REGISTER_AX,
					     ZYDIS_REGISTER_EAX };
	bool in = fzg_chance(g, 50);
	ZydisEncoderOperand port = { .type = ZYDIS_OPERAND_TYPE_REGISTER };
	ZydisEncoderRequest r;
	ZydisRegister a = acc[fzg_below(g, 3)];

	if (fzg_chance(g, 50)) {
		port.reg.value = ZYDIS_REGISTER_EDX;
		if (!fzg_emit_ri(g, ZYDIS_MNEMONIC_MOV, &port, 32,
			     free_port(g, fzg_chance(g, 50) ? 0x100 : 0x10000)))
			return false;
		port.reg.value = ZYDIS_REGISTER_DX;
	} else {
		port.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
		port.imm.u = free_port(g, 0x100);
	}
	fzg_rq(&r, in ? ZYDIS_MNEMONIC_IN : ZYDIS_MNEMONIC_OUT);
	if (in)
		fzg_op_reg(&r, a);
	r.operands[r.operand_count++] = port;
	if (!in)
		fzg_op_reg(&r, a);
	return fzg_emit(g, &r);
}

bool fzg_system(struct gen *g)
{
	switch (fzg_below(g, 6)) {
	case 0: return gen_sreg_load(g);
	case 1: return gen_sreg_read(g);
	case 2: return gen_cr_read(g);
	case 3: return gen_cr_toggle(g);
	case 4: return gen_cr2_write(g);
	default: return gen_port(g);
	}
}
