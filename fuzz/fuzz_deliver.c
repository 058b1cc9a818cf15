/* Drives the emulator's exception delivery (backend/emu/emu_deliver.h) with a CPU state and RAM
 * of the fuzzer's choosing: every IDT, GDT, TSS and stack address in it comes from the guest, and
 * delivery reads and writes them through the page walk and the RAM check. RAM is a heap buffer
 * of exactly its size, so any access outside it is an AddressSanitizer report.
 *
 * Input, little endian (fuzz_input.h; missing bytes read as zero):
 *   u8  pages   RAM is 1 + pages % 64 pages of 4 KiB, zeroed
 *   u64 cr0, cr3, cr4, efer, rip, rsp, rflags; u8 cpl
 *   u64 idt.base; u16 idt.limit; u64 gdt.base; u16 gdt.limit; u64 tr.base; u32 tr.limit;
 *   u8  tr.type; u16 cs.selector; u32 cs.flags; u64 ss.base; u32 ss.flags
 *   u8  vector; u8 software; u32 error
 *   then (u32 gpa, u64 value) pairs until the end, each stored into RAM where it fits.
 * A finding is a crash, a sanitizer report, or a delivery that ends at a CPL above 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu_deliver.h"
#include "fuzz_input.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	struct tv_ram ram = { .size = (1 + fz_u8(&in) % 64) * TV_PAGE_SIZE };
	struct emu_cpu c = { 0 };
	struct emu_event ev = { 0 };
	char why[200];

	c.cr0 = fz_u64(&in);
	c.cr3 = fz_u64(&in);
	c.cr4 = fz_u64(&in);
	c.efer = fz_u64(&in);
	c.rip = fz_u64(&in);
	c.rsp = fz_u64(&in);
	c.rflags = fz_u64(&in);
	c.cpl = fz_u8(&in) & 3;
	c.idt_base = fz_u64(&in);
	c.idt_limit = fz_u16(&in);
	c.gdt_base = fz_u64(&in);
	c.gdt_limit = fz_u16(&in);
	c.tr_base = fz_u64(&in);
	c.tr_limit = fz_u32(&in);
	c.tr_flags = (uint32_t)(fz_u8(&in) & 0xf) << TV_DESC_TYPE_SHIFT;
	c.seg[EMU_R_CS].selector = fz_u16(&in);
	c.seg[EMU_R_CS].flags = fz_u32(&in);
	c.seg[EMU_R_SS].base = fz_u64(&in);
	c.seg[EMU_R_SS].flags = fz_u32(&in);
	ev.vector = fz_u8(&in);
	ev.software = fz_u8(&in) & 1;
	ev.error = fz_u32(&in);
	ev.insn_rip = c.rip;
	ram.host = calloc(1, ram.size);
	if (!ram.host)
		return 0;
	while (!fz_empty(&in)) {
		uint32_t gpa = fz_u32(&in);
		uint64_t value = fz_u64(&in);

		if (gpa < ram.size && ram.size - gpa >= 8)
			memcpy(ram.host + gpa, &value, 8);
	}
	if (emu_deliver(&ram, 36, &c, &ev, why, sizeof(why)) == EMU_DELIVERED && c.cpl > 3) {
		fprintf(stderr, "delivered at CPL %u\n", c.cpl);
		abort();
	}
	free(ram.host);
	return 0;
}
