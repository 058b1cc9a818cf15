/* Disassembly for diff reports, with Capstone when it was found at build time. */
#include "disasm.h"

#include <stdio.h>

#ifdef TWINVM_HAVE_CAPSTONE
#include <capstone/capstone.h>

size_t tv_disasm(const uint8_t *bytes, size_t n, int bits, uint64_t addr, char *text, size_t len)
{
	cs_mode mode = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
	cs_insn *insn;
	size_t count, size = 0;
	csh h;

	text[0] = '\0';
	if (cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK)
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

const char *tv_disasm_none(void)
{
	return "(install libcapstone-dev to see it disassembled)";
}
#endif
