/* A guest exception on the emulator, taken as the CPU takes it: Unicorn stops at it (the
 * interrupt hook, and #UD through the invalid-instruction hook), and this file reads the state
 * Unicorn's API cannot report (emu_env.c), delivers through the guest's IVT or IDT
 * (emu_deliver.c), and puts the handler's state back into the instance. The guest then runs on:
 * under KVM the CPU delivers without an exit, so this is no exit either. */
#include "../backend.h"
#include "pagewalk.h"
#include "x86.h"
#include "emu.h"
#include "emu_deliver.h"
#include "emu_env.h"
#include "emu_fault.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The address of the INT n, INT3 or INTO that raised vector, whose next instruction is at rip:
 * INT3 (0xcc) and INTO (0xce) are one byte, INT n (0xcd n) two. A fault while delivering is
 * reported there. */
static uint64_t software_insn(const struct tv_ram *ram, const struct tv_sregs *s,
			      unsigned maxphyaddr, uint64_t cs_base, unsigned vector, uint64_t rip)
{
	const uint8_t one_byte = vector == 3 ? 0xcc : vector == 4 ? 0xce : 0;
	const uint8_t *byte;
	uint64_t gpa;

	if (!one_byte || tv_linear_to_gpa(ram, s, maxphyaddr, cs_base + rip - 1, &gpa) != TV_WALK_OK)
		return rip - 2;
	byte = tv_ram_range(ram->host, ram->size, gpa, 1);
	return byte && *byte == one_byte ? rip - 1 : rip - 2;
}

static void cpu_of(struct emu_cpu *c, const struct tv_regs *r, const struct tv_sregs *s,
		   const struct emu_env *env)
{
	memset(c, 0, sizeof(*c));
	c->rip = r->rip;
	c->rsp = r->rsp;
	c->rflags = r->rflags;
	for (int i = 0; i < 6; i++)
		emu_env_seg(env, (enum emu_env_seg)i, &c->seg[i]);
	c->cpl = emu_env_hflags(env) & EMU_HF_CPL_MASK;
	c->cr0 = s->cr0;
	c->cr2 = s->cr2;
	c->cr3 = s->cr3;
	c->cr4 = s->cr4;
	c->efer = s->efer;
	c->gdt_base = s->gdt.base;
	c->gdt_limit = s->gdt.limit;
	c->idt_base = s->idt.base;
	c->idt_limit = s->idt.limit;
	c->ldt_base = s->ldt.base;
	c->ldt_limit = s->ldt.limit;
	c->tr_base = s->tr.base;
	c->tr_limit = s->tr.limit;
	c->tr_selector = s->tr.selector;
	c->tr_flags = (uint32_t)s->tr.type << TV_DESC_TYPE_SHIFT;
}

/* The vCPU shuts down at vector: a triple fault, or an exception the emulator cannot deliver. */
static void end_in_shutdown(struct tv_exit *exit, unsigned vector, const char *prefix,
			    const char *why)
{
	exit->reason = TV_EXIT_SHUTDOWN;
	exit->exception = (int)vector;
	exit->fail.code = UC_ERR_EXCEPTION;
	snprintf(exit->detail, sizeof(exit->detail), "%s%s", prefix, why);
}

/* Puts the handler's state into the instance: CS, SS where it changed, and the CPL through the
 * context, then the registers and CR2 through the API, which keeps Unicorn's lazy flags right. */
static int enter(struct tv_vcpu *v, struct emu_env *env, const struct emu_cpu *c,
		 struct tv_regs *r, uint64_t old_cr2)
{
	bool pe = c->cr0 & TV_CR0_PE;
	bool vm = false; /* delivery from virtual-8086 mode is refused */
	struct emu_seg ss;
	int rc;

	emu_env_end_exception(env);
	emu_env_seg(env, EMU_R_SS, &ss);
	if (ss.selector != c->seg[EMU_R_SS].selector || ss.base != c->seg[EMU_R_SS].base ||
	    ss.limit != c->seg[EMU_R_SS].limit || ss.flags != c->seg[EMU_R_SS].flags)
		emu_env_load_seg(env, EMU_R_SS, &c->seg[EMU_R_SS], pe, vm);
	emu_env_load_seg(env, EMU_R_CS, &c->seg[EMU_R_CS], pe, vm);
	emu_env_set_cpl(env, c->cpl);
	rc = emu_env_restore(env);
	if (rc)
		return rc;
	r->rip = c->rip;
	r->rsp = c->rsp;
	r->rflags = c->rflags;
	rc = emu_set_regs(v, r);
	if (!rc && c->cr2 != old_cr2) {
		uint64_t cr2 = c->cr2;
		uc_err err = uc_reg_write(v->vm->uc, UC_X86_REG_CR2, &cr2);

		EMU_LOG(v->log, "uc_reg_write(UC_X86_REG_CR2, 0x%" PRIx64 ") = %s", cr2,
			emu_err_name(err));
		if (err)
			rc = emu_fail("uc_reg_write(UC_X86_REG_CR2)", err);
	}
	return rc;
}

/* Delivers vector, an exception Unicorn stopped at (external false: the context says whether
 * INT n raised it, and its error code) or an interrupt the controller asserted (external).
 * 1 when delivered, 0 with *exit SHUTDOWN, or -errno. */
static int take(struct tv_vcpu *v, unsigned vector, bool external, struct tv_exit *exit)
{
	struct emu_env env;
	struct tv_regs r;
	struct tv_sregs s;
	struct emu_cpu c;
	struct emu_event ev;
	struct tv_ram ram = { v->vm->ram, v->vm->ram_size };
	unsigned maxphyaddr;
	char why[120];
	enum emu_deliver_end end;
	int rc;

	rc = emu_env_save(&env, v->vm->uc);
	if (rc == -ENOTSUP) {
		end_in_shutdown(exit, vector, external ? "interrupt, not delivered: "
						       : "CPU exception, not delivered: ",
				tv_last_error());
		return 0;
	}
	if (!rc)
		rc = emu_get_regs(v, &r);
	if (!rc)
		rc = emu_get_sregs(v, &s);
	if (rc) {
		emu_env_release(&env);
		return rc;
	}
	v->exc_software = !external && !v->exc_raised && emu_env_is_software(&env);
	if (vector == 13 && !external && !v->exc_raised && !v->exc_software &&
	    !emu_env_error_code(&env) && (emu_env_hflags(&env) & EMU_HF_CS64)) {
		struct tv_regs was = r;

		vector = emu_fault_correct(v, &r); /* where QEMU's #GP(0) is not the CPU's */
		if (memcmp(&was, &r, sizeof(r)) && (rc = emu_set_regs(v, &r)) != 0) {
			emu_env_release(&env);
			return rc;
		}
	}
	cpu_of(&c, &r, &s, &env);
	ev = (struct emu_event){ .vector = vector, .software = v->exc_software,
				 .external = external,
				 .error = external	   ? 0
					  : v->exc_raised ? v->exc_raised_error
							  : emu_env_error_code(&env),
				 .insn_rip = r.rip };
	v->exc_raised = false;
	maxphyaddr = emu_maxphyaddr(v);
	if (ev.software)
		ev.insn_rip =
			software_insn(&ram, &s, maxphyaddr, c.seg[EMU_R_CS].base, vector, r.rip);
	end = emu_deliver(&ram, maxphyaddr, &c, &ev, why, sizeof(why));
	EMU_LOG(v->log, "  deliver %s %u%s, error 0x%x, at 0x%" PRIx64 ": %s 0x%x:0x%" PRIx64,
		external ? "interrupt" : "vector", vector, ev.software ? " (software)" : "",
		ev.error, r.rip, end == EMU_DELIVERED ? "handler" : why,
		c.seg[EMU_R_CS].selector, c.rip);
	if (end == EMU_DELIVERED) {
		rc = enter(v, &env, &c, &r, s.cr2);
		emu_env_release(&env);
		return rc ? rc : 1;
	}
	emu_env_release(&env);
	if (c.rip != r.rip) { /* a fault delivering INT n is the instruction's: RIP on it */
		r.rip = c.rip;
		rc = emu_set_regs(v, &r);
		if (rc)
			return rc;
	}
	end_in_shutdown(exit, vector,
			end == EMU_TRIPLE_FAULT ? ""
			: external	       ? "interrupt, not delivered: "
					       : "CPU exception, not delivered: ",
			why);
	return 0;
}

int emu_exception_take(struct tv_vcpu *v, unsigned vector, struct tv_exit *exit)
{
	return take(v, vector, false, exit);
}

int emu_interrupt_take(struct tv_vcpu *v, unsigned vector, struct tv_exit *exit)
{
	return take(v, vector, true, exit);
}
