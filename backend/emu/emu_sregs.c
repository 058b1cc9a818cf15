/* The Unicorn backend's special registers: get_sregs and set_sregs.
 *
 * Unicorn takes a segment register as a selector and loads the rest itself (from the GDT in
 * protected mode, as selector * 16 in real mode), and cannot report a segment's base, limit or
 * flags. So set_sregs refuses states Unicorn would load differently from what sregs says, picks
 * the uc mode the state needs (opening or replacing the instance, emu_instance.c), and keeps what
 * it wrote; get_sregs answers from that, rebuilding only the segments the guest has loaded
 * since. */
#include "emu.h"
#include "emu_desc.h"
#include "x86.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const int emu_seg_regs[EMU_NSEGS] = {
	UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS, UC_X86_REG_GS,
};

static void emu_seg_from_mmr(const uc_x86_mmr *m, struct tv_segment *s)
{
	uint64_t high = (uint64_t)m->flags << 32;

	/* Decode the flags as a descriptor's high word, then take base and limit as they are. */
	emu_desc_decode(high, m->selector, s);
	s->base = m->base;
	s->limit = m->limit;
}

/* Unicorn takes a selector and loads the rest itself (from the GDT in protected mode, as
 * selector * 16 in real mode), where KVM takes the whole segment from sregs. Refuse sregs that
 * Unicorn would turn into something else, so the two engines cannot silently disagree. */
static int emu_sregs_check(const struct tv_vm *vm, const struct tv_sregs *s, int mode)
{
	struct tv_sregs copy = *s;
	struct tv_segment *segs[EMU_NSEGS];

	emu_segs_of(&copy, segs);
	for (int i = 0; i < EMU_NSEGS; i++) {
		const struct tv_segment *want = segs[i];
		const char *name = emu_seg_names[i];
		struct tv_segment got = { 0 };
		uint64_t desc, where;
		int rc;

		if (mode == UC_MODE_16) {
			if (want->base != (uint64_t)want->selector * 16) {
				tv_set_error("set_sregs: real-mode %s has base 0x%" PRIx64
					     " and selector 0x%x; the emulator derives real-mode "
					     "bases from selectors (base = selector * 16)",
					     name, want->base, want->selector);
				return -EINVAL;
			}
			continue;
		}
		/* A null selector loads an unusable segment; UC_MODE_64 loads only FS and GS. */
		if ((want->selector & ~3u) == 0 || (mode == UC_MODE_64 && i < 4))
			continue;
		rc = emu_gdt_read(vm->ram, vm->ram_size, s, name, want->selector, &desc, &where);
		if (rc)
			return rc;
		if (mode == UC_MODE_64)
			continue; /* FS and GS bases come from sregs, through FS_BASE and GS_BASE */
		emu_desc_decode(desc, want->selector, &got);
		/* The accessed bit is left out: the CPU sets it in the GDT when it loads one. */
		if (got.base != want->base || got.limit != want->limit ||
		    (got.type | 1) != (want->type | 1) || got.s != want->s || got.dpl != want->dpl ||
		    got.present != want->present || got.db != want->db || got.l != want->l ||
		    got.g != want->g) {
			tv_set_error("set_sregs: %s (selector 0x%x) is base 0x%" PRIx64
				     " limit 0x%x type 0x%x db %u in sregs, but its GDT descriptor at "
				     "0x%" PRIx64 " says base 0x%" PRIx64 " limit 0x%x type 0x%x db %u; "
				     "the emulator loads segments from the GDT, so the two must agree",
				     name, want->selector, want->base, want->limit, want->type, want->db,
				     where, got.base, got.limit, got.type, got.db);
			return -EINVAL;
		}
	}
	return 0;
}

/* The uc mode a state needs (see the comment at the top of emu.c). */
static int emu_mode_for(const struct tv_sregs *s, int *mode)
{
	bool pe = s->cr0 & TV_CR0_PE, pg = s->cr0 & TV_CR0_PG;

	if (pg && !pe) {
		tv_set_error("set_sregs: CR0 0x%" PRIx64 " has PG without PE", s->cr0);
		return -EINVAL;
	}
	if (pg && (s->efer & TV_EFER_LME)) {
		if (!(s->cr4 & TV_CR4_PAE)) {
			tv_set_error("set_sregs: long mode (EFER.LME with CR0.PG) needs CR4.PAE "
				     "(CR4 0x%" PRIx64 ")", s->cr4);
			return -EINVAL;
		}
		if (!s->cs.l) {
			tv_set_error("set_sregs: compatibility mode (long mode with a CS without L) "
				     "is not supported by the emulator backend");
			return -EINVAL;
		}
		*mode = UC_MODE_64;
	} else {
		*mode = pe ? UC_MODE_32 : UC_MODE_16;
	}
	return 0;
}

/* The descriptor tables, then the selectors (Unicorn loads each segment from the GDT). */
static int emu_segments_load(struct tv_vcpu *v, const struct tv_sregs *s, int mode)
{
	struct tv_sregs copy = *s;
	struct tv_segment *segs[EMU_NSEGS];
	uc_x86_mmr mmr;
	int rc;

	/* Descriptor tables first: loading a selector reads the GDT. */
	mmr = (uc_x86_mmr){ .base = s->gdt.base, .limit = s->gdt.limit };
	rc = emu_mmr_write(v, UC_X86_REG_GDTR, &mmr);
	if (rc)
		return rc;
	mmr = (uc_x86_mmr){ .base = s->idt.base, .limit = s->idt.limit };
	rc = emu_mmr_write(v, UC_X86_REG_IDTR, &mmr);
	if (rc)
		return rc;

	/* Then the selectors. Unicorn reads descriptors through the guest's MMU, so in
	 * UC_MODE_16/32 they are loaded with CR0.PE as wanted but paging off, where the GDT's base
	 * is the physical address emu_sregs_check looked at. In UC_MODE_64 clearing CR0.PG would
	 * leave long mode for good (the CS selector cannot bring 64-bit code back): there only FS
	 * and GS read the GDT, before the CR0 write of a fresh instance turns paging on. */
	if (mode != UC_MODE_64) {
		rc = emu_reg_write(v, UC_X86_REG_CR0, s->cr0 & ~TV_CR0_PG);
		if (rc)
			return rc;
	}
	emu_segs_of(&copy, segs);
	for (int i = 0; i < EMU_NSEGS; i++) {
		rc = emu_reg_write(v, emu_seg_regs[i], segs[i]->selector);
		if (rc)
			return rc;
	}
	return 0;
}

/* EFER and the control registers, the 64-bit FS and GS bases, LDTR and TR. */
static int emu_controls_load(struct tv_vcpu *v, const struct tv_sregs *s, int mode)
{
	/* CR2 first: Unicorn 2.1.1 writes CR2's value to CR3 as well. */
	static const int crs[] = { UC_X86_REG_CR2, UC_X86_REG_CR4, UC_X86_REG_CR3,
				   UC_X86_REG_CR0 };
	const uint64_t cr_vals[] = { s->cr2, s->cr4, s->cr3, s->cr0 };
	uint64_t efer = s->efer;
	uc_x86_mmr mmr;
	int rc;

	/* EFER before CR0, so that CR0.PG with EFER.LME turns on EFER.LMA (which a write to
	 * EFER itself cannot). CR4.PAE before CR0 for the same reason. */
	rc = emu_msr_access(v, true, TV_MSR_EFER, &efer);
	for (size_t i = 0; !rc && i < sizeof(crs) / sizeof(crs[0]); i++)
		rc = emu_reg_write(v, crs[i], cr_vals[i]);
	if (!rc && mode == UC_MODE_64)
		rc = emu_reg_write(v, UC_X86_REG_FS_BASE, s->fs.base);
	if (!rc && mode == UC_MODE_64)
		rc = emu_reg_write(v, UC_X86_REG_GS_BASE, s->gs.base);
	if (rc)
		return rc;

	mmr = (uc_x86_mmr){ .selector = s->ldt.selector, .base = s->ldt.base,
			    .limit = s->ldt.limit, .flags = emu_seg_flags(&s->ldt) };
	rc = emu_mmr_write(v, UC_X86_REG_LDTR, &mmr);
	if (rc)
		return rc;
	mmr = (uc_x86_mmr){ .selector = s->tr.selector, .base = s->tr.base, .limit = s->tr.limit,
			    .flags = emu_seg_flags(&s->tr) };
	return emu_mmr_write(v, UC_X86_REG_TR, &mmr);
}

int emu_set_sregs(struct tv_vcpu *v, const struct tv_sregs *s)
{
	uint64_t efer;
	int mode, rc;

	if (emu_instance_lost(v->vm))
		return -EIO;
	/* Unicorn has no local APIC, hence no TPR; 2.1 has no CR8 register either. */
	if (s->cr8) {
		tv_set_error("set_sregs: CR8 0x%" PRIx64 ": the emulator has no task-priority "
			     "register", s->cr8);
		return -EINVAL;
	}
	rc = emu_mode_for(s, &mode);
	if (!rc)
		rc = emu_sregs_check(v->vm, s, mode);
	/* The VM's first state opens its instance, in the mode it needs: the only uc_open. */
	if (!rc && (!v->vm->uc || mode != v->vm->mode))
		rc = emu_reopen(v, mode, true);
	if (!rc)
		rc = emu_segments_load(v, s, mode);
	if (!rc)
		rc = emu_controls_load(v, s, mode);
	if (!rc && mode == UC_MODE_64)
		rc = emu_msr_access(v, false, TV_MSR_EFER, &efer);
	if (rc)
		return rc;
	if (mode == UC_MODE_64 && !(efer & TV_EFER_LMA)) {
		tv_set_error("set_sregs: Unicorn did not enter long mode (EFER 0x%" PRIx64
			     " after CR0 0x%" PRIx64 ", CR4 0x%" PRIx64 ")", efer, s->cr0, s->cr4);
		return -EINVAL;
	}
	v->shadow = *s;
	v->shadow_valid = true;
	return 0;
}

int emu_get_sregs(struct tv_vcpu *v, struct tv_sregs *s)
{
	static const int ids[] = { UC_X86_REG_CR0, UC_X86_REG_CR2,     UC_X86_REG_CR3,
				   UC_X86_REG_CR4, UC_X86_REG_CS,      UC_X86_REG_SS,
				   UC_X86_REG_DS,  UC_X86_REG_ES,      UC_X86_REG_FS,
				   UC_X86_REG_GS,  UC_X86_REG_FS_BASE, UC_X86_REG_GS_BASE };
	const bool is64 = v->vm->mode == UC_MODE_64;
	uint64_t vals[12];
	struct tv_segment *segs[EMU_NSEGS], *old[EMU_NSEGS];
	uc_x86_mmr mmr;
	int rc;

	rc = emu_instance_need(v);
	if (rc)
		return rc;
	if (v->shadow_valid)
		*s = v->shadow;
	else
		memset(s, 0, sizeof(*s));

	/* The first ten exist in every mode, the two bases only in UC_MODE_64. */
	rc = emu_read_batch(v, ids, vals, is64 ? 12 : 10);
	if (!rc)
		rc = emu_msr_access(v, false, TV_MSR_EFER, &s->efer);
	if (rc)
		return rc;
	s->cr0 = vals[0];
	s->cr2 = vals[1];
	s->cr3 = vals[2];
	s->cr4 = vals[3];
	s->cr8 = 0;

	rc = emu_mmr_read(v, UC_X86_REG_GDTR, &mmr);
	if (rc)
		return rc;
	s->gdt.base = mmr.base;
	s->gdt.limit = (uint16_t)mmr.limit;
	rc = emu_mmr_read(v, UC_X86_REG_IDTR, &mmr);
	if (rc)
		return rc;
	s->idt.base = mmr.base;
	s->idt.limit = (uint16_t)mmr.limit;
	rc = emu_mmr_read(v, UC_X86_REG_LDTR, &mmr);
	if (rc)
		return rc;
	emu_seg_from_mmr(&mmr, &s->ldt);
	rc = emu_mmr_read(v, UC_X86_REG_TR, &mmr);
	if (rc)
		return rc;
	emu_seg_from_mmr(&mmr, &s->tr);

	emu_segs_of(s, segs);
	emu_segs_of(&v->shadow, old);
	for (int i = 0; i < EMU_NSEGS; i++) {
		uint16_t selector = (uint16_t)vals[4 + i];

		if (!v->shadow_valid || old[i]->selector != selector)
			/* Rebuilt the way the CPU loaded it: from the selector in real
			 * mode, from the GDT as it is now otherwise. */
			emu_seg_rebuild(v->vm->ram, v->vm->ram_size, s, i, selector, segs[i]);
	}
	if (is64) {
		s->fs.base = vals[10];
		s->gs.base = vals[11];
	}
	return 0;
}
