/* The KVM vCPU's registers: struct kvm_regs and struct kvm_segment map field by field onto the
 * portable ones; and KVM's own translation of a guest-virtual address. */
#include "kvm.h"

#include <errno.h>

int kvm_get_regs(struct tv_vcpu *v, struct tv_regs *r)
{
	struct kvm_regs kr;
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_regs, (unsigned long)&kr);

	if (ret < 0)
		return ret;
	*r = (struct tv_regs){
		.rax = kr.rax, .rbx = kr.rbx, .rcx = kr.rcx, .rdx = kr.rdx,
		.rsi = kr.rsi, .rdi = kr.rdi, .rsp = kr.rsp, .rbp = kr.rbp,
		.r8 = kr.r8,   .r9 = kr.r9,   .r10 = kr.r10, .r11 = kr.r11,
		.r12 = kr.r12, .r13 = kr.r13, .r14 = kr.r14, .r15 = kr.r15,
		.rip = kr.rip, .rflags = kr.rflags,
	};
	return 0;
}

int kvm_set_regs(struct tv_vcpu *v, const struct tv_regs *r)
{
	struct kvm_regs kr = {
		.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx,
		.rsi = r->rsi, .rdi = r->rdi, .rsp = r->rsp, .rbp = r->rbp,
		.r8 = r->r8,   .r9 = r->r9,   .r10 = r->r10, .r11 = r->r11,
		.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
		.rip = r->rip, .rflags = r->rflags,
	};
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_regs, (unsigned long)&kr);

	if (ret < 0)
		return ret;
	/* Stepping reads the registers from kvm_run's sync copy: keep it current. */
	v->run->s.regs.regs = kr;
	return 0;
}

static void segment_from_kvm(struct tv_segment *s, const struct kvm_segment *k)
{
	*s = (struct tv_segment){
		.base = k->base, .limit = k->limit, .selector = k->selector, .type = k->type,
		.present = k->present, .dpl = k->dpl, .db = k->db, .s = k->s, .l = k->l, .g = k->g,
		.avl = k->avl, .unusable = k->unusable,
	};
}

static void segment_to_kvm(struct kvm_segment *k, const struct tv_segment *s)
{
	*k = (struct kvm_segment){
		.base = s->base, .limit = s->limit, .selector = s->selector, .type = s->type,
		.present = s->present, .dpl = s->dpl, .db = s->db, .s = s->s, .l = s->l, .g = s->g,
		.avl = s->avl, .unusable = s->unusable,
	};
}

int kvm_get_sregs(struct tv_vcpu *v, struct tv_sregs *s)
{
	struct kvm_sregs ks;
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_get_sregs, (unsigned long)&ks);

	if (ret < 0)
		return ret;
	v->apic_base = ks.apic_base;
	segment_from_kvm(&s->cs, &ks.cs);
	segment_from_kvm(&s->ds, &ks.ds);
	segment_from_kvm(&s->es, &ks.es);
	segment_from_kvm(&s->fs, &ks.fs);
	segment_from_kvm(&s->gs, &ks.gs);
	segment_from_kvm(&s->ss, &ks.ss);
	segment_from_kvm(&s->tr, &ks.tr);
	segment_from_kvm(&s->ldt, &ks.ldt);
	s->gdt = (struct tv_dtable){ .base = ks.gdt.base, .limit = ks.gdt.limit };
	s->idt = (struct tv_dtable){ .base = ks.idt.base, .limit = ks.idt.limit };
	s->cr0 = ks.cr0;
	s->cr2 = ks.cr2;
	s->cr3 = ks.cr3;
	s->cr4 = ks.cr4;
	s->cr8 = ks.cr8;
	s->efer = ks.efer;
	return 0;
}

int kvm_set_sregs(struct tv_vcpu *v, const struct tv_sregs *s)
{
	/* interrupt_bitmap stays zero: twinvm never queues an external interrupt. */
	struct kvm_sregs ks = {
		.gdt = { .base = s->gdt.base, .limit = s->gdt.limit },
		.idt = { .base = s->idt.base, .limit = s->idt.limit },
		.cr0 = s->cr0, .cr2 = s->cr2, .cr3 = s->cr3, .cr4 = s->cr4, .cr8 = s->cr8,
		.efer = s->efer,
		.apic_base = v->apic_base,
	};
	int ret;

	segment_to_kvm(&ks.cs, &s->cs);
	segment_to_kvm(&ks.ds, &s->ds);
	segment_to_kvm(&ks.es, &s->es);
	segment_to_kvm(&ks.fs, &s->fs);
	segment_to_kvm(&ks.gs, &s->gs);
	segment_to_kvm(&ks.ss, &s->ss);
	segment_to_kvm(&ks.tr, &s->tr);
	segment_to_kvm(&ks.ldt, &s->ldt);
	ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_set_sregs, (unsigned long)&ks);
	if (ret < 0)
		return ret;
	v->run->s.regs.sregs = ks;
	return 0;
}

int kvm_translate(struct tv_vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tl = { .linear_address = gva };
	int ret = kvm_ioctl(v->log, v->fd, &kvm_ioc_translate, (unsigned long)&tl);

	if (ret < 0)
		return ret;
	if (!tl.valid) {
		tv_set_error("KVM_TRANSLATE: guest virtual 0x%llx is not mapped",
			     (unsigned long long)gva);
		return -EFAULT;
	}
	*gpa = tl.physical_address;
	return 0;
}
