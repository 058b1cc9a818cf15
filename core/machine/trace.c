/* Building and writing the JSON Lines exit records. */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

json_t *tv_json_hex(uint64_t value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, value);
	return json_string(buf);
}

int tv_trace_hex(const json_t *obj, const char *key, uint64_t *value)
{
	const char *s = json_string_value(json_object_get(obj, key));
	char *end;

	if (!s || strncmp(s, "0x", 2) != 0 || s[2] == '\0')
		return -EINVAL;
	errno = 0;
	*value = strtoull(s + 2, &end, 16);
	return (errno || *end) ? -EINVAL : 0;
}

static json_t *bytes_hex(const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = data;
	char *s = malloc(2 * len + 1);
	json_t *j;

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[b[i] >> 4];
		s[2 * i + 1] = digits[b[i] & 0xf];
	}
	s[2 * len] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

static json_t *regs_json(const struct tv_regs *r)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "rax", tv_json_hex(r->rax), "rbx", tv_json_hex(r->rbx),
			 "rcx", tv_json_hex(r->rcx), "rdx", tv_json_hex(r->rdx),
			 "rsi", tv_json_hex(r->rsi), "rdi", tv_json_hex(r->rdi),
			 "rsp", tv_json_hex(r->rsp), "rbp", tv_json_hex(r->rbp),
			 "r8", tv_json_hex(r->r8), "r9", tv_json_hex(r->r9),
			 "r10", tv_json_hex(r->r10), "r11", tv_json_hex(r->r11),
			 "r12", tv_json_hex(r->r12), "r13", tv_json_hex(r->r13),
			 "r14", tv_json_hex(r->r14), "r15", tv_json_hex(r->r15),
			 "rip", tv_json_hex(r->rip), "rflags", tv_json_hex(r->rflags));
}

static json_t *segment_json(const struct tv_segment *s)
{
	return json_pack("{s:o,s:o}", "sel", tv_json_hex(s->selector), "base", tv_json_hex(s->base));
}

static json_t *sregs_json(const struct tv_sregs *s)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "cs", segment_json(&s->cs), "ds", segment_json(&s->ds),
			 "es", segment_json(&s->es), "fs", segment_json(&s->fs),
			 "gs", segment_json(&s->gs), "ss", segment_json(&s->ss),
			 "cr0", tv_json_hex(s->cr0), "cr3", tv_json_hex(s->cr3),
			 "cr4", tv_json_hex(s->cr4), "efer", tv_json_hex(s->efer));
}

static json_t *payload_json(const struct tv_exit *e)
{
	switch (e->reason) {
	case TV_EXIT_IO:
		return json_pack("{s:s,s:i,s:i,s:I,s:o}",
				 "dir", e->io.direction == TV_IO_OUT ? "out" : "in",
				 "port", e->io.port, "size", e->io.size,
				 "count", (json_int_t)e->io.count,
				 "data", e->io.data
					 ? bytes_hex(e->io.data, (size_t)e->io.size * e->io.count)
					 : json_null());
	case TV_EXIT_MMIO:
		return json_pack("{s:o,s:i,s:b,s:o}", "addr", tv_json_hex(e->mmio.addr),
				 "len", (int)e->mmio.len, "write", e->mmio.is_write,
				 "data", bytes_hex(e->mmio.data,
						   e->mmio.len <= 8 ? e->mmio.len : 8));
	default:
		return NULL;
	}
}

json_t *tv_trace_record(int vm, uint64_t seq, const struct tv_exit *exit,
			const struct tv_regs *regs, const struct tv_sregs *sregs)
{
	json_t *rec = json_pack("{s:i,s:I,s:s,s:i}", "vm", vm, "seq", (json_int_t)seq, "reason",
				tv_exit_reason_name(exit->reason), "code", exit->reason);
	json_t *payload;

	if (!rec)
		return NULL;
	payload = payload_json(exit);
	if (payload)
		json_object_set_new(rec, exit->reason == TV_EXIT_IO ? "io" : "mmio", payload);
	if (exit->detail[0])
		json_object_set_new(rec, "detail", json_string(exit->detail));
	if (regs)
		json_object_set_new(rec, "regs", regs_json(regs));
	if (sregs)
		json_object_set_new(rec, "sregs", sregs_json(sregs));
	return rec;
}

json_t *tv_trace_hypercall(const struct tv_hc_record *hc)
{
	json_t *o = json_pack("{s:s}", "name", hc->name);

	if (hc->has_arg)
		json_object_set_new(o, "arg", tv_json_hex(hc->arg));
	if (hc->has_result)
		json_object_set_new(o, "result", tv_json_hex(hc->result));
	if (hc->has_gpa)
		json_object_set_new(o, "gpa", tv_json_hex(hc->gpa));
	if (hc->has_hva)
		json_object_set_new(o, "hva", tv_json_hex(hc->hva));
	if (hc->text)
		json_object_set_new(o, "text", tv_json_bytes_text(hc->text, hc->text_len));
	if (hc->failed)
		json_object_set_new(o, "error", json_string(hc->error));
	return o;
}

json_t *tv_json_bytes_text(const char *bytes, size_t len)
{
	char *utf8 = malloc(2 * len + 1), *p = utf8;
	json_t *s;

	if (!utf8)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)bytes[i];

		if (c < 0x80) {
			*p++ = (char)c;
		} else { /* U+0080..U+00FF in two bytes */
			*p++ = (char)(0xc0 | c >> 6);
			*p++ = (char)(0x80 | (c & 0x3f));
		}
	}
	s = json_stringn(utf8, (size_t)(p - utf8));
	free(utf8);
	return s;
}

int tv_trace_write(FILE *f, json_t *record)
{
	if (json_dumpf(record, f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0)
		return -EIO;
	return 0;
}
