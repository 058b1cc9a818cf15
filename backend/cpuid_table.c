/* CPUID from a table, by KVM's rules (cpuid_table.h). The rules are those of Linux's
 * arch/x86/kvm/cpuid.c (kvm_cpuid, get_out_of_range_cpuid_entry and kvm_update_cpuid_runtime),
 * which decide what a KVM guest sees for leaves KVM_SET_CPUID2's table does not list. */
#include "cpuid_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct tv_cpuid_entry *find(const struct tv_cpuid_table *t, uint32_t leaf,
					 uint32_t subleaf)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->e[i].leaf == leaf && (!t->e[i].by_subleaf || t->e[i].subleaf == subleaf))
			return &t->e[i];
	return NULL;
}

/* Leaf 0's vendor is AMD's or Hygon's, whose CPUs answer an unknown leaf with zeros. */
static bool vendor_zeroes_unknown(const struct tv_cpuid_entry *basic)
{
	static const char *const vendors[] = { "AuthenticAMD", "HygonGenuine" };
	char name[13];

	memcpy(name, &basic->r[1], 4); /* EBX, EDX, ECX */
	memcpy(name + 4, &basic->r[3], 4);
	memcpy(name + 8, &basic->r[2], 4);
	name[12] = '\0';
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (strcmp(name, vendors[i]) == 0)
			return true;
	return false;
}

/* Intel's answer to a leaf that is not listed: the highest basic leaf's, when leaf is above its
 * range's maximum; *leaf becomes that leaf. NULL when the leaf is in range (or the vendor is AMD):
 * then it is all zeros. */
static const struct tv_cpuid_entry *out_of_range(const struct tv_cpuid_table *t, uint32_t *leaf,
						 uint32_t subleaf)
{
	const struct tv_cpuid_entry *basic = find(t, 0, 0), *range;

	if (!basic || vendor_zeroes_unknown(basic))
		return NULL;
	if (*leaf >= 0x40000000u && *leaf <= 0x4fffffffu)
		range = find(t, *leaf & 0xffffff00u, 0);
	else if (*leaf >= 0xc0000000u)
		range = find(t, 0xc0000000u, 0);
	else
		range = find(t, *leaf & 0x80000000u, 0);
	if (range && *leaf <= range->r[0])
		return NULL;
	*leaf = basic->r[0];
	return find(t, basic->r[0], subleaf);
}

static void set_bit(uint32_t *word, uint32_t bit, bool on)
{
	*word = on ? *word | bit : *word & ~bit;
}

void tv_cpuid_table_answer(const struct tv_cpuid_table *t, uint32_t leaf, uint32_t subleaf,
			   uint64_t cr4, uint32_t out[4])
{
	const struct tv_cpuid_entry *e = find(t, leaf, subleaf);

	if (!e)
		e = out_of_range(t, &leaf, subleaf);
	if (!e) {
		memset(out, 0, 4 * sizeof(out[0]));
		if ((leaf == 0xb || leaf == 0x1f) && (e = find(t, leaf, 1)) != NULL) {
			out[2] = subleaf & 0xff;
			out[3] = e->r[3];
		}
		return;
	}
	memcpy(out, e->r, 4 * sizeof(out[0]));
	if (e->leaf == 1)
		set_bit(&out[2], TV_CPUID1_ECX_OSXSAVE, cr4 & TV_CR4_OSXSAVE);
	else if (e->leaf == 7 && e->subleaf == 0)
		set_bit(&out[2], TV_CPUID7_ECX_OSPKE, cr4 & TV_CR4_PKE);
}

int tv_cpuid_table_copy(struct tv_cpuid_table *dst, const struct tv_cpuid_table *src)
{
	dst->n = 0;
	dst->e = malloc((src->n ? src->n : 1) * sizeof(*dst->e));
	if (!dst->e) {
		tv_set_error("a copy of a %zu-entry CPUID table: out of memory", src->n);
		return -ENOMEM;
	}
	memcpy(dst->e, src->e, src->n * sizeof(*dst->e));
	dst->n = src->n;
	return 0;
}

void tv_cpuid_table_free(struct tv_cpuid_table *t)
{
	if (!t)
		return;
	free(t->e);
	t->e = NULL;
	t->n = 0;
}
