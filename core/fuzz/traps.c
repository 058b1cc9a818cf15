/* The engine oracles' exception catcher (traps.h): tables, handlers, frames. */
#include "traps.h"

#include <errno.h>
#include <string.h>

#include "layout.h"

/* Guest-physical (= linear) places, between the fuzzer's scratch and code areas (fz.h) and the code
 * slots (engine.c); twinvm's own layout ends at TV_LAYOUT_END, below all of them. */
#define IDT_ADDR 0x61000ull      /* 256 gates of 16 bytes (long) or 8 (protected) */
#define TSS_ADDR 0x62000ull      /* long mode: the 64-bit TSS, for IST1 */
#define HANDLERS_ADDR 0x63000ull /* 256 hlt bytes: vector v halts at HANDLERS_ADDR + v */
#define IST_TOP 0x66000ull       /* IST1: 8 KiB below this */
#define GDT_ADDR 0x66000ull      /* FZ_GDT_ENTRIES descriptors */
#define REAL_HANDLERS ((uint64_t)FZ_REAL_CS * 16 + FZ_REAL_HANDLER_IP)
#define VECTORS 256

/* The vectors that push an error code in protected and long mode (SDM vol. 3, table 6-1; #CP,
 * #VC and #SX too). Real mode pushes none. */
static bool pushes_error_code(enum tv_mode mode, int v)
{
	return mode != TV_MODE_REAL &&
	       (v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30);
}

/* A flat descriptor (base 0, limit 4 GiB in pages, 32-bit) with access byte access (P, DPL, S,
 * type), as the GDT holds it. */
static uint64_t flat_descriptor(uint8_t access)
{
	return 0x00cf00000000ffffull | (uint64_t)access << 40;
}

/* twinvm's entries, then the fuzzer's (traps.h), each with its accessed bit set so that no load
 * writes the table. */
static int install_gdt(const struct tv_ram *ram, struct tv_sregs *s)
{
	uint64_t gdt[FZ_GDT_ENTRIES] = { 0 };

	if (s->gdt.limit + 1u != TV_GDT_ENTRIES * 8u ||
	    tv_ram_read(ram, s->gdt.base, gdt, TV_GDT_ENTRIES * 8u) != 0)
		return -EFAULT;
	gdt[FZ_SEL_NOT_PRESENT >> 3] = flat_descriptor(0x13);
	gdt[FZ_SEL_READ_ONLY >> 3] = flat_descriptor(0x91);
	gdt[FZ_SEL_EXEC_ONLY >> 3] = flat_descriptor(0x99);
	gdt[FZ_SEL_DATA_DPL3 >> 3] = flat_descriptor(0xf3);
	if (tv_ram_write(ram, GDT_ADDR, gdt, sizeof(gdt)) != 0)
		return -EFAULT;
	s->gdt.base = GDT_ADDR;
	s->gdt.limit = sizeof(gdt) - 1;
	return 0;
}

int fz_traps_install(const struct tv_ram *ram, enum tv_mode mode, struct tv_sregs *s)
{
	uint8_t hlt[VECTORS];
	uint8_t gate[16];
	int rc = 0;

	memset(hlt, 0xf4, sizeof(hlt));
	if (mode == TV_MODE_REAL) {
		/* The IVT at 0: vector v -> FZ_REAL_CS:FZ_REAL_HANDLER_IP + v. */
		for (int v = 0; v < VECTORS && !rc; v++) {
			uint16_t far[2] = { (uint16_t)(FZ_REAL_HANDLER_IP + v), FZ_REAL_CS };

			rc = tv_ram_write(ram, 4ull * (unsigned)v, far, sizeof(far));
		}
		if (!rc)
			rc = tv_ram_write(ram, REAL_HANDLERS, hlt, sizeof(hlt));
		s->idt.base = 0;
		s->idt.limit = 4 * VECTORS - 1;
		return rc ? -EFAULT : 0;
	}
	for (int v = 0; v < VECTORS && !rc; v++) {
		uint64_t off = HANDLERS_ADDR + (unsigned)v;
		bool wide = mode == TV_MODE_LONG;
		uint16_t sel = wide ? TV_SEL_CODE64 : TV_SEL_CODE32;

		/* An interrupt gate, present, DPL 0; in long mode on IST1. */
		memset(gate, 0, sizeof(gate));
		gate[0] = (uint8_t)off;
		gate[1] = (uint8_t)(off >> 8);
		gate[2] = (uint8_t)sel;
		gate[3] = (uint8_t)(sel >> 8);
		gate[4] = wide ? 1 : 0;
		gate[5] = 0x8e;
		gate[6] = (uint8_t)(off >> 16);
		gate[7] = (uint8_t)(off >> 24);
		rc = tv_ram_write(ram, IDT_ADDR + (unsigned)v * (wide ? 16u : 8u), gate, wide ? 16 : 8);
	}
	if (!rc)
		rc = tv_ram_write(ram, HANDLERS_ADDR, hlt, sizeof(hlt));
	if (!rc)
		rc = install_gdt(ram, s);
	s->idt.base = IDT_ADDR;
	s->idt.limit = (uint16_t)(VECTORS * (mode == TV_MODE_LONG ? 16 : 8) - 1);
	if (!rc && mode == TV_MODE_LONG) {
		uint8_t tss[0x68] = { 0 };
		uint64_t ist1 = IST_TOP;

		memcpy(tss + 0x24, &ist1, sizeof(ist1));
		rc = tv_ram_write(ram, TSS_ADDR, tss, sizeof(tss));
		/* A busy 64-bit TSS, as LTR leaves it. */
		s->tr = (struct tv_segment){ .base = TSS_ADDR, .limit = sizeof(tss) - 1, .type = 0xb,
					     .present = 1 };
	}
	return rc ? -EFAULT : 0;
}

int fz_traps_vector(enum tv_mode mode, uint64_t rip_after_hlt)
{
	uint64_t first = mode == TV_MODE_REAL ? FZ_REAL_HANDLER_IP : HANDLERS_ADDR;

	if (rip_after_hlt <= first || rip_after_hlt > first + VECTORS)
		return -1;
	return (int)(rip_after_hlt - 1 - first);
}

int fz_trap_frame(const struct tv_ram *ram, enum tv_mode mode, int vector, uint64_t sp,
		  uint64_t ss_base, struct fz_trap_frame *f)
{
	/* The slot size: 8 bytes in long mode, 4 in protected, 2 in real; then the error code
	 * (when pushed), IP, CS, FLAGS, and in long mode RSP and SS. */
	const unsigned w = mode == TV_MODE_LONG ? 8 : mode == TV_MODE_REAL ? 2 : 4;
	const unsigned n = (mode == TV_MODE_LONG ? 5 : 3) + pushes_error_code(mode, vector);
	uint64_t at = ss_base + sp, v[6] = { 0 };
	uint8_t raw[48];

	if (tv_ram_read(ram, at, raw, (uint64_t)n * w) != 0)
		return -EFAULT;
	for (unsigned i = 0; i < n; i++)
		memcpy(&v[i], raw + i * w, w);
	memset(f, 0, sizeof(*f));
	f->has_error_code = pushes_error_code(mode, vector);
	if (f->has_error_code)
		f->error_code = v[0];
	f->ip = v[f->has_error_code];
	f->cs = (uint16_t)v[f->has_error_code + 1];
	f->flags = v[f->has_error_code + 2];
	if (mode == TV_MODE_LONG) {
		f->sp = v[f->has_error_code + 3]; /* on IST1: the snippet's stack is untouched */
		f->ss = (uint16_t)v[f->has_error_code + 4];
	} else {
		f->sp = (sp + (uint64_t)n * w) & (mode == TV_MODE_REAL ? 0xffffu : 0xffffffffu);
		f->clobber_lo = at;
		f->clobber_hi = at + (uint64_t)n * w;
	}
	return 0;
}
