/* A divergence on disk: its JSON record, written and read back, and both files of it written
 * (the reproducer image is repro_image.c's). */
#include "repro.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "layout.h"
#include "trace.h"

/* ---- JSON ------------------------------------------------------------------------------------ */

static json_t *hex_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *j;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

/* The scratch bytes of st that differ from base, as runs [{"at": n, "bytes": "hex"}]. */
static json_t *scratch_changes(const uint8_t *st, const uint8_t *base)
{
	json_t *runs = json_array();

	for (uint32_t i = 0; runs && i < FZ_SCRATCH_SIZE;) {
		uint32_t j = i;

		if (st[i] == base[i]) {
			i++;
			continue;
		}
		while (j < FZ_SCRATCH_SIZE && st[j] != base[j])
			j++;
		json_array_append_new(runs, json_pack("{s:i,s:o}", "at", (json_int_t)i, "bytes",
						      hex_bytes(st + i, j - i)));
		i = j;
	}
	return runs;
}

static json_t *state_json(const struct fz_state *st)
{
	json_t *o = json_object();

	for (int i = 0; o && i < FZ_NGPR; i++)
		json_object_set_new(o, fz_gpr_name(i), tv_json_hex(st->gpr[i]));
	if (o) {
		json_object_set_new(o, "rip", tv_json_hex(st->rip));
		json_object_set_new(o, "rflags", tv_json_hex(st->rflags));
	}
	return o;
}

/* The system state's fields, by name, for writing and reading it back alike. */
static const struct {
	const char *name;
	size_t off;
} seg_regs[] = {
	{ "cs", offsetof(struct tv_sregs, cs) }, { "ds", offsetof(struct tv_sregs, ds) },
	{ "es", offsetof(struct tv_sregs, es) }, { "fs", offsetof(struct tv_sregs, fs) },
	{ "gs", offsetof(struct tv_sregs, gs) }, { "ss", offsetof(struct tv_sregs, ss) },
}, ctl_regs[] = {
	{ "cr0", offsetof(struct tv_sregs, cr0) }, { "cr2", offsetof(struct tv_sregs, cr2) },
	{ "cr3", offsetof(struct tv_sregs, cr3) }, { "cr4", offsetof(struct tv_sregs, cr4) },
	{ "efer", offsetof(struct tv_sregs, efer) },
};

/* A segment's attributes (each a uint8_t of struct tv_segment) and the largest value each takes. */
static const struct {
	const char *name;
	size_t off;
	unsigned max;
} seg_attrs[] = {
	{ "type", offsetof(struct tv_segment, type), 15 },
	{ "present", offsetof(struct tv_segment, present), 1 },
	{ "dpl", offsetof(struct tv_segment, dpl), 3 },
	{ "db", offsetof(struct tv_segment, db), 1 },
	{ "s", offsetof(struct tv_segment, s), 1 },
	{ "l", offsetof(struct tv_segment, l), 1 },
	{ "g", offsetof(struct tv_segment, g), 1 },
	{ "avl", offsetof(struct tv_segment, avl), 1 },
	{ "unusable", offsetof(struct tv_segment, unusable), 1 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *segment_json(const struct tv_segment *s)
{
	json_t *o = json_pack("{s:o,s:o,s:o}", "selector", tv_json_hex(s->selector), "base",
			      tv_json_hex(s->base), "limit", tv_json_hex(s->limit));

	for (size_t i = 0; o && i < N(seg_attrs); i++)
		json_object_set_new(o, seg_attrs[i].name,
				    json_integer(*((const uint8_t *)s + seg_attrs[i].off)));
	return o;
}

static json_t *system_json(const struct tv_sregs *s)
{
	json_t *o = json_object();

	const char *base = (const char *)s;

	for (size_t i = 0; o && i < N(ctl_regs); i++)
		json_object_set_new(o, ctl_regs[i].name,
				    tv_json_hex(*(const uint64_t *)(base + ctl_regs[i].off)));
	for (size_t i = 0; o && i < N(seg_regs); i++)
		json_object_set_new(o, seg_regs[i].name,
				    segment_json((const void *)(base + seg_regs[i].off)));
	return o;
}

static json_t *result_json(const struct fz_result *r, const struct fz_state *in)
{
	json_t *o = state_json(&r->st);

	if (o) {
		json_object_set_new(o, "vector", json_integer(r->vector));
		if (r->error_code_known)
			json_object_set_new(o, "error_code", tv_json_hex(r->error_code));
		if (r->has_frame)
			json_object_set_new(o, "frame",
					    json_pack("{s:o,s:o}", "cs", tv_json_hex(r->frame_cs),
						      "ss", tv_json_hex(r->frame_ss)));
		json_object_set_new(o, "scratch_changes", scratch_changes(r->st.scratch, in->scratch));
		if (r->has_system)
			json_object_set_new(o, "system", system_json(&r->system));
	}
	return o;
}

json_t *fz_case_json(const struct fz_case *c, const char *key, const char *oracle,
		     const char *disasm)
{
	json_t *in = state_json(&c->in);
	char fields[256];

	if (in)
		json_object_set_new(in, "scratch", hex_bytes(c->in.scratch, FZ_SCRATCH_SIZE));
	fz_diff_fields(&c->diff, fields, sizeof(fields));
	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:o,s:o,s:o,s:s,s:{s:o,s:o}}", "key", key, "oracle",
			 oracle, "mode", tv_mode_name(c->mode), "code",
			 hex_bytes(c->s.code, c->s.len), "disasm", disasm ? disasm : "", "in", in,
			 "emu", result_json(&c->emu, &c->in), "oracle_result",
			 result_json(&c->oracle, &c->in), "fields", fields, "mask",
			 "rflags_undefined", tv_json_hex(c->s.rflags_undefined), "gpr_undefined",
			 tv_json_hex(c->s.gpr_undefined));
}

/* ---- reading a record back --------------------------------------------------------------------- */

static int bad(char *why, size_t len, const char *field, const char *what)
{
	snprintf(why, len, "\"%s\": %s", field, what);
	return -EINVAL;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex string of exactly want bytes (or, with want 0, up to cap bytes) into out. */
static int get_bytes(json_t *j, const char *field, uint8_t *out, size_t cap, size_t want,
		     size_t *got, char *why, size_t len)
{
	const char *s = json_string_value(j);
	size_t n;

	if (!s)
		return bad(why, len, field, "not a string");
	n = strlen(s);
	if (n % 2 || n / 2 > cap || (want && n / 2 != want))
		return bad(why, len, field, "not the hex bytes expected");
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return bad(why, len, field, "not hex");
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (got)
		*got = n / 2;
	return 0;
}

/* The "0x..." string obj[key], at most max, into *v; name is the field as why names it. */
static int get_hex(json_t *obj, const char *key, const char *name, uint64_t max, uint64_t *v,
		   char *why, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));
	char *end;

	if (!s || strncmp(s, "0x", 2) != 0)
		return bad(why, len, name, "missing, or not a 0x hex string");
	errno = 0;
	*v = strtoull(s + 2, &end, 16);
	if (errno || end == s + 2 || *end)
		return bad(why, len, name, "not a 64-bit hex number");
	if (*v > max)
		return bad(why, len, name, "out of range");
	return 0;
}

static int get_u64(json_t *obj, const char *field, uint64_t *v, char *why, size_t len)
{
	return get_hex(obj, field, field, UINT64_MAX, v, why, len);
}

/* Segment reg of "system" into s; why names a field as "system.cs.dpl". */
static int get_segment(json_t *obj, const char *reg, struct tv_segment *s, char *why, size_t len)
{
	char name[48];
	uint64_t v;
	int rc;

	snprintf(name, sizeof(name), "system.%.4s", reg);
	if (!json_is_object(obj))
		return bad(why, len, name, "not an object");
	snprintf(name, sizeof(name), "system.%.4s.selector", reg);
	rc = get_hex(obj, "selector", name, 0xffff, &v, why, len);
	s->selector = (uint16_t)v;
	snprintf(name, sizeof(name), "system.%.4s.limit", reg);
	if (!rc)
		rc = get_hex(obj, "limit", name, 0xffffffff, &v, why, len);
	s->limit = (uint32_t)v;
	snprintf(name, sizeof(name), "system.%.4s.base", reg);
	if (!rc)
		rc = get_hex(obj, "base", name, UINT64_MAX, &s->base, why, len);
	for (size_t i = 0; !rc && i < N(seg_attrs); i++) {
		json_t *a = json_object_get(obj, seg_attrs[i].name);

		snprintf(name, sizeof(name), "system.%.4s.%.10s", reg, seg_attrs[i].name);
		if (!json_is_integer(a) || json_integer_value(a) < 0 ||
		    json_integer_value(a) > seg_attrs[i].max)
			return bad(why, len, name, "missing, or not an integer in its range");
		*((uint8_t *)s + seg_attrs[i].off) = (uint8_t)json_integer_value(a);
	}
	return rc;
}

static int get_system(json_t *obj, struct tv_sregs *s, char *why, size_t len)
{
	char name[16];
	int rc = 0;

	if (!json_is_object(obj))
		return bad(why, len, "system", "not an object");
	for (size_t i = 0; !rc && i < N(ctl_regs); i++) {
		snprintf(name, sizeof(name), "system.%.4s", ctl_regs[i].name);
		rc = get_hex(obj, ctl_regs[i].name, name, UINT64_MAX,
			     (uint64_t *)((char *)s + ctl_regs[i].off), why, len);
	}
	for (size_t i = 0; !rc && i < N(seg_regs); i++)
		rc = get_segment(json_object_get(obj, seg_regs[i].name), seg_regs[i].name,
				 (struct tv_segment *)((char *)s + seg_regs[i].off), why, len);
	return rc;
}

static int get_state(json_t *obj, const char *field, struct fz_state *st, char *why, size_t len)
{
	int rc = 0;

	if (!json_is_object(obj))
		return bad(why, len, field, "not an object");
	for (int i = 0; !rc && i < FZ_NGPR; i++)
		rc = get_u64(obj, fz_gpr_name(i), &st->gpr[i], why, len);
	if (!rc)
		rc = get_u64(obj, "rip", &st->rip, why, len);
	if (!rc)
		rc = get_u64(obj, "rflags", &st->rflags, why, len);
	return rc;
}

static int get_result(json_t *obj, const char *field, const struct fz_state *in,
		      struct fz_result *r, char *why, size_t len)
{
	json_t *vector = json_object_get(obj, "vector"), *runs;
	json_t *system = json_object_get(obj, "system"), *frame = json_object_get(obj, "frame");
	size_t i;
	uint64_t v;
	json_t *run;
	int rc = get_state(obj, field, &r->st, why, len);

	if (rc)
		return rc;
	if (!json_is_integer(vector) || json_integer_value(vector) < -1 ||
	    json_integer_value(vector) > FZ_VECTOR_UNKNOWN)
		return bad(why, len, "vector", "not an integer from -1 to 256");
	r->vector = (int)json_integer_value(vector);
	/* All optional: written only when the oracle knew them. */
	r->error_code_known = json_object_get(obj, "error_code") != NULL;
	if (r->error_code_known && (rc = get_u64(obj, "error_code", &r->error_code, why, len)))
		return rc;
	r->has_frame = frame != NULL;
	if (r->has_frame) {
		if (!json_is_object(frame))
			return bad(why, len, "frame", "not an object");
		rc = get_hex(frame, "cs", "frame.cs", 0xffff, &v, why, len);
		r->frame_cs = (uint16_t)v;
		if (!rc)
			rc = get_hex(frame, "ss", "frame.ss", 0xffff, &v, why, len);
		r->frame_ss = (uint16_t)v;
		if (rc)
			return rc;
	}
	r->has_system = system != NULL;
	if (r->has_system && (rc = get_system(system, &r->system, why, len)))
		return rc;
	memcpy(r->st.scratch, in->scratch, FZ_SCRATCH_SIZE);
	runs = json_object_get(obj, "scratch_changes");
	if (!json_is_array(runs))
		return bad(why, len, "scratch_changes", "not an array");
	json_array_foreach(runs, i, run) {
		json_t *at = json_object_get(run, "at");
		json_int_t off = json_integer_value(at);
		size_t n;

		if (!json_is_integer(at) || off < 0 || off >= FZ_SCRATCH_SIZE)
			return bad(why, len, "scratch_changes.at", "not an offset in scratch");
		rc = get_bytes(json_object_get(run, "bytes"), "scratch_changes.bytes",
			       r->st.scratch + off, FZ_SCRATCH_SIZE - (size_t)off, 0, &n, why, len);
		if (rc)
			return rc;
	}
	return 0;
}

int fz_case_from_json(json_t *rec, struct fz_case *c, char *oracle, size_t oracle_len, char *why,
		      size_t why_len)
{
	json_t *in = json_object_get(rec, "in"), *mask = json_object_get(rec, "mask");
	json_t *mode = json_object_get(rec, "mode");
	const char *name = json_string_value(json_object_get(rec, "oracle"));
	uint64_t v = 0;
	size_t n;
	int rc;

	memset(c, 0, sizeof(*c));
	c->mode = TV_MODE_LONG; /* no "mode": a record from before the other modes */
	c->s.bits = 64;
	if (!json_is_object(rec))
		return bad(why, why_len, "(record)", "not an object");
	if (!name)
		return bad(why, why_len, "oracle", "not a string");
	if (mode && !(json_is_string(mode) && tv_mode_parse(json_string_value(mode), &c->mode)))
		return bad(why, why_len, "mode", "not real, protected, paged32 or long");
	c->s.bits = (uint8_t)tv_mode_bits(c->mode);
	snprintf(oracle, oracle_len, "%s", name);
	rc = get_bytes(json_object_get(rec, "code"), "code", c->s.code, FZ_CODE_MAX, 0, &n, why,
		       why_len);
	if (rc)
		return rc;
	if (n == 0)
		return bad(why, why_len, "code", "empty");
	c->s.len = (uint16_t)n;
	rc = get_state(in, "in", &c->in, why, why_len);
	if (!rc)
		rc = get_bytes(json_object_get(in, "scratch"), "in.scratch", c->in.scratch,
			       FZ_SCRATCH_SIZE, FZ_SCRATCH_SIZE, NULL, why, why_len);
	if (!rc)
		rc = get_result(json_object_get(rec, "emu"), "emu", &c->in, &c->emu, why, why_len);
	if (!rc)
		rc = get_result(json_object_get(rec, "oracle_result"), "oracle_result", &c->in,
				&c->oracle, why, why_len);
	if (!rc && !json_is_object(mask))
		rc = bad(why, why_len, "mask", "not an object");
	if (!rc)
		rc = get_u64(mask, "rflags_undefined", &c->s.rflags_undefined, why, why_len);
	if (!rc)
		rc = get_u64(mask, "gpr_undefined", &v, why, why_len);
	if (!rc && v > 0xffff)
		rc = bad(why, why_len, "gpr_undefined", "more than 16 registers");
	c->s.gpr_undefined = (uint16_t)v;
	return rc;
}

int fz_case_write(const char *dir, const char *name, const struct fz_case *c, const char *key,
		  const char *oracle, const char *disasm, char *why, size_t why_len)
{
	static uint8_t img[FZ_REPRO_IMAGE_SIZE];
	char path[4096];
	json_t *rec;
	size_t len;
	FILE *f;
	int rc = fz_repro_image(c, img, sizeof(img), &len);

	if (rc) {
		snprintf(why, why_len, "%s: %s", name,
			 rc == -EINVAL ? "the case's mode and code width disagree"
				       : "the reproducer does not fit in an image");
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f) != 0) {
		rc = -errno;
		snprintf(why, why_len, "writing %s: %s", path, strerror(errno));
		return rc ? rc : -EIO;
	}
	rec = fz_case_json(c, key, oracle, disasm);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	if (!rec || json_dump_file(rec, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
		json_decref(rec);
		snprintf(why, why_len, "writing %s: %s", path, rec ? strerror(errno) : "no memory");
		return -EIO;
	}
	json_decref(rec);
	return 0;
}
