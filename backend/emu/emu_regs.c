/* The Unicorn backend's general registers: get_regs and set_regs on the vCPU's uc instance (or,
 * before the VM has one, on the values the instance will open with), the accessors the special
 * registers use, and the address a run begins at.
 *
 * The uc mode the instance was opened with (see the top of emu.c) decides how wide Unicorn sees
 * the registers: outside UC_MODE_64 the general registers are read and written as their 32-bit
 * names, and R8-R15, which neither Unicorn nor 32-bit code can reach there, are kept in the
 * vCPU. */
#include "emu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

int emu_reg_write(struct tv_vcpu *v, int id, uint64_t value)
{
	/* Unicorn reads as many bytes as the register has in the instance's mode: the low ones of
	 * a little-endian uint64_t, whatever the width. */
	uc_err err = uc_reg_write(v->vm->uc, id, &value);

	EMU_LOG_VCPU(v, "uc_reg_write(%s, 0x%" PRIx64 ") = %s", emu_reg_name(id), value,
		     emu_err_name(err));
	if (err) {
		tv_set_error("uc_reg_write(%s, 0x%" PRIx64 "): %s", emu_reg_name(id), value,
			     uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

int emu_mmr_write(struct tv_vcpu *v, int id, const uc_x86_mmr *m)
{
	uc_err err = uc_reg_write(v->vm->uc, id, m);

	EMU_LOG_VCPU(v, "uc_reg_write(%s, {selector 0x%x, base 0x%" PRIx64
		     ", limit 0x%x, flags 0x%x}) = %s", emu_reg_name(id), m->selector, m->base,
		     m->limit, m->flags, emu_err_name(err));
	if (err) {
		tv_set_error("uc_reg_write(%s): %s", emu_reg_name(id), uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

int emu_mmr_read(struct tv_vcpu *v, int id, uc_x86_mmr *m)
{
	uc_err err;

	memset(m, 0, sizeof(*m));
	err = uc_reg_read(v->vm->uc, id, m);
	EMU_LOG_VCPU(v, "uc_reg_read(%s) = %s: {selector 0x%x, base 0x%" PRIx64
		     ", limit 0x%x, flags 0x%x}", emu_reg_name(id), emu_err_name(err), m->selector,
		     m->base, m->limit, m->flags);
	if (err) {
		tv_set_error("uc_reg_read(%s): %s", emu_reg_name(id), uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

int emu_msr_access(struct tv_vcpu *v, bool write, uint32_t rid, uint64_t *value)
{
	uc_x86_msr msr = { .rid = rid, .value = write ? *value : 0 };
	uc_err err = write ? uc_reg_write(v->vm->uc, UC_X86_REG_MSR, &msr)
			   : uc_reg_read(v->vm->uc, UC_X86_REG_MSR, &msr);

	EMU_LOG_VCPU(v, "%s(UC_X86_REG_MSR, {rid 0x%x, value 0x%" PRIx64 "}) = %s",
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
int emu_read_batch(struct tv_vcpu *v, const int *ids, uint64_t *vals, int n)
{
	void *ptrs[32];
	uc_err err;

	for (int i = 0; i < n; i++) {
		vals[i] = 0;
		ptrs[i] = &vals[i];
	}
	err = uc_reg_read_batch(v->vm->uc, (int *)ids, ptrs, n);
	if (v->log)
		emu_log_regs(v, "uc_reg_read_batch", ids, vals, n, err);
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
		emu_log_regs(v, "uc_reg_write_batch", ids, vals, n, err);
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

int emu_instance_lost(const struct tv_vm *vm)
{
	if (!vm->lost)
		return 0;
	tv_set_error("the emulator's VM has no uc instance left: a mode change could not open one");
	return -EIO;
}

int emu_get_regs(struct tv_vcpu *v, struct tv_regs *r)
{
	uint64_t a[18], b[10];
	int rc;

	if (emu_instance_lost(v->vm))
		return -EIO;
	if (!v->vm->uc) {
		*r = v->regs_unopened;
		return 0;
	}
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
	if (!v->vm->uc) {
		v->regs_unopened = *r; /* written when the instance opens */
		return 0;
	}
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
