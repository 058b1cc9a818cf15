/* Exception and interrupt delivery, in software: see emu_deliver.h. */
#include "emu_deliver.h"

#include "pagewalk.h"
#include "x86.h"
#include "emu.h"
#include "emu_desc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VEC_DE 0
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14

/* Gate types (the descriptor's type field with S clear). */
#define GATE_TASK 5
#define GATE_INT16 6
#define GATE_TRAP16 7
#define GATE_INT32 14 /* also the 64-bit interrupt gate */
#define GATE_TRAP32 15

/* How one attempt ended. */
enum attempt { ATTEMPT_OK, ATTEMPT_FAULT, ATTEMPT_UNSUPPORTED };

struct delivery {
	const struct tv_ram *ram;
	unsigned maxphyaddr;
	struct emu_cpu *cpu;
	struct tv_sregs paging; /* CR0, CR3, CR4 and EFER, for the walk */
	uint32_t ext;		/* the error codes' EXT bit: 1 unless a software interrupt */
	bool rf;		/* a fault is in the chain: the pushed RFLAGS has RF set */
	struct emu_event fault; /* the fault an attempt ran into */
	bool fault_cr2;		/* it is a #PF at fault_la */
	uint64_t fault_la;
	char *why;
	size_t why_len;
};

bool emu_vector_has_error(unsigned vector)
{
	return vector == VEC_DF || (vector >= VEC_TS && vector <= VEC_PF) || vector == 17;
}

static bool long_mode(const struct emu_cpu *c)
{
	return c->efer & TV_EFER_LMA;
}

static enum attempt fault_with(struct delivery *d, unsigned vector, uint32_t error)
{
	d->fault = (struct emu_event){ .vector = vector, .error = error };
	d->fault_cr2 = false;
	return ATTEMPT_FAULT;
}

static enum attempt unsupported(struct delivery *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum attempt unsupported(struct delivery *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->why, d->why_len, fmt, ap);
	va_end(ap);
	return ATTEMPT_UNSUPPORTED;
}

/* Copies len bytes (at most 16) between buf and linear address la with the CPU's checks for
 * acc (TV_ACC_*): both pages are translated before a byte moves, so a fault leaves RAM as it
 * was. A non-canonical address raises noncanon_vector with error code 0. */
static enum attempt linear_copy(struct delivery *d, uint64_t la, void *buf, unsigned len,
				unsigned acc, unsigned noncanon_vector)
{
	uint64_t gpa[2];
	unsigned part[2], n = 0;
	uint64_t wrap = long_mode(d->cpu) ? UINT64_MAX : 0xffffffffull;
	uint8_t *b = buf;

	while (len && n < 2) {
		uint32_t pf = 0;
		enum tv_walk_result r;

		la &= wrap;
		part[n] = 4096 - (unsigned)(la & 0xfff);
		if (part[n] > len)
			part[n] = len;
		r = tv_linear_access(d->ram, &d->paging, d->maxphyaddr, la, acc, true, &gpa[n], &pf);
		if (r == TV_WALK_NONCANONICAL)
			return fault_with(d, noncanon_vector, 0);
		if (r == TV_WALK_NOT_PRESENT || r == TV_WALK_RESERVED || r == TV_WALK_PROTECTION) {
			fault_with(d, VEC_PF, pf);
			d->fault_cr2 = true;
			d->fault_la = la;
			return ATTEMPT_FAULT;
		}
		if (r != TV_WALK_OK)
			return unsupported(d, "linear address 0x%llx: %s", (unsigned long long)la,
					   tv_walk_result_name(r));
		if (!tv_ram_range(d->ram->host, d->ram->size, gpa[n], part[n]))
			return unsupported(d, "linear address 0x%llx is outside guest RAM",
					   (unsigned long long)la);
		la += part[n];
		len -= part[n];
		n++;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *host = tv_ram_range(d->ram->host, d->ram->size, gpa[i], part[i]);

		if (acc & TV_ACC_WRITE)
			memcpy(host, b, part[i]);
		else
			memcpy(b, host, part[i]);
		b += part[i];
	}
	return ATTEMPT_OK;
}

/* The CPU's own reads of descriptor tables and the TSS: supervisor accesses at any CPL. */
static enum attempt read_system(struct delivery *d, uint64_t la, void *buf, unsigned len)
{
	return linear_copy(d, la, buf, len, 0, VEC_GP);
}

/* The code or stack segment descriptor for selector, as (low, high) dwords, or the fault
 * (vector, with the selector as error code) when it lies past its table's limit. */
static enum attempt read_descriptor(struct delivery *d, uint32_t selector, unsigned vector,
				    uint32_t desc[2])
{
	const struct emu_cpu *c = d->cpu;
	uint64_t base = selector & 4 ? c->ldt_base : c->gdt_base;
	uint32_t limit = selector & 4 ? c->ldt_limit : c->gdt_limit;
	uint32_t index = selector & 0xfff8;

	if (index + 7 > limit)
		return fault_with(d, vector, (selector & 0xfffc) | d->ext);
	return read_system(d, base + index, desc, 8);
}

/* A segment as QEMU caches it: base and limit as emu_desc_decode reads them, the high dword
 * as its flags. */
static struct emu_seg seg_from_descriptor(uint32_t selector, const uint32_t desc[2])
{
	struct tv_segment t;

	emu_desc_decode((uint64_t)desc[1] << 32 | desc[0], (uint16_t)selector, &t);
	return (struct emu_seg){ .selector = selector, .base = t.base, .limit = t.limit,
				 .flags = desc[1] };
}

static unsigned desc_dpl(uint32_t high)
{
	return (high >> TV_DESC_DPL_SHIFT) & 3;
}

/* The handler's code segment: present, code, DPL <= CPL (64-bit code in long mode). On success
 * *new_cpl is the handler's privilege level. */
static enum attempt handler_cs(struct delivery *d, uint32_t selector, struct emu_seg *cs,
			       unsigned *new_cpl)
{
	uint32_t desc[2];
	enum attempt a;
	unsigned dpl;

	if ((selector & 0xfffc) == 0)
		return fault_with(d, VEC_GP, d->ext);
	a = read_descriptor(d, selector, VEC_GP, desc);
	if (a)
		return a;
	dpl = desc_dpl(desc[1]);
	if (!(desc[1] & TV_DESC_S) || !(desc[1] & TV_DESC_CODE) || dpl > d->cpu->cpl)
		return fault_with(d, VEC_GP, (selector & 0xfffc) | d->ext);
	if (long_mode(d->cpu) && (!(desc[1] & TV_DESC_L) || (desc[1] & TV_DESC_B)))
		return fault_with(d, VEC_GP, (selector & 0xfffc) | d->ext);
	if (!(desc[1] & TV_DESC_P))
		return fault_with(d, VEC_NP, (selector & 0xfffc) | d->ext);
	*new_cpl = desc[1] & TV_DESC_CONFORMING ? d->cpu->cpl : dpl;
	*cs = seg_from_descriptor((selector & 0xfffc) | *new_cpl, desc);
	return ATTEMPT_OK;
}

/* Pushes value (size bytes) below *sp on the stack at base: sp_mask keeps a 16-bit stack's
 * pointer in its 64 KiB. */
static enum attempt push(struct delivery *d, uint64_t base, uint64_t *sp, uint64_t sp_mask,
			 unsigned size, uint64_t value, unsigned cpl)
{
	uint64_t next = (*sp & ~sp_mask) | ((*sp - size) & sp_mask);
	unsigned acc = TV_ACC_WRITE | (cpl == 3 ? TV_ACC_USER : 0);
	enum attempt a = linear_copy(d, base + (next & sp_mask), &value, size, acc, VEC_SS);

	if (a == ATTEMPT_OK)
		*sp = next;
	return a;
}

/* Real mode: the IVT's 4-byte entries; FLAGS, CS and IP pushed; IF, TF, AC and RF cleared. */
static enum attempt deliver_real(struct delivery *d, const struct emu_event *ev)
{
	struct emu_cpu *c = d->cpu;
	struct emu_seg *ss = &c->seg[EMU_R_SS], *cs = &c->seg[EMU_R_CS];
	uint16_t entry[2];
	uint64_t sp = c->rsp;
	enum attempt a;

	if (ev->vector * 4 + 3 > c->idt_limit)
		return fault_with(d, VEC_GP, ev->vector * 8 + 2 + d->ext);
	a = read_system(d, c->idt_base + ev->vector * 4, entry, 4);
	if (!a)
		a = push(d, ss->base, &sp, 0xffff, 2, c->rflags & 0xffff, 0);
	if (!a)
		a = push(d, ss->base, &sp, 0xffff, 2, cs->selector, 0);
	if (!a)
		a = push(d, ss->base, &sp, 0xffff, 2, c->rip & 0xffff, 0);
	if (a)
		return a;
	c->rsp = sp;
	c->rip = entry[0];
	cs->selector = entry[1];
	cs->base = (uint64_t)entry[1] << 4;
	c->rflags &= ~(TV_RFLAGS_IF | TV_RFLAGS_TF | TV_RFLAGS_AC | TV_RFLAGS_RF);
	return ATTEMPT_OK;
}

/* The stack for privilege level cpl from the TSS: SS:ESP in a 32-bit TSS, SS:SP in a 16-bit
 * one, checked as the CPU checks the new SS (#TS, or #SS when it is not present). */
static enum attempt tss_stack_legacy(struct delivery *d, unsigned cpl, struct emu_seg *ss,
				     uint64_t *sp)
{
	const struct emu_cpu *c = d->cpu;
	bool tss32 = (c->tr_flags >> TV_DESC_TYPE_SHIFT) & 8;
	unsigned shift = tss32 ? 1 : 0;
	uint32_t at = (cpl * 4 + 2) << shift, words[2] = { 0, 0 }, desc[2], selector;
	enum attempt a;

	if (at + (4u << shift) - 1 > c->tr_limit)
		return fault_with(d, VEC_TS, (c->tr_selector & 0xfffc) | d->ext);
	if (tss32) {
		a = read_system(d, c->tr_base + at, &words[0], 4);
		if (!a)
			a = read_system(d, c->tr_base + at + 4, &words[1], 2);
	} else {
		a = read_system(d, c->tr_base + at, &words[0], 2);
		if (!a)
			a = read_system(d, c->tr_base + at + 2, &words[1], 2);
	}
	if (a)
		return a;
	*sp = words[0];
	selector = words[1] & 0xffff;
	if ((selector & 0xfffc) == 0)
		return fault_with(d, VEC_TS, d->ext);
	if ((selector & 3) != cpl)
		return fault_with(d, VEC_TS, (selector & 0xfffc) | d->ext);
	a = read_descriptor(d, selector, VEC_TS, desc);
	if (a)
		return a;
	if (desc_dpl(desc[1]) != cpl || !(desc[1] & TV_DESC_S) || (desc[1] & TV_DESC_CODE) ||
	    !(desc[1] & TV_DESC_RW))
		return fault_with(d, VEC_TS, (selector & 0xfffc) | d->ext);
	if (!(desc[1] & TV_DESC_P))
		return fault_with(d, VEC_SS, (selector & 0xfffc) | d->ext);
	*ss = seg_from_descriptor(selector, desc);
	return ATTEMPT_OK;
}

/* Reads the IDT's gate for ev (8 bytes, 16 in long mode) and applies the checks every mode
 * shares: limit, type, the DPL of a software interrupt's gate, present. */
static enum attempt read_gate(struct delivery *d, const struct emu_event *ev, uint32_t gate[4],
			      unsigned *type)
{
	const struct emu_cpu *c = d->cpu;
	unsigned size = long_mode(c) ? 16 : 8;
	uint32_t idt_error = ev->vector * 8 + 2 + d->ext;
	enum attempt a;

	if (ev->vector * size + size - 1 > c->idt_limit)
		return fault_with(d, VEC_GP, idt_error);
	a = read_system(d, c->idt_base + ev->vector * size, gate, size);
	if (a)
		return a;
	*type = (gate[1] >> TV_DESC_TYPE_SHIFT) & 0x1f; /* S is bit 4: a gate has it clear */
	if (long_mode(c) ? (*type != GATE_INT32 && *type != GATE_TRAP32)
			 : (*type != GATE_TASK && *type != GATE_INT16 && *type != GATE_TRAP16 &&
			    *type != GATE_INT32 && *type != GATE_TRAP32))
		return fault_with(d, VEC_GP, idt_error);
	if (ev->software && desc_dpl(gate[1]) < c->cpl)
		return fault_with(d, VEC_GP, ev->vector * 8 + 2);
	if (!(gate[1] & TV_DESC_P))
		return fault_with(d, VEC_NP, idt_error);
	if (*type == GATE_TASK)
		return unsupported(d, "vector %u's gate is a task gate, which the emulator does "
				      "not switch through", ev->vector);
	return ATTEMPT_OK;
}

/* Whether ev is a fault, which sets RF in the RFLAGS image pushed, so that IRET back to the
 * instruction does not stop at an instruction breakpoint on it again (SDM Vol. 3, 18.3.1.1).
 * Not #DB (its instruction-breakpoint faults are the exception to the rule, and its traps are
 * traps), the aborts (#DF, #MC), NMI or software interrupts. The CPU sets RF when the fault
 * happens, so a #DF while delivering it pushes RF too (seen on KVM). */
static bool fault_class(const struct emu_event *ev)
{
	return !ev->software && !ev->external && ev->vector < 32 && ev->vector != 1 &&
	       ev->vector != 2 && ev->vector != VEC_DF && ev->vector != 18;
}

static uint64_t pushed_flags(const struct delivery *d)
{
	return d->rf ? d->cpu->rflags | TV_RFLAGS_RF : d->cpu->rflags;
}

/* The gate for ev and the handler's code segment it names: every mode's first two steps. */
static enum attempt gate_and_handler(struct delivery *d, const struct emu_event *ev,
				     uint32_t gate[4], unsigned *type, struct emu_seg *cs,
				     unsigned *cpl)
{
	enum attempt a = read_gate(d, ev, gate, type);

	return a ? a : handler_cs(d, gate[0] >> 16, cs, cpl);
}

static void enter_handler(struct emu_cpu *c, const struct emu_seg *cs, unsigned cpl,
			  uint64_t rip, uint64_t rsp, unsigned type)
{
	c->seg[EMU_R_CS] = *cs;
	c->cpl = cpl;
	c->rip = rip;
	c->rsp = rsp;
	c->rflags &= ~(TV_RFLAGS_TF | TV_RFLAGS_NT | TV_RFLAGS_RF | TV_RFLAGS_VM);
	if (type == GATE_INT16 || type == GATE_INT32)
		c->rflags &= ~TV_RFLAGS_IF;
}

/* Protected mode (paging or not): 16- and 32-bit gates, a TSS stack for an inner level. */
static enum attempt deliver_legacy(struct delivery *d, const struct emu_event *ev)
{
	struct emu_cpu *c = d->cpu;
	uint32_t gate[4];
	unsigned type, cpl, size;
	struct emu_seg cs, ss = c->seg[EMU_R_SS];
	uint64_t sp = c->rsp, sp_mask, offset;
	bool inner;
	enum attempt a;

	if (c->rflags & TV_RFLAGS_VM)
		return unsupported(d, "vector %u arrived in virtual-8086 mode, which the "
				      "emulator does not deliver from", ev->vector);
	a = gate_and_handler(d, ev, gate, &type, &cs, &cpl);
	if (a)
		return a;
	offset = (gate[1] & 0xffff0000u) | (gate[0] & 0xffff);
	size = type == GATE_INT32 || type == GATE_TRAP32 ? 4 : 2;
	if (size == 2)
		offset &= 0xffff;
	inner = cpl < c->cpl;
	if (inner) {
		a = tss_stack_legacy(d, cpl, &ss, &sp);
		if (a)
			return a;
	}
	sp_mask = ss.flags & TV_DESC_B ? 0xffffffffull : 0xffffull;
	if (inner) {
		a = push(d, ss.base, &sp, sp_mask, size, c->seg[EMU_R_SS].selector, cpl);
		if (!a)
			a = push(d, ss.base, &sp, sp_mask, size, c->rsp, cpl);
	}
	if (!a)
		a = push(d, ss.base, &sp, sp_mask, size, pushed_flags(d), cpl);
	if (!a)
		a = push(d, ss.base, &sp, sp_mask, size, c->seg[EMU_R_CS].selector, cpl);
	if (!a)
		a = push(d, ss.base, &sp, sp_mask, size, c->rip, cpl);
	if (!a && !ev->software && !ev->external && emu_vector_has_error(ev->vector))
		a = push(d, ss.base, &sp, sp_mask, size, ev->error, cpl);
	if (a)
		return a;
	if (offset > cs.limit)
		return fault_with(d, VEC_GP, d->ext);
	if (inner)
		c->seg[EMU_R_SS] = ss;
	/* As the CPU leaves ESP: a 16-bit stack changes SP alone. */
	enter_handler(c, &cs, cpl, offset,
		      sp_mask == 0xffff ? (c->rsp & ~sp_mask) | (sp & sp_mask) : sp & sp_mask, type);
	return ATTEMPT_OK;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Long mode: 64-bit gates; SS:RSP always pushed; RSP from the TSS for an inner level or from
 * an IST slot, aligned to 16 either way. */
static enum attempt deliver_long(struct delivery *d, const struct emu_event *ev)
{
	struct emu_cpu *c = d->cpu;
	uint32_t gate[4];
	unsigned type, cpl, ist;
	struct emu_seg cs;
	uint64_t sp = c->rsp, offset;
	enum attempt a;

	a = gate_and_handler(d, ev, gate, &type, &cs, &cpl);
	if (a)
		return a;
	offset = (gate[1] & 0xffff0000u) | (gate[0] & 0xffff) | ((uint64_t)gate[2] << 32);
	ist = gate[1] & 7;
	if (ist || cpl < c->cpl) {
		uint32_t at = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * cpl;

		if (at + 7 > c->tr_limit)
			return fault_with(d, VEC_TS, (c->tr_selector & 0xfffc) | d->ext);
		a = read_system(d, c->tr_base + at, &sp, 8);
		if (a)
			return a;
	}
	sp &= ~0xfull;
	if (!canonical(sp))
		return fault_with(d, VEC_SS, d->ext);
	a = push(d, 0, &sp, UINT64_MAX, 8, c->seg[EMU_R_SS].selector, cpl);
	if (!a)
		a = push(d, 0, &sp, UINT64_MAX, 8, c->rsp, cpl);
	if (!a)
		a = push(d, 0, &sp, UINT64_MAX, 8, pushed_flags(d), cpl);
	if (!a)
		a = push(d, 0, &sp, UINT64_MAX, 8, c->seg[EMU_R_CS].selector, cpl);
	if (!a)
		a = push(d, 0, &sp, UINT64_MAX, 8, c->rip, cpl);
	if (!a && !ev->software && !ev->external && emu_vector_has_error(ev->vector))
		a = push(d, 0, &sp, UINT64_MAX, 8, ev->error, cpl);
	if (a)
		return a;
	if (!canonical(offset))
		return fault_with(d, VEC_GP, d->ext);
	if (cpl < c->cpl) /* the new SS is a null selector whose RPL is the new CPL */
		c->seg[EMU_R_SS] = (struct emu_seg){ .selector = cpl,
						    .flags = cpl << TV_DESC_DPL_SHIFT };
	enter_handler(c, &cs, cpl, offset, sp, type);
	return ATTEMPT_OK;
}

/* The SDM's classes for a fault while delivering (Vol. 3, table 6-5). */
static bool contributory(unsigned vector)
{
	return vector == VEC_DE || (vector >= VEC_TS && vector <= VEC_GP);
}

/* What a fault while delivering `first` turns into: #DF, or itself. */
static unsigned combine(const struct emu_event *first, unsigned second)
{
	if (first->software || first->external)
		return second;
	if (contributory(first->vector) && contributory(second))
		return VEC_DF;
	if (first->vector == VEC_PF && (second == VEC_PF || contributory(second)))
		return VEC_DF;
	return second;
}

/* Appends " then #GP(0x6b)" (or the first event's name) to why, the chain a triple fault ends. */
static void chain_add(char *why, size_t why_len, const struct emu_event *ev, bool first)
{
	size_t used = strlen(why);

	if (used + 1 >= why_len)
		return;
	if (ev->software)
		snprintf(why + used, why_len - used, "%sINT 0x%x", first ? "" : " then ", ev->vector);
	else if (ev->external)
		snprintf(why + used, why_len - used, "%sinterrupt 0x%x", first ? "" : " then ",
			 ev->vector);
	else if (emu_vector_has_error(ev->vector))
		snprintf(why + used, why_len - used, "%s%s(0x%x)", first ? "" : " then ",
			 emu_vector_name(ev->vector), ev->error);
	else
		snprintf(why + used, why_len - used, "%s%s", first ? "" : " then ",
			 emu_vector_name(ev->vector));
}

enum emu_deliver_end emu_deliver(const struct tv_ram *ram, unsigned maxphyaddr,
				 struct emu_cpu *cpu, const struct emu_event *ev, char *why,
				 size_t why_len)
{
	struct emu_event cur = *ev;
	struct delivery d = { .ram = ram, .maxphyaddr = maxphyaddr, .why = why,
			      .why_len = why_len };
	char chain[120] = "";

	d.paging.cr0 = cpu->cr0;
	d.paging.cr3 = cpu->cr3;
	d.paging.cr4 = cpu->cr4;
	d.paging.efer = cpu->efer;
	why[0] = '\0';
	chain_add(chain, sizeof(chain), ev, true);
	/* Four attempts at most: a software interrupt, the fault delivering it (faults while
	 * delivering are contributory or #PF), #DF, and a fault there is a triple fault. */
	for (int tries = 0; tries < 4; tries++) {
		struct emu_cpu saved = *cpu;
		enum attempt a;

		d.cpu = cpu;
		d.ext = cur.software ? 0 : 1;
		d.rf = d.rf || fault_class(&cur);
		if (!(cpu->cr0 & TV_CR0_PE))
			a = deliver_real(&d, &cur);
		else if (long_mode(cpu))
			a = deliver_long(&d, &cur);
		else
			a = deliver_legacy(&d, &cur);
		if (a == ATTEMPT_OK)
			return EMU_DELIVERED;
		if (a == ATTEMPT_UNSUPPORTED)
			return EMU_DELIVER_UNSUPPORTED;
		*cpu = saved;
		chain_add(chain, sizeof(chain), &d.fault, false);
		if (cur.vector == VEC_DF && !cur.software)
			break;
		if (cur.software)
			cpu->rip = cur.insn_rip; /* the fault is the instruction's own */
		if (d.fault_cr2)
			cpu->cr2 = d.fault_la;
		d.fault.vector = combine(&cur, d.fault.vector);
		if (d.fault.vector == VEC_DF) {
			d.fault.error = 0;
			chain_add(chain, sizeof(chain), &d.fault, false);
		}
		d.fault.insn_rip = cpu->rip;
		cur = d.fault;
	}
	snprintf(why, why_len, "triple fault: %s", chain);
	return EMU_TRIPLE_FAULT;
}
