/* The emulator's sites, shared by emu_sites.c (which finds them and hooks them) and
 * emu_site_do.c (which does their instructions). For backend/emu/ only. */
#ifndef TWINVM_EMU_SITES_H
#define TWINVM_EMU_SITES_H

#include <stdbool.h>
#include <stdint.h>

#include "emu.h"
#include "ram_range.h"
#include "cpu_state.h"

#define INSN_MAX 15 /* the longest x86 instruction */
#define PAGE 4096u

/* The instructions done here, told by their bytes from the 0F on (b[0..3]) and the byte before
 * the 0F (a REX prefix, or 0). */
enum site_kind {
	SITE_NONE,
	SITE_MSR,   /* RDMSR, WRMSR (0F 32, 0F 30): IA32_APIC_BASE, where asked for */
	SITE_DR,    /* MOV from or to a debug register (0F 21 /r, 0F 23 /r): on every vCPU */
	SITE_CR8,   /* MOV from or to CR8 (REX.R 0F 20 /0, REX.R 0F 22 /0): the TPR, which Unicorn
		     * without an APIC reads as 0 */
	SITE_MOVBE, /* MOVBE with a register operand (0F 38 F0/F1, ModRM mod 3): #UD on the CPU,
		     * which Unicorn runs as a move */
	SITE_MOVAPS, /* MOVAPS/MOVAPD (0F 28/29, 66 0F 28/29) from or to memory: #GP(0) when the
		      * operand is not 16-byte aligned, which Unicorn does not check; in 64-bit
		      * code only (elsewhere a segment base would have to be read as well) */
	SITE_SMSW,   /* SMSW to a register with a 32- or 64-bit operand (0F 01 /4, mod 3): all of
		      * CR0, where Unicorn gives its low 16 bits */
	SITE_IRET,   /* IRETD in real mode (66 CF): done here, the RF it loads cleared. Unicorn
		      * keeps RF set (the CPU clears it after the next instruction) and PUSHF
		      * then pushes it; RF only holds off instruction breakpoints, which the
		      * emulator does not raise */
	SITE_PUSH_SREG, /* PUSH of a segment register with a 32-bit operand (66 06/0E/16/1E in
			 * 16-bit code, 0F A0/A8): a 16-bit move into the 4-byte slot, the upper
			 * half left as it was, as Intel's CPUs do (SDM, PUSH); Unicorn writes the
			 * selector zero-extended. Bare 06/0E/16/1E in 32-bit code are too common a
			 * byte to look for: those stay Unicorn's */
	SITE_MOV_SS,	/* MOV SS, r/m16 (8E /2) in 64-bit code: a null selector whose RPL is not
			 * the CPL is #GP(0) (SDM, MOV: "CPL < 3 and CPL != RPL"), which Unicorn
			 * loads (QEMU's helper_load_seg checks a null SS's RPL only at CPL 3) */
	SITE_MOV_CR,	/* MOV to CR0 or CR4 (0F 22 /0, /4): #GP(0) for a value the CPU refuses,
			 * which Unicorn writes (emu_site_cr.c) */
};

/* The paging state and RAM, for walks from inside a hook. */
struct walk {
	struct tv_sregs s;
	struct tv_ram ram;
	unsigned maxphyaddr;
};

void emu_site_walk_init(struct tv_vcpu *v, struct walk *w);

/* Reads n bytes at linear address la through the guest's page tables (w): how many could be,
 * up to the first that is non-canonical, unmapped or not RAM. */
unsigned emu_site_read(const struct walk *w, uint64_t la, uint8_t *buf, unsigned n);

/* Unicorn's id of general register reg (ModRM's numbering, REX.B or REX.R as bit 3) in 64-bit
 * code, or, where code64 is false, of its 32-bit form (R8-R15 do not exist: reg & 7). */
static inline int emu_site_gpr(bool code64, unsigned reg)
{
	static const int gpr64[16] = { UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX,
				       UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
				       UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,
				       UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
				       UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
				       UC_X86_REG_R15 };
	static const int gpr32[8] = { UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX,
				      UC_X86_REG_EBX, UC_X86_REG_ESP, UC_X86_REG_EBP,
				      UC_X86_REG_ESI, UC_X86_REG_EDI };

	return code64 ? gpr64[reg & 15] : gpr32[reg & 7];
}

/* The base a segment override (ModRM's seg numbering, emu_decode.h; -1 for none) adds in 64-bit
 * code: FS's or GS's, 0 for the others. false where it cannot be read. */
bool emu_site_override_base(struct tv_vcpu *v, int seg, uint64_t *base);

/* Legacy and REX prefixes. */
bool emu_site_is_prefix(uint8_t b);

/* MOV from (0F 21) or to (0F 23) a debug register. */
bool emu_site_is_dr(uint8_t second);

/* The RIP of the instruction or block at linear address addr (its linear address less CS's
 * base); false where it cannot be read. */
bool emu_site_block_pc(struct tv_vcpu *v, uint64_t addr, uint64_t *pc);

/* Writes RIP: Unicorn leaves the block and goes on there at once. */
bool emu_site_pc_write(struct tv_vcpu *v, uint64_t pc);

/* MOV to CR0 or CR4 at CPL 0, [addr, addr + size) with its bytes in b: #GP(0) for a value the
 * CPU refuses; a legal one is left to Unicorn (emu_site_cr.c). */
void emu_site_mov_cr(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b);

/* Does, corrects or faults the site instruction of kind at [addr, addr + size), bytes b. */
void emu_site_do(struct tv_vcpu *v, enum site_kind kind, uint64_t addr, uint32_t size,
		 const uint8_t *b);

#endif
