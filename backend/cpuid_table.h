/* CPUID answered from a table (struct tv_cpuid_table, backend.h) by the rules KVM's kvm_cpuid()
 * follows for the guest's instruction, so that an engine mirroring KVM's table answers every
 * leaf as KVM would, the leaves not in the table included. For backend/ only. */
#ifndef TWINVM_CPUID_TABLE_H
#define TWINVM_CPUID_TABLE_H

#include "backend.h"

#define TV_CR4_OSXSAVE (1ull << 18)
#define TV_CR4_PKE (1ull << 22)
#define TV_CPUID1_ECX_OSXSAVE (1u << 27)
#define TV_CPUID7_ECX_OSPKE (1u << 4)

/* out[] = EAX, EBX, ECX, EDX of CPUID leaf.subleaf on a vCPU whose CR4 is cr4:
 * - the entry for leaf (and subleaf, where the entry is by subleaf);
 * - else, unless leaf 0 names an AMD or Hygon CPU, a leaf above its range's maximum (leaf 0,
 *   0x80000000, 0x40000000's block or 0xc0000000 gives it) is answered as the highest basic
 *   leaf with the same subleaf, as Intel's CPUs do;
 * - else zeros, except that leaves 0xb and 0x1f, when they exist, give ECX = subleaf's low byte
 *   and their EDX (the x2APIC ID);
 * - OSXSAVE (leaf 1) and OSPKE (leaf 7.0) follow CR4, which KVM updates as the guest writes it. */
void tv_cpuid_table_answer(const struct tv_cpuid_table *t, uint32_t leaf, uint32_t subleaf,
			   uint64_t cr4, uint32_t out[4]);

/* A copy of src in *dst: 0, or -ENOMEM with the reason in tv_last_error(). */
int tv_cpuid_table_copy(struct tv_cpuid_table *dst, const struct tv_cpuid_table *src);

#endif
