/* Drives the software page walk (x86/pagewalk.h) in every paging form over fuzzed page tables,
 * control registers and addresses. The tables live in a heap buffer of exactly RAM's size, so a
 * read the walk makes outside guest RAM is an AddressSanitizer report, not a quiet wrong answer.
 *
 * Input, little endian (fuzz_input.h; missing bytes read as zero):
 *   u8  form   low 3 bits: the paging form forced onto the registers (table below); bits 5-3:
 *              the access (TV_ACC_*) tv_linear_access checks; bit 6: its set_ad
 *   u8  pages  RAM is 1 + pages % 128 pages of 4 KiB
 *   u8  flags  bit 0: CS.L; bit 1: start from twinvm's own tables and registers (paged32 for
 *              forms 0-3, long for 4-7; needs 96 KiB of RAM); bits 7-2: MAXPHYADDR, 31 + n
 *              (the walk clamps it to [32, 52]), or TV_MAXPHYADDR_DEFAULT for 0
 *   u64 cr0, cr3, cr4, efer, ds.base, gva
 *   then (u32 gpa, u64 value) pairs until the end: value is stored at gpa when it fits in RAM.
 * A finding is a crash or sanitizer report inside the walk, or a successful walk whose result
 * breaks what every paging form guarantees (the offset within the page is kept), or an access
 * check that disagrees with the plain walk, gives an error code that does not describe its
 * result and access, or changes RAM other than by setting A and D bits.
 * With TWINVM_FUZZ_SHOW=1 in the environment each walk's result is printed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "layout.h"
#include "modes.h"
#include "pagewalk.h"

/* The plain walk (tv_gva_to_gpa): the access check below is held to its answers. */
static enum tv_walk_result walk(const struct tv_ram *ram, const struct tv_sregs *s,
				unsigned maxphyaddr, uint64_t gva, uint64_t *gpa)
{
	return tv_gva_to_gpa(ram, s, maxphyaddr, gva, gpa);
}

/* Forces the control bits of one paging form; forms 6 and 7 keep the fuzzed bits as they are. */
static void force_form(struct tv_sregs *s, unsigned form)
{
	const uint64_t pg = TV_CR0_PG | TV_CR0_PE, lm = TV_EFER_LMA | TV_EFER_LME;

	switch (form) {
	case 0: /* no paging */
		s->cr0 &= ~TV_CR0_PG;
		break;
	case 1: /* 32-bit, 4 KiB pages only */
		s->cr0 |= pg, s->cr4 &= ~(TV_CR4_PAE | TV_CR4_PSE), s->efer &= ~lm;
		break;
	case 2: /* 32-bit with 4 MiB pages */
		s->cr0 |= pg, s->cr4 = (s->cr4 & ~TV_CR4_PAE) | TV_CR4_PSE, s->efer &= ~lm;
		break;
	case 3: /* PAE */
		s->cr0 |= pg, s->cr4 |= TV_CR4_PAE, s->efer &= ~lm;
		break;
	case 4: /* long mode, 4-level */
		s->cr0 |= pg, s->cr4 = (s->cr4 | TV_CR4_PAE) & ~TV_CR4_LA57, s->efer |= lm;
		break;
	case 5: /* long mode, 5-level: refused, but must be refused cleanly */
		s->cr0 |= pg, s->cr4 |= TV_CR4_PAE | TV_CR4_LA57, s->efer |= lm;
		break;
	}
}

/* RAM up to this size is compared around an access. Copying and comparing up to 512 KiB every run
 * would halve the runs a second again, for a check the smaller inputs make as well. */
#define COMPARE_RAM_MAX (32 * TV_PAGE_SIZE)

/* tv_linear_access at gva's linear address, held to the plain walk's answer r (gpa): the same
 * translation where the rights allow the access, a #PF error code that says what happened, and
 * RAM changed only in A and D bits, by a successful access with set_ad. */
static void check_access(struct tv_ram *ram, const struct tv_sregs *s, unsigned maxphyaddr,
			 uint64_t gva, unsigned acc, bool set_ad, enum tv_walk_result r, uint64_t gpa)
{
	uint8_t *before = ram->size <= COMPARE_RAM_MAX ? malloc(ram->size) : NULL;
	uint64_t la, agpa = 0;
	uint32_t pf;
	enum tv_walk_result ar;

	if (tv_gva_to_linear(s, gva, &la) != TV_WALK_OK) {
		free(before);
		return;
	}
	if (before)
		memcpy(before, ram->host, ram->size);
	ar = tv_linear_access(ram, s, maxphyaddr, la, acc, set_ad, &agpa, &pf);
	if (ar == TV_WALK_OK ? r != TV_WALK_OK || agpa != gpa
			     : ar != r && !(ar == TV_WALK_PROTECTION && r == TV_WALK_OK))
		abort(); /* the access check translated differently from the walk */
	if (ar == TV_WALK_NOT_PRESENT || ar == TV_WALK_RESERVED || ar == TV_WALK_PROTECTION) {
		if (!(pf & TV_PF_P) != (ar == TV_WALK_NOT_PRESENT) ||
		    !(pf & TV_PF_RSVD) != (ar != TV_WALK_RESERVED) ||
		    !(pf & TV_PF_W) != !(acc & TV_ACC_WRITE) || !(pf & TV_PF_U) != !(acc & TV_ACC_USER) ||
		    ((pf & TV_PF_I) && !(acc & TV_ACC_FETCH)) || pf >> 5)
			abort(); /* the error code does not describe the fault */
	} else if (pf) {
		abort(); /* an error code without a page fault */
	}
	if (before && memcmp(before, ram->host, ram->size) != 0) {
		if (!set_ad || ar != TV_WALK_OK)
			abort(); /* only a successful access with set_ad writes */
		for (uint64_t i = 0; i < ram->size; i += 8) {
			uint64_t was, is;

			memcpy(&was, before + i, 8);
			memcpy(&is, ram->host + i, 8);
			if (((was ^ is) & ~(0x0101010101010101ull * (TV_PTE_A | TV_PTE_D))) ||
			    ((was ^ is) & was))
				abort(); /* RAM changed other than by setting A and D bits */
		}
	}
	free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	unsigned form = fz_u8(&in), flags, maxphyaddr;
	struct tv_ram ram = { .size = (1 + fz_u8(&in) % 128) * TV_PAGE_SIZE };
	struct tv_sregs s = { 0 };
	struct tv_regs regs;
	enum tv_walk_result r;
	uint64_t gva, la, gpa = 0;

	flags = fz_u8(&in);
	maxphyaddr = flags >> 2 ? 31 + (flags >> 2) : TV_MAXPHYADDR_DEFAULT;
	ram.host = calloc(1, ram.size);
	if (!ram.host)
		return 0;
	s.cr0 = fz_u64(&in);
	s.cr3 = fz_u64(&in);
	s.cr4 = fz_u64(&in);
	s.efer = fz_u64(&in);
	s.ds.base = fz_u64(&in);
	gva = fz_u64(&in);
	if (!((flags & 2) && tv_mode_setup((form & 7) < 4 ? TV_MODE_PAGED32 : TV_MODE_LONG,
					    ram.host, ram.size, &s, &regs) == 0))
		force_form(&s, form & 7);
	s.cs.l = flags & 1;
	while (!fz_empty(&in)) {
		uint32_t at = fz_u32(&in);
		uint64_t value = fz_u64(&in);

		if (at <= ram.size - sizeof(value))
			memcpy(ram.host + at, &value, sizeof(value));
	}

	r = walk(&ram, &s, maxphyaddr, gva, &gpa);
	if (getenv("TWINVM_FUZZ_SHOW"))
		printf("cr0 0x%" PRIx64 " cr3 0x%" PRIx64 " cr4 0x%" PRIx64 " efer 0x%" PRIx64
		       " gva 0x%" PRIx64 ": %s, gpa 0x%" PRIx64 "\n", s.cr0, s.cr3, s.cr4, s.efer, gva,
		       tv_walk_result_name(r), gpa);
	if (r == TV_WALK_OK) {
		/* The linear address as the walk forms it: DS.base applies outside 64-bit code. */
		la = (s.efer & TV_EFER_LMA) && s.cs.l ? gva : (s.ds.base + (gva & 0xffffffffu)) & 0xffffffffu;
		if ((gpa & 0xfff) != (la & 0xfff))
			abort(); /* a translation moved the byte within its page */
		if (!(s.cr0 & TV_CR0_PG) && gpa != la)
			abort(); /* without paging, physical is linear */
	}
	check_access(&ram, &s, maxphyaddr, gva, (form >> 3) & 7, form & 0x40, r, gpa);
	free(ram.host);
	return 0;
}
