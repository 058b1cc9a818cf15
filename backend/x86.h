/* Architectural facts, written once: the control-register, EFER and page-table-entry bits that
 * the mode setup (core/modes.c), the page walk (backend/pagewalk.c) and their tests name. Values
 * from the Intel SDM Vol. 3: 2.5 "Control Registers", 2.2.1 "Extended Feature Enable Register",
 * 4.3-4.5 (the paging-structure entries). */
#ifndef TWINVM_X86_H
#define TWINVM_X86_H

#define TV_CR0_PE (1ull << 0)
#define TV_CR0_MP (1ull << 1)
#define TV_CR0_ET (1ull << 4)
#define TV_CR0_NE (1ull << 5)
#define TV_CR0_WP (1ull << 16) /* supervisor writes honour R/W */
#define TV_CR0_AM (1ull << 18)
#define TV_CR0_PG (1ull << 31)

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
