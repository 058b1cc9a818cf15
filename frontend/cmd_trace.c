/* `twinvm trace show FILE`: a trace read the way a person reads it, one exit a line. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "disasm.h"
#include "trace.h"
#include "trace_read.h"

static const char trace_usage[] =
	"usage: twinvm trace show FILE.jsonl|-\n"
	"Prints a trace (twinvm run --trace, twinvm matrix --trace; - reads stdin) one exit a line:\n"
	"its number, the exit reason, the port or address, the data (as text where it is\n"
	"printable), the hypercall and its result, RIP, and the instruction that made the exit,\n"
	"disassembled (with Capstone). Then a summary: the exits by reason, the hypercalls, guest\n"
	"RAM's hash.\n"
	"\n"
	"  -h, --help  this text\n"
	"\n"
	"Exit status: 0 shown; 2 usage error, or a line that is no JSON object (file and line\n"
	"named).\n";

#define KINDS 32

/* What the summary counts: one name and its count per kind seen. */
struct tally {
	char name[KINDS][32];
	unsigned long count[KINDS];
	int n;
};

static void tally_add(struct tally *t, const char *name)
{
	int i;

	for (i = 0; i < t->n && strcmp(t->name[i], name) != 0; i++)
		;
	if (i == t->n && t->n == KINDS)
		i = KINDS - 1; /* more kinds than a trace has: the last one counts the rest */
	else if (i == t->n)
		snprintf(t->name[t->n++], sizeof(t->name[0]), "%s", name);
	t->count[i]++;
}

static void tally_print(const struct tally *t)
{
	for (int i = 0; i < t->n; i++)
		printf("%s%s %lu", i ? ", " : "", t->name[i], t->count[i]);
}

static const char *str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static uint64_t hex(const json_t *obj, const char *key)
{
	uint64_t v = 0;

	tv_trace_hex(obj, key, &v);
	return v;
}

/* Bytes as a person reads them: 'Hi\n' when every one is printable, else hex; cut to fit in len
 * with "..." at the end. */
static void bytes_text(const uint8_t *b, size_t n, char *out, size_t len)
{
	size_t o = 0;
	bool text = n > 0;

	for (size_t i = 0; i < n && text; i++)
		text = (b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\n';
	if (text)
		out[o++] = '\'';
	for (size_t i = 0; i < n; i++) {
		if (o + 8 >= len) {
			o += (size_t)snprintf(out + o, len - o, "...");
			break;
		}
		if (!text)
			o += (size_t)snprintf(out + o, len - o, "%s%02x", i ? " " : "", b[i]);
		else if (b[i] == '\n')
			o += (size_t)snprintf(out + o, len - o, "\\n");
		else
			out[o++] = (char)b[i];
	}
	if (text)
		out[o++] = '\'';
	out[o] = '\0';
}

/* Hex text ("48656c") into at most max bytes; how many. A trace is the user's file: the text
 * is read pair by pair up to its end, whatever it holds. */
static size_t hex_bytes(const char *hexdata, uint8_t *b, size_t max)
{
	size_t n = 0, len = strlen(hexdata);
	unsigned v;

	for (; n < max && 2 * n + 1 < len && isxdigit((unsigned char)hexdata[2 * n]) &&
	       isxdigit((unsigned char)hexdata[2 * n + 1]) &&
	       sscanf(hexdata + 2 * n, "%2x", &v) == 1; n++)
		b[n] = (uint8_t)v;
	return n;
}

static void data_text(const char *hexdata, char *out, size_t len)
{
	uint8_t b[64];

	bytes_text(b, hex_bytes(hexdata, b, sizeof(b)), out, len);
}

/* "out 0xe9" or "read 0xfee00000/4": where the exit went. */
static void where_text(const json_t *rec, char *out, size_t len, char *data, size_t dlen)
{
	const json_t *io = json_object_get(rec, "io"), *mmio = json_object_get(rec, "mmio");

	out[0] = data[0] = '\0';
	if (io) {
		snprintf(out, len, "%-3s 0x%" PRIx64, str(io, "dir"),
			 (uint64_t)json_integer_value(json_object_get(io, "port")));
		data_text(str(io, "data"), data, dlen);
	} else if (mmio) {
		snprintf(out, len, "%s 0x%" PRIx64 "/%" JSON_INTEGER_FORMAT,
			 json_is_true(json_object_get(mmio, "write")) ? "write" : "read",
			 hex(mmio, "addr"), json_integer_value(json_object_get(mmio, "len")));
		data_text(str(mmio, "data"), data, dlen);
	}
}

/* "HC_print32bit(0x2a)", "HC_numExits = 0x3", "HC_gvaToHva(0xfffff000) = 0x0 (refused)"; the
 * string HC_printStr printed goes in the data column instead of its pointer. */
static void hypercall_text(const json_t *hc, char *out, size_t len, char *data, size_t dlen)
{
	const char *text = json_string_value(json_object_get(hc, "text"));
	int o = 0;

	out[0] = '\0';
	if (!hc)
		return;
	o += snprintf(out + o, len - (size_t)o, "%s", str(hc, "name"));
	if (json_object_get(hc, "arg"))
		o += snprintf(out + o, len - (size_t)o, "(%s)", str(hc, "arg"));
	if (o < (int)len && json_object_get(hc, "result"))
		o += snprintf(out + o, len - (size_t)o, " = %s", str(hc, "result"));
	if (o < (int)len && json_object_get(hc, "error"))
		snprintf(out + o, len - (size_t)o, " (refused)");
	if (text) /* ASCII reads as itself; a string with other bytes is shown in hex */
		bytes_text((const uint8_t *)text, strlen(text), data, dlen);
}

/* The record's instruction, disassembled in the width its CR0 and EFER say. */
static void insn_text(const json_t *rec, char *out, size_t len)
{
	const json_t *insn = json_object_get(rec, "insn"), *sregs = json_object_get(rec, "sregs");
	const char *bytes = str(insn, "bytes");
	uint8_t b[16];
	size_t n, o = 0;
	char text[96];
	int bits = !(hex(sregs, "cr0") & 1) ? 16 : (hex(sregs, "efer") & (1u << 10)) ? 64 : 32;

	out[0] = '\0';
	if (!insn)
		return;
	n = hex_bytes(bytes, b, sizeof(b));
	for (size_t i = 0; i < n && o + 4 < 32; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%02x", i ? " " : "", b[i]);
	if (tv_disasm(b, n, bits, hex(insn, "rip"), text, sizeof(text)) == n && n)
		snprintf(out + o, len - o, "%*s%s", (int)(o < 21 ? 21 - o : 1), "", text);
}

static void show_record(const json_t *rec, bool vms)
{
	char where[32], data[21], hc[72], insn[160];
	const json_t *insn_obj = json_object_get(rec, "insn"), *h = json_object_get(rec, "hypercall");

	where_text(rec, where, sizeof(where), data, sizeof(data));
	hypercall_text(h, hc, sizeof(hc), data, sizeof(data));
	insn_text(rec, insn, sizeof(insn));
	if (vms)
		printf("vm%-2" JSON_INTEGER_FORMAT " ", json_integer_value(json_object_get(rec, "vm")));
	printf("%5" JSON_INTEGER_FORMAT "  %-8s %-12s %-20s %-34s 0x%-8" PRIx64 " %s\n",
	       json_integer_value(json_object_get(rec, "seq")), str(rec, "reason"), where, data, hc,
	       insn_obj ? hex(insn_obj, "rip") : hex(json_object_get(rec, "regs"), "rip"), insn);
	if (json_object_get(rec, "detail"))
		printf("       %s\n", str(rec, "detail"));
	if (json_object_get(h, "error"))
		printf("       %s: %s\n", str(h, "name"), str(h, "error"));
}

static void show_header(const json_t *h)
{
	const json_t *cpu = json_object_get(h, "cpu");

	printf("trace of %s in %s mode on %s, 0x%" PRIx64 " bytes of RAM", str(h, "guest"),
	       str(h, "mode"), str(h, "engine"), hex(h, "mem"));
	if (json_integer_value(json_object_get(h, "max_exits")))
		printf(", at most %" JSON_INTEGER_FORMAT " exits",
		       json_integer_value(json_object_get(h, "max_exits")));
	printf("; CPU %s%s%s (twinvm %s)\n", str(cpu, "vendor"), cpu && json_object_get(cpu, "brand")
	       ? " " : "", str(cpu, "brand"), str(h, "version"));
	printf("  seq  reason   where        data                 hypercall                          "
	       "rip        instruction\n");
}

/* Every line of in shown; 0, or the usage status after one line on stderr. */
static int show(struct tv_trace_reader *in)
{
	struct tally reasons = { .n = 0 }, calls = { .n = 0 };
	json_t *obj, *ram = NULL;
	char msg[512];
	int rc;
	bool vms = false;
	unsigned long exits = 0;

	while ((rc = tv_trace_read(in, &obj, msg, sizeof(msg))) == 1) {
		if (json_object_get(obj, "twinvm_trace")) {
			show_header(json_object_get(obj, "twinvm_trace"));
		} else if (json_object_get(obj, "ram")) {
			json_decref(ram);
			ram = json_incref(json_object_get(obj, "ram"));
		} else if (json_object_get(obj, "reason")) {
			vms = vms || json_integer_value(json_object_get(obj, "vm")) != 0;
			show_record(obj, vms);
			exits++;
			tally_add(&reasons, str(obj, "reason"));
			if (json_object_get(obj, "hypercall"))
				tally_add(&calls, str(json_object_get(obj, "hypercall"), "name"));
		}
		json_decref(obj);
	}
	if (rc < 0) {
		fprintf(stderr, "twinvm trace: %s\n", msg);
		json_decref(ram);
		return TV_EXIT_STATUS_USAGE;
	}
	printf("%lu exit%s: ", exits, exits == 1 ? "" : "s");
	tally_print(&reasons);
	if (calls.n) {
		printf("; hypercalls: ");
		tally_print(&calls);
	}
	if (ram)
		printf("; guest RAM 0x%" PRIx64 " bytes, fnv1a64 0x%016" PRIx64, hex(ram, "size"),
		       hex(ram, "fnv1a64"));
	printf("\n");
	json_decref(ram);
	return TV_EXIT_STATUS_OK;
}

int tv_cmd_trace(int argc, char **argv)
{
	struct tv_trace_reader in = { .f = NULL };
	char why[256];
	int status;

	if (argc >= 2 && (!strcmp(argv[argc - 1], "-h") || !strcmp(argv[argc - 1], "--help"))) {
		fputs(trace_usage, stdout);
		return TV_EXIT_STATUS_OK;
	}
	if (argc < 2)
		return tv_usage_error("trace", "give a command: show FILE");
	if (strcmp(argv[1], "show") != 0)
		return tv_usage_error("trace", "unknown command '%s' (show FILE)", argv[1]);
	if (argc != 3)
		return tv_usage_error("trace", "show takes one trace file");
	in.name = argv[2];
	if (!strcmp(argv[2], "-")) {
		in.f = stdin;
		in.name = "stdin";
	} else if (tv_input_open(argv[2], &in.f, NULL, why, sizeof(why)) != 0) {
		fprintf(stderr, "twinvm trace: %s: %s\n", argv[2], why);
		return TV_EXIT_STATUS_USAGE;
	}
	status = show(&in);
	if (in.f != stdin)
		fclose(in.f);
	return status;
}
