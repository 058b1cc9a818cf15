/* diff's report of a divergence: the two records, the instruction, the records before. */
#include "diff_side.h"

#include <inttypes.h>
#include <stdio.h>

#include "disasm.h"
#include "insn.h"
#include "trace.h"

static void describe(FILE *out, const json_t *rec)
{
	const json_t *io = json_object_get(rec, "io"), *mmio = json_object_get(rec, "mmio");
	uint64_t rip = 0;

	tv_trace_hex(json_object_get(rec, "regs"), "rip", &rip);
	fprintf(out, "%s", json_string_value(json_object_get(rec, "reason")));
	if (io)
		fprintf(out, " %s port 0x%llx size %lld count %lld data %s",
			json_string_value(json_object_get(io, "dir")),
			(long long)json_integer_value(json_object_get(io, "port")),
			(long long)json_integer_value(json_object_get(io, "size")),
			(long long)json_integer_value(json_object_get(io, "count")),
			json_string_value(json_object_get(io, "data")));
	if (mmio)
		fprintf(out, " %s %s len %lld data %s",
			json_is_true(json_object_get(mmio, "write")) ? "write" : "read",
			json_string_value(json_object_get(mmio, "addr")),
			(long long)json_integer_value(json_object_get(mmio, "len")),
			json_string_value(json_object_get(mmio, "data")));
	fprintf(out, ", rip 0x%" PRIx64, rip);
}

/* "0f a2  cpuid": the bytes at rip in s's guest memory, disassembled where Capstone is built in. */
static void show_instruction(FILE *out, struct side *s, const char *what, uint64_t rip)
{
	uint8_t bytes[TV_INSN_MAX];
	struct tv_sregs sregs;
	char text[128];
	size_t n, len;

	if (!s->live || s->m.be->get_sregs(s->m.vcpu, &sregs) != 0)
		return;
	n = tv_insn_fetch(&s->m.ram, &sregs, rip, bytes);
	fprintf(out, "  %s at rip 0x%" PRIx64 ":", what, rip);
	if (n == 0) {
		fprintf(out, " (not readable)\n");
		return;
	}
	len = tv_disasm(bytes, n, tv_code_bits(&sregs), rip, text, sizeof(text));
	if (len == 0)
		len = n < 8 ? n : 8;
	for (size_t i = 0; i < len; i++)
		fprintf(out, " %02x", bytes[i]);
	fprintf(out, "  %s\n", text[0] ? text : tv_disasm_none());
}

static void show_history(FILE *out, const struct side *s, const char *unit)
{
	uint64_t first = s->count > HISTORY ? s->count - HISTORY : 0;

	if (s->count == 0)
		return;
	fprintf(out, "  the last %s before it (agreed):\n", unit);
	for (uint64_t i = first; i < s->count; i++) {
		fprintf(out, "    #%" PRIu64 " ", i + 1);
		describe(out, s->history[i % HISTORY]);
		fprintf(out, "\n");
	}
}

void tv_diff_report(const struct tv_diff_opts *o, struct side *a, struct side *b,
		    const struct divergence *d, bool step)
{
	const char *unit = step ? "instruction" : "exit";
	const json_t *last = d->rec_a;
	uint64_t rip = 0;

	fprintf(o->out, "DIVERGED at %s %" PRIu64 ": %s: %s %s, %s %s\n", unit, d->index,
		d->field->name, a->label, d->a, b->live ? b->label : o->golden_name, d->b);
	if (last) {
		fprintf(o->out, "  %s: ", a->label);
		describe(o->out, last);
		fprintf(o->out, "\n");
		tv_trace_hex(json_object_get(last, "regs"), "rip", &rip);
	}
	if (d->rec_b) {
		fprintf(o->out, "  %s: ", b->live ? b->label : o->golden_name);
		describe(o->out, d->rec_b);
		fprintf(o->out, "\n");
	}
	if (step && d->have_prev)
		show_instruction(o->out, a, "the instruction that differs", d->prev_rip);
	show_instruction(o->out, a, "next instruction", rip);
	show_history(o->out, a, step ? "instructions" : "exits");
}
