/* Segment descriptors for the Unicorn backend, without Unicorn: reading a GDT entry from guest
 * RAM, decoding it into a segment's hidden part, and rebuilding a segment the guest loaded.
 * Pure functions over a RAM buffer and a tv_sregs, so fuzz/fuzz_descriptors.c drives them with
 * no engine. */
#ifndef TWINVM_EMU_DESC_H
#define TWINVM_EMU_DESC_H

#include "../backend.h"

#include <stdint.h>

#define EMU_NSEGS 6

/* "CS", "SS", "DS", "ES", "FS", "GS": the order of emu_segs_of. */
extern const char *const emu_seg_names[EMU_NSEGS];

/* s's six segment registers in the order CS, SS, DS, ES, FS, GS (SS's checks use the CPL, so
 * CS comes first; both before the data ones). */
void emu_segs_of(struct tv_sregs *s, struct tv_segment *segs[EMU_NSEGS]);

/* The hidden part of a segment from its 8-byte descriptor, as the CPU loads it. */
void emu_desc_decode(uint64_t desc, uint16_t selector, struct tv_segment *seg);

/* QEMU's segment flags (the descriptor's high word), which uc_x86_mmr carries for LDTR and TR. */
uint32_t emu_seg_flags(const struct tv_segment *seg);

/* Reads the GDT descriptor for selector into *desc and its address into *where, or fails with
 * -EINVAL and the reason in tv_last_error() (LDT selector, past the limit, outside RAM). The
 * address is GDT base + index * 8, wrapped to 32 bits outside long mode as the CPU wraps it, and
 * taken as guest-physical (set_sregs loads segments with paging off). name is for the message. */
int emu_gdt_read(const void *ram, uint64_t ram_size, const struct tv_sregs *s, const char *name,
		 uint16_t selector, uint64_t *desc, uint64_t *where);

/* Segment i (emu_segs_of's order) after the guest loaded selector: from the selector in real
 * mode, from the GDT as it is now otherwise; unusable when the descriptor cannot be read. */
void emu_seg_rebuild(const void *ram, uint64_t ram_size, const struct tv_sregs *s, int i,
		     uint16_t selector, struct tv_segment *seg);

#endif
