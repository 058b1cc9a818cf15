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

bool fz_compare(const struct fz_snippet *s, const struct fz_result *a, const struct fz_result *b,
		struct fz_diff *d)
{
	uint64_t rflags_mask = FZ_RFLAGS_COMPARED & ~s->rflags_undefined;

	memset(d, 0, sizeof(*d));
	if (a->vector != b->vector &&
	    !(a->vector >= 0 && b->vector >= 0 &&
	      (a->vector == FZ_VECTOR_UNKNOWN || b->vector == FZ_VECTOR_UNKNOWN)))
		d->fields |= FZ_F_FAULT;
	for (int i = 0; i < FZ_NGPR; i++)
		if (!(s->gpr_undefined & (1u << i)) && a->st.gpr[i] != b->st.gpr[i])
			d->fields |= 1u << i;
	if (a->st.rip != b->st.rip)
		d->fields |= FZ_F_RIP;
	d->rflags_bits = (a->st.rflags ^ b->st.rflags) & rflags_mask;
	if (d->rflags_bits)
		d->fields |= FZ_F_RFLAGS;
	for (uint32_t i = 0; i < FZ_SCRATCH_SIZE; i++) {
		if (a->st.scratch[i] != b->st.scratch[i]) {
			d->fields |= FZ_F_SCRATCH;
			d->scratch_at = i;
			break;
		}
	}
	return d->fields != 0;
}

void fz_diff_fields(const struct fz_diff *d, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} flags[] = { { 1u << 0, "cf" },  { 1u << 2, "pf" },  { 1u << 4, "af" }, { 1u << 6, "zf" },
		      { 1u << 7, "sf" },  { 1u << 10, "df" }, { 1u << 11, "of" } };
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
#undef PUT
}
