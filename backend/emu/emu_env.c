/* Unicorn's CPU state beyond its API, through the context blob: see emu_env.h for why and how
 * the layout is checked. */
#include "emu_env.h"

#include "../backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Offsets in CPUX86State (QEMU 5.0 as Unicorn 2.1 has it, 64-bit target and host): from its
 * start, the general registers, eip, eflags, the lazy-flag fields, hflags, hflags2, then the
 * six segments of 24 bytes (selector, pad, base, limit, flags). */
#define ENV_REGS 0
#define ENV_EIP 128
#define ENV_HFLAGS 176
#define ENV_SEGS 184
#define ENV_SEG_SIZE 24
/* Near the end, from dr[0]: error_code and exception_is_int (two ints), exception_next_eip
 * (8 bytes), then dr[8], four breakpoint pointers, and old_exception. */
#define ENV_DR_TO_ERROR_CODE (-16)
#define ENV_DR_TO_IS_INT (-12)
#define ENV_DR_TO_OLD_EXCEPTION (64 + 32)

/* Found once by emu_env_layout(). */
static struct {
	pthread_once_t once;
	int rc;
	char why[200];
	size_t env_at; /* CPUX86State's offset in the blob (uc_context's header comes first) */
	size_t dr_at;  /* env->dr[0]'s offset from env */
	size_t size;   /* uc_context_size() */
} layout = { .once = PTHREAD_ONCE_INIT };

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The one offset at which the 8 bytes of value occur in blob, or SIZE_MAX (none or several). */
static size_t find_unique(const uint8_t *blob, size_t len, uint64_t value)
{
	size_t at = SIZE_MAX;

	for (size_t i = 0; i + 8 <= len; i++) {
		if (get64(blob + i) != value)
			continue;
		if (at != SIZE_MAX)
			return SIZE_MAX;
		at = i;
	}
	return at;
}

/* Values no register holds by chance. */
#define MARK_RAX 0x7a3c1e5d9b2f4a61ull
#define MARK_RCX 0x1f2e3d4c5b6a7988ull
#define MARK_RIP 0x00007f1e2d3c4b58ull
#define MARK_DR(i) (0x5a5a000000001000ull + 0x111ull * (i))
#define MARK_FS_BASE 0x0000123456789ab0ull

static int check_blob(const uint8_t *blob, size_t len)
{
	size_t env, dr, fs;

	env = find_unique(blob, len, MARK_RAX);
	if (env == SIZE_MAX || env + ENV_SEGS + 6 * ENV_SEG_SIZE > len)
		return snprintf(layout.why, sizeof(layout.why), "RAX not found once"), -1;
	if (get64(blob + env + 8) != MARK_RCX || get64(blob + env + ENV_EIP) != MARK_RIP)
		return snprintf(layout.why, sizeof(layout.why), "RCX or RIP not where expected"), -1;
	fs = env + ENV_SEGS + EMU_R_FS * ENV_SEG_SIZE;
	if (get64(blob + fs + 8) != MARK_FS_BASE)
		return snprintf(layout.why, sizeof(layout.why), "FS not where expected"), -1;
	if (!(get32(blob + env + ENV_HFLAGS) & EMU_HF_CS64))
		return snprintf(layout.why, sizeof(layout.why), "hflags not where expected"), -1;
	dr = find_unique(blob, len, MARK_DR(0));
	if (dr == SIZE_MAX || dr < env + 16 || dr + ENV_DR_TO_OLD_EXCEPTION + 4 > len)
		return snprintf(layout.why, sizeof(layout.why), "DR0 not found once"), -1;
	for (int i = 1; i < 4; i++)
		if (get64(blob + dr + 8 * i) != MARK_DR(i))
			return snprintf(layout.why, sizeof(layout.why), "DR%d not after DR0", i), -1;
	if ((int32_t)get32(blob + dr + ENV_DR_TO_OLD_EXCEPTION) != -1 ||
	    get32(blob + dr + ENV_DR_TO_ERROR_CODE) != 0 || get32(blob + dr + ENV_DR_TO_IS_INT) != 0)
		return snprintf(layout.why, sizeof(layout.why),
				"the exception fields around the debug registers are not at reset"),
		       -1;
	layout.env_at = env;
	layout.dr_at = dr - env;
	layout.size = len;
	return 0;
}

static void measure(void)
{
	static const int dr_ids[4] = { UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2,
				       UC_X86_REG_DR3 };
	uc_engine *uc = NULL;
	uc_context *ctx = NULL;
	uint64_t rax = MARK_RAX, rcx = MARK_RCX, rip = MARK_RIP, fs_base = MARK_FS_BASE;
	uc_err err;

	layout.rc = -ENOTSUP;
	err = uc_open(UC_ARCH_X86, UC_MODE_64, &uc);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_RAX, &rax);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_RIP, &rip);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_FS_BASE, &fs_base);
	for (int i = 0; i < 4 && !err; i++) {
		uint64_t mark = MARK_DR(i);

		err = uc_reg_write(uc, dr_ids[i], &mark);
	}
	if (!err)
		err = uc_context_alloc(uc, &ctx);
	if (!err)
		err = uc_context_save(uc, ctx);
	if (err)
		snprintf(layout.why, sizeof(layout.why), "the check itself failed: %s",
			 uc_strerror(err));
	else if (check_blob((const uint8_t *)ctx, uc_context_size(uc)) == 0)
		layout.rc = 0;
	if (ctx)
		uc_context_free(ctx);
	if (uc)
		uc_close(uc);
}

int emu_env_layout(void)
{
	pthread_once(&layout.once, measure);
	if (layout.rc)
		tv_set_error("this Unicorn's CPU state is not laid out as the emulator's exception "
			     "delivery expects (%s)", layout.why);
	return layout.rc;
}

int emu_env_save(struct emu_env *e, uc_engine *uc)
{
	uc_err err;

	memset(e, 0, sizeof(*e));
	if (emu_env_layout())
		return -ENOTSUP;
	if (uc_context_size(uc) != layout.size) {
		tv_set_error("uc_context_size: %zu bytes, %zu when the layout was checked",
			     uc_context_size(uc), layout.size);
		return -ENOTSUP;
	}
	err = uc_context_alloc(uc, &e->ctx);
	if (!err)
		err = uc_context_save(uc, e->ctx);
	if (err) {
		emu_env_release(e);
		tv_set_error("uc_context_save: %s", uc_strerror(err));
		return -EIO;
	}
	e->uc = uc;
	e->env = (uint8_t *)e->ctx + layout.env_at;
	return 0;
}

int emu_env_restore(struct emu_env *e)
{
	uc_err err = uc_context_restore(e->uc, e->ctx);

	if (err) {
		tv_set_error("uc_context_restore: %s", uc_strerror(err));
		return -EIO;
	}
	return 0;
}

void emu_env_release(struct emu_env *e)
{
	if (e->ctx)
		uc_context_free(e->ctx);
	memset(e, 0, sizeof(*e));
}

uint32_t emu_env_error_code(const struct emu_env *e)
{
	return get32(e->env + layout.dr_at + ENV_DR_TO_ERROR_CODE);
}

bool emu_env_is_software(const struct emu_env *e)
{
	return get32(e->env + layout.dr_at + ENV_DR_TO_IS_INT) != 0;
}

void emu_env_end_exception(struct emu_env *e)
{
	put32(e->env + layout.dr_at + ENV_DR_TO_OLD_EXCEPTION, UINT32_MAX);
}

uint32_t emu_env_hflags(const struct emu_env *e)
{
	return get32(e->env + ENV_HFLAGS);
}

void emu_env_seg(const struct emu_env *e, enum emu_env_seg i, struct emu_seg *out)
{
	const uint8_t *p = e->env + ENV_SEGS + (size_t)i * ENV_SEG_SIZE;

	out->selector = get32(p);
	out->base = get64(p + 8);
	out->limit = get32(p + 16);
	out->flags = get32(p + 20);
}

static void put_seg(struct emu_env *e, enum emu_env_seg i, const struct emu_seg *s)
{
	uint8_t *p = e->env + ENV_SEGS + (size_t)i * ENV_SEG_SIZE;

	put32(p, s->selector);
	memcpy(p + 8, &s->base, 8);
	put32(p + 16, s->limit);
	put32(p + 20, s->flags);
}

void emu_env_set_cpl(struct emu_env *e, unsigned cpl)
{
	put32(e->env + ENV_HFLAGS, (emu_env_hflags(e) & ~EMU_HF_CPL_MASK) | (cpl & 3));
}

void emu_env_load_seg(struct emu_env *e, enum emu_env_seg i, const struct emu_seg *seg,
		      bool cr0_pe, bool vm)
{
	uint32_t hf = emu_env_hflags(e);
	struct emu_seg ds, es, ss;

	put_seg(e, i, seg);
	if (i == EMU_R_CS) {
		if ((hf & EMU_HF_LMA) && (seg->flags & TV_DESC_L)) {
			hf |= EMU_HF_CS32 | EMU_HF_SS32 | EMU_HF_CS64;
			hf &= ~EMU_HF_ADDSEG;
		} else {
			hf &= ~(EMU_HF_CS32 | EMU_HF_CS64);
			if (seg->flags & TV_DESC_B)
				hf |= EMU_HF_CS32;
		}
	}
	if (i == EMU_R_SS)
		hf = (hf & ~EMU_HF_CPL_MASK) | ((seg->flags >> TV_DESC_DPL_SHIFT) & 3);
	emu_env_seg(e, EMU_R_SS, &ss);
	emu_env_seg(e, EMU_R_DS, &ds);
	emu_env_seg(e, EMU_R_ES, &es);
	hf &= ~(EMU_HF_SS32 | EMU_HF_ADDSEG);
	if (ss.flags & TV_DESC_B)
		hf |= EMU_HF_SS32;
	/* 64-bit code takes DS, ES and SS bases as 0. Real mode, vm86 and 16-bit code always
	 * add them (QEMU updates only base and selector there); 32-bit code when one is not 0. */
	if (!(hf & EMU_HF_CS64) &&
	    (!cr0_pe || vm || !(hf & EMU_HF_CS32) || (ds.base | es.base | ss.base)))
		hf |= EMU_HF_ADDSEG;
	put32(e->env + ENV_HFLAGS, hf);
}
