/* Drives the emulator backend's descriptor code (backend/emu/emu_desc.h): reading a GDT entry
 * and rebuilding a segment the guest loaded, as get_sregs does at every traced exit and at
 * HC_printStr and HC_gvaToHva. This is where a GDT base near 2^64 once made `base + index * 8
 * + 8` wrap, pass the RAM check, and read host memory below guest RAM. RAM is a heap buffer of
 * exactly its size, so any read outside it is an AddressSanitizer report.
 *
 * Input, little endian (fuzz_input.h; missing bytes read as zero):
 *   u8  pages  RAM is 1 + pages % 64 pages of 4 KiB
 *   u64 gdt.base, cr0, efer; u16 gdt.limit
 *   then (u16 selector, u8 segment) pairs until the end, each rebuilt and read;
 *   the RAM itself is filled from what is left, cycled.
 * A finding is a crash or sanitizer report, or a successful read whose address is not inside
 * RAM with its 8 bytes. */
#include <stdio.h>
#include <stdlib.h>

#include "emu/emu_desc.h"
#include "fuzz_input.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	uint64_t ram_size = (1 + fz_u8(&in) % 64) * TV_PAGE_SIZE;
	struct tv_sregs s = { 0 };
	uint8_t *ram;

	s.gdt.base = fz_u64(&in);
	s.cr0 = fz_u64(&in);
	s.efer = fz_u64(&in);
	s.gdt.limit = fz_u16(&in);
	ram = malloc(ram_size);
	if (!ram)
		return 0;
	for (uint64_t i = 0; i < ram_size; i++)
		ram[i] = size ? data[i % size] : 0;
	while (!fz_empty(&in)) {
		uint16_t selector = fz_u16(&in);
		int seg = fz_u8(&in) % EMU_NSEGS;
		struct tv_segment rebuilt;
		uint64_t desc, where;

		emu_seg_rebuild(ram, ram_size, &s, seg, selector, &rebuilt);
		if (emu_gdt_read(ram, ram_size, &s, emu_seg_names[seg], selector, &desc, &where) ==
		    0 && (where >= ram_size || ram_size - where < 8)) {
			fprintf(stderr, "emu_gdt_read accepted 0x%llx, outside %llu bytes of RAM\n",
				(unsigned long long)where, (unsigned long long)ram_size);
			abort();
		}
	}
	free(ram);
	return 0;
}
