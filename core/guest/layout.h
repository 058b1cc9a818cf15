/* The guest-physical memory layout: the one place that says where everything lives.
 *
 *   0x00000  guest image: code loads here and starts here (as in the assignment)
 *   0x0E000  guest stack, 4 KiB, growing down from 0x0F000
 *   0x0F000  hypervisor scratch page (strings the hypervisor hands the guest)
 *   0x10000  GDT
 *   0x11000  paged32: page directory (4 MiB pages)
 *   0x12000  long: PML4, then PDPT at 0x13000, then four page directories (2 MiB pages)
 *   0x18000  free for the guest's own use, up to the end of RAM
 *
 * The stack and the scratch page sit below 64 KiB so that a real-mode guest with all segments at 0
 * reaches them with 16-bit offsets; the tables sit above, where only 32- and 64-bit guests look.
 * The paged modes identity-map the first 4 GiB, so guest virtual = guest physical until a guest
 * installs page tables of its own, and accesses above RAM reach the MMIO path. */
#ifndef TWINVM_LAYOUT_H
#define TWINVM_LAYOUT_H

#define TV_IMAGE_BASE 0x0ull
#define TV_IMAGE_LIMIT 0xE000ull /* an image must end at or below this */
#define TV_ENTRY 0x0ull

#define TV_STACK_BOTTOM 0xE000ull
#define TV_STACK_TOP 0xF000ull /* the initial stack pointer */
#define TV_SCRATCH 0xF000ull
#define TV_SCRATCH_SIZE 0x1000ull

#define TV_GDT 0x10000ull
#define TV_GDT_ENTRIES 4
#define TV_PD32 0x11000ull
#define TV_PML4 0x12000ull
#define TV_PDPT 0x13000ull
#define TV_PD64 0x14000ull /* four pages: one page directory per GiB */

#define TV_LAYOUT_END 0x18000ull /* first byte past the hypervisor's structures */

/* GDT selectors */
#define TV_SEL_CODE32 0x08
#define TV_SEL_DATA 0x10
#define TV_SEL_CODE64 0x18

#define TV_PAGE_SIZE 0x1000ull
#define TV_RAM_DEFAULT (2ull << 20)
#define TV_RAM_MIN (128ull << 10)
/* RAM stays below 3 GiB so that the top of the identity-mapped 4 GiB is left for MMIO. */
#define TV_RAM_MAX (3ull << 30)

#endif
