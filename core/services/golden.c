/* Golden traces: each line the trace reader yields, checked field by field before diff uses it. */
#include "golden.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "backend.h"
#include "diff_fields.h"
#include "record.h"
#include "trace_header.h"

/* "field": what is wrong with it; always -EINVAL. */
static int bad_field(char *msg, size_t len, const char *field, const char *what)
{
	snprintf(msg, len, "\"%s\": %s", field, what);
	return -EINVAL;
}

/* "0x" and 1 to 16 hex digits, as tv_json_hex writes; strtoull alone would take signs and
 * spaces. */
static bool hex_text(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n;

	if (!s || strncmp(s, "0x", 2) != 0)
		return false;
	n = strlen(s + 2);
	return n >= 1 && n <= 16 && strspn(s + 2, "0123456789abcdefABCDEF") == n &&
	       json_string_length(v) == n + 2;
}

static int check_hex(const json_t *obj, const char *key, const char *field, bool required,
		     char *msg, size_t len)
{
	const json_t *v = json_object_get(obj, key);

	if (!v)
		return required ? bad_field(msg, len, field, "missing") : 0;
	return hex_text(v) ? 0 : bad_field(msg, len, field, "not a \"0x...\" 64-bit hex string");
}

/* An integer member from min to max. */
static int check_int(const json_t *obj, const char *key, const char *field, json_int_t min,
		     json_int_t max, char *msg, size_t len)
{
	const json_t *v = json_object_get(obj, key);
	char what[96];

	if (!v)
		return bad_field(msg, len, field, "missing");
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(what, sizeof(what), "not an integer from %lld to %lld", (long long)min,
			 (long long)max);
		return bad_field(msg, len, field, what);
	}
	return 0;
}

/* Guest bytes as hex: exactly bytes of them. */
static int check_data(const json_t *obj, const char *field, size_t bytes, char *msg, size_t len)
{
	const json_t *v = json_object_get(obj, "data");
	const char *s = json_string_value(v);
	char what[96];

	if (!s || json_string_length(v) != 2 * bytes || strspn(s, "0123456789abcdef") != 2 * bytes) {
		snprintf(what, sizeof(what), "not %zu bytes as lower-case hex", bytes);
		return bad_field(msg, len, field, what);
	}
	return 0;
}

static const json_t *object_member(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_object(v) ? v : NULL;
}

static int check_io(const json_t *rec, char *msg, size_t len)
{
	const json_t *io = object_member(rec, "io");
	const char *dir;
	json_int_t size, count;
	int rc;

	if (!io)
		return bad_field(msg, len, "io", "not an object (an IO record needs one)");
	dir = json_string_value(json_object_get(io, "dir"));
	if (!dir || (strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0))
		return bad_field(msg, len, "io.dir", "not \"in\" or \"out\"");
	if ((rc = check_int(io, "port", "io.port", 0, 0xffff, msg, len)) ||
	    (rc = check_int(io, "size", "io.size", 1, 4, msg, len)) ||
	    (rc = check_int(io, "count", "io.count", 1, TV_RECORD_DATA_MAX, msg, len)))
		return rc;
	size = json_integer_value(json_object_get(io, "size"));
	count = json_integer_value(json_object_get(io, "count"));
	if (size == 3)
		return bad_field(msg, len, "io.size", "not 1, 2 or 4");
	if (size * count > TV_RECORD_DATA_MAX)
		return bad_field(msg, len, "io.count", "more data than one record holds");
	if (json_is_null(json_object_get(io, "data")))
		return 0; /* an exit whose data the engine did not give */
	return check_data(io, "io.data", (size_t)(size * count), msg, len);
}

static int check_mmio(const json_t *rec, char *msg, size_t len)
{
	const json_t *mmio = object_member(rec, "mmio");
	int rc;

	if (!mmio)
		return bad_field(msg, len, "mmio", "not an object (an MMIO record needs one)");
	if ((rc = check_hex(mmio, "addr", "mmio.addr", true, msg, len)) ||
	    (rc = check_int(mmio, "len", "mmio.len", 1, 8, msg, len)))
		return rc;
	if (!json_is_boolean(json_object_get(mmio, "write")))
		return bad_field(msg, len, "mmio.write", "not true or false");
	return check_data(mmio, "mmio.data",
			  (size_t)json_integer_value(json_object_get(mmio, "len")), msg, len);
}

/* Every field of the table under "regs" and "sregs": "0x..." hex, in objects where the table
 * puts them (the field names the member as its path does: "sregs.cs.sel"). */
static int check_state(const json_t *rec, char *msg, size_t len)
{
	const json_t *regs = json_object_get(rec, "regs"), *sregs = json_object_get(rec, "sregs");
	char field[32];
	int rc;

	/* Both or neither: the writer leaves them out together when the state was unreadable. */
	if (!regs != !sregs)
		return bad_field(msg, len, regs ? "sregs" : "regs", "missing (the other is there)");
	if (!regs)
		return 0;
	if (!json_is_object(regs))
		return bad_field(msg, len, "regs", "not an object");
	if (!json_is_object(sregs))
		return bad_field(msg, len, "sregs", "not an object");
	for (const struct tv_diff_field *f = tv_diff_field_table; f->name; f++) {
		const json_t *obj = strcmp(f->path[0], "regs") == 0 ? regs : sregs;
		const char *key = f->path[1];

		if (strcmp(f->path[0], "regs") != 0 && strcmp(f->path[0], "sregs") != 0)
			continue;
		if (f->path[2]) { /* a segment: "sregs.cs" must be an object */
			obj = object_member(obj, f->path[1]);
			snprintf(field, sizeof(field), "%s.%s", f->path[0], f->path[1]);
			if (!obj)
				return bad_field(msg, len, field, "not an object");
			key = f->path[2];
			snprintf(field, sizeof(field), "%s.%s.%s", f->path[0], f->path[1], key);
		} else {
			snprintf(field, sizeof(field), "%s.%s", f->path[0], key);
		}
		if ((rc = check_hex(obj, key, field, true, msg, len)))
			return rc;
	}
	return 0;
}

static int check_hypercall(const json_t *rec, char *msg, size_t len)
{
	const json_t *hc = json_object_get(rec, "hypercall");
	const json_t *error;
	int rc;

	if (!hc)
		return 0;
	if (!json_is_object(hc))
		return bad_field(msg, len, "hypercall", "not an object");
	if (!json_is_string(json_object_get(hc, "name")))
		return bad_field(msg, len, "hypercall.name", "not a string");
	if ((rc = check_hex(hc, "arg", "hypercall.arg", false, msg, len)) ||
	    (rc = check_hex(hc, "result", "hypercall.result", false, msg, len)) ||
	    (rc = check_hex(hc, "gpa", "hypercall.gpa", false, msg, len)) ||
	    (rc = check_hex(hc, "hva", "hypercall.hva", false, msg, len)))
		return rc;
	error = json_object_get(hc, "error");
	if (error && !json_is_string(error))
		return bad_field(msg, len, "hypercall.error", "not a string");
	error = json_object_get(hc, "text");
	if (error && !json_is_string(error))
		return bad_field(msg, len, "hypercall.text", "not a string");
	return 0;
}

/* The exit's instruction: its address and 1 to 15 bytes as lower-case hex. */
static int check_insn(const json_t *rec, char *msg, size_t len)
{
	const json_t *insn = json_object_get(rec, "insn");
	const char *b;
	size_t n;
	int rc;

	if (!insn)
		return 0;
	if (!json_is_object(insn))
		return bad_field(msg, len, "insn", "not an object");
	if ((rc = check_hex(insn, "rip", "insn.rip", true, msg, len)))
		return rc;
	b = json_string_value(json_object_get(insn, "bytes"));
	n = b ? json_string_length(json_object_get(insn, "bytes")) : 0;
	if (!b || n < 2 || n > 30 || n % 2 || strspn(b, "0123456789abcdef") != n)
		return bad_field(msg, len, "insn.bytes", "not 1 to 15 bytes as lower-case hex");
	return 0;
}

static int check_record(const json_t *rec, char *msg, size_t len)
{
	const json_t *reason = json_object_get(rec, "reason"), *detail;
	const char *name = json_string_value(reason);
	json_int_t code;
	int rc;

	if ((rc = check_int(rec, "vm", "vm", 0, INT32_MAX, msg, len)) ||
	    (rc = check_int(rec, "seq", "seq", 1, INT64_MAX, msg, len)))
		return rc;
	if (!name)
		return bad_field(msg, len, "reason", "not a string");
	if ((rc = check_int(rec, "code", "code", 0, TV_EXIT_REASON_MAX - 1, msg, len)))
		return rc;
	code = json_integer_value(json_object_get(rec, "code"));
	if (strcmp(tv_exit_reason_name((int)code), name) != 0)
		return bad_field(msg, len, "reason", "not the name of the exit \"code\" gives");
	detail = json_object_get(rec, "detail");
	if (detail && !json_is_string(detail))
		return bad_field(msg, len, "detail", "not a string");
	if (code == TV_EXIT_IO)
		rc = check_io(rec, msg, len);
	else if (json_object_get(rec, "io"))
		return bad_field(msg, len, "io", "present in a record that is not IO");
	if (!rc && code == TV_EXIT_MMIO)
		rc = check_mmio(rec, msg, len);
	else if (!rc && json_object_get(rec, "mmio"))
		return bad_field(msg, len, "mmio", "present in a record that is not MMIO");
	if (!rc)
		rc = check_state(rec, msg, len);
	if (!rc)
		rc = check_hypercall(rec, msg, len);
	if (!rc)
		rc = check_insn(rec, msg, len);
	return rc;
}

/* A line parsed as an object: a record into *rec or the RAM line into *ram (the other NULL).
 * Takes line's reference. */
static int classify(json_t *line, json_t **rec, json_t **ram, char *msg, size_t msglen)
{
	json_t *r = json_object_get(line, "ram");
	int rc;

	*rec = *ram = NULL;
	if (r) {
		rc = json_is_object(r) ? 0 : bad_field(msg, msglen, "ram", "not an object");
		if (!rc && json_object_get(line, "vm"))
			rc = check_int(line, "vm", "vm", 0, INT32_MAX, msg, msglen);
		if (!rc)
			rc = check_hex(r, "size", "ram.size", true, msg, msglen);
		if (!rc)
			rc = check_hex(r, "fnv1a64", "ram.fnv1a64", true, msg, msglen);
		if (!rc)
			*ram = json_incref(r);
		json_decref(line);
		return rc;
	}
	rc = check_record(line, msg, msglen);
	if (rc) {
		json_decref(line);
		return rc;
	}
	*rec = line;
	return 0;
}

int tv_golden_parse_line(const char *buf, size_t len, json_t **rec, json_t **ram, char *msg,
			 size_t msglen)
{
	json_t *line;
	int rc;

	*rec = *ram = NULL;
	rc = tv_trace_parse_line(buf, len, &line, msg, msglen);
	return rc ? rc : classify(line, rec, ram, msg, msglen);
}

/* The header line, which only the first line may be, into g->header. */
static int header_line(struct tv_golden *g, json_t *line, char *why, size_t len)
{
	int rc = -EINVAL;

	if (g->in.line != 1)
		snprintf(why, len, "a header line (\"%s\"), but not the first line", TV_TRACE_HEADER_KEY);
	else
		rc = tv_golden_header_parse(line, &g->header, why, len);
	json_decref(line);
	return rc;
}

int tv_golden_next(struct tv_golden *g, json_t **rec, char *msg, size_t msglen)
{
	char why[256];
	json_t *line, *ram = NULL;
	int rc;

	*rec = NULL;
	while ((rc = tv_trace_read(&g->in, &line, msg, msglen)) == 1) {
		if (tv_golden_is_header(line)) {
			rc = header_line(g, line, why, sizeof(why));
		} else if (g->ram) {
			json_decref(line);
			snprintf(why, sizeof(why), "a line after the final RAM record");
			rc = -EINVAL;
		} else {
			rc = classify(line, rec, &ram, why, sizeof(why));
		}
		if (rc) {
			snprintf(msg, msglen, "line %" PRIu64 ": %s", g->in.line, why);
			return rc;
		}
		if (*rec)
			return 1;
		if (ram)
			g->ram = ram;
	}
	/* A trace ends with guest RAM's line: without it, it was cut short (a disk full, a killed
	 * recording) and would pass as a shorter run. */
	if (rc == 0 && !g->ram) {
		if (g->in.line == 0)
			snprintf(msg, msglen, "is empty");
		else
			snprintf(msg, msglen, "line %" PRIu64 ": the trace ends without its final RAM "
				 "record (cut short?)", g->in.line);
		rc = -EINVAL;
	}
	return rc;
}

void tv_golden_free(struct tv_golden *g)
{
	json_decref(g->ram);
	g->ram = NULL;
}

int tv_golden_check(FILE *f, struct tv_golden_header *header, char *msg, size_t msglen)
{
	struct tv_golden g = { .in.f = f };
	json_t *rec;
	int rc;

	while ((rc = tv_golden_next(&g, &rec, msg, msglen)) == 1)
		json_decref(rec);
	tv_golden_free(&g);
	if (rc == 0 && header)
		*header = g.header;
	if (rc == 0 && fseek(f, 0, SEEK_SET) != 0) {
		rc = -errno;
		snprintf(msg, msglen, "cannot read it again: %s", strerror(errno));
	}
	return rc;
}
