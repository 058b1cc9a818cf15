/* Names for Unicorn's numbers, the --trace-api lines of the Unicorn backend, and the error text
 * for a failed Unicorn call. */
#include "emu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

int emu_errno(uc_err err)
{
	switch (err) {
	case UC_ERR_NOMEM: return -ENOMEM;
	case UC_ERR_ARCH:
	case UC_ERR_MODE:
	case UC_ERR_VERSION: return -ENODEV;
	case UC_ERR_HANDLE: return -EBADF;
	case UC_ERR_ARG:
	case UC_ERR_MAP:
	case UC_ERR_HOOK:
	case UC_ERR_HOOK_EXIST: return -EINVAL;
	default: return -EIO;
	}
}

/* Leaves "uc_mem_map_ptr: Invalid memory mapping (UC_ERR_MAP)" in tv_last_error() (Unicorn's
 * text already ends with the code's name) and returns the errno for it. */
int emu_fail(const char *call, uc_err err)
{
	tv_set_error("%s: %s", call, uc_strerror(err));
	return emu_errno(err);
}

/* One line: indent, the call, its note; locked so that threads' lines do not mix. */
static void emu_log_va(FILE *log, const char *indent, const char *note, const char *fmt,
		       va_list ap)
{
	if (!fmt) /* never; says so to GCC, whose UBSan build otherwise sees a NULL path */
		return;
	flockfile(log);
	fputs(indent, log);
	vfprintf(log, fmt, ap);
	if (note)
		fprintf(log, TV_API_NOTE "%s", note);
	fputc('\n', log);
	funlockfile(log);
	/* The guest's own output goes to another stream: flush so the two interleave in order. */
	fflush(log);
}

void emu_log_line(FILE *log, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emu_log_va(log, "", NULL, fmt, ap);
	va_end(ap);
}

void emu_log_step(FILE *log, const char *note, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emu_log_va(log, "", note, fmt, ap);
	va_end(ap);
}

void emu_log_vcpu(struct tv_vcpu *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->log)
		return;
	va_start(ap, fmt);
	emu_log_va(v->log, v->in_run ? "  " : "", v->in_run ? NULL : v->step, fmt, ap);
	va_end(ap);
}

void emu_log_regs(struct tv_vcpu *v, const char *call, const int *ids, const uint64_t *vals,
		  int n, uc_err err)
{
	char text[32 * 32];
	size_t len = 0;

	text[0] = 0;
	for (int i = 0; i < n && len < sizeof(text); i++) {
		int w = snprintf(text + len, sizeof(text) - len, "%s%s=0x%" PRIx64, i ? " " : "",
				 emu_reg_short(ids[i]), vals[i]);

		len += w > 0 ? (size_t)w : 0;
	}
	emu_log_vcpu(v, "%s(%s) = %s", call, text, emu_err_name(err));
}

const char *emu_err_name(uc_err err)
{
	/* Spelled out rather than taken from uc_strerror(), whose words differ between releases. */
	static const char *const names[] = {
		[UC_ERR_OK] = "UC_ERR_OK",
		[UC_ERR_NOMEM] = "UC_ERR_NOMEM",
		[UC_ERR_ARCH] = "UC_ERR_ARCH",
		[UC_ERR_HANDLE] = "UC_ERR_HANDLE",
		[UC_ERR_MODE] = "UC_ERR_MODE",
		[UC_ERR_VERSION] = "UC_ERR_VERSION",
		[UC_ERR_READ_UNMAPPED] = "UC_ERR_READ_UNMAPPED",
		[UC_ERR_WRITE_UNMAPPED] = "UC_ERR_WRITE_UNMAPPED",
		[UC_ERR_FETCH_UNMAPPED] = "UC_ERR_FETCH_UNMAPPED",
		[UC_ERR_HOOK] = "UC_ERR_HOOK",
		[UC_ERR_INSN_INVALID] = "UC_ERR_INSN_INVALID",
		[UC_ERR_MAP] = "UC_ERR_MAP",
		[UC_ERR_WRITE_PROT] = "UC_ERR_WRITE_PROT",
		[UC_ERR_READ_PROT] = "UC_ERR_READ_PROT",
		[UC_ERR_FETCH_PROT] = "UC_ERR_FETCH_PROT",
		[UC_ERR_ARG] = "UC_ERR_ARG",
		[UC_ERR_READ_UNALIGNED] = "UC_ERR_READ_UNALIGNED",
		[UC_ERR_WRITE_UNALIGNED] = "UC_ERR_WRITE_UNALIGNED",
		[UC_ERR_FETCH_UNALIGNED] = "UC_ERR_FETCH_UNALIGNED",
		[UC_ERR_HOOK_EXIST] = "UC_ERR_HOOK_EXIST",
		[UC_ERR_RESOURCE] = "UC_ERR_RESOURCE",
		[UC_ERR_EXCEPTION] = "UC_ERR_EXCEPTION",
	};

	if ((unsigned)err < sizeof(names) / sizeof(names[0]) && names[err])
		return names[err];
	/* UC_ERR_OVERFLOW exists from 2.1 on; the 2.0 headers do not name it. */
	return (unsigned)err == (unsigned)UC_ERR_EXCEPTION + 1 ? "UC_ERR_OVERFLOW" : "UC_ERR_?";
}

const char *emu_mode_name(int mode)
{
	switch (mode) {
	case UC_MODE_16: return "UC_MODE_16";
	case UC_MODE_32: return "UC_MODE_32";
	case UC_MODE_64: return "UC_MODE_64";
	default: return "UC_MODE_?";
	}
}

const char *emu_reg_name(int reg)
{
	switch (reg) {
	case UC_X86_REG_RAX: return "UC_X86_REG_RAX";
	case UC_X86_REG_RBX: return "UC_X86_REG_RBX";
	case UC_X86_REG_RCX: return "UC_X86_REG_RCX";
	case UC_X86_REG_RDX: return "UC_X86_REG_RDX";
	case UC_X86_REG_RSI: return "UC_X86_REG_RSI";
	case UC_X86_REG_RDI: return "UC_X86_REG_RDI";
	case UC_X86_REG_RSP: return "UC_X86_REG_RSP";
	case UC_X86_REG_RBP: return "UC_X86_REG_RBP";
	case UC_X86_REG_R8: return "UC_X86_REG_R8";
	case UC_X86_REG_R9: return "UC_X86_REG_R9";
	case UC_X86_REG_R10: return "UC_X86_REG_R10";
	case UC_X86_REG_R11: return "UC_X86_REG_R11";
	case UC_X86_REG_R12: return "UC_X86_REG_R12";
	case UC_X86_REG_R13: return "UC_X86_REG_R13";
	case UC_X86_REG_R14: return "UC_X86_REG_R14";
	case UC_X86_REG_R15: return "UC_X86_REG_R15";
	case UC_X86_REG_RIP: return "UC_X86_REG_RIP";
	case UC_X86_REG_RFLAGS: return "UC_X86_REG_RFLAGS";
	case UC_X86_REG_EAX: return "UC_X86_REG_EAX";
	case UC_X86_REG_EBX: return "UC_X86_REG_EBX";
	case UC_X86_REG_ECX: return "UC_X86_REG_ECX";
	case UC_X86_REG_EDX: return "UC_X86_REG_EDX";
	case UC_X86_REG_ESI: return "UC_X86_REG_ESI";
	case UC_X86_REG_EDI: return "UC_X86_REG_EDI";
	case UC_X86_REG_ESP: return "UC_X86_REG_ESP";
	case UC_X86_REG_EBP: return "UC_X86_REG_EBP";
	case UC_X86_REG_EIP: return "UC_X86_REG_EIP";
	case UC_X86_REG_EFLAGS: return "UC_X86_REG_EFLAGS";
	case UC_X86_REG_CS: return "UC_X86_REG_CS";
	case UC_X86_REG_DS: return "UC_X86_REG_DS";
	case UC_X86_REG_ES: return "UC_X86_REG_ES";
	case UC_X86_REG_FS: return "UC_X86_REG_FS";
	case UC_X86_REG_GS: return "UC_X86_REG_GS";
	case UC_X86_REG_SS: return "UC_X86_REG_SS";
	case UC_X86_REG_CR0: return "UC_X86_REG_CR0";
	case UC_X86_REG_CR2: return "UC_X86_REG_CR2";
	case UC_X86_REG_CR3: return "UC_X86_REG_CR3";
	case UC_X86_REG_CR4: return "UC_X86_REG_CR4";
	case UC_X86_REG_CR8: return "UC_X86_REG_CR8";
	case UC_X86_REG_GDTR: return "UC_X86_REG_GDTR";
	case UC_X86_REG_IDTR: return "UC_X86_REG_IDTR";
	case UC_X86_REG_LDTR: return "UC_X86_REG_LDTR";
	case UC_X86_REG_TR: return "UC_X86_REG_TR";
	case UC_X86_REG_MSR: return "UC_X86_REG_MSR";
	case UC_X86_REG_FS_BASE: return "UC_X86_REG_FS_BASE";
	case UC_X86_REG_GS_BASE: return "UC_X86_REG_GS_BASE";
	default: return "UC_X86_REG_?";
	}
}

const char *emu_reg_short(int reg)
{
	return emu_reg_name(reg) + strlen("UC_X86_REG_");
}

const char *emu_vector_name(uint32_t vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#9", "#TS", "#NP",
		"#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
		"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
	};

	return vector < 32 ? names[vector] : "INT";
}
