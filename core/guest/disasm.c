/* Disassembly for diff reports, with Capstone when it was found at build time. */
#include "disasm.h"

#include <stdio.h>

#include "x86.h"

#ifdef TWINVM_HAVE_CAPSTONE
#include <capstone/capstone.h>

static cs_mode mode_of(int bits)
{
	return bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
}

size_t tv_disasm(const uint8_t *bytes, size_t n, int bits, uint64_t addr, char *text, size_t len)
{
	cs_insn *insn;
	size_t count, size = 0;
	csh h;

	text[0] = '\0';
	if (cs_open(CS_ARCH_X86, mode_of(bits), &h) != CS_ERR_OK)
		return 0;
	count = cs_disasm(h, bytes, n, addr, 1, &insn);
	if (count > 0) {
		snprintf(text, len, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
			 insn[0].op_str);
		size = insn[0].size;
		cs_free(insn, count);
	}
	cs_close(&h);
	return size;
}

/* Capstone's flag bits by RFLAGS bit: what leaves it undefined, and what writes it. */
static const struct {
	uint64_t rflags, undefined, written;
} flag_effects[] = {
	{ TV_RFLAGS_CF, X86_EFLAGS_UNDEFINED_CF,
	  X86_EFLAGS_MODIFY_CF | X86_EFLAGS_SET_CF | X86_EFLAGS_RESET_CF },
	{ TV_RFLAGS_PF, X86_EFLAGS_UNDEFINED_PF,
	  X86_EFLAGS_MODIFY_PF | X86_EFLAGS_SET_PF | X86_EFLAGS_RESET_PF },
	{ TV_RFLAGS_AF, X86_EFLAGS_UNDEFINED_AF,
	  X86_EFLAGS_MODIFY_AF | X86_EFLAGS_SET_AF | X86_EFLAGS_RESET_AF },
	{ TV_RFLAGS_ZF, X86_EFLAGS_UNDEFINED_ZF,
	  X86_EFLAGS_MODIFY_ZF | X86_EFLAGS_SET_ZF | X86_EFLAGS_RESET_ZF },
	{ TV_RFLAGS_SF, X86_EFLAGS_UNDEFINED_SF,
	  X86_EFLAGS_MODIFY_SF | X86_EFLAGS_SET_SF | X86_EFLAGS_RESET_SF },
	{ TV_RFLAGS_OF, X86_EFLAGS_UNDEFINED_OF,
	  X86_EFLAGS_MODIFY_OF | X86_EFLAGS_SET_OF | X86_EFLAGS_RESET_OF },
};

int tv_insn_flag_effects(const uint8_t *bytes, size_t n, int bits, uint64_t *undefined,
			 uint64_t *defined)
{
	cs_insn *insn;
	size_t count;
	csh h;
	int rc = -1;

	*undefined = *defined = 0;
	if (cs_open(CS_ARCH_X86, mode_of(bits), &h) != CS_ERR_OK)
		return -1;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	count = cs_disasm(h, bytes, n, 0, 1, &insn);
	if (count > 0 && insn[0].detail) {
		uint64_t e = insn[0].detail->x86.eflags;

		for (size_t i = 0; i < sizeof(flag_effects) / sizeof(flag_effects[0]); i++) {
			if (e & flag_effects[i].undefined)
				*undefined |= flag_effects[i].rflags;
			else if (e & flag_effects[i].written)
				*defined |= flag_effects[i].rflags;
		}
		rc = 0;
	}
	if (count > 0)
		cs_free(insn, count);
	cs_close(&h);
	return rc;
}

const char *tv_disasm_none(void)
{
	return "(Capstone does not decode it)";
}
#else
size_t tv_disasm(const uint8_t *bytes, size_t n, int bits, uint64_t addr, char *text, size_t len)
{
	(void)bytes, (void)n, (void)bits, (void)addr;
	if (len)
		text[0] = '\0';
	return 0;
}

int tv_insn_flag_effects(const uint8_t *bytes, size_t n, int bits, uint64_t *undefined,
			 uint64_t *defined)
{
	(void)bytes, (void)n, (void)bits;
	*undefined = *defined = 0;
	return -1;
}

const char *tv_disasm_none(void)
{
	return "(install libcapstone-dev to see it disassembled)";
}
#endif
