/* MOV to CR0 and to CR4 (0F 22 /0, 0F 22 /4), a site (emu_sites.c finds it, emu_site_do.c
 * hands it here at CPL 0; Unicorn raises the #GP of a higher CPL itself): #GP(0) for a value the
 * CPU refuses (SDM Vol. 2, MOV—Move to/from Control Registers, and Vol. 3, 4.1.2), which Unicorn
 * 2.1.1 (QEMU 5's helper_write_crN) writes as it is or with bits silently dropped (CR4.PKE
 * without PKU: kvm-unit-tests' access test). A legal value is Unicorn's to write: its own state
 * (hflags, the TLB, long mode) follows it as before, and nothing here writes a register.
 *
 * Left out, as not cheap: the PDPTEs that a write loads under PAE paging outside long mode (a
 * reserved bit in one is #GP(0)); VMX and SMX operation (Unicorn has neither); a 16-bit TSS in
 * TR when paging activates IA-32e mode; CR0's reserved bits in its low half, which the CPU and
 * KVM ignore and Unicorn keeps (no fault either way). */
#include "emu.h"
#include "emu_env.h"
#include "emu_sites.h"
#include "x86.h"

#include <inttypes.h>

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR4_PCIDE (1ull << 17)
#define CR4_CET (1ull << 23)
#define SEG_L (1u << 21) /* the L bit of a code segment's high dword */

/* Where a CR4 bit's feature is reported: CPUID leaf 1, 7.0 or 7.1, and which output register
 * (EAX, EBX, ECX, EDX: 0-3). */
enum { IN_1, IN_7, IN_7_1, IN_ANY };

static const struct {
	uint8_t cr4_bit, leaf, reg, bit;
} cr4_features[] = {
	{ 0, IN_1, 3, 1 },    /* VME */
	{ 1, IN_1, 3, 1 },    /* PVI: VME's */
	{ 2, IN_1, 3, 4 },    /* TSD: TSC */
	{ 3, IN_1, 3, 2 },    /* DE */
	{ 4, IN_1, 3, 3 },    /* PSE */
	{ 5, IN_1, 3, 6 },    /* PAE */
	{ 6, IN_1, 3, 7 },    /* MCE */
	{ 7, IN_1, 3, 13 },   /* PGE */
	{ 8, IN_ANY, 0, 0 },  /* PCE: no feature bit, every CPU has it */
	{ 9, IN_1, 3, 24 },   /* OSFXSR: FXSR */
	{ 10, IN_1, 3, 25 },  /* OSXMMEXCPT: SSE */
	{ 11, IN_7, 2, 2 },   /* UMIP */
	{ 12, IN_7, 2, 16 },  /* LA57 */
	{ 13, IN_1, 2, 5 },   /* VMXE: VMX */
	{ 14, IN_1, 2, 6 },   /* SMXE: SMX */
	{ 16, IN_7, 1, 0 },   /* FSGSBASE */
	{ 17, IN_1, 2, 17 },  /* PCIDE: PCID */
	{ 18, IN_1, 2, 26 },  /* OSXSAVE: XSAVE */
	{ 19, IN_7, 2, 23 },  /* KL: Key Locker */
	{ 20, IN_7, 1, 7 },   /* SMEP */
	{ 21, IN_7, 1, 20 },  /* SMAP */
	{ 22, IN_7, 2, 3 },   /* PKE: PKU */
	{ 23, IN_7, 2, 7 },   /* CET: CET_SS... */
	{ 23, IN_7, 3, 20 },  /* ...or CET_IBT */
	{ 24, IN_7, 2, 31 },  /* PKS */
	{ 25, IN_7, 3, 5 },   /* UINTR */
	{ 27, IN_7_1, 0, 6 }, /* LASS */
	{ 28, IN_7_1, 0, 26 }, /* LAM_SUP */
};

/* The CR4 bits the vCPU's CPUID lets the guest set (the rest, bit 15, 26 and 29-63 among them,
 * are reserved); false where its CPUID cannot be read (the write is then left to Unicorn). */
static bool cr4_allowed(struct tv_vcpu *v, uint64_t *allowed)
{
	uint32_t l0[4], in[3][4] = { { 0 } };

	if (emu_cpuid(v, 0, 0, l0) != 0 || emu_cpuid(v, 1, 0, in[IN_1]) != 0 ||
	    (l0[0] >= 7 && emu_cpuid(v, 7, 0, in[IN_7]) != 0) ||
	    (l0[0] >= 7 && in[IN_7][0] >= 1 && emu_cpuid(v, 7, 1, in[IN_7_1]) != 0))
		return false;
	*allowed = 0;
	for (size_t i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
		unsigned leaf = cr4_features[i].leaf;

		if (leaf == IN_ANY || (in[leaf][cr4_features[i].reg] >> cr4_features[i].bit & 1))
			*allowed |= 1ull << cr4_features[i].cr4_bit;
	}
	return true;
}

/* The control registers and EFER as they are before the write, and the code's mode. */
struct cr_now {
	uint64_t cr0, cr3, cr4, efer;
	bool code64, cs_l;
};

/* Why writing value to CR4 is #GP(0), or NULL when it is legal. */
static const char *cr4_refused(struct tv_vcpu *v, const struct cr_now *c, uint64_t value)
{
	bool lma = c->efer & TV_EFER_LMA;
	uint64_t allowed;

	if (!cr4_allowed(v, &allowed))
		return NULL;
	if (value & ~allowed)
		return "MOV to CR4 setting a reserved bit (or one whose feature CPUID lacks): #GP(0)";
	if (lma && !(value & TV_CR4_PAE))
		return "MOV to CR4 clearing PAE in IA-32e mode: #GP(0)";
	if (lma && ((value ^ c->cr4) & TV_CR4_LA57))
		return "MOV to CR4 changing LA57 in IA-32e mode: #GP(0)";
	if ((value & CR4_PCIDE) && !(c->cr4 & CR4_PCIDE) && (!lma || (c->cr3 & 0xfff)))
		return "MOV to CR4 setting PCIDE outside IA-32e mode or with CR3[11:0] != 0: #GP(0)";
	if ((value & CR4_CET) && !(c->cr0 & TV_CR0_WP))
		return "MOV to CR4 setting CET with CR0.WP clear: #GP(0)";
	return NULL;
}

/* Why writing value to CR0 is #GP(0), or NULL when it is legal. */
static const char *cr0_refused(const struct cr_now *c, uint64_t value)
{
	bool paging_on = (value & TV_CR0_PG) && !(c->cr0 & TV_CR0_PG);

	if (value >> 32)
		return "MOV to CR0 setting a bit of 63:32: #GP(0)";
	if ((value & CR0_NW) && !(value & CR0_CD))
		return "MOV to CR0 setting NW with CD clear: #GP(0)";
	if ((value & TV_CR0_PG) && !(value & TV_CR0_PE))
		return "MOV to CR0 setting PG with PE clear: #GP(0)";
	if (paging_on && (c->efer & TV_EFER_LME) && (!(c->cr4 & TV_CR4_PAE) || c->cs_l))
		return "MOV to CR0 activating IA-32e mode with CR4.PAE clear or CS.L set: #GP(0)";
	if (!(value & TV_CR0_PG) && (c->code64 || (c->cr4 & CR4_PCIDE)))
		return "MOV to CR0 clearing PG in 64-bit mode or with CR4.PCIDE set: #GP(0)";
	if (!(value & TV_CR0_WP) && (c->cr4 & CR4_CET))
		return "MOV to CR0 clearing WP with CR4.CET set: #GP(0)";
	return NULL;
}

/* The control registers, EFER and the code's mode now; false where one cannot be read. */
static bool cr_read(struct tv_vcpu *v, struct cr_now *c)
{
	int ids[3] = { UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4 };
	void *ptrs[3] = { &c->cr0, &c->cr3, &c->cr4 };
	uc_x86_msr efer = { .rid = TV_MSR_EFER };
	struct emu_env env;
	struct emu_seg cs;

	if (uc_reg_read_batch(v->vm->uc, ids, ptrs, 3) != UC_ERR_OK ||
	    uc_reg_read(v->vm->uc, UC_X86_REG_MSR, &efer) != UC_ERR_OK ||
	    emu_env_save(&env, v->vm->uc) != 0)
		return false;
	c->efer = efer.value;
	c->code64 = emu_env_hflags(&env) & EMU_HF_CS64;
	emu_env_seg(&env, EMU_R_CS, &cs);
	emu_env_release(&env);
	c->cs_l = cs.flags & SEG_L;
	return true;
}

void emu_site_mov_cr(struct tv_vcpu *v, uint64_t addr, uint32_t size, const uint8_t *b)
{
	struct cr_now c;
	uint8_t rex = 0, modrm = b[size - 1];
	unsigned n = (modrm >> 3) & 7;
	uint64_t value = 0;
	const char *why;

	if (size < 3 || b[size - 3] != 0x0f || b[size - 2] != 0x22 || (n != 0 && n != 4) ||
	    !cr_read(v, &c))
		return;
	for (uint32_t i = 0; i + 3 < size; i++) {
		if (b[i] == 0xf0)
			return; /* LOCK: AMD's CR8 alias, or #UD: Unicorn's */
		rex = c.code64 && (b[i] & 0xf0) == 0x40 ? b[i] : 0; /* REX counts right before 0F */
	}
	if (rex & 4)
		return; /* CR8 (SITE_CR8's) or CR12 (#UD): Unicorn's */
	/* Outside 64-bit code the operand is 32 bits, whatever a 66 says. */
	if (uc_reg_read(v->vm->uc, emu_site_gpr(c.code64, (modrm & 7) | ((rex & 1) << 3)), &value) !=
	    UC_ERR_OK)
		return;
	if (!c.code64)
		value = (uint32_t)value;
	why = n == 4 ? cr4_refused(v, &c, value) : cr0_refused(&c, value);
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": MOV to CR%u of 0x%" PRIx64 " (CR0 0x%" PRIx64
		" CR4 0x%" PRIx64 " EFER 0x%" PRIx64 "): %s", addr, n, value, c.cr0, c.cr4, c.efer,
		why ? "refused" : "Unicorn's to write");
	if (why)
		emu_raise(v, 13, 0, why);
}
