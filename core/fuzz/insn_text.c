/* A snippet as text: Intel syntax (fz_disasm), the bucket key of one instruction (fz_insn_form),
 * and the registers its instructions name (fz_explicit_gprs). An invalid encoding (decode.c) is
 * named as such. */
#include "gen.h"
#include "decode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Appends to buf at *at; false once it is full. */
static bool put(char *buf, size_t n, size_t *at, const char *text)
{
	int w = snprintf(buf + *at, n - *at, "%s", text);

	if (w < 0 || (size_t)w >= n - *at) {
		*at = n ? n - 1 : 0;
		return false;
	}
	*at += (size_t)w;
	return true;
}

uint16_t fz_explicit_gprs(const uint8_t *code, size_t len, unsigned bits)
{
	uint16_t mask = 0;
	struct decoded d;

	for (size_t at = 0; at < len; at += d.in.length) {
		struct invalid v;

		if (fz_decode(code + at, len - at, bits, &d) != 0) {
			if (!fz_invalid_at(code + at, len - at, bits, &v))
				break;
			if (!v.name) /* lock: the instruction after it names its registers */
				mask |= fz_explicit_gprs(code + at + 1, v.len - 1, bits);
			d.in.length = (ZyanU8)v.len;
			continue;
		}
		for (unsigned i = 0; i < d.in.operand_count_visible; i++) {
			int g = d.op[i].type == ZYDIS_OPERAND_TYPE_REGISTER ? fz_gpr_of(d.op[i].reg.value)
									    : -1;

			if (g >= 0)
				mask |= (uint16_t)(1u << g);
		}
	}
	return mask;
}

int fz_insn_form(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n)
{
	struct decoded d;
	unsigned nimm = 0;
	size_t at = 0;
	bool ok = true;
	char part[32];

	if (n == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (fz_decode(code, len, bits, &d) != 0) {
		struct invalid v;
		int rc;

		if (!fz_invalid_at(code, len, bits, &v) || v.len != len)
			return -EINVAL;
		if (v.name) {
			snprintf(part, sizeof(part), " (#UD in %u-bit code)", bits);
			return put(buf, n, &at, v.name) && put(buf, n, &at, part) ? 0 : -ENOSPC;
		}
		if (!put(buf, n, &at, "lock "))
			return -ENOSPC;
		rc = fz_insn_form(code + 1, len - 1, bits, buf + at, n - at);
		return rc == -EINVAL ? rc : rc ? -ENOSPC : 0;
	}
	if (d.in.length != len)
		return -EINVAL;
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_LOCK)
		ok = put(buf, n, &at, "lock ");
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_REP)
		ok = ok && put(buf, n, &at, "rep ");
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_REPE)
		ok = ok && put(buf, n, &at, "repe ");
	if (d.in.attributes & ZYDIS_ATTRIB_HAS_REPNE)
		ok = ok && put(buf, n, &at, "repne ");
	ok = ok && put(buf, n, &at, ZydisMnemonicGetString(d.in.mnemonic));
	for (unsigned i = 0; ok && i < d.in.operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &d.op[i];

		switch (o->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			if (o->encoding == ZYDIS_OPERAND_ENCODING_NONE ||
			    ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_CONTROL ||
			    ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_DEBUG)
				snprintf(part, sizeof(part), "%s", ZydisRegisterGetString(o->reg.value));
			else if (ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_SEGMENT)
				snprintf(part, sizeof(part), "sreg");
			else
				snprintf(part, sizeof(part), "r%u", o->size);
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			if (o->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
				snprintf(part, sizeof(part), "m");
			else
				snprintf(part, sizeof(part), "m%u", o->size);
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			if (o->visibility == ZYDIS_OPERAND_VISIBILITY_IMPLICIT)
				snprintf(part, sizeof(part), "%llu", (unsigned long long)o->imm.value.u);
			else
				snprintf(part, sizeof(part), "imm%u",
					 nimm < 2 ? d.in.raw.imm[nimm].size : o->size);
			nimm++;
			break;
		default:
			snprintf(part, sizeof(part), "ptr%u", o->size);
			break;
		}
		ok = put(buf, n, &at, i ? ", " : " ") && put(buf, n, &at, part);
	}
	return ok ? 0 : -ENOSPC;
}

int fz_disasm(const uint8_t *code, size_t len, unsigned bits, char *buf, size_t n)
{
	ZydisFormatter fmt;
	struct decoded d;
	size_t off = 0, at = 0;
	bool ok = true;
	char text[160];

	if (n == 0)
		return -ENOSPC;
	buf[0] = '\0';
	if (!ZYAN_SUCCESS(ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL)) ||
	    !ZYAN_SUCCESS(ZydisFormatterSetProperty(&fmt, ZYDIS_FORMATTER_PROP_FORCE_SIZE, 1)))
		return -EINVAL;
	while (off < len) {
		struct invalid v;
		size_t skip = 0; /* a LOCK prefix Zydis will not decode, put before the rest */

		if (fz_decode(code + off, len - off, bits, &d) != 0) {
			if (!fz_invalid_at(code + off, len - off, bits, &v))
				return -EINVAL;
			if (v.name) {
				snprintf(text, sizeof(text), "%s (#UD)", v.name);
				if (ok)
					ok = put(buf, n, &at, off ? "; " : "") && put(buf, n, &at, text);
				off += v.len;
				continue;
			}
			skip = 1;
			if (fz_decode(code + off + 1, len - off - 1, bits, &d) != 0)
				return -EINVAL;
		}
		memcpy(text, "lock ", skip ? 5 : 0);
		if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &d.in, d.op,
				  d.in.operand_count_visible, text + 5 * skip, sizeof(text) - 5 * skip,
				  fz_code_start(bits) + off + skip, NULL)))
			return -EINVAL;
		if (ok)
			ok = put(buf, n, &at, off ? "; " : "") && put(buf, n, &at, text);
		off += skip + d.in.length;
	}
	return ok ? 0 : -ENOSPC;
}
