/* The compared fields and the comparison of two records, field by field. */
#include "diff_fields.h"

#include <stdlib.h>
#include <string.h>

#include "trace.h"

const struct tv_diff_field tv_diff_field_table[] = {
	{ "reason", { "reason" } },
	{ "io.dir", { "io", "dir" } },      { "io.port", { "io", "port" } },
	{ "io.size", { "io", "size" } },    { "io.count", { "io", "count" } },
	{ "io.data", { "io", "data" } },    { "mmio.addr", { "mmio", "addr" } },
	{ "mmio.len", { "mmio", "len" } },  { "mmio.write", { "mmio", "write" } },
	{ "mmio.data", { "mmio", "data" } },
	{ "rax", { "regs", "rax" } },       { "rbx", { "regs", "rbx" } },
	{ "rcx", { "regs", "rcx" } },       { "rdx", { "regs", "rdx" } },
	{ "rsi", { "regs", "rsi" } },       { "rdi", { "regs", "rdi" } },
	{ "rsp", { "regs", "rsp" } },       { "rbp", { "regs", "rbp" } },
	{ "r8", { "regs", "r8" } },         { "r9", { "regs", "r9" } },
	{ "r10", { "regs", "r10" } },       { "r11", { "regs", "r11" } },
	{ "r12", { "regs", "r12" } },       { "r13", { "regs", "r13" } },
	{ "r14", { "regs", "r14" } },       { "r15", { "regs", "r15" } },
	{ "rip", { "regs", "rip" } },       { "rflags", { "regs", "rflags" } },
	{ "cs.sel", { "sregs", "cs", "sel" } }, { "cs.base", { "sregs", "cs", "base" } },
	{ "ds.sel", { "sregs", "ds", "sel" } }, { "ds.base", { "sregs", "ds", "base" } },
	{ "es.sel", { "sregs", "es", "sel" } }, { "es.base", { "sregs", "es", "base" } },
	{ "fs.sel", { "sregs", "fs", "sel" } }, { "fs.base", { "sregs", "fs", "base" } },
	{ "gs.sel", { "sregs", "gs", "sel" } }, { "gs.base", { "sregs", "gs", "base" } },
	{ "ss.sel", { "sregs", "ss", "sel" } }, { "ss.base", { "sregs", "ss", "base" } },
	{ "cr0", { "sregs", "cr0" } },      { "cr3", { "sregs", "cr3" } },
	{ "cr4", { "sregs", "cr4" } },      { "efer", { "sregs", "efer" } },
	/* What the hypercall device made of the exit. Not its "hva": that is where this process's
	 * RAM happens to be (its low 32 bits, in "result", are compared). */
	{ "hypercall.name", { "hypercall", "name" } },
	{ "hypercall.arg", { "hypercall", "arg" } },
	{ "hypercall.result", { "hypercall", "result" } },
	{ "hypercall.gpa", { "hypercall", "gpa" } },
	{ "hypercall.text", { "hypercall", "text" } },
	{ "hypercall.error", { "hypercall", "error" } },
	{ NULL, { NULL } },
};

static const struct {
	const char *name;
	int bit;
} flag_bits[] = {
	{ "cf", 0 }, { "pf", 2 }, { "af", 4 }, { "zf", 6 }, { "sf", 7 },
	{ "tf", 8 }, { "if", 9 }, { "df", 10 }, { "of", 11 }, { "rf", 16 },
};

static int flag_bit(const char *name)
{
	if (strncmp(name, "rflags.", 7) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(flag_bits) / sizeof(flag_bits[0]); i++)
		if (strcmp(name + 7, flag_bits[i].name) == 0)
			return flag_bits[i].bit;
	return -1;
}

bool tv_diff_field_known(const char *name)
{
	for (const struct tv_diff_field *f = tv_diff_field_table; f->name; f++)
		if (strcmp(name, f->name) == 0)
			return true;
	return strcmp(name, "ram") == 0 || flag_bit(name) >= 0;
}

bool tv_diff_ignored(const struct tv_diff_opts *o, const char *name)
{
	for (int i = 0; i < o->nignore; i++)
		if (strcmp(o->ignore[i], name) == 0)
			return true;
	return false;
}

static uint64_t rflags_mask(const struct tv_diff_opts *o)
{
	uint64_t mask = ~0ull;

	for (int i = 0; i < o->nignore; i++) {
		int bit = flag_bit(o->ignore[i]);

		if (bit >= 0)
			mask &= ~(1ull << bit);
	}
	return mask;
}

const json_t *tv_diff_field_value(const json_t *rec, const struct tv_diff_field *f)
{
	const json_t *v = rec;

	for (int i = 0; i < 3 && f->path[i] && v; i++)
		v = json_object_get(v, f->path[i]);
	return v;
}

void tv_diff_value_text(const json_t *v, char *buf, size_t len)
{
	char *s;

	if (!v) {
		snprintf(buf, len, "(absent)");
		return;
	}
	if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
		return;
	}
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(buf, len, "%s", s ? s : "?");
	free(s);
}

const struct tv_diff_field *tv_diff_first_difference(const struct tv_diff_opts *o, const json_t *a,
						     const json_t *b, uint64_t undefined)
{
	for (const struct tv_diff_field *f = tv_diff_field_table; f->name; f++) {
		const json_t *va = tv_diff_field_value(a, f), *vb = tv_diff_field_value(b, f);

		if (tv_diff_ignored(o, f->name))
			continue;
		if (strcmp(f->name, "rflags") == 0 && va && vb) {
			uint64_t fa, fb, mask = rflags_mask(o) & ~undefined;

			if (tv_trace_hex(json_object_get(a, "regs"), "rflags", &fa) == 0 &&
			    tv_trace_hex(json_object_get(b, "regs"), "rflags", &fb) == 0 &&
			    (fa & mask) == (fb & mask))
				continue;
			return f;
		}
		if (!va && !vb)
			continue;
		if (!va || !vb || !json_equal((json_t *)va, (json_t *)vb))
			return f;
	}
	return NULL;
}
