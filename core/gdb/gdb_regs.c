/* The registers as gdb sees them (gdb_regs.h). */
#include "gdb_regs.h"

#include <stddef.h>
#include <string.h>

#include "x86.h"

/* Where a register's value lives. */
enum src { GPR, SEG, SYS, X87 };

struct reg {
	const char *name;
	uint8_t bits;
	enum src src;
	size_t off; /* GPR: into struct tv_regs; SEG (the segment), SYS: into struct tv_sregs */
	const char *type;
};

#define G(n, f, b, t) { n, b, GPR, offsetof(struct tv_regs, f), t }
#define S(n) { #n, 32, SEG, offsetof(struct tv_sregs, n), "int32" }
#define Y(n) { #n, 64, SYS, offsetof(struct tv_sregs, n), "int64" }
#define ST(n) { "st" #n, 80, X87, 0, "i387_ext" }
#define F(n) { #n, 32, X87, 0, "int" }

/* gdb's own core register order (features/i386/64bit-core.xml, 32bit-core.xml), then ours. */
static const struct reg amd64[] = {
	G("rax", rax, 64, "int64"), G("rbx", rbx, 64, "int64"), G("rcx", rcx, 64, "int64"),
	G("rdx", rdx, 64, "int64"), G("rsi", rsi, 64, "int64"), G("rdi", rdi, 64, "int64"),
	G("rbp", rbp, 64, "data_ptr"), G("rsp", rsp, 64, "data_ptr"), G("r8", r8, 64, "int64"),
	G("r9", r9, 64, "int64"), G("r10", r10, 64, "int64"), G("r11", r11, 64, "int64"),
	G("r12", r12, 64, "int64"), G("r13", r13, 64, "int64"), G("r14", r14, 64, "int64"),
	G("r15", r15, 64, "int64"), G("rip", rip, 64, "code_ptr"), G("eflags", rflags, 32, "int32"),
	S(cs), S(ss), S(ds), S(es), S(fs), S(gs),
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),
	F(fctrl), F(fstat), F(ftag), F(fiseg), F(fioff), F(foseg), F(fooff), F(fop),
	Y(cr0), Y(cr2), Y(cr3), Y(cr4), Y(efer),
};

static const struct reg i386[] = {
	G("eax", rax, 32, "int32"), G("ecx", rcx, 32, "int32"), G("edx", rdx, 32, "int32"),
	G("ebx", rbx, 32, "int32"), G("esp", rsp, 32, "data_ptr"), G("ebp", rbp, 32, "data_ptr"),
	G("esi", rsi, 32, "int32"), G("edi", rdi, 32, "int32"), G("eip", rip, 32, "code_ptr"),
	G("eflags", rflags, 32, "int32"),
	S(cs), S(ss), S(ds), S(es), S(fs), S(gs),
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),
	F(fctrl), F(fstat), F(ftag), F(fiseg), F(fioff), F(foseg), F(fooff), F(fop),
	Y(cr0), Y(cr2), Y(cr3), Y(cr4), Y(efer),
};

/* Twinvm's own feature: the last five registers of each table. */
#define SYS_REGS 5

static const struct reg *table(enum tv_gdb_arch arch, int *n)
{
	*n = arch == TV_GDB_AMD64 ? (int)(sizeof(amd64) / sizeof(amd64[0]))
				  : (int)(sizeof(i386) / sizeof(i386[0]));
	return arch == TV_GDB_AMD64 ? amd64 : i386;
}

enum tv_gdb_arch tv_gdb_arch_for(enum tv_mode mode)
{
	return mode == TV_MODE_LONG ? TV_GDB_AMD64 : mode == TV_MODE_REAL ? TV_GDB_I8086 : TV_GDB_I386;
}

int tv_gdb_reg_count(enum tv_gdb_arch arch)
{
	int n;

	table(arch, &n);
	return n;
}

size_t tv_gdb_reg_size(enum tv_gdb_arch arch, int n)
{
	int count;
	const struct reg *t = table(arch, &count);

	return n >= 0 && n < count ? t[n].bits / 8u : 0;
}

size_t tv_gdb_regs_size(enum tv_gdb_arch arch)
{
	size_t size = 0;

	for (int i = 0; i < tv_gdb_reg_count(arch); i++)
		size += tv_gdb_reg_size(arch, i);
	return size;
}

int tv_gdb_reg_pc(enum tv_gdb_arch arch)
{
	return arch == TV_GDB_AMD64 ? 16 : 8;
}

void tv_gdb_reg_get(enum tv_gdb_arch arch, int n, const struct tv_regs *r,
		    const struct tv_sregs *s, uint8_t *out)
{
	int count;
	const struct reg *t = table(arch, &count);
	uint64_t v = 0;

	if (n < 0 || n >= count)
		return;
	if (t[n].src == GPR)
		memcpy(&v, (const uint8_t *)r + t[n].off, sizeof(v));
	else if (t[n].src == SEG)
		v = ((const struct tv_segment *)((const uint8_t *)s + t[n].off))->selector;
	else if (t[n].src == SYS)
		memcpy(&v, (const uint8_t *)s + t[n].off, sizeof(v));
	memset(out, 0, t[n].bits / 8u);
	memcpy(out, &v, t[n].bits / 8u < sizeof(v) ? t[n].bits / 8u : sizeof(v)); /* little endian */
}

bool tv_gdb_reg_set(enum tv_gdb_arch arch, int n, struct tv_regs *r, struct tv_sregs *s,
		    const uint8_t *bytes)
{
	int count;
	const struct reg *t = table(arch, &count);
	uint64_t v = 0;

	if (n < 0 || n >= count || t[n].src == X87)
		return false;
	memcpy(&v, bytes, t[n].bits / 8u < sizeof(v) ? t[n].bits / 8u : sizeof(v));
	if (t[n].src == GPR) {
		memcpy((uint8_t *)r + t[n].off, &v, sizeof(v));
	} else if (t[n].src == SYS) {
		memcpy((uint8_t *)s + t[n].off, &v, sizeof(v));
	} else {
		struct tv_segment *seg = (struct tv_segment *)((uint8_t *)s + t[n].off);

		seg->selector = (uint16_t)v;
		if (!(s->cr0 & TV_CR0_PE))
			seg->base = (uint64_t)seg->selector << 4;
	}
	return true;
}

/* One <reg> line into buf at *o. */
static void reg_xml(char *buf, size_t len, size_t *o, const struct reg *g, int num)
{
	int w = snprintf(buf + *o, len - *o, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\"%s/>\n",
			 g->name, g->bits, g->type, num,
			 g->src == X87 && g->bits == 32 ? " group=\"float\"" :
			 g->src == SYS ? " group=\"system\"" : "");

	if (w > 0 && (size_t)w < len - *o)
		*o += (size_t)w;
}

const char *tv_gdb_target_xml(enum tv_gdb_arch arch)
{
	static char xml[3][8192];
	static const char *const arch_name[] = { "i8086", "i386", "i386:x86-64" };
	char *buf = xml[arch];
	size_t o = 0;
	int n, w;
	const struct reg *t = table(arch, &n);

	if (buf[0])
		return buf;
	w = snprintf(buf, sizeof(xml[0]),
		     "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		     "<target version=\"1.0\">\n<architecture>%s</architecture>\n"
		     "<osabi>none</osabi>\n"
		     "<feature name=\"org.gnu.gdb.i386.core\">\n", arch_name[arch]);
	o = w > 0 ? (size_t)w : 0;
	for (int i = 0; i < n; i++) {
		if (i == n - SYS_REGS)
			o += (size_t)snprintf(buf + o, sizeof(xml[0]) - o,
					      "</feature>\n<feature name=\"org.twinvm.x86.system\">\n");
		reg_xml(buf, sizeof(xml[0]), &o, &t[i], i);
	}
	snprintf(buf + o, sizeof(xml[0]) - o, "</feature>\n</target>\n");
	return buf;
}
