/* Comparing two runs of one snippet. */
#include "compare.h"

#include <stdio.h>
#include <string.h>

const char *fz_gpr_name(int gpr)
{
	static const char *const names[FZ_NGPR] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15",
	};

	return gpr >= 0 && gpr < FZ_NGPR ? names[gpr] : "?";
}

/* Whether two segment registers differ in what software can see or rely on. The accessed bit is
 * left out (KVM sets it on a load, Unicorn need not), and a null selector's hidden part too: the
 * SDM leaves it unusable, and what an engine keeps there is not architectural. */
static bool segment_differs(const struct tv_segment *a, const struct tv_segment *b)
{
	if (a->selector != b->selector)
		return true;
	if ((a->selector & ~3u) == 0 && (a->unusable || b->unusable || !a->present || !b->present))
		return false;
	return a->base != b->base || a->limit != b->limit || (a->type | 1) != (b->type | 1) ||
	       a->present != b->present || a->dpl != b->dpl || a->db != b->db || a->s != b->s ||
	       a->l != b->l || a->g != b->g;
}

static uint32_t system_fields(const struct tv_sregs *a, const struct tv_sregs *b)
{
	const struct tv_segment *sa[6] = { &a->cs, &a->ds, &a->es, &a->fs, &a->gs, &a->ss };
	const struct tv_segment *sb[6] = { &b->cs, &b->ds, &b->es, &b->fs, &b->gs, &b->ss };
	uint32_t f = 0;

	for (int i = 0; i < 6; i++)
		if (segment_differs(sa[i], sb[i]))
			f |= FZ_F_SEGMENTS;
	f |= a->cr0 != b->cr0 ? FZ_F_CR0 : 0;
	f |= a->cr2 != b->cr2 ? FZ_F_CR2 : 0;
	f |= a->cr3 != b->cr3 ? FZ_F_CR3 : 0;
	f |= a->cr4 != b->cr4 ? FZ_F_CR4 : 0;
	f |= a->efer != b->efer ? FZ_F_EFER : 0;
	return f;
}

static bool clobbered(const struct fz_result *r, uint32_t i)
{
	return i >= r->clobber_at && i - r->clobber_at < r->clobber_len;
}

bool fz_compare(const struct fz_snippet *s, const struct fz_result *a, const struct fz_result *b,
		struct fz_diff *d)
{
	bool frames = a->vector >= 0 && a->vector == b->vector && a->has_frame && b->has_frame;
	uint64_t rflags_mask = (frames ? FZ_RFLAGS_FRAME : FZ_RFLAGS_COMPARED) & ~s->rflags_undefined;
	uint64_t keep = fz_gpr_mask(s->bits);

	memset(d, 0, sizeof(*d));
	if (a->vector != b->vector &&
	    !(a->vector >= 0 && b->vector >= 0 &&
	      (a->vector == FZ_VECTOR_UNKNOWN || b->vector == FZ_VECTOR_UNKNOWN)))
		d->fields |= FZ_F_FAULT;
	if (a->vector >= 0 && a->vector == b->vector && a->error_code_known &&
	    b->error_code_known && a->error_code != b->error_code)
		d->fields |= FZ_F_ERROR_CODE;
	if (frames && (a->frame_cs != b->frame_cs || a->frame_ss != b->frame_ss))
		d->fields |= FZ_F_FRAME;
	for (int i = 0; i < fz_gprs(s->bits); i++)
		if (!(s->gpr_undefined & (1u << i)) && ((a->st.gpr[i] ^ b->st.gpr[i]) & keep))
			d->fields |= 1u << i;
	if ((a->st.rip ^ b->st.rip) & keep)
		d->fields |= FZ_F_RIP;
	d->rflags_bits = (a->st.rflags ^ b->st.rflags) & rflags_mask;
	if (d->rflags_bits)
		d->fields |= FZ_F_RFLAGS;
	for (uint32_t i = 0; i < FZ_SCRATCH_SIZE; i++) {
		if (a->st.scratch[i] != b->st.scratch[i] && !clobbered(a, i) && !clobbered(b, i)) {
			d->fields |= FZ_F_SCRATCH;
			d->scratch_at = i;
			break;
		}
	}
	if (a->has_system && b->has_system)
		d->fields |= system_fields(&a->system, &b->system);
	return d->fields != 0;
}

void fz_diff_fields(const struct fz_diff *d, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} flags[] = { { 1u << 0, "cf" },   { 1u << 2, "pf" },    { 1u << 4, "af" },
		      { 1u << 6, "zf" },   { 1u << 7, "sf" },    { 1u << 8, "tf" },
		      { 1u << 9, "if" },   { 1u << 10, "df" },   { 1u << 11, "of" },
		      { 3u << 12, "iopl" }, { 1u << 14, "nt" },  { 1u << 16, "rf" },
		      { 1u << 17, "vm" },  { 1u << 18, "ac" },   { 1u << 19, "vif" },
		      { 1u << 20, "vip" }, { 1u << 21, "id" } };
	static const struct {
		uint32_t bit;
		const char *name;
	} system[] = { { FZ_F_ERROR_CODE, "error_code" }, { FZ_F_SEGMENTS, "segments" },
		       { FZ_F_CR0, "cr0" },		  { FZ_F_CR2, "cr2" },
		       { FZ_F_CR3, "cr3" },		  { FZ_F_CR4, "cr4" },
		       { FZ_F_EFER, "efer" },		  { FZ_F_FRAME, "frame" } };
	size_t n = 0;

#define PUT(...)                                                                   \
	do {                                                                       \
		int w = snprintf(buf + n, len > n ? len - n : 0, __VA_ARGS__);     \
		if (w > 0)                                                         \
			n += (size_t)w;                                            \
	} while (0)
	if (len)
		buf[0] = '\0';
	if (d->fields & FZ_F_FAULT)
		PUT("%sfault", n ? ", " : "");
	for (int i = 0; i < FZ_NGPR; i++)
		if (d->fields & (1u << i))
			PUT("%s%s", n ? ", " : "", fz_gpr_name(i));
	if (d->fields & FZ_F_RIP)
		PUT("%srip", n ? ", " : "");
	if (d->rflags_bits == ~0ull) /* a bucket key's "some flag" */
		PUT("%srflags", n ? ", " : "");
	else
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (d->rflags_bits & flags[i].bit)
				PUT("%srflags.%s", n ? ", " : "", flags[i].name);
	if (d->fields & FZ_F_SCRATCH)
		PUT("%sscratch", n ? ", " : "");
	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++)
		if (d->fields & system[i].bit)
			PUT("%s%s", n ? ", " : "", system[i].name);
#undef PUT
}
