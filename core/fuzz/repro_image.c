/* The reproducer image of a divergence (repro.h). */
#include "repro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"
#include "layout.h"

/* One program for the three code widths, started as twinvm starts a raw guest in the case's mode
 * (layout.h: at 0, stack at TV_STACK_TOP; long, protected and paged32 flat and identity-mapped,
 * real mode with every segment at 0). It copies the scratch bytes and the snippet into place,
 * loads RFLAGS and the registers, jumps into the snippet, whose tail jumps back; stores the
 * registers and RFLAGS, prints, halts. The encodings differ by prefixes only (0x66, REX) and by
 * how an absolute address is spelt, so each emitter takes the width from struct emit.
 *
 * A case where either side faulted gets a fault catcher too, as the fuzzer's machine has one
 * (traps.h): an IDT (real mode: an IVT) of the 32 exception vectors, loaded before the snippet
 * runs, each vector's stub pushing a 0 where the CPU pushes no error code, then the vector, and
 * one handler printing the vector, the error code, the saved RIP, CS and RFLAGS (and CR2 in the
 * paged modes, both halves in long mode), then halting. Long mode takes them on IST1, at the
 * stack twinvm starts with: the TSS is the one twinvm's TR points at, at 0, so such an image
 * starts by jumping over it. A case where neither side faulted gets neither, so its image is the
 * same as before the catcher. */

#define IMG_SCRATCH 0x2000u /* the start state's scratch bytes, in the image */
#define IMG_STRINGS 0x3000u /* labels for the printed values */
#define IMG_STRINGS_END 0x3a00u
#define IMG_IDT 0x3a00u      /* the fault catcher's IDT: 32 gates of 16, 8 or 4 bytes */
#define IMG_IDTR 0x3c00u     /* its pseudo-descriptor for lidt */
#define IMG_TSS_END 0x68u    /* long mode: the 64-bit TSS at 0 that the image jumps over */
#define IMG_TSS_IST1 0x24u
#define IMG_VECTORS 32u
#define SAVE_AREA 0x42000u /* where the end state is stored (free RAM, not scratch) */
/* Real mode's: below 64 KiB, where 16-bit offsets reach with DS at 0; past the image, below the
 * stack. */
#define SAVE_AREA_REAL 0x8000u
#define JMP_SLOTS 0x41000u /* [0]: the snippet's start, [8]: where its tail returns (32, 64) */
#define HC_PRINT32 0xea
#define HC_PRINTSTR 0xec
/* Segment registers as mov sreg, r/m numbers them (ModRM.reg). */
#define SREG_ES (1u << 0)
#define SREG_SS (1u << 2)
#define SREG_DS (1u << 3)

struct emit {
	uint8_t *p;
	size_t n, cap;
	unsigned bits; /* the code width: 16, 32 or 64 */
	unsigned rsz;  /* the snippet's register width: 64 in long mode, else 32 */
	bool full;
};

static void put(struct emit *e, const void *b, size_t n)
{
	if (e->n + n > e->cap) {
		e->full = true;
		return;
	}
	memcpy(e->p + e->n, b, n);
	e->n += n;
}

static void put8(struct emit *e, uint8_t b)
{
	put(e, &b, 1);
}

static void put32(struct emit *e, uint32_t v)
{
	put(e, &v, 4);
}

/* The prefixes of an instruction on a size-bit operand: 0x66 when that is not the code's default
 * size, REX.W for 64; rex adds REX.R (4) or REX.B (1) for r8-r15. */
static void prefix(struct emit *e, unsigned size, uint8_t rex)
{
	if (size != 64 && size != (e->bits == 16 ? 16u : 32u))
		put8(e, 0x66);
	if (size == 64)
		rex |= 8;
	if (rex)
		put8(e, (uint8_t)(0x40 | rex));
}

/* mov reg, imm (size bits); returns where the immediate is, for patch(). */
static size_t mov_imm(struct emit *e, unsigned size, int reg, uint64_t v)
{
	size_t at;

	prefix(e, size, reg >= 8 ? 1 : 0);
	put8(e, (uint8_t)(0xb8 + (reg & 7)));
	at = e->n;
	put(e, &v, size / 8);
	return at;
}

/* Writes v over the immediate mov_imm of size bits put at position at. */
static void patch(struct emit *e, size_t at, uint64_t v, unsigned size)
{
	if (!e->full && at + size / 8 <= e->n)
		memcpy(e->p + at, &v, size / 8);
}

/* mov [addr], reg (store) or mov reg, [addr] (load), size bits. addr is a disp16 in 16-bit code;
 * elsewhere a disp32 through a SIB with neither base nor index (ModRM's own disp32 form is
 * RIP-relative in 64-bit code). */
static void mov_abs(struct emit *e, bool store, unsigned size, int reg, uint32_t addr)
{
	prefix(e, size, reg >= 8 ? 4 : 0);
	put8(e, store ? 0x89 : 0x8b);
	if (e->bits == 16) {
		uint16_t off = (uint16_t)addr;

		put8(e, (uint8_t)(0x06 | (reg & 7) << 3)); /* mod 00, rm 110: disp16 */
		put(e, &off, 2);
		return;
	}
	put8(e, (uint8_t)(0x04 | (reg & 7) << 3)); /* mod 00, rm 100: SIB */
	put8(e, 0x25);                             /* SIB: no base, no index: disp32 */
	put32(e, addr);
}

/* A push or pop (op) of the snippet's register width: the default in 32- and 64-bit code. */
static void stack_op(struct emit *e, uint8_t op)
{
	if (e->bits == 16)
		put8(e, 0x66);
	put8(e, op);
}

/* out imm8, eax: a hypercall. */
static void out_eax(struct emit *e, uint8_t port)
{
	prefix(e, 32, 0);
	put8(e, 0xe7);
	put8(e, port);
}

/* jmp [slot] (32- and 64-bit code: a pointer of the code's width). */
static void jmp_abs(struct emit *e, uint32_t slot)
{
	put8(e, 0xff);
	put8(e, 0x24);
	put8(e, 0x25);
	put32(e, slot);
}

/* jmp far seg:off (16-bit code). */
static void jmp_far(struct emit *e, uint16_t seg, uint16_t off)
{
	put8(e, 0xea);
	put(e, &off, 2);
	put(e, &seg, 2);
}

/* mov ax, seg, then mov sreg, ax for each SREG_* in sregs (real mode). */
static void set_segments(struct emit *e, uint16_t seg, unsigned sregs)
{
	mov_imm(e, 16, FZ_RAX, seg);
	for (unsigned i = 0; i < 6; i++)
		if (sregs & 1u << i) {
			put8(e, 0x8e);
			put8(e, (uint8_t)(0xc0 | i << 3));
		}
}

/* rep movsb of n bytes from image offset src to dst (in 16-bit code, ES:0 with ES = dst >> 4);
 * returns where src's immediate is, for patch(). */
static size_t copy(struct emit *e, uint32_t src, uint32_t dst, uint32_t n)
{
	size_t at = mov_imm(e, e->rsz, FZ_RSI, src);

	if (e->bits == 16) {
		set_segments(e, (uint16_t)(dst >> 4), SREG_ES);
		dst = 0;
	}
	mov_imm(e, e->rsz, FZ_RDI, dst);
	mov_imm(e, e->rsz, FZ_RCX, n);
	put8(e, 0xf3);
	put8(e, 0xa4);
	return at;
}

/* The label for a field, HC_printStr'd before its value (DS is 0 or flat here). */
static void print_label(struct emit *e, uint8_t *img, size_t *strings, const char *label)
{
	size_t n = strlen(label) + 1;

	if (*strings + n > IMG_STRINGS_END) {
		e->full = true;
		return;
	}
	memcpy(img + *strings, label, n);
	mov_imm(e, 32, FZ_RAX, *strings);
	out_eax(e, HC_PRINTSTR);
	*strings += n;
}

/* HC_print32bit of the dword at addr; seg is a segment-override prefix, or 0. */
static void print_dword(struct emit *e, uint8_t seg, uint32_t addr)
{
	if (seg)
		put8(e, seg);
	mov_abs(e, false, 32, FZ_RAX, addr);
	out_eax(e, HC_PRINT32);
}

/* The value of each field of c->diff: a register's low half (and its high half in long mode),
 * RFLAGS masked to the compared bits; for scratch, the 8 bytes (long mode) or 4 bytes (below it:
 * the low 32 bits, as the registers) holding the first difference. */
static void print_fields(struct emit *e, const struct fz_case *c, uint8_t *img, uint32_t save,
			 size_t *strings)
{
	unsigned halves = e->bits == 64 ? 2 : 1;

	for (int i = 0; i < fz_gprs(e->bits); i++) {
		char label[16];

		if (!(c->diff.fields & (1u << i)))
			continue;
		snprintf(label, sizeof(label), "%s=", fz_gpr_name(i));
		print_label(e, img, strings, label);
		for (unsigned h = 0; h < halves; h++)
			print_dword(e, 0, save + 8u * (unsigned)i + 4 * h);
	}
	if (c->diff.fields & FZ_F_RFLAGS) {
		print_label(e, img, strings, "rflags=");
		print_dword(e, 0, save + 8 * FZ_NGPR);
	}
	if (c->diff.fields & FZ_F_SCRATCH) {
		uint32_t at = c->diff.scratch_at & ~(4 * halves - 1);
		uint32_t addr = (uint32_t)FZ_SCRATCH_ADDR + at;
		uint8_t seg = 0;
		char label[40];

		snprintf(label, sizeof(label), "scratch+0x%x=", at);
		print_label(e, img, strings, label);
		/* Real mode: through ES, as the snippet saw it; DS stays 0 for the labels. */
		if (e->bits == 16) {
			set_segments(e, FZ_SCRATCH_ADDR >> 4, SREG_ES);
			seg = 0x26;
			addr = at;
		}
		for (unsigned h = 0; h < halves; h++)
			print_dword(e, seg, addr + 4 * h);
	}
}

/* Whether the CPU pushes an error code for vector (below 32) in protected and long mode. */
static bool pushes_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

/* lidt [IMG_IDTR]: disp16 in 16-bit code, disp32 (through a SIB in 64-bit code) elsewhere. */
static void lidt(struct emit *e)
{
	put8(e, 0x0f);
	put8(e, 0x01);
	if (e->bits == 16) {
		uint16_t off = IMG_IDTR;

		put8(e, 0x1e);
		put(e, &off, 2);
		return;
	}
	put8(e, e->bits == 64 ? 0x1c : 0x1d);
	if (e->bits == 64)
		put8(e, 0x25);
	put32(e, IMG_IDTR);
}

/* The gate of vector v to handler (an address in the image, at 0) in img's IDT. */
static void put_gate(const struct fz_case *c, uint8_t *img, unsigned v, uint32_t handler)
{
	uint8_t *g = img + IMG_IDT + v * (c->mode == TV_MODE_LONG ? 16u : c->mode == TV_MODE_REAL
									     ? 4u : 8u);
	uint16_t lo = (uint16_t)handler, hi = (uint16_t)(handler >> 16);
	uint16_t sel = c->mode == TV_MODE_LONG ? TV_SEL_CODE64 : TV_SEL_CODE32;

	memcpy(g, &lo, 2);
	if (c->mode == TV_MODE_REAL) /* segment 0: the image is at 0 */
		return;
	memcpy(g + 2, &sel, 2);
	g[4] = c->mode == TV_MODE_LONG ? 1 : 0; /* IST1 */
	g[5] = 0x8e;                             /* interrupt gate, present, DPL 0 */
	memcpy(g + 6, &hi, 2);
}

/* The fault catcher's stubs and handler (the image comment), after the code so far; its labels
 * from *strings on. */
static void emit_catcher(struct emit *e, const struct fz_case *c, uint8_t *img, size_t *strings)
{
	static const char *const labels[5] = { "vector=", "error=", "rip=", "cs=", "rflags=" };
	const unsigned w = e->bits / 8; /* a stack slot */
	const uint16_t limit = (uint16_t)(IMG_VECTORS * (c->mode == TV_MODE_LONG ? 16u
						      : c->mode == TV_MODE_REAL ? 4u : 8u) - 1);
	size_t jumps[IMG_VECTORS];
	uint32_t base = IMG_IDT;

	memcpy(img + IMG_IDTR, &limit, 2);
	memcpy(img + IMG_IDTR + 2, &base, 4);
	for (unsigned v = 0; v < IMG_VECTORS; v++) {
		put_gate(c, img, v, (uint32_t)e->n);
		if (c->mode == TV_MODE_REAL || !pushes_error_code(v)) {
			put8(e, 0x6a); /* push 0 */
			put8(e, 0);
		}
		put8(e, 0x6a); /* push v */
		put8(e, (uint8_t)v);
		put8(e, 0xe9); /* jmp rel16/rel32 to the handler, patched below */
		jumps[v] = e->n;
		put(e, (uint8_t[4]){ 0 }, e->bits == 16 ? 2 : 4);
	}
	for (unsigned v = 0; v < IMG_VECTORS && !e->full; v++) {
		uint32_t rel = (uint32_t)(e->n - (jumps[v] + (e->bits == 16 ? 2 : 4)));

		memcpy(e->p + jumps[v], &rel, e->bits == 16 ? 2 : 4);
	}
	/* DS as the labels need it (the hypercall reads through it; the snippet may have moved
	 * it), then (16-bit code) mov bp, sp: 16-bit code addresses the stack through BP */
	set_segments(e, c->mode == TV_MODE_REAL ? 0 : TV_SEL_DATA, SREG_DS);
	if (e->bits == 16) {
		put8(e, 0x89);
		put8(e, 0xe5);
	}
	for (unsigned i = 0; i < 5; i++) {
		print_label(e, img, strings, labels[i]);
		if (e->bits == 16) { /* xor eax, eax; mov ax, [bp+i*2] */
			put(e, (uint8_t[]){ 0x66, 0x31, 0xc0, 0x8b, 0x46 }, 5);
		} else { /* mov eax, [esp+i*4] / mov rax, [rsp+i*8] */
			if (e->bits == 64)
				put8(e, 0x48);
			put(e, (uint8_t[]){ 0x8b, 0x44, 0x24 }, 3);
		}
		put8(e, (uint8_t)(i * w));
		out_eax(e, HC_PRINT32);
	}
	if (c->mode == TV_MODE_PAGED32 || c->mode == TV_MODE_LONG) {
		print_label(e, img, strings, "cr2=");
		put(e, (uint8_t[]){ 0x0f, 0x20, 0xd0 }, 3); /* mov eax, cr2 (rax in 64-bit code) */
		out_eax(e, HC_PRINT32);
		if (e->bits == 64) { /* shr rax, 32: and its high half */
			put(e, (uint8_t[]){ 0x48, 0xc1, 0xe8, 0x20 }, 4);
			out_eax(e, HC_PRINT32);
		}
	}
	put8(e, 0xf4); /* hlt */
}

/* Long mode with a catcher: a jump over the TSS at 0, whose IST1 is set to twinvm's stack. */
static void skip_tss(struct emit *e, uint8_t *img)
{
	uint64_t ist1 = TV_STACK_TOP;

	put8(e, 0xeb);
	put8(e, IMG_TSS_END - 2);
	e->n = IMG_TSS_END;
	memcpy(img + IMG_TSS_IST1, &ist1, sizeof(ist1));
}

/* The start: the start state's scratch bytes and the snippet (tail bytes after it) copied into
 * place, the jump slots (32, 64), RFLAGS, the segments (16), every register, and the jump into
 * the snippet. Returns where the copy's source is, for patch(); *back_at is where the return
 * slot's value is (32, 64). */
static size_t emit_start(struct emit *e, const struct fz_case *c, unsigned tail, size_t *back_at)
{
	const unsigned bits = e->bits;
	size_t src_at;

	put8(e, 0xfc); /* cld */
	copy(e, IMG_SCRATCH, FZ_SCRATCH_ADDR, FZ_SCRATCH_SIZE);
	src_at = copy(e, 0, FZ_CODE_ADDR, c->s.len + tail); /* patched: the snippet's bytes */
	if (bits != 16) {
		/* The jump slots: into the snippet, and back from its tail. */
		mov_imm(e, e->rsz, FZ_RAX, FZ_CODE_ADDR);
		mov_abs(e, true, e->rsz, FZ_RAX, JMP_SLOTS);
		*back_at = mov_imm(e, e->rsz, FZ_RAX, 0); /* patched: the code after the snippet */
		mov_abs(e, true, e->rsz, FZ_RAX, JMP_SLOTS + 8);
	}
	/* RFLAGS through twinvm's stack (real mode: before SS moves), then the snippet's segments
	 * (real mode: the last use of a register of its own), then every register (mov leaves
	 * RFLAGS alone), RSP last; then in. */
	stack_op(e, 0x68); /* push imm32 */
	put32(e, (uint32_t)((c->in.rflags & FZ_RFLAGS_START_MASK) | FZ_RFLAGS_FIXED));
	stack_op(e, 0x9d); /* popf */
	if (bits == 16)
		set_segments(e, FZ_SCRATCH_ADDR >> 4, SREG_DS | SREG_ES | SREG_SS);
	for (int i = 0; i < fz_gprs(bits); i++)
		if (i != FZ_RSP)
			mov_imm(e, e->rsz, i, c->in.gpr[i]);
	mov_imm(e, e->rsz, FZ_RSP, c->in.gpr[FZ_RSP]);
	if (bits == 16)
		jmp_far(e, FZ_CODE_ADDR >> 4, 0);
	else
		jmp_abs(e, JMP_SLOTS);
	return src_at;
}

/* Back from the snippet: every register stored at save (in real mode through CS, the one
 * segment at 0 here), then RFLAGS through twinvm's stack (real mode: with DS and SS back at 0),
 * masked to the compared bits. */
static void emit_save(struct emit *e, uint32_t save)
{
	for (int i = 0; i < fz_gprs(e->bits); i++) {
		if (e->bits == 16)
			put8(e, 0x2e);
		mov_abs(e, true, e->rsz, i, save + 8u * (unsigned)i);
	}
	if (e->bits == 16)
		set_segments(e, 0, SREG_DS | SREG_SS);
	mov_imm(e, e->rsz, FZ_RSP, TV_STACK_TOP);
	stack_op(e, 0x9c); /* pushf */
	stack_op(e, 0x58); /* pop rax */
	mov_imm(e, e->rsz, FZ_RCX, FZ_RFLAGS_COMPARED);
	prefix(e, e->rsz, 0); /* and rax, rcx */
	put8(e, 0x21);
	put8(e, 0xc8);
	mov_abs(e, true, e->rsz, FZ_RAX, save + 8 * FZ_NGPR);
}

int fz_repro_image(const struct fz_case *c, uint8_t *img, size_t cap, size_t *len)
{
	unsigned bits = c->s.bits;
	/* Code lives below IMG_SCRATCH; the scratch bytes and the labels follow it. */
	struct emit e = { .p = img, .cap = IMG_SCRATCH, .bits = bits, .rsz = bits == 64 ? 64 : 32 };
	const uint32_t back_slot = JMP_SLOTS + 8, save = bits == 16 ? SAVE_AREA_REAL : SAVE_AREA;
	const unsigned tail = bits == 16 ? 5 : 7; /* the jump back after the snippet */
	const bool catcher = c->emu.vector >= 0 || c->oracle.vector >= 0;
	size_t src_at, back_at = 0, strings = IMG_STRINGS;

	if ((unsigned)c->mode >= TV_MODE_COUNT || (int)bits != tv_mode_bits(c->mode) ||
	    c->s.len > FZ_CODE_MAX)
		return -EINVAL;
	if (cap < FZ_REPRO_IMAGE_SIZE || FZ_REPRO_IMAGE_SIZE > TV_IMAGE_LIMIT)
		return -ENOSPC;
	memset(img, 0, FZ_REPRO_IMAGE_SIZE);
	memcpy(img + IMG_SCRATCH, c->in.scratch, FZ_SCRATCH_SIZE);
	if (catcher && c->mode == TV_MODE_LONG)
		skip_tss(&e, img);
	if (catcher)
		lidt(&e);
	src_at = emit_start(&e, c, tail, &back_at);
	/* The snippet's bytes and its tail, as data for the copy above. */
	patch(&e, src_at, e.n, e.rsz);
	put(&e, c->s.code, c->s.len);
	if (bits == 16)
		jmp_far(&e, 0, (uint16_t)(e.n + tail));
	else
		jmp_abs(&e, back_slot);
	if (bits != 16)
		patch(&e, back_at, e.n, e.rsz);
	emit_save(&e, save);
	print_fields(&e, c, img, save, &strings);
	put8(&e, 0xf4); /* hlt */
	if (catcher)
		emit_catcher(&e, c, img, &strings);
	if (e.full)
		return -ENOSPC;
	*len = FZ_REPRO_IMAGE_SIZE;
	return 0;
}
