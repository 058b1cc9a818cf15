/* The Unicorn backend's registers: get_regs, set_regs, get_sregs and set_sregs on the vCPU's
 * uc instance, and the address a run begins at.
 *
 * The uc mode the instance was opened with (see the top of emu.c) decides how wide Unicorn sees
 * the registers: outside UC_MODE_64 the general registers are read and written as their 32-bit
 * names, and R8-R15, which neither Unicorn nor 32-bit code can reach there, are kept in the vCPU.
 *
 * Unicorn takes a segment register as a selector and loads the rest itself (from the GDT in
 * protected mode, as selector * 16 in real mode), and cannot report a segment's base, limit or
 * flags. So set_sregs refuses states Unicorn would load differently from what sregs says, picks
 * the uc mode the state needs (reopening the instance when it changes, with emu.c's
 * emu_uc_create and emu_hooks_install), and keeps what it wrote; get_sregs answers from that,
 * rebuilding only the segments the guest has loaded since. */
#include "emu.h"
#include "emu_desc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define EMU_MSR_EFER 0xc0000080u
#define EMU_CR4_PAE (1ull << 5)

/* -------------------------------------------------------------------------------------------
 * Registers */

static int emu_reg_write(struct tv_vcpu *v, int id, uint64_t value)
{
	/* Unicorn reads as many bytes as the register has in the instance's mode: the low ones of
	 * a little-endian uint64_t, whatever the width. */
	uc_err err = uc_reg_write(v->vm->uc, id, &value);

	EMU_LOG(v->log, "uc_reg_write(%s, 0x%" PRIx64 ") = %s", emu_reg_name(id), value,
		emu_err_name(err));
	if (err) {
		tv_set_error("uc_reg_write(%s, 0x%" PRIx64 "): %s", emu_reg_name(id), value,
			     uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

static int emu_mmr_write(struct tv_vcpu *v, int id, const uc_x86_mmr *m)
{
	uc_err err = uc_reg_write(v->vm->uc, id, m);

	EMU_LOG(v->log,
		"uc_reg_write(%s, {selector 0x%x, base 0x%" PRIx64 ", limit 0x%x, flags 0x%x}) = %s",
		emu_reg_name(id), m->selector, m->base, m->limit, m->flags, emu_err_name(err));
	if (err) {
		tv_set_error("uc_reg_write(%s): %s", emu_reg_name(id), uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

static int emu_mmr_read(struct tv_vcpu *v, int id, uc_x86_mmr *m)
{
	uc_err err;

	memset(m, 0, sizeof(*m));
	err = uc_reg_read(v->vm->uc, id, m);
	EMU_LOG(v->log,
		"uc_reg_read(%s) = %s: {selector 0x%x, base 0x%" PRIx64 ", limit 0x%x, flags 0x%x}",
		emu_reg_name(id), emu_err_name(err), m->selector, m->base, m->limit, m->flags);
	if (err) {
		tv_set_error("uc_reg_read(%s): %s", emu_reg_name(id), uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

static int emu_msr_access(struct tv_vcpu *v, bool write, uint32_t rid, uint64_t *value)
{
	uc_x86_msr msr = { .rid = rid, .value = write ? *value : 0 };
	uc_err err = write ? uc_reg_write(v->vm->uc, UC_X86_REG_MSR, &msr)
			   : uc_reg_read(v->vm->uc, UC_X86_REG_MSR, &msr);

	EMU_LOG(v->log, "%s(UC_X86_REG_MSR, {rid 0x%x, value 0x%" PRIx64 "}) = %s",
		write ? "uc_reg_write" : "uc_reg_read", rid, msr.value, emu_err_name(err));
	if (err) {
		tv_set_error("%s(UC_X86_REG_MSR 0x%x): %s", write ? "uc_reg_write" : "uc_reg_read",
			     rid, uc_strerror(err));
		return emu_errno(err);
	}
	*value = msr.value;
	return 0;
}

/* Reads n registers into vals, each zero-extended to 64 bits. */
static int emu_read_batch(struct tv_vcpu *v, const int *ids, uint64_t *vals, int n)
{
	void *ptrs[32];
	uc_err err;

	for (int i = 0; i < n; i++) {
		vals[i] = 0;
		ptrs[i] = &vals[i];
	}
	err = uc_reg_read_batch(v->vm->uc, (int *)ids, ptrs, n);
	if (v->log)
		emu_log_regs(v->log, "uc_reg_read_batch", ids, vals, n, err);
	if (err)
		return emu_fail("uc_reg_read_batch", err);
	return 0;
}

static int emu_write_batch(struct tv_vcpu *v, const int *ids, const uint64_t *vals, int n)
{
	void *ptrs[32];
	uc_err err;

	for (int i = 0; i < n; i++)
		ptrs[i] = (void *)&vals[i];
	err = uc_reg_write_batch(v->vm->uc, (int *)ids, ptrs, n);
	if (v->log)
		emu_log_regs(v->log, "uc_reg_write_batch", ids, vals, n, err);
	if (err)
		return emu_fail("uc_reg_write_batch", err);
	return 0;
}

/* struct tv_regs in the order of emu_gpr64; emu_gpr32 is the same without R8-R15. */
static const int emu_gpr64[18] = {
	UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI,
	UC_X86_REG_RDI, UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_R8,	UC_X86_REG_R9,
	UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
	UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
};
static const int emu_gpr32[10] = {
	UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_ESI,
	UC_X86_REG_EDI, UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_EIP, UC_X86_REG_EFLAGS,
};

static void emu_regs_to_array(const struct tv_regs *r, uint64_t a[18])
{
	const uint64_t src[18] = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi,
				   r->rsp, r->rbp, r->r8,  r->r9,  r->r10, r->r11,
				   r->r12, r->r13, r->r14, r->r15, r->rip, r->rflags };

	memcpy(a, src, sizeof(src));
}

static void emu_regs_from_array(struct tv_regs *r, const uint64_t a[18])
{
	*r = (struct tv_regs){
		.rax = a[0], .rbx = a[1], .rcx = a[2], .rdx = a[3], .rsi = a[4], .rdi = a[5],
		.rsp = a[6], .rbp = a[7], .r8 = a[8], .r9 = a[9], .r10 = a[10], .r11 = a[11],
		.r12 = a[12], .r13 = a[13], .r14 = a[14], .r15 = a[15], .rip = a[16],
		.rflags = a[17],
	};
}

int emu_get_regs(struct tv_vcpu *v, struct tv_regs *r)
{
	uint64_t a[18], b[10];
	int rc;

	if (emu_instance_lost(v->vm))
		return -EIO;
	if (v->vm->mode == UC_MODE_64) {
		rc = emu_read_batch(v, emu_gpr64, a, 18);
		if (rc)
			return rc;
	} else {
		rc = emu_read_batch(v, emu_gpr32, b, 10);
		if (rc)
			return rc;
		memcpy(a, b, 8 * sizeof(b[0]));
		memcpy(a + 8, v->high_regs, sizeof(v->high_regs));
		a[16] = b[8];
		a[17] = b[9];
	}
	emu_regs_from_array(r, a);
	return 0;
}

int emu_set_regs(struct tv_vcpu *v, const struct tv_regs *r)
{
	uint64_t a[18], b[10];

	if (emu_instance_lost(v->vm))
		return -EIO;
	emu_regs_to_array(r, a);
	if (v->vm->mode == UC_MODE_64)
		return emu_write_batch(v, emu_gpr64, a, 18);
	memcpy(b, a, 8 * sizeof(b[0]));
	b[8] = a[16];
	b[9] = a[17];
	memcpy(v->high_regs, a + 8, sizeof(v->high_regs));
	return emu_write_batch(v, emu_gpr32, b, 10);
}

/* The linear address uc_emu_start takes as "begin": it writes begin - CS.selector * 16 to IP in
 * UC_MODE_16, begin to EIP or RIP otherwise. */
int emu_begin_address(struct tv_vcpu *v, uint64_t *begin)
{
	static const int rip[1] = { UC_X86_REG_RIP };
	static const int eip_cs[2] = { UC_X86_REG_EIP, UC_X86_REG_CS };
	uint64_t vals[2];
	int rc;

	if (v->vm->mode == UC_MODE_64) {
		rc = emu_read_batch(v, rip, vals, 1);
		*begin = vals[0];
		return rc;
	}
	rc = emu_read_batch(v, eip_cs, vals, 2);
	*begin = vals[0] + (v->vm->mode == UC_MODE_16 ? (vals[1] & 0xffff) * 16 : 0);
	return rc;
}

/* -------------------------------------------------------------------------------------------
 * Special registers */

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
	bool pe = s->cr0 & EMU_CR0_PE, pg = s->cr0 & EMU_CR0_PG;

	if (pg && !pe) {
		tv_set_error("set_sregs: CR0 0x%" PRIx64 " has PG without PE", s->cr0);
		return -EINVAL;
	}
	if (pg && (s->efer & EMU_EFER_LME)) {
		if (!(s->cr4 & EMU_CR4_PAE)) {
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


/* Replaces the uc instance with one opened in mode, over the same RAM, with the same hooks.
 * - fresh (set_sregs changing the mode): a new CPU, with the general registers carried over
 *   through get_regs and set_regs; set_sregs writes the rest. (A context would carry the old
 *   mode's hidden flags into the new instance: 64-bit code would not decode as 64-bit.)
 * - otherwise (the guest changed modes itself, emu_mode_follow): the whole CPU state moves,
 *   as Unicorn's context (every register, segment caches, control registers, MSRs, FPU and SSE
 *   state). A context outlives the instance it came from.
 * The old instance is closed before the new one opens: Unicorn 2.1.1 keeps about 512 KiB per
 * VM for good when two instances overlap (measured: 300 long-mode VMs grew the heap from 9 MiB
 * to 163 MiB in some runs; closing first, 10.6 MiB in every run).
 *
 * R8-R15: a UC_MODE_16/32 instance cannot reach them, so set_regs keeps the caller's values in
 * the vCPU (high_regs), and high_env remembers what the context holds for them; when the guest
 * itself enters long mode, emu_high_regs_merge takes each from the guest if it changed it, else
 * from the caller. */
int emu_reopen(struct tv_vcpu *v, int mode, bool fresh);

/* See emu_reopen: after a UC_MODE_16/32 instance's guest entered long mode, R8-R15 are the
 * guest's where it changed the context's copy (high_env), and the caller's (high_regs) where it
 * did not. */
static int emu_high_regs_merge(struct tv_vcpu *v)
{
	static const int ids[8] = { UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
				    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15 };
	uint64_t vals[8];
	int rc = emu_read_batch(v, ids, vals, 8);

	for (int i = 0; !rc && i < 8; i++)
		if (vals[i] == v->high_env[i] && vals[i] != v->high_regs[i])
			rc = emu_reg_write(v, ids[i], v->high_regs[i]);
	return rc;
}

int emu_reopen(struct tv_vcpu *v, int mode, bool fresh)
{
	struct tv_vm *vm = v->vm;
	uc_context *ctx = NULL;
	int old_mode = vm->mode;
	struct tv_regs r;
	uc_err err;
	int rc;

	rc = emu_get_regs(v, &r);
	if (rc)
		return rc;
	if (!fresh) {
		err = uc_context_alloc(vm->uc, &ctx);
		if (!err)
			err = uc_context_save(vm->uc, ctx);
		EMU_LOG(v->log, "uc_context_alloc + uc_context_save(%p) = %s", (void *)vm->uc,
			emu_err_name(err));
		if (err) {
			if (ctx)
				uc_context_free(ctx);
			return emu_fail("uc_context_save", err);
		}
	}
	err = uc_close(vm->uc);
	EMU_LOG(v->log, "uc_close(%p) = %s (replaced: the guest's mode needs %s)", (void *)vm->uc,
		emu_err_name(err), emu_mode_name(mode));
	v->hook_in = v->hook_out = v->hook_intr = v->hook_code = v->hook_block = 0;
	rc = emu_uc_create(vm, mode, &vm->uc);
	if (rc) {
		/* Out of memory, most likely. The VM is lost, and every later call says so. */
		vm->uc = NULL;
		if (ctx)
			uc_context_free(ctx);
		return rc;
	}
	vm->mode = mode;
	if (ctx) {
		err = uc_context_restore(vm->uc, ctx);
		EMU_LOG(v->log, "uc_context_restore(%p) = %s", (void *)vm->uc, emu_err_name(err));
		uc_context_free(ctx);
		if (err)
			return emu_fail("uc_context_restore", err);
	} else {
		memset(v->high_env, 0, sizeof(v->high_env)); /* a new CPU's registers are zero */
	}
	rc = emu_hooks_install(v);
	if (rc)
		return rc;
	if (fresh)
		return emu_set_regs(v, &r);
	return mode == UC_MODE_64 && old_mode != UC_MODE_64 ? emu_high_regs_merge(v) : 0;
}

int emu_instance_lost(const struct tv_vm *vm)
{
	if (vm && vm->uc)
		return 0;
	tv_set_error("the emulator's VM has no uc instance left: a mode change could not open one");
	return -EIO;
}

/* After a run: a guest that switched modes itself may have left the instance's mode behind.
 * UC_MODE_16 starts a run at CS * 16 + a 16-bit IP, which cannot reach protected-mode code
 * above 64 KiB; UC_MODE_32 reads and writes only the low halves of 64-bit registers. Both move
 * up, the way the guest went. (UC_MODE_32 runs real-mode code and UC_MODE_64 compatibility-mode
 * and legacy code correctly, so the other directions keep the instance.) */
int emu_mode_follow(struct tv_vcpu *v)
{
	static const int cr0_id[1] = { UC_X86_REG_CR0 };
	uint64_t cr0, efer;
	int rc, want;

	if (v->vm->mode == UC_MODE_64)
		return 0;
	rc = emu_read_batch(v, cr0_id, &cr0, 1);
	if (rc || !(cr0 & EMU_CR0_PE))
		return rc;
	want = UC_MODE_32;
	if (cr0 & EMU_CR0_PG) {
		rc = emu_msr_access(v, false, EMU_MSR_EFER, &efer);
		if (rc)
			return rc;
		if (efer & EMU_EFER_LMA)
			want = UC_MODE_64;
	}
	if (want == v->vm->mode)
		return 0;
	return emu_reopen(v, want, false);
}

int emu_set_sregs(struct tv_vcpu *v, const struct tv_sregs *s)
{
	/* CR2 first: Unicorn 2.1.1 writes CR2's value to CR3 as well. */
	static const int crs[] = { UC_X86_REG_CR2, UC_X86_REG_CR4, UC_X86_REG_CR3,
				   UC_X86_REG_CR0 };
	const uint64_t cr_vals[] = { s->cr2, s->cr4, s->cr3, s->cr0 };
	struct tv_sregs copy = *s;
	struct tv_segment *segs[EMU_NSEGS];
	uc_x86_mmr mmr;
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
	if (!rc && mode != v->vm->mode)
		rc = emu_reopen(v, mode, true);
	if (rc)
		return rc;

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
		rc = emu_reg_write(v, UC_X86_REG_CR0, s->cr0 & ~EMU_CR0_PG);
		if (rc)
			return rc;
	}
	emu_segs_of(&copy, segs);
	for (int i = 0; i < EMU_NSEGS; i++) {
		rc = emu_reg_write(v, emu_seg_regs[i], segs[i]->selector);
		if (rc)
			return rc;
	}

	/* EFER before CR0, so that CR0.PG with EFER.LME turns on EFER.LMA (which a write to
	 * EFER itself cannot). CR4.PAE before CR0 for the same reason. */
	efer = s->efer;
	rc = emu_msr_access(v, true, EMU_MSR_EFER, &efer);
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
	rc = emu_mmr_write(v, UC_X86_REG_TR, &mmr);
	if (rc)
		return rc;

	if (mode == UC_MODE_64) {
		rc = emu_msr_access(v, false, EMU_MSR_EFER, &efer);
		if (rc)
			return rc;
		if (!(efer & EMU_EFER_LMA)) {
			tv_set_error("set_sregs: Unicorn did not enter long mode (EFER 0x%" PRIx64
				     " after CR0 0x%" PRIx64 ", CR4 0x%" PRIx64 ")",
				     efer, s->cr0, s->cr4);
			return -EINVAL;
		}
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

	if (emu_instance_lost(v->vm))
		return -EIO;
	if (v->shadow_valid)
		*s = v->shadow;
	else
		memset(s, 0, sizeof(*s));

	/* The first ten exist in every mode, the two bases only in UC_MODE_64. */
	rc = emu_read_batch(v, ids, vals, is64 ? 12 : 10);
	if (!rc)
		rc = emu_msr_access(v, false, EMU_MSR_EFER, &s->efer);
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
