/* Disassembly for diff reports, with Capstone when it was found at build time.
 *
 * Capstone is opened at the first disassembly (dlopen), not linked: its tables carry some 77,000
 * relocations that the dynamic loader would otherwise apply at the start of every twinvm process,
 * a third of a plain run's start-up, while only diff's reports and --step use it. The build found
 * it with pkg-config and names its soname (TWINVM_CAPSTONE_SONAME). */
#include "disasm.h"

#include <stdio.h>

#include "x86.h"

#ifdef TWINVM_HAVE_CAPSTONE
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>

static cs_mode mode_of(int bits)
{
	return bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
}

static struct {
	pthread_once_t once;
	bool ok;
	cs_err (*open)(cs_arch arch, cs_mode mode, csh *handle);
	cs_err (*option)(csh handle, cs_opt_type type, size_t value);
	size_t (*disasm)(csh handle, const uint8_t *code, size_t size, uint64_t address,
			 size_t count, cs_insn **insn);
	void (*free)(cs_insn *insn, size_t count);
	cs_err (*close)(csh *handle);
	char why[256]; /* why it could not be loaded */
} cs = { .once = PTHREAD_ONCE_INIT };

static void cs_load(void)
{
	void *lib = dlopen(TWINVM_CAPSTONE_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		snprintf(cs.why, sizeof(cs.why), "(Capstone could not be loaded: %s)", dlerror());
		return;
	}
	*(void **)&cs.open = dlsym(lib, "cs_open");
	*(void **)&cs.option = dlsym(lib, "cs_option");
	*(void **)&cs.disasm = dlsym(lib, "cs_disasm");
	*(void **)&cs.free = dlsym(lib, "cs_free");
	*(void **)&cs.close = dlsym(lib, "cs_close");
	cs.ok = cs.open && cs.option && cs.disasm && cs.free && cs.close;
	if (!cs.ok)
		snprintf(cs.why, sizeof(cs.why), "(%s lacks a function twinvm calls)",
			 TWINVM_CAPSTONE_SONAME);
}

/* A Capstone handle for code of bits, with instruction details when asked; false without one. */
static bool cs_handle(int bits, bool detail, csh *h)
{
	pthread_once(&cs.once, cs_load);
	if (!cs.ok || cs.open(CS_ARCH_X86, mode_of(bits), h) != CS_ERR_OK)
		return false;
	if (detail)
		cs.option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	return true;
}

size_t tv_disasm(const uint8_t *bytes, size_t n, int bits, uint64_t addr, char *text, size_t len)
{
	cs_insn *insn;
	size_t count, size = 0;
	csh h;

	text[0] = '\0';
	if (!cs_handle(bits, false, &h))
		return 0;
	count = cs.disasm(h, bytes, n, addr, 1, &insn);
	if (count > 0) {
		snprintf(text, len, "%s%s%s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "",
			 insn[0].op_str);
		size = insn[0].size;
		cs.free(insn, count);
	}
	cs.close(&h);
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
	if (!cs_handle(bits, true, &h))
		return -1;
	count = cs.disasm(h, bytes, n, 0, 1, &insn);
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
		cs.free(insn, count);
	cs.close(&h);
	return rc;
}

const char *tv_disasm_none(void)
{
	pthread_once(&cs.once, cs_load);
	return cs.ok ? "(Capstone does not decode it)" : cs.why;
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
