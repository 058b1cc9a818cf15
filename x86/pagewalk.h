/* Guest virtual to guest physical, in software, by walking the guest's own page tables for the
 * mode its control registers say it is in. Every table entry is read through the checked accessor,
 * so page tables that point outside RAM are a failed walk, never a host access. core uses it for
 * the hypercalls' guest addresses; the emulator for the CPU's own accesses (exception delivery),
 * with the access rights checked as the CPU checks them. */
#ifndef TWINVM_PAGEWALK_H
#define TWINVM_PAGEWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu_state.h"
#include "ram_range.h"

/* How a walk ended, for messages: TV_WALK_OK, or why it did not. */
enum tv_walk_result {
	TV_WALK_OK = 0,
	TV_WALK_NOT_PRESENT,   /* an entry on the way has P clear */
	TV_WALK_TABLE_OUTSIDE, /* a table lies outside guest RAM */
	TV_WALK_NONCANONICAL,  /* long mode: bits 63..48 are not a sign extension of bit 47 */
	TV_WALK_RESERVED,      /* an entry has a reserved bit set: the CPU would fault */
	TV_WALK_PROTECTION,    /* tv_linear_access: the page's rights forbid the access */
	TV_WALK_UNSUPPORTED,   /* a paging form twinvm does not walk (5-level) */
};

/* The linear address of the data-segment address gva, as the guest's instructions form it: in
 * 64-bit code gva itself, which must be canonical (DS.base is ignored); otherwise DS.base + the low
 * 32 bits of gva, wrapped to 32 bits. */
enum tv_walk_result tv_gva_to_linear(const struct tv_sregs *sregs, uint64_t gva, uint64_t *la);

/* MAXPHYADDR, the CPU's physical-address width (CPUID 0x80000008 EAX[7:0]): bits of an entry's
 * address at or above it are reserved. The walk takes values in [MIN, MAX] and clamps others. */
#define TV_MAXPHYADDR_MIN 32
#define TV_MAXPHYADDR_MAX 52     /* the architectural limit: only the fixed reserved bits count */
#define TV_MAXPHYADDR_DEFAULT 36 /* when the engine cannot say: the smallest a PAE CPU has */

/* Translates the linear address la through paging, if CR0.PG is set (32-bit 4 KiB and 4 MiB
 * pages; PAE; long mode with 4 KiB, 2 MiB and 1 GiB pages) as a CPU whose MAXPHYADDR is
 * maxphyaddr would: an entry with a reserved bit set (by its form, by EFER.NXE, or an address bit
 * at or above MAXPHYADDR) is TV_WALK_RESERVED, the fault the CPU raises. Outside long mode only
 * la's low 32 bits count; in long mode la must be canonical. *gpa may lie outside RAM: the caller
 * checks it. A pure function of its arguments and RAM. */
enum tv_walk_result tv_linear_to_gpa(const struct tv_ram *ram, const struct tv_sregs *sregs,
				     unsigned maxphyaddr, uint64_t la, uint64_t *gpa);

/* tv_gva_to_linear, then tv_linear_to_gpa. */
enum tv_walk_result tv_gva_to_gpa(const struct tv_ram *ram, const struct tv_sregs *sregs,
				  unsigned maxphyaddr, uint64_t gva, uint64_t *gpa);

/* What an access is, for tv_linear_access; none of the bits: a data read by the supervisor. */
#define TV_ACC_WRITE 1u /* a write */
#define TV_ACC_USER 2u  /* at CPL 3, and not one of the CPU's implicit supervisor accesses (its
                         * reads of the GDT, LDT, IDT and TSS are those at any CPL) */
#define TV_ACC_FETCH 4u /* an instruction fetch */

/* Translates la as tv_linear_to_gpa does, then checks the access acc (TV_ACC_*) against the
 * rights of every entry on the way, as the CPU does (SDM Vol. 3, 4.6): a user access needs U/S
 * at every level; a write needs R/W at every level (a supervisor write only when CR0.WP is set);
 * a fetch faults on XD at any level (with EFER.NXE), and a supervisor fetch from a user page with
 * CR4.SMEP; a supervisor data access to a user page faults with CR4.SMAP, whatever EFLAGS.AC
 * says, since the emulator's accesses are the CPU's own. Without paging every access is allowed.
 * Protection keys and shadow stacks are not modelled.
 * TV_WALK_NOT_PRESENT, TV_WALK_RESERVED and TV_WALK_PROTECTION are the #PF the CPU raises, and
 * *pf_error is then its error code (P, W/R, U/S, RSVD, and I/D where NX or SMEP is on: SDM
 * 4.7); *pf_error is 0 for every other result. TV_WALK_NONCANONICAL is #GP or #SS to the caller.
 * On success *gpa is set and, with set_ad, the accessed bit of every entry used and, for a write,
 * the dirty bit of the one that maps the page are set in RAM, as the CPU sets them. */
enum tv_walk_result tv_linear_access(const struct tv_ram *ram, const struct tv_sregs *s,
				     unsigned maxphyaddr, uint64_t la, unsigned acc, bool set_ad,
				     uint64_t *gpa, uint32_t *pf_error);

/* "not present", "page table outside RAM", ... */
const char *tv_walk_result_name(enum tv_walk_result r);

#endif
