/* Segment descriptors for the Unicorn backend (see emu_desc.h). Every read of guest RAM here
 * goes through tv_ram_range, the bounds check core's accessor uses too. */
#include "emu_desc.h"

#include "ram_range.h"
#include "x86.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>


const char *const emu_seg_names[EMU_NSEGS] = { "CS", "SS", "DS", "ES", "FS", "GS" };

void emu_segs_of(struct tv_sregs *s, struct tv_segment *segs[EMU_NSEGS])
{
	segs[0] = &s->cs;
	segs[1] = &s->ss;
	segs[2] = &s->ds;
	segs[3] = &s->es;
	segs[4] = &s->fs;
	segs[5] = &s->gs;
}

void emu_desc_decode(uint64_t d, uint16_t selector, struct tv_segment *s)
{
	uint32_t high = (uint32_t)(d >> 32);
	uint32_t limit = (uint32_t)((d & 0xffff) | (high & 0xf0000));

	s->selector = selector;
	s->base = ((d >> 16) & 0xffffff) | (uint64_t)(high >> 24) << 24;
	s->type = (high >> TV_DESC_TYPE_SHIFT) & 0xf;
	s->s = !!(high & TV_DESC_S);
	s->dpl = (high >> TV_DESC_DPL_SHIFT) & 3;
	s->present = !!(high & TV_DESC_P);
	s->avl = !!(high & TV_DESC_AVL);
	s->l = !!(high & TV_DESC_L);
	s->db = !!(high & TV_DESC_B);
	s->g = !!(high & TV_DESC_G);
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->unusable = !s->present;
}

/* The descriptor's high dword without base and limit: what QEMU caches as a segment's flags. */
uint32_t emu_seg_flags(const struct tv_segment *s)
{
	return (uint32_t)(s->type & 0xf) << TV_DESC_TYPE_SHIFT | (s->s & 1 ? TV_DESC_S : 0) |
	       (uint32_t)(s->dpl & 3) << TV_DESC_DPL_SHIFT | (s->present & 1 ? TV_DESC_P : 0) |
	       (s->avl & 1 ? TV_DESC_AVL : 0) | (s->l & 1 ? TV_DESC_L : 0) |
	       (s->db & 1 ? TV_DESC_B : 0) | (s->g & 1 ? TV_DESC_G : 0);
}

int emu_gdt_read(const void *ram, uint64_t ram_size, const struct tv_sregs *s, const char *name,
		 uint16_t selector, uint64_t *desc, uint64_t *where)
{
	uint64_t off = selector & ~7u;
	const void *p;

	if (selector & 4) {
		tv_set_error("set_sregs: %s selector 0x%x points into an LDT, which the emulator "
			     "backend does not support", name, selector);
		return -EINVAL;
	}
	if (off + 7 > s->gdt.limit) {
		tv_set_error("set_sregs: %s selector 0x%x is past the GDT's limit 0x%x", name,
			     selector, s->gdt.limit);
		return -EINVAL;
	}
	/* A linear address wraps at the address size, as the CPU computes it. */
	*where = s->gdt.base + off;
	if (!(s->efer & TV_EFER_LMA) && !((s->efer & TV_EFER_LME) && (s->cr0 & TV_CR0_PG)))
		*where &= 0xffffffffull;
	p = tv_ram_range(ram, ram_size, *where, sizeof(*desc));
	if (!p) {
		tv_set_error("set_sregs: the GDT descriptor for %s (selector 0x%x) at 0x%" PRIx64
			     " is outside guest RAM", name, selector, *where);
		return -EINVAL;
	}
	memcpy(desc, p, sizeof(*desc));
	return 0;
}

void emu_seg_rebuild(const void *ram, uint64_t ram_size, const struct tv_sregs *s, int i,
		     uint16_t selector, struct tv_segment *seg)
{
	uint64_t desc, where;

	memset(seg, 0, sizeof(*seg));
	seg->selector = selector;
	if (!(s->cr0 & TV_CR0_PE)) {
		seg->base = (uint64_t)selector * 16;
		seg->limit = 0xffff;
		seg->type = i == 0 ? 0xb : 0x3;
		seg->present = seg->s = 1;
		return;
	}
	if (i < 0 || i >= EMU_NSEGS || (selector & ~3u) == 0 ||
	    emu_gdt_read(ram, ram_size, s, emu_seg_names[i], selector, &desc, &where) != 0) {
		seg->unusable = 1;
		return;
	}
	emu_desc_decode(desc, selector, seg);
}
