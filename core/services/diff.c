/* Lockstep comparison of two engines, or of one engine and a golden trace. */
#include "diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "disasm.h"
#include "insn.h"
#include "kick.h"
#include "machine.h"
#include "record.h"
#include "trace.h"

#define HISTORY 4            /* records shown before a divergence */
#define LOCATE_MAX_STEPS 5000000ull /* steps to locate an instruction; also a rep catch-up's bound */

/* A compared field: its name and its path in a trace record. */
struct field {
	const char *name;
	const char *path[3];
};

static const struct field fields[] = {
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
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct {
	const char *name;
	int bit;
} flag_bits[] = {
	{ "cf", 0 }, { "pf", 2 }, { "af", 4 }, { "zf", 6 }, { "sf", 7 },
	{ "tf", 8 }, { "if", 9 }, { "df", 10 }, { "of", 11 }, { "rf", 16 },
};

const char *const tv_diff_fields[] = {
	"reason", "io.dir", "io.port", "io.size", "io.count", "io.data", "mmio.addr", "mmio.len",
	"mmio.write", "mmio.data", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8",
	"r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags", "cs.sel", "cs.base",
	"ds.sel", "ds.base", "es.sel", "es.base", "fs.sel", "fs.base", "gs.sel", "gs.base",
	"ss.sel", "ss.base", "cr0", "cr3", "cr4", "efer", "ram", NULL,
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
	for (size_t i = 0; tv_diff_fields[i]; i++)
		if (strcmp(name, tv_diff_fields[i]) == 0)
			return true;
	return flag_bit(name) >= 0;
}

static bool ignored(const struct tv_diff_opts *o, const char *name)
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

static const json_t *field_value(const json_t *rec, const struct field *f)
{
	const json_t *v = rec;

	for (int i = 0; i < 3 && f->path[i] && v; i++)
		v = json_object_get(v, f->path[i]);
	return v;
}

static void value_text(const json_t *v, char *buf, size_t len)
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

/* The first field in which a and b differ, or NULL. undefined: RFLAGS bits the instruction
 * just stepped leaves undefined, not compared either. */
static const struct field *first_difference(const struct tv_diff_opts *o, const json_t *a,
					     const json_t *b, uint64_t undefined)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		const json_t *va = field_value(a, f), *vb = field_value(b, f);

		if (ignored(o, f->name))
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

/* Where error lines go: never into the report. */
static FILE *diff_err(const struct tv_diff_opts *o)
{
	return o->err ? o->err : stderr;
}

/* ---- golden traces: reading and checking ------------------------------------------------------ */

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

static int check_state(const json_t *rec, char *msg, size_t len)
{
	static const char *const segs[] = { "cs", "ds", "es", "fs", "gs", "ss" };
	static const char *const crs[] = { "cr0", "cr3", "cr4", "efer" };
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
	for (size_t i = 0; i < NFIELDS; i++) {
		if (strcmp(fields[i].path[0], "regs") != 0)
			continue;
		snprintf(field, sizeof(field), "regs.%s", fields[i].path[1]);
		if ((rc = check_hex(regs, fields[i].path[1], field, true, msg, len)))
			return rc;
	}
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		const json_t *seg = object_member(sregs, segs[i]);

		snprintf(field, sizeof(field), "sregs.%s", segs[i]);
		if (!seg)
			return bad_field(msg, len, field, "not an object");
		snprintf(field, sizeof(field), "sregs.%s.sel", segs[i]);
		if ((rc = check_hex(seg, "sel", field, true, msg, len)))
			return rc;
		snprintf(field, sizeof(field), "sregs.%s.base", segs[i]);
		if ((rc = check_hex(seg, "base", field, true, msg, len)))
			return rc;
	}
	for (size_t i = 0; i < sizeof(crs) / sizeof(crs[0]); i++) {
		snprintf(field, sizeof(field), "sregs.%s", crs[i]);
		if ((rc = check_hex(sregs, crs[i], field, true, msg, len)))
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
	    (rc = check_hex(hc, "result", "hypercall.result", false, msg, len)))
		return rc;
	error = json_object_get(hc, "error");
	if (error && !json_is_string(error))
		return bad_field(msg, len, "hypercall.error", "not a string");
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
	return rc;
}

int tv_golden_parse_line(const char *buf, size_t len, json_t **rec, json_t **ram, char *msg,
			 size_t msglen)
{
	json_error_t err;
	json_t *line, *r;
	int rc;

	*rec = *ram = NULL;
	line = json_loadb(buf, len, 0, &err);
	if (!line) {
		snprintf(msg, msglen, "not JSON: %s (column %d)", err.text, err.column);
		return -EINVAL;
	}
	if (!json_is_object(line)) {
		json_decref(line);
		snprintf(msg, msglen, "not a JSON object");
		return -EINVAL;
	}
	r = json_object_get(line, "ram");
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

/* One line of f into buf without its newline: 1, 0 at the end, -EFBIG when longer than cap - 1
 * bytes, -EIO. NUL bytes are kept: len says where the line ends. */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (n == cap - 1)
			return -EFBIG;
		buf[n++] = (char)c;
	}
	if (ferror(f))
		return -EIO;
	if (c == EOF && n == 0)
		return 0;
	buf[n] = '\0';
	*len = n;
	return 1;
}

int tv_golden_next(struct tv_golden *g, json_t **rec, char *msg, size_t msglen)
{
	char *buf = malloc(TV_GOLDEN_LINE_MAX), why[256];
	size_t n;
	int rc;

	*rec = NULL;
	if (!buf) {
		snprintf(msg, msglen, "line %" PRIu64 ": out of memory", g->line + 1);
		return -ENOMEM;
	}
	for (;;) {
		json_t *ram;

		rc = read_line(g->f, buf, TV_GOLDEN_LINE_MAX, &n);
		if (rc <= 0)
			break;
		g->line++;
		rc = tv_golden_parse_line(buf, n, rec, &ram, why, sizeof(why));
		if (rc) {
			snprintf(msg, msglen, "line %" PRIu64 ": %s", g->line, why);
			break;
		}
		if (*rec) {
			rc = 1;
			break;
		}
		json_decref(g->ram);
		g->ram = ram;
	}
	if (rc == -EFBIG)
		snprintf(msg, msglen, "line %" PRIu64 ": longer than %d bytes", g->line + 1,
			 TV_GOLDEN_LINE_MAX - 1);
	else if (rc == -EIO)
		snprintf(msg, msglen, "line %" PRIu64 ": %s", g->line + 1,
			 strerror(errno ? errno : EIO));
	free(buf);
	return rc;
}

void tv_golden_free(struct tv_golden *g)
{
	json_decref(g->ram);
	g->ram = NULL;
}

int tv_golden_check(FILE *f, char *msg, size_t msglen)
{
	struct tv_golden g = { .f = f };
	json_t *rec;
	int rc;

	while ((rc = tv_golden_next(&g, &rec, msg, msglen)) == 1)
		json_decref(rec);
	tv_golden_free(&g);
	if (rc == 0 && fseek(f, 0, SEEK_SET) != 0) {
		rc = -errno;
		snprintf(msg, msglen, "cannot read it again: %s", strerror(errno));
	}
	return rc;
}

/* ---- the two sides ---------------------------------------------------------------------- */

struct side {
	const char *label;
	bool live;
	struct tv_machine m;
	struct tv_record *rec;
	struct tv_recorder recorder;
	struct tv_golden golden; /* golden.f NULL: a live side */
	json_t *history[HISTORY];
	uint64_t count;
};

static int side_open_live(struct side *s, const struct tv_diff_opts *o,
			  const struct tv_backend_ops *be, bool step)
{
	struct tv_machine_opts mopt = {
		.backend = be, .ram_size = o->ram_size,
		.run_flags = step ? TV_RUN_STEP : TV_RUN_PRECISE, .cpu_model = o->cpu_model,
	};
	int rc;

	memset(s, 0, sizeof(*s));
	s->label = be->name;
	/* The guest's console output is not what diff shows; its bytes are in the records. */
	mopt.console = fopen("/dev/null", "w");
	if (!mopt.console)
		return -errno;
	s->rec = malloc(sizeof(*s->rec));
	rc = s->rec ? tv_machine_boot(&s->m, &mopt, o->image, o->len, o->mode) : -ENOMEM;
	if (rc) {
		fclose(mopt.console);
		return rc;
	}
	s->live = true; /* side_close destroys the machine and closes its console */
	return 0;
}

static void side_close(struct side *s)
{
	if (s->live) {
		fclose(s->m.opt.console);
		tv_machine_destroy(&s->m);
	}
	free(s->rec);
	tv_recorder_free(&s->recorder);
	tv_golden_free(&s->golden);
	for (int i = 0; i < HISTORY; i++)
		json_decref(s->history[i]);
	memset(s, 0, sizeof(*s));
}

/* The side's next record (a new reference), or NULL at the end of a golden trace or on an
 * error (with the text in why). */
static json_t *side_next(struct side *s, const struct tv_diff_opts *o, char *why, size_t len)
{
	json_t *rec;
	int rc;

	why[0] = '\0';
	if (!s->live) {
		char msg[384];

		rc = tv_golden_next(&s->golden, &rec, msg, sizeof(msg));
		if (rc < 0)
			snprintf(why, len, "%s %s", o->golden_name, msg);
		return rc == 1 ? rec : NULL;
	}
	rc = tv_kick_arm(s->m.be, s->m.vcpu, o->timeout_s);
	if (!rc)
		rc = tv_record_next(&s->recorder, &s->m, s->rec);
	tv_kick_disarm();
	if (rc) {
		snprintf(why, len, "%s: %s", s->label, tv_last_error());
		return NULL;
	}
	if (s->rec->exit.reason == TV_EXIT_INTR && tv_kick_timed_out()) {
		snprintf(why, len, "%s: no exit within %g s (raise --timeout, or use --step)",
			 s->label, o->timeout_s);
		return NULL;
	}
	return tv_record_json(0, s->count + 1, s->rec);
}

static void side_remember(struct side *s, json_t *rec)
{
	json_decref(s->history[s->count % HISTORY]);
	s->history[s->count % HISTORY] = json_incref(rec);
	s->count++;
}

static bool record_final(const json_t *rec)
{
	const char *r = json_string_value(json_object_get(rec, "reason"));

	return r && strcmp(r, "IO") != 0 && strcmp(r, "MMIO") != 0 && strcmp(r, "DEBUG") != 0 &&
	       strcmp(r, "INTR") != 0;
}

/* ---- the report ---------------------------------------------------------------------------- */

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

/* ---- lockstep ------------------------------------------------------------------------------ */

struct divergence {
	json_t *rec_a, *rec_b; /* the two records where they differ (rec_b NULL: b had none) */
	uint64_t index;
	const struct field *field;
	char a[256], b[256];
	uint64_t prev_rip; /* the RIP of the record before: in step mode, the instruction's address */
	bool have_prev;
};

/* A register of a record, or 0. */
static uint64_t rec_reg(json_t *rec, const char *name)
{
	uint64_t v = 0;

	tv_trace_hex(json_object_get(rec, "regs"), name, &v);
	return v;
}

/* When both sides stopped inside one repeated string instruction (the same RIP as the record
 * before, RCX apart), the side with more iterations left: the SDM has single-step trap after each
 * iteration, but an engine may run several per step (kvm-pvm's instruction emulator batches
 * them). NULL when that is not the case. The side behind is stepped on until RCX matches; if it
 * never does, the instruction's RIP moves on and the difference is reported as usual. */
static struct side *behind_in_repeat(struct side *a, struct side *b, json_t *ra, json_t *rb)
{
	uint64_t rip = rec_reg(ra, "rip"), prev;

	if (!a->count || rip != rec_reg(rb, "rip"))
		return NULL;
	prev = rec_reg(a->history[(a->count - 1) % HISTORY], "rip");
	if (prev != rip || rec_reg(ra, "rcx") == rec_reg(rb, "rcx"))
		return NULL;
	return rec_reg(ra, "rcx") > rec_reg(rb, "rcx") ? a : b;
}

/* Step mode: after s stepped over an instruction, the RFLAGS bits whose value the SDM leaves to
 * the engine: those an instruction left undefined and none has written since (kvm-pvm sets AF
 * after shl where QEMU clears it, and a mov that follows keeps it). *undefined is updated; a
 * golden side, or a build without Capstone, leaves it as it is. */
static void step_flags(const struct tv_diff_opts *o, struct side *s, uint64_t *undefined)
{
	uint8_t bytes[TV_INSN_MAX];
	struct tv_sregs sregs;
	uint64_t undef, defined;
	size_t n;

	if (!o->step || !s->live || !s->count || s->m.be->get_sregs(s->m.vcpu, &sregs) != 0)
		return;
	n = tv_insn_fetch(&s->m.ram, &sregs, rec_reg(s->history[(s->count - 1) % HISTORY], "rip"),
			  bytes);
	if (n && tv_insn_flag_effects(bytes, n, tv_code_bits(&sregs), &undef, &defined) == 0)
		*undefined = (*undefined & ~defined) | undef;
}

static bool is_step(const json_t *rec)
{
	const char *reason = json_string_value(json_object_get(rec, "reason"));

	return reason && strcmp(reason, "DEBUG") == 0;
}

/* Step mode, live against live, at different RIPs: a's engine may run more than one
 * instruction in one step (kvm-pvm runs an iret and the instruction it returns to). b, the
 * emulator, is stepped on, at most CATCH_UP_STEPS, until its record agrees with ra: 1, and *rb
 * is that record. When none agrees (0), *rb stays as it was, for the report. -1 when b fails. */
#define CATCH_UP_STEPS 2

static int catch_up(const struct tv_diff_opts *o, struct side *a, struct side *b, json_t *ra,
		    json_t **rb, uint64_t undefined, char *why, size_t len)
{
	json_t *first = *rb;

	if (!o->step || !a->live || !b->live || !is_step(ra) || !is_step(first) ||
	    rec_reg(ra, "rip") == rec_reg(first, "rip"))
		return 0;
	json_incref(first);
	for (int n = 0; n < CATCH_UP_STEPS; n++) {
		json_t *next;

		side_remember(b, *rb);
		next = side_next(b, o, why, len);
		if (!next) {
			json_decref(first);
			return -1;
		}
		json_decref(*rb);
		*rb = next;
		if (first_difference(o, ra, next, undefined) == NULL) {
			json_decref(first);
			return 1;
		}
		if (!is_step(next))
			break;
	}
	json_decref(*rb); /* none agrees: report the record b stepped to with a */
	*rb = first;
	return 0;
}

/* Runs a and b in lockstep. TV_DIFF_SAME with *count records agreeing, TV_DIFF_DIVERGED with *d
 * filled, TV_DIFF_ERROR with why. */
static enum tv_diff_status lockstep(const struct tv_diff_opts *o, struct side *a, struct side *b,
				    uint64_t max, struct divergence *d, char *why, size_t len)
{
	uint64_t undefined = 0; /* RFLAGS bits left undefined (step mode) */

	for (uint64_t n = 1;; n++) {
		json_t *ra = side_next(a, o, why, len), *rb;
		const struct field *f;

		if (!ra)
			return TV_DIFF_ERROR;
		rb = side_next(b, o, why, len);
		if (!rb) {
			if (why[0]) {
				json_decref(ra);
				return TV_DIFF_ERROR;
			}
			/* The golden trace ended and this engine did not. */
			memset(d, 0, sizeof(*d));
			d->rec_a = ra;
			d->index = n;
			snprintf(d->a, sizeof(d->a), "%s", json_string_value(json_object_get(ra, "reason")));
			snprintf(d->b, sizeof(d->b), "(the trace ends)");
			d->field = &fields[0];
			return TV_DIFF_DIVERGED;
		}
		step_flags(o, a, &undefined);
		f = first_difference(o, ra, rb, undefined);
		for (uint64_t k = 0; f && k < LOCATE_MAX_STEPS; k++) {
			struct side *late = behind_in_repeat(a, b, ra, rb);
			json_t **rec = late == a ? &ra : &rb, *next;

			if (!late)
				break;
			next = side_next(late, o, why, len);
			if (!next) {
				json_decref(ra);
				json_decref(rb);
				return TV_DIFF_ERROR;
			}
			side_remember(late, *rec);
			json_decref(*rec);
			*rec = next;
			f = first_difference(o, ra, rb, undefined);
		}
		if (f) {
			int caught = catch_up(o, a, b, ra, &rb, undefined, why, len);

			if (caught < 0) {
				json_decref(ra);
				json_decref(rb);
				return TV_DIFF_ERROR;
			}
			if (caught)
				f = NULL;
		}
		if (f) {
			d->index = n;
			d->field = f;
			value_text(field_value(ra, f), d->a, sizeof(d->a));
			value_text(field_value(rb, f), d->b, sizeof(d->b));
			d->have_prev = a->count > 0;
			if (d->have_prev)
				tv_trace_hex(json_object_get(a->history[(a->count - 1) % HISTORY], "regs"),
					     "rip", &d->prev_rip);
			d->rec_a = ra;
			d->rec_b = rb;
			return TV_DIFF_DIVERGED;
		}
		side_remember(a, ra);
		side_remember(b, rb);
		json_decref(rb);
		if (record_final(ra) || (max && n >= max)) {
			json_decref(ra);
			return TV_DIFF_SAME;
		}
		json_decref(ra);
	}
}

enum ram_verdict { RAM_DIFFERS, RAM_SAME, RAM_NOT_COMPARED, RAM_ERROR };

/* Compares guest RAM at the end. */
static enum ram_verdict compare_ram(const struct tv_diff_opts *o, struct side *a, struct side *b)
{
	uint64_t ha = tv_ram_hash(&a->m.ram), hb = 0;

	if (ignored(o, "ram"))
		return RAM_NOT_COMPARED;
	if (!b->live) {
		uint64_t size = 0;

		if (!b->golden.ram) {
			/* The closing RAM line follows the last record compared; read on to it. */
			char why[512];
			json_t *more = side_next(b, o, why, sizeof(why));

			if (more) {
				json_decref(more);
				return RAM_NOT_COMPARED; /* the trace goes on: no RAM state here */
			}
			if (why[0]) {
				fprintf(diff_err(o), "twinvm diff: %s\n", why);
				return RAM_ERROR;
			}
		}
		if (!b->golden.ram)
			return RAM_NOT_COMPARED; /* a trace without the RAM line */
		/* Both are there and well formed: tv_golden_next checked them. */
		tv_trace_hex(b->golden.ram, "size", &size);
		tv_trace_hex(b->golden.ram, "fnv1a64", &hb);
		if (size == a->m.ram.size && hb == ha)
			return RAM_SAME;
		fprintf(o->out, "DIVERGED in guest RAM at the end: %s hash 0x%016" PRIx64
			" (%" PRIu64 " bytes), %s 0x%016" PRIx64 " (%" PRIu64 " bytes)\n",
			a->label, ha, a->m.ram.size, o->golden_name, hb, size);
		return RAM_DIFFERS;
	}
	hb = tv_ram_hash(&b->m.ram);
	if (ha == hb && memcmp(a->m.ram.host, b->m.ram.host, a->m.ram.size) == 0)
		return RAM_SAME;
	for (uint64_t i = 0; i < a->m.ram.size; i++) {
		if (a->m.ram.host[i] != b->m.ram.host[i]) {
			fprintf(o->out, "DIVERGED in guest RAM at the end: first difference at "
				"guest-physical 0x%" PRIx64 ": %s 0x%02x, %s 0x%02x (hashes 0x%016" PRIx64
				", 0x%016" PRIx64 ")\n", i, a->label, a->m.ram.host[i], b->label,
				b->m.ram.host[i], ha, hb);
			break;
		}
	}
	return RAM_DIFFERS;
}

static void report_divergence(const struct tv_diff_opts *o, struct side *a, struct side *b,
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

/* After an exit-level divergence between two live engines: the same guest again, instruction by
 * instruction, to name the first instruction after which the two states differ. */
static void locate(const struct tv_diff_opts *o)
{
	struct side a, b;
	struct divergence d;
	char why[512];
	enum tv_diff_status st;

	if (side_open_live(&a, o, o->a, true) != 0) {
		side_close(&a);
		return;
	}
	if (side_open_live(&b, o, o->b, true) != 0) {
		side_close(&a);
		side_close(&b);
		return;
	}
	st = lockstep(o, &a, &b, LOCATE_MAX_STEPS, &d, why, sizeof(why));
	if (st == TV_DIFF_DIVERGED) {
		fprintf(o->out, "stepping the guest again to find the instruction:\n");
		report_divergence(o, &a, &b, &d, true);
		json_decref(d.rec_a);
		json_decref(d.rec_b);
	} else {
		fprintf(o->out, "stepping the guest again found no differing instruction (%s)\n",
			st == TV_DIFF_ERROR ? why : "the states agree after every instruction");
	}
	side_close(&a);
	side_close(&b);
}

enum tv_diff_status tv_diff(const struct tv_diff_opts *o)
{
	const char *unit = o->step ? "instructions" : "exits";
	struct side a, b;
	struct divergence d;
	enum ram_verdict ram = RAM_NOT_COMPARED;
	enum tv_diff_status st;
	char why[512];
	int rc;

	rc = side_open_live(&a, o, o->a, o->step);
	if (rc) {
		fprintf(diff_err(o), "twinvm diff: %s: %s\n", o->a->name, tv_last_error());
		side_close(&a);
		return TV_DIFF_ERROR;
	}
	if (o->b) {
		rc = side_open_live(&b, o, o->b, o->step);
		if (rc) {
			fprintf(diff_err(o), "twinvm diff: %s: %s\n", o->b->name, tv_last_error());
			side_close(&a);
			side_close(&b);
			return TV_DIFF_ERROR;
		}
	} else {
		memset(&b, 0, sizeof(b));
		b.label = o->golden_name;
		b.golden.f = o->golden;
	}

	st = lockstep(o, &a, &b, o->max_records, &d, why, sizeof(why));
	if (st == TV_DIFF_ERROR) {
		fprintf(diff_err(o), "twinvm diff: %s\n", why);
	} else if (st == TV_DIFF_DIVERGED) {
		report_divergence(o, &a, &b, &d, o->step);
		json_decref(d.rec_a);
		json_decref(d.rec_b);
	} else if ((ram = compare_ram(o, &a, &b)) == RAM_DIFFERS) {
		st = TV_DIFF_DIVERGED;
	} else if (ram == RAM_ERROR) {
		st = TV_DIFF_ERROR;
	} else {
		fprintf(o->out, "identical: %" PRIu64 " %s compared (%s, %s mode, %s against %s)%s\n",
			a.count, unit, o->guest_name, tv_mode_name(o->mode), a.label,
			b.live ? b.label : o->golden_name,
			ram == RAM_SAME ? "; guest RAM identical at the end"
					: "; guest RAM not compared");
	}
	side_close(&a);
	side_close(&b);
	if (st == TV_DIFF_DIVERGED && !o->step && o->b)
		locate(o);
	return st;
}
