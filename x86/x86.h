/* Architectural facts, written once: the control-register, EFER, RFLAGS, segment-descriptor and
 * page-table-entry bits that the mode setup (core/guest/modes.c), the page walk (x86/pagewalk.c),
 * the engines and their tests name. Values from the Intel SDM Vol. 3: 2.5 "Control Registers",
 * 2.2.1 "Extended Feature Enable Register", 3.4.5 "Segment Descriptors", 4.3-4.5 (the
 * paging-structure entries), and Vol. 1 3.4.3 "EFLAGS Register". */
#ifndef TWINVM_X86_H
#define TWINVM_X86_H

#define TV_CR0_PE (1ull << 0)
#define TV_CR0_MP (1ull << 1)
#define TV_CR0_ET (1ull << 4)
#define TV_CR0_NE (1ull << 5)
#define TV_CR0_WP (1ull << 16) /* supervisor writes honour R/W */
#define TV_CR0_AM (1ull << 18)
#define TV_CR0_PG (1ull << 31)

#define TV_CR4_DE (1ull << 3) /* debug extensions: DR4 and DR5 are #UD */
#define TV_CR4_PSE (1ull << 4)
#define TV_CR4_PAE (1ull << 5)
#define TV_CR4_OSFXSR (1ull << 9) /* bit 9: kvm-hello-world has it at bit 8 */
#define TV_CR4_OSXMMEXCPT (1ull << 10)
#define TV_CR4_LA57 (1ull << 12) /* 5-level paging */
#define TV_CR4_SMEP (1ull << 20) /* no supervisor fetch from a user page */
#define TV_CR4_SMAP (1ull << 21) /* no supervisor data access to a user page */

/* The EFER model-specific register's number (SDM Vol. 4, table 2-2) */
#define TV_MSR_EFER 0xc0000080u

#define TV_EFER_LME (1ull << 8)
#define TV_EFER_LMA (1ull << 10)
#define TV_EFER_NXE (1ull << 11) /* XD in PAE and 4-level entries; without it bit 63 is reserved */

/* IA32_APIC_BASE (SDM Vol. 4 table 2-2; Vol. 3 11.4.4): where the local APIC's register page
 * is, and its mode. A CPU out of reset has the page at 0xfee00000, the APIC enabled and, on the
 * one CPU that boots, the BSP bit. Bits 0-7 and 9 are reserved, 10 (x2APIC mode) too on a CPU
 * that offers no x2APIC, and so is every bit from MAXPHYADDR on. */
#define TV_MSR_APIC_BASE 0x1bu
#define TV_APIC_BASE_BSP (1ull << 8)
#define TV_APIC_BASE_EN (1ull << 11)
#define TV_APIC_PAGE 0xfee00000ull
#define TV_APIC_BASE_RESET (TV_APIC_PAGE | TV_APIC_BASE_EN | TV_APIC_BASE_BSP)

/* DR7's reset value: its reserved bit that reads as 1. */
#define TV_DR7_RESET 0x400ull
#define TV_APIC_BASE_RESERVED 0x6ffull /* bits 0-7, 9 and 10: no x2APIC */
#define TV_CPUID1_ECX_X2APIC (1u << 21) /* CPUID leaf 1, ECX: the CPU offers x2APIC mode */
#define TV_CPUID1_EBX_APIC_ID 0xff000000u /* CPUID leaf 1, EBX: the initial APIC ID */

/* RFLAGS */
#define TV_RFLAGS_CF (1ull << 0)
#define TV_RFLAGS_FIXED (1ull << 1) /* reserved, always 1: a CPU out of reset has RFLAGS 2 */
#define TV_RFLAGS_PF (1ull << 2)
#define TV_RFLAGS_AF (1ull << 4)
#define TV_RFLAGS_ZF (1ull << 6)
#define TV_RFLAGS_SF (1ull << 7)
#define TV_RFLAGS_TF (1ull << 8)
#define TV_RFLAGS_IF (1ull << 9)
#define TV_RFLAGS_DF (1ull << 10)
#define TV_RFLAGS_OF (1ull << 11)
#define TV_RFLAGS_NT (1ull << 14)
#define TV_RFLAGS_RF (1ull << 16) /* resume: no instruction breakpoint for one instruction */
#define TV_RFLAGS_VM (1ull << 17)
#define TV_RFLAGS_AC (1ull << 18)

/* A segment descriptor's high dword (also QEMU's cached segment flags) */
#define TV_DESC_TYPE_SHIFT 8
#define TV_DESC_RW (1u << 9)          /* type bit 1: code readable, data writable */
#define TV_DESC_CONFORMING (1u << 10) /* type bit 2 of a code segment */
#define TV_DESC_CODE (1u << 11)       /* type bit 3 */
#define TV_DESC_S (1u << 12)          /* code or data, not a system descriptor */
#define TV_DESC_DPL_SHIFT 13
#define TV_DESC_P (1u << 15)
#define TV_DESC_AVL (1u << 20)
#define TV_DESC_L (1u << 21)
#define TV_DESC_B (1u << 22) /* D/B */
#define TV_DESC_G (1u << 23)

/* Page-table entry bits (bit 63 only in 64-bit entries) */
#define TV_PTE_P (1ull << 0)
#define TV_PTE_RW (1ull << 1)
#define TV_PTE_US (1ull << 2)
#define TV_PTE_A (1ull << 5)
#define TV_PTE_D (1ull << 6) /* only in an entry that maps a page */
#define TV_PTE_PS (1ull << 7)
#define TV_PTE_XD (1ull << 63)

/* The page-fault error code (SDM 4.7) */
#define TV_PF_P (1u << 0)    /* a protection violation: the page was present */
#define TV_PF_W (1u << 1)    /* a write */
#define TV_PF_U (1u << 2)    /* a user-mode access */
#define TV_PF_RSVD (1u << 3) /* a reserved bit set in an entry */
#define TV_PF_I (1u << 4)    /* an instruction fetch, where NX or SMEP is on */

#endif
