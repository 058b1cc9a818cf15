/* Debug points on the emulator (set_debug_points, backend.h), with Unicorn's hooks:
 * - an EXEC point is a code hook on its one address, which stops the engine before the
 *   instruction runs; a run that begins where one stopped lets that first call go by, so the
 *   instruction runs (exec_skip);
 * - a data point is a write hook (and for ACCESS a read hook) over the points' range, which
 *   notes the hit; a code hook on every address then stops at the next instruction boundary, so
 *   RIP is past the instruction and its write done, as KVM's data breakpoints trap.
 * Unicorn 2.1.1 calls the memory hooks with the guest-physical address, the page walk done
 * (measured: a write to virtual 0x40000004 mapped to 0x30004 came as 0x30004), and checks their
 * range against it. So the data hooks cover every address, and each point's linear address is
 * walked through the guest's page tables (x86/pagewalk.c) to compare: again whenever CR0, CR3 or
 * CR4 differ from the last walk's.
 * Which point stopped a run is kept in v->dbg.hit until run() reports it (after any exit the
 * same instruction made first: emu_run.c). */
#include "emu.h"
#include "debug_points.h"
#include "pagewalk.h"
#include "x86.h"

#include <inttypes.h>
#include <string.h>

/* The EXEC point at addr, or -1. */
static int emu_exec_point_at(const struct tv_vcpu *v, uint64_t addr)
{
	for (size_t i = 0; i < v->dbg.n; i++)
		if (v->dbg.points[i].kind == TV_DEBUG_EXEC && v->dbg.points[i].addr == addr)
			return (int)i;
	return -1;
}

/* Before the instruction at an EXEC point's address. */
static void emu_on_exec(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;
	int hit = emu_exec_point_at(v, addr);

	(void)uc;
	(void)size;
	if (hit < 0)
		return;
	if (v->dbg.exec_skip && addr == v->dbg.exec_pc) {
		/* The run resumed from this point's stop: the instruction runs this time. */
		v->dbg.exec_skip = v->dbg.exec_stopped = false;
		return;
	}
	/* A data point hit by the instruction before comes first; this one stops the next run. */
	if (v->dbg.hit < 0)
		v->dbg.hit = hit;
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": debug point %d, stop before it", addr, hit);
	emu_stop_engine(v, EMU_STOP_DEBUG, "debug point");
}

/* The data points' guest-physical addresses under the paging the guest has now (v->dbg.phys),
 * walked again when CR0, CR3 or CR4 changed. A point whose page is unmapped matches nothing. */
static void emu_data_phys(struct tv_vcpu *v)
{
	int ids[3] = { UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4 };
	uint64_t cr[3] = { 0, 0, 0 };
	void *ptrs[3] = { &cr[0], &cr[1], &cr[2] };
	const struct tv_ram ram = { v->vm->ram, v->vm->ram_size };
	uc_x86_msr efer = { .rid = TV_MSR_EFER };
	struct tv_sregs s;

	if (uc_reg_read_batch(v->vm->uc, ids, ptrs, 3) != UC_ERR_OK)
		memset(cr, 0xff, sizeof(cr)); /* no key: walk again, and fail */
	if (v->dbg.phys_valid && memcmp(cr, v->dbg.phys_key, sizeof(cr)) == 0)
		return;
	memset(&s, 0, sizeof(s));
	s.cr0 = cr[0];
	s.cr3 = cr[1];
	s.cr4 = cr[2];
	if (uc_reg_read(v->vm->uc, UC_X86_REG_MSR, &efer) == UC_ERR_OK)
		s.efer = efer.value;
	for (size_t i = 0; i < v->dbg.n; i++)
		v->dbg.mapped[i] = tv_linear_to_gpa(&ram, &s, TV_MAXPHYADDR_MAX,
						    v->dbg.points[i].addr,
						    &v->dbg.phys[i]) == TV_WALK_OK;
	memcpy(v->dbg.phys_key, cr, sizeof(cr));
	v->dbg.phys_valid = true;
}

/* A guest read or write touching guest-physical [addr, addr + size): the first data point it
 * hits is noted. */
static void emu_on_data(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
			void *opaque)
{
	struct tv_vcpu *v = opaque;

	(void)uc;
	(void)value;
	if (v->dbg.hit >= 0 || size <= 0)
		return;
	emu_data_phys(v);
	for (size_t i = 0; i < v->dbg.n; i++) {
		struct tv_debug_point p = v->dbg.points[i];

		p.addr = v->dbg.phys[i];
		if (p.kind == TV_DEBUG_EXEC || !v->dbg.mapped[i] ||
		    (p.kind == TV_DEBUG_WRITE && type != UC_MEM_WRITE) ||
		    !tv_debug_point_overlaps(&p, addr, (uint64_t)size))
			continue;
		v->dbg.hit = (int)i;
		EMU_LOG(v->log, "  hook MEM_%s 0x%" PRIx64 " size %d: debug point %zu",
			type == UC_MEM_WRITE ? "WRITE" : "READ", addr, size, i);
		return;
	}
}

/* Every instruction while data points are set: stops at the boundary after a hit. */
static void emu_on_data_boundary(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
	struct tv_vcpu *v = opaque;

	(void)uc;
	(void)size;
	if (v->dbg.hit < 0)
		return;
	EMU_LOG(v->log, "  hook CODE 0x%" PRIx64 ": after debug point %d's access, stop before it",
		addr, v->dbg.hit);
	emu_stop_engine(v, EMU_STOP_DEBUG, "debug point");
}

static int emu_debug_hook(struct tv_vcpu *v, uc_hook *h, int type, void *cb, uint64_t begin,
			  uint64_t end, const char *what)
{
	uc_err err = uc_hook_add(v->vm->uc, h, type, cb, v, begin, end);

	EMU_STEP(v->log, "a callback into twinvm: a debug point",
		 "uc_hook_add(%s, begin 0x%" PRIx64 ", end 0x%" PRIx64 ") = %s", what, begin, end,
		 emu_err_name(err));
	if (err) {
		*h = 0;
		tv_set_error("uc_hook_add(%s): %s", what, uc_strerror(err));
		return emu_errno(err);
	}
	return 0;
}

/* Whether a point of one of kinds (a mask of 1 << kind) is set. */
static bool emu_has_points(const struct tv_vcpu *v, int kinds)
{
	for (size_t i = 0; i < v->dbg.n; i++)
		if ((1 << v->dbg.points[i].kind) & kinds)
			return true;
	return false;
}

int emu_debug_hooks_add(struct tv_vcpu *v)
{
	const int writes = 1 << TV_DEBUG_WRITE | 1 << TV_DEBUG_ACCESS, reads = 1 << TV_DEBUG_ACCESS;
	int rc = 0;

	v->dbg.phys_valid = false;
	for (size_t i = 0; i < v->dbg.n && !rc; i++)
		if (v->dbg.points[i].kind == TV_DEBUG_EXEC)
			rc = emu_debug_hook(v, &v->dbg.hook_exec[i], UC_HOOK_CODE, (void *)emu_on_exec,
					    v->dbg.points[i].addr, v->dbg.points[i].addr,
					    "UC_HOOK_CODE");
	/* Every address: the hooks see physical addresses, the points are linear. */
	if (!rc && emu_has_points(v, writes))
		rc = emu_debug_hook(v, &v->dbg.hook_write, UC_HOOK_MEM_WRITE, (void *)emu_on_data,
				    1, 0, "UC_HOOK_MEM_WRITE");
	if (!rc && emu_has_points(v, reads))
		rc = emu_debug_hook(v, &v->dbg.hook_read, UC_HOOK_MEM_READ, (void *)emu_on_data,
				    1, 0, "UC_HOOK_MEM_READ");
	if (!rc && (v->dbg.hook_write || v->dbg.hook_read))
		rc = emu_debug_hook(v, &v->dbg.hook_boundary, UC_HOOK_CODE,
				    (void *)emu_on_data_boundary, 1, 0, "UC_HOOK_CODE");
	return rc;
}

static void emu_debug_hook_del(struct tv_vcpu *v, uc_hook *h, const char *what)
{
	uc_err err;

	if (!*h)
		return;
	err = uc_hook_del(v->vm->uc, *h);
	EMU_STEP(v->log, "the callbacks removed", "uc_hook_del(%s) = %s", what, emu_err_name(err));
	*h = 0;
}

bool emu_debug_hooks_del(struct tv_vcpu *v)
{
	bool code = v->dbg.hook_boundary != 0;

	for (size_t i = 0; i < TV_DEBUG_POINTS_MAX; i++) {
		code = code || v->dbg.hook_exec[i];
		emu_debug_hook_del(v, &v->dbg.hook_exec[i], "UC_HOOK_CODE");
	}
	emu_debug_hook_del(v, &v->dbg.hook_write, "UC_HOOK_MEM_WRITE");
	emu_debug_hook_del(v, &v->dbg.hook_read, "UC_HOOK_MEM_READ");
	emu_debug_hook_del(v, &v->dbg.hook_boundary, "UC_HOOK_CODE");
	return code;
}

void emu_debug_hooks_forget(struct tv_vcpu *v)
{
	memset(v->dbg.hook_exec, 0, sizeof(v->dbg.hook_exec));
	v->dbg.hook_write = v->dbg.hook_read = v->dbg.hook_boundary = 0;
}

void emu_debug_begin(struct tv_vcpu *v, uint64_t begin)
{
	if (v->dbg.exec_stopped && begin != v->dbg.exec_pc)
		v->dbg.exec_stopped = false; /* moved away (set_regs): nothing to let go by */
	v->dbg.exec_skip = v->dbg.exec_stopped;
}

/* exit reports point hit; -1: a plain step. */
static void emu_debug_fill(struct tv_vcpu *v, struct tv_exit *exit, int hit)
{
	exit->reason = TV_EXIT_DEBUG;
	exit->debug.hit = hit;
	exit->debug.addr = hit >= 0 ? v->dbg.points[hit].addr : 0;
	if (hit >= 0 && v->dbg.points[hit].kind == TV_DEBUG_EXEC) {
		v->dbg.exec_stopped = true;
		v->dbg.exec_pc = v->dbg.points[hit].addr;
	}
}

bool emu_debug_report(struct tv_vcpu *v, struct tv_exit *exit)
{
	int hit = v->dbg.hit;

	if (hit < 0)
		return false;
	v->dbg.hit = -1;
	emu_debug_fill(v, exit, hit);
	return true;
}

void emu_debug_step(struct tv_vcpu *v, struct tv_exit *exit, const uint64_t *pc)
{
	/* A step that ends where an EXEC point is stops before its instruction too (the step's
	 * code hook may have stopped the engine before the point's hook was called). */
	emu_debug_fill(v, exit, pc ? emu_exec_point_at(v, *pc) : -1);
}
