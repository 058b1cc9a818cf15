/* exceptions: takes, one at a time, each exception its mode can raise safely at CPL 0 on every
 * engine, through handlers of its own, and checks every frame against the SDM (exceptions.h says
 * what is checked and how). Built for 16, 32 and 64 bits from this one source; the 32-bit build
 * sees from CR0.PG whether it runs in protected or paged32 mode.
 *
 * Covered:
 *   real:      #DE #BP #OF #UD #NM #GP int 0x21
 *   protected: #DE #UD #NM #DF #NP #SS #GP
 *   paged32:   those, and #PF twice
 *   long:      #DE #UD (twice) #NM #DF #NP #SS #GP (twice) #PF (twice)
 * How: #DE div by 0; #BP int3; #OF into with OF set; #UD ud2, and in long mode into, which 64-bit
 * code does not have; #NM fninit with CR0.TS; real mode's #GP fxsave to an address not aligned to
 * 16; #NP DS loaded with a not-present segment and #SS SS loaded with it (error code: its
 * selector); #GP DS loaded with a selector past the GDT limit (error code: that selector), and in
 * long mode also #GP(0) for a non-canonical address; #DF a #GP while gate 13 is not present (#NP
 * while delivering #GP); #PF a read of a page made not present (paged32) or of 0x123456789000,
 * which no table maps (long), error 0, and a write to a page made read-only, error 3, with CR2 the
 * address.
 *
 * Every case here ends the same on KVM and on the emulator, and none needs TF, so that the golden
 * KVM traces hold and `twinvm diff --step` compares it instruction by instruction. Elsewhere:
 * - int n, int3 and into outside real mode, bound (#BR), iret, with the #TS that iret with NT set
 *   raises, in protected mode, and #DB (the single-step trap of TF) are the `interrupts` guest
 *   (interrupts.c). A KVM that executes the guest in its instruction emulator cannot run the
 *   former (kvm-pvm does that for real and protected mode, and for software interrupts in long
 *   mode); for the same reason this guest's 32-bit handlers return without iret. #DB cannot be
 *   stepped: KVM single-steps with TF itself, hides the guest's TF from KVM_GET_REGS and never
 *   delivers the guest's #DB.
 * - Real mode's #SS and #GP for an offset past a 64 KiB segment limit, and long mode's #SS(0) for
 *   a non-canonical address through RBP, are raw cases in tests/test_exceptions_raw_gaps.c: the
 *   emulator (QEMU's TCG) checks no segment limit and raises #GP(0) for every non-canonical
 *   address. Real mode has no other #SS, and long mode no other #SS(0), that TCG raises.
 * - #DF does not exist in real mode; #AC needs CPL 3; NMI, #MC and external interrupts have no
 *   source here; #MF and #XM (unmasked x87 and SSE errors) are left out: the 16- and 32-bit modes
 *   run with CR0.NE clear, where an x87 error is not #MF; vectors 9, 15 and 20 up are reserved or
 *   absent.
 *
 * It ran right when every line reads "<vector>: ok (...)", the last line is "exceptions: all N
 * ok" and it halts with 0 in EAX (twinvm run then prints "guest checks: ok (EAX 0)" and exits 0).
 * A failed case prints "<vector>: FAILED (...)" naming each field that differs and what was
 * expected, and the guest halts with the number of failed cases in EAX. An exception that no case
 * expected prints "unexpected ..." and halts with 0xff. */
#include "exceptions.h"

/* Where the paged modes make pages not present or read-only: above RAM, so nothing is lost. */
#define PF_ADDR_ASM 0x40000123
#define PF_ADDR ((unsigned long)PF_ADDR_ASM)
#define PF_UNMAPPED_ASM 0x123456789000 /* PML4 entry 0x24: twinvm maps only entry 0 */
#define PF_UNMAPPED 0x123456789000ull

RAISE(de, "xor %edx, %edx; mov $1, %eax; xor %ecx, %ecx", NOTHING, "div %ecx", NOTHING);
RAISE(ud, NOTHING, NOTHING, "ud2", NOTHING);
RAISE(nm, "mov %cr0, " AX "; or $8, " AX "; mov " AX ", %cr0", NOTHING, "fninit", "clts");

#if GUEST_BITS == 16
RAISE(bp, NOTHING, NOTHING, "int3", NOTHING);
/* 0x7f + 1 sets OF; nothing after the add touches the flags. */
RAISE(of, "mov $0x7f, %al; add $1, %al", NOTHING, "into", NOTHING);
/* fxsave's 512 bytes must be aligned to 16: 8 past an aligned area is #GP, before any write. */
__attribute__((used, aligned(16))) static unsigned char fxsave_area[16 + 512];
RAISE(gp, "mov $fxsave_area+8, %eax", NOTHING, "fxsave (%eax)", NOTHING);
RAISE(sw, NOTHING, NOTHING, "int $" STR(SW_VECTOR), NOTHING);
#else
RAISE(np, "mov $" STR(SEL_NP) ", %eax", NOTHING, "mov %eax, %ds", NOTHING);
RAISE(ss, "mov $" STR(SEL_NP) ", %eax", NOTHING, "mov %eax, %ss", NOTHING);
RAISE(gp, "mov $" STR(SEL_BEYOND) ", %eax", NOTHING, "mov %eax, %ds", NOTHING);
/* The same #GP with gate 13 made not present: #NP while delivering it, so #DF. */
RAISE(df, "mov $" STR(SEL_BEYOND) ", %eax", NOTHING, "mov %eax, %ds", NOTHING);
RAISE(pf_write, "mov $" STR(PF_ADDR_ASM) ", %eax", NOTHING, "movb $1, (" AX ")", NOTHING);
#endif

#if GUEST_BITS == 32
RAISE(pf_read, "mov $" STR(PF_ADDR_ASM) ", %eax", NOTHING, "mov (%eax), %eax", NOTHING);
#endif

#if GUEST_BITS == 64
RAISE(into, NOTHING, NOTHING, ".byte 0xce", NOTHING);
RAISE(gp0, "movabs $0x8000000000000000, %rax", NOTHING, "mov (%rax), %eax", NOTHING);
RAISE(pf_unmapped, "movabs $" STR(PF_UNMAPPED_ASM) ", %rax", NOTHING, "mov (%rax), %eax",
      NOTHING);
#endif

#if GUEST_BITS != 16
/* The large-page entry that maps PF_ADDR in the tables CR3 points at, or NULL if they have none
 * (twinvm maps all of the first 4 GiB with large pages). In long mode it also sets the accessed
 * flag of the PML4 and PDPT entries above it: the write that faults on the read-only entry sets
 * it there on the emulator (QEMU's TCG sets it level by level as it walks) but not on this host's
 * KVM (kvm-pvm), and guest RAM is to end the same on both. */
#if GUEST_BITS == 32
typedef uint32_t pte_t;

static volatile pte_t *pf_entry(void)
{
	unsigned long cr3;
	volatile pte_t *pde;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pde = (volatile pte_t *)(cr3 & ~0xffful) + (PF_ADDR >> 22);
	return (*pde & 0x81) == 0x81 ? pde : NULL;
}
#else
typedef uint64_t pte_t;
#define TABLE(e) ((volatile pte_t *)((e) & 0x000ffffffffff000ull))
#define PTE_A 0x20

static volatile pte_t *pf_entry(void)
{
	volatile pte_t *pml4e, *pdpte, *pde;
	unsigned long cr3;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4e = TABLE(cr3) + ((PF_ADDR >> 39) & 511);
	if (!(*pml4e & 1))
		return NULL;
	pdpte = TABLE(*pml4e) + ((PF_ADDR >> 30) & 511);
	if ((*pdpte & 0x81) != 0x01)
		return NULL;
	pde = TABLE(*pdpte) + ((PF_ADDR >> 21) & 511);
	if ((*pde & 0x81) != 0x81)
		return NULL;
	*pml4e |= PTE_A;
	*pdpte |= PTE_A;
	return pde;
}
#endif

static volatile pte_t *pf_edited;
static pte_t pf_saved;

/* Clears mask (P or R/W) in the entry for PF_ADDR; 0 when there is no such entry. */
static int pf_edit(pte_t mask)
{
	pf_edited = pf_entry();
	if (!pf_edited)
		return 0;
	pf_saved = *pf_edited;
	*pf_edited = pf_saved & ~mask;
	__asm__ volatile("invlpg (%0)" : : "r"(PF_ADDR) : "memory");
	return 1;
}

#if GUEST_BITS == 32
static int pf_not_present(void)
{
	return pf_edit(1);
}
#endif

static int pf_read_only(void)
{
	return pf_edit(2);
}

static void pf_restore(void)
{
	*pf_edited = pf_saved;
	__asm__ volatile("invlpg (%0)" : : "r"(PF_ADDR) : "memory");
}

static int df_prepare(void)
{
	set_gate_present(13, 0);
	return 1;
}

static void df_restore(void)
{
	set_gate_present(13, 1);
}
#endif

static const struct event_case cases[] = {
	{ "#DE", "div by zero", RAISES(de), .vector = 0, .kind = FAULT },
#if GUEST_BITS == 16
	{ "#BP", "int3", RAISES(bp), .vector = 3, .kind = TRAP },
	{ "#OF", "into with OF set", RAISES(of), .vector = 4, .kind = TRAP },
#endif
	{ "#UD", "ud2", RAISES(ud), .vector = 6, .kind = FAULT },
#if GUEST_BITS == 64
	{ "#UD", "into in 64-bit code", RAISES(into), .vector = 6, .kind = FAULT },
#endif
	{ "#NM", "fninit with CR0.TS", RAISES(nm), .vector = 7, .kind = FAULT },
#if GUEST_BITS == 16
	{ "#GP", "fxsave to an address not aligned to 16", RAISES(gp), .vector = 13,
	  .kind = FAULT },
	{ "int $" STR(SW_VECTOR), "software interrupt", RAISES(sw), .vector = SW_VECTOR,
	  .kind = TRAP },
#else
	{ "#DF", "#GP through a not-present gate", RAISES(df), .vector = 8, .kind = ABORT,
	  .has_error = 1, .error = 0, .prepare = df_prepare, .restore = df_restore },
	{ "#NP", "DS loaded with a not-present segment", RAISES(np), .vector = 11, .kind = FAULT,
	  .has_error = 1, .error = SEL_NP },
	{ "#SS", "SS loaded with a not-present segment", RAISES(ss), .vector = 12,
	  .kind = FAULT, .has_error = 1, .error = SEL_NP },
#endif
#if GUEST_BITS != 16
	{ "#GP", "DS loaded with a selector past the GDT limit", RAISES(gp), .vector = 13,
	  .kind = FAULT, .has_error = 1, .error = SEL_BEYOND },
#endif
#if GUEST_BITS == 64
	{ "#GP", "non-canonical address", RAISES(gp0), .vector = 13, .kind = FAULT,
	  .has_error = 1, .error = 0 },
	{ "#PF", "read where no table maps", RAISES(pf_unmapped), .vector = 14, .kind = FAULT,
	  .has_error = 1, .error = 0, .cr2 = PF_UNMAPPED },
#endif
#if GUEST_BITS == 32
	{ "#PF", "read of a not-present page", RAISES(pf_read), .vector = 14, .kind = FAULT,
	  .has_error = 1, .error = 0, .cr2 = PF_ADDR, .paged_only = 1,
	  .prepare = pf_not_present, .restore = pf_restore },
#endif
#if GUEST_BITS != 16
	{ "#PF", "write to a read-only page", RAISES(pf_write), .vector = 14, .kind = FAULT,
	  .has_error = 1, .error = 3, .cr2 = PF_ADDR, .paged_only = 1,
	  .prepare = pf_read_only, .restore = pf_restore },
#endif
};

GUEST_ENTRY
{
	run_cases("exceptions", cases, sizeof(cases) / sizeof(cases[0]));
}
