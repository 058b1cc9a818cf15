/* The helpers the `twinvm diff` suites (test_diff_*.c) share: running the binary, the host's
 * engines, traces of `twinvm run --trace`, and the golden traces in tests/golden. */
#include "diff_test.h"

#include <dirent.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disasm.h"
#include "trace.h"
#include "trace_lines.h"
#include "tv_test.h"

/* ==== running the binary ===================================================================== */

/* Appends the NULL-terminated strings to c. */
void dt_cmd_add(struct cmd *c, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, c);
	while ((s = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(c->argc, (int)(sizeof(c->argv) / sizeof(c->argv[0])) - 2);
		c->argv[++c->argc] = s;
	}
	va_end(ap);
}

/* Runs $TWINVM_BIN with c's arguments, capturing its exit status, stdout and stderr. */
void dt_run(struct cmd *c, struct result *r)
{
	c->argv[c->argc + 1] = NULL;
	tv_run_binary("TWINVM_BIN", c->argv + 1, r);
}

/* Starts `twinvm diff --guest guest --mode mode` in c; more arguments can be added. */
void dt_diff_cmd(struct cmd *c, const char *guest, enum tv_mode mode)
{
	memset(c, 0, sizeof(*c));
	CMD(c, "diff", "--guest", guest, "--mode", tv_mode_name(mode));
}

/* The first line of s, for messages and for parsing the report's headline. */
const char *dt_first_line(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");

	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), s);
	return buf;
}

/* The line of s that contains what, or NULL. */
const char *dt_line_with(const char *s, const char *what, char *buf, size_t len)
{
	const char *p = strstr(s, what), *start;

	if (!p)
		return NULL;
	for (start = p; start > s && start[-1] != '\n'; start--)
		;
	return dt_first_line(start, buf, len);
}

bool dt_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void dt_assert_identical(const struct result *r)
{
	ck_assert_msg(r->status == 0 && dt_starts_with(r->out, "identical:"),
		      "expected exit 0 and an \"identical:\" line; status %d\nstdout: %s\nstderr: %s",
		      r->status, r->out, r->err);
}

void dt_assert_diverged(const struct result *r)
{
	ck_assert_msg(r->status == 1 && strstr(r->out, "DIVERGED") != NULL,
		      "expected exit 1 and a DIVERGED report; status %d\nstdout: %s\nstderr: %s",
		      r->status, r->out, r->err);
}

/* ==== what this host can run ================================================================= */

/* True when both engines run mode here; otherwise false with the probe's reason in why. */
bool dt_both_engines_run(enum tv_mode mode, char *why, size_t len)
{
	return tv_test_engine("kvm", mode, why, len) && tv_test_engine("emu", mode, why, len);
}

/* Runs the diff in c and, when an engine cannot run mode here, checks that diff said so (77 and
 * one line; 2 when the emulator is not built in). Returns false in that case, with why saying
 * so for the caller's TV_SKIP. */
bool dt_diff_can_compare(struct cmd *c, struct result *r, enum tv_mode mode, char *why,
			 size_t len)
{
	char reason[400];
	bool both = dt_both_engines_run(mode, reason, sizeof(reason));

	dt_run(c, r);
	if (both)
		return true;
	if (!tv_backend_find("emu")) {
		ck_assert_msg(r->status == 2, "no emulator, yet diff exited %d", r->status);
		snprintf(why, len, "the emulator is not built in (diff exits 2)");
		return false;
	}
	ck_assert_msg(r->status == 77, "%s mode cannot run here (%s), yet diff exited %d: %s%s",
		      tv_mode_name(mode), reason, r->status, r->out, r->err);
	ck_assert_msg(tv_count_lines(r->err) == 1 && strstr(r->err, "cannot compare") != NULL,
		      "77 without its one line of reason: %s", r->err);
	snprintf(why, len, "diff exits 77 as it should: %s", reason);
	return false;
}

bool dt_have_capstone(void)
{
	static const uint8_t cpuid[] = { 0x0f, 0xa2 };
	char text[64];

	return tv_disasm(cpuid, sizeof(cpuid), 64, 0, text, sizeof(text)) == 2;
}

/* ==== temporary files ======================================================================== */

/* A raw guest image in a temporary file; the caller unlinks it. */
const char *dt_temp_guest(const uint8_t *bytes, size_t len, char *path, size_t path_len)
{
	FILE *f = fopen(tv_temp_path(path, path_len, ".bin"), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* ==== traces ================================================================================= */

void dt_trace_load(struct trace *t, const char *path)
{
	struct tv_trace_reader in = { .f = fopen(path, "r"), .name = path };
	json_t *rec;

	ck_assert_msg(in.f != NULL, "cannot open %s", path);
	memset(t, 0, sizeof(*t));
	while ((rec = tv_test_trace_record(&in))) {
		if (json_object_get(rec, "ram")) {
			json_decref(t->ram);
			t->ram = rec;
			continue;
		}
		ck_assert_int_lt(t->n, MAX_RECORDS);
		t->rec[t->n++] = rec;
	}
	fclose(in.f);
}

void dt_trace_free(struct trace *t)
{
	for (int i = 0; i < t->n; i++)
		json_decref(t->rec[i]);
	json_decref(t->ram);
	memset(t, 0, sizeof(*t));
}

/* `twinvm run --backend engine --mode mode --guest guest --trace TMP`, loaded into t. Returns
 * false, with why, when engine cannot run mode here. The run must exit with want_status. */
bool dt_traced_run(struct trace *t, const char *engine, enum tv_mode mode, const char *guest,
		   int want_status, char *why, size_t why_len)
{
	struct result r;
	struct cmd c = { 0 };
	char path[64];

	if (!tv_test_engine(engine, mode, why, why_len))
		return false;
	tv_temp_path(path, sizeof(path), ".jsonl");
	CMD(&c, "run", "--backend", engine, "--mode", tv_mode_name(mode), "--guest", guest, "--trace",
	    path);
	dt_run(&c, &r);
	ck_assert_msg(r.status == want_status, "%s/%s: twinvm run exited %d, not %d: %s", engine,
		      tv_mode_name(mode), r.status, want_status, r.err);
	dt_trace_load(t, path);
	unlink(path);
	return true;
}

const char *dt_reason(const json_t *rec)
{
	const char *s = json_string_value(json_object_get(rec, "reason"));

	return s ? s : "(none)";
}

uint64_t dt_hex_at(const json_t *obj, const char *key)
{
	uint64_t v = 0;

	ck_assert_msg(tv_trace_hex(obj, key, &v) == 0, "no hex value \"%s\" in the record", key);
	return v;
}

uint64_t dt_reg(const json_t *rec, const char *name)
{
	return dt_hex_at(json_object_get(rec, "regs"), name);
}

void dt_assert_record(const json_t *rec, const struct want *w, const char *engine, int i)
{
	const json_t *io = json_object_get(rec, "io"), *mmio = json_object_get(rec, "mmio");
	const json_t *payload = io ? io : mmio;

	ck_assert_msg(strcmp(dt_reason(rec), w->reason) == 0, "%s record %d: reason %s, want %s", engine,
		      i + 1, dt_reason(rec), w->reason);
	if (w->dir) {
		ck_assert_msg(io != NULL, "%s record %d has no io", engine, i + 1);
		ck_assert_str_eq(json_string_value(json_object_get(io, "dir")), w->dir);
		ck_assert_int_eq(json_integer_value(json_object_get(io, "port")), w->port);
		ck_assert_int_eq(json_integer_value(json_object_get(io, "size")), w->size);
		ck_assert_msg(json_integer_value(json_object_get(io, "count")) == w->count,
			      "%s record %d: count %lld, want %d (one record per string instruction)",
			      engine, i + 1, (long long)json_integer_value(json_object_get(io, "count")),
			      w->count);
	}
	if (w->data) {
		const char *data = json_string_value(json_object_get(payload, "data"));

		ck_assert_msg(data && strcmp(data, w->data) == 0, "%s record %d: data %s, want %s",
			      engine, i + 1, data ? data : "(none)", w->data);
	}
	ck_assert_msg(dt_reg(rec, "rip") == w->rip, "%s record %d (%s): rip 0x%llx, want 0x%llx", engine,
		      i + 1, dt_reason(rec), (unsigned long long)dt_reg(rec, "rip"),
		      (unsigned long long)w->rip);
	if (w->reg)
		ck_assert_msg(dt_reg(rec, w->reg) == w->value, "%s record %d: %s 0x%llx, want 0x%llx",
			      engine, i + 1, w->reg, (unsigned long long)dt_reg(rec, w->reg),
			      (unsigned long long)w->value);
}

/* Runs guest on engine with a trace and checks every record against want[0..n). */
void dt_check_trace(const char *engine, enum tv_mode mode, const char *guest, int status,
		    const struct want *want, int n)
{
	struct trace t;
	char why[512];

	if (!dt_traced_run(&t, engine, mode, guest, status, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	ck_assert_msg(t.n == n, "%s/%s: %d records, want %d", engine, tv_mode_name(mode), t.n, n);
	for (int i = 0; i < n; i++)
		dt_assert_record(t.rec[i], &want[i], engine, i);
	dt_trace_free(&t);
}

/* ==== golden traces ========================================================================== */

char dt_golden_dir[4096];
char *dt_golden_files[MAX_GOLDEN]; /* listed by main(), sorted */
int dt_ngolden;

/* tests/golden in the source tree: the source directory as meson recorded it next to the binary
 * (build/meson-info/meson-info.json), or else relative to this file as it was compiled. */
static bool find_golden_dir(void)
{
	const char *bin = getenv("TWINVM_BIN");
	char path[4096], file[] = __FILE__;
	DIR *d;

	if (bin) {
		char copy[4096];
		json_t *info;

		snprintf(copy, sizeof(copy), "%s", bin);
		snprintf(path, sizeof(path), "%s/meson-info/meson-info.json", dirname(copy));
		info = json_load_file(path, 0, NULL);
		if (info) {
			const char *src = json_string_value(
				json_object_get(json_object_get(info, "directories"), "source"));

			if (src)
				snprintf(dt_golden_dir, sizeof(dt_golden_dir), "%s/tests/golden", src);
			json_decref(info);
		}
	}
	if (!dt_golden_dir[0])
		snprintf(dt_golden_dir, sizeof(dt_golden_dir), "%s/golden", dirname(file));
	d = opendir(dt_golden_dir);
	if (!d)
		return false;
	closedir(d);
	return true;
}

static int is_jsonl(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 6 && strcmp(e->d_name + n - 6, ".jsonl") == 0;
}

void dt_list_golden(void)
{
	struct dirent **list;
	int n;

	if (!find_golden_dir())
		return;
	n = scandir(dt_golden_dir, &list, is_jsonl, alphasort);
	for (int i = 0; i < n; i++) {
		if (dt_ngolden < MAX_GOLDEN)
			dt_golden_files[dt_ngolden++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	if (n > 0)
		free(list);
}

/* "<guest>-<mode>.jsonl" -> guest and mode. */
void dt_golden_name_parse(const char *file, char *guest, size_t len, enum tv_mode *mode)
{
	char name[256], *dash;

	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 6), file);
	dash = strrchr(name, '-');
	ck_assert_msg(dash != NULL, "%s: not named <guest>-<mode>.jsonl", file);
	*dash = '\0';
	ck_assert_msg(tv_mode_parse(dash + 1, mode), "%s: unknown mode '%s'", file, dash + 1);
	snprintf(guest, len, "%s", name);
}

/* An edit for dt_golden_copy: the header without its expected divergences. */
bool dt_drop_expectations(json_t *rec, int line)
{
	if (line == 1)
		json_object_del(json_object_get(rec, "twinvm_trace"), "expect");
	return true;
}

/* A copy of golden file name in a temporary file, every line passed through edit (which returns
 * false to drop the line; line counts from 1, the header line). */
const char *dt_golden_copy(const char *name, bool (*edit)(json_t *rec, int line), char *path,
			   size_t len)
{
	char src[4200];
	struct tv_trace_reader in = { .name = src };
	json_t *rec;
	FILE *out;

	snprintf(src, sizeof(src), "%s/%s", dt_golden_dir, name);
	in.f = fopen(src, "r");
	ck_assert_msg(in.f != NULL, "cannot open %s", src);
	out = fopen(tv_temp_path(path, len, ".jsonl"), "w");
	ck_assert_ptr_nonnull(out);
	while ((rec = tv_test_trace_next(&in))) {
		if (edit(rec, (int)in.line)) {
			ck_assert_int_eq(json_dumpf(rec, out, JSON_COMPACT | JSON_PRESERVE_ORDER), 0);
			fputc('\n', out);
		}
		json_decref(rec);
	}
	fclose(in.f);
	ck_assert_int_eq(fclose(out), 0);
	return path;
}

/* `twinvm diff --against FILE --guest G --mode M` on the emulator; false (with why) when the
 * emulator cannot run the mode here, after checking that diff said 77. */
bool dt_diff_against(struct result *r, const char *file, const char *guest, enum tv_mode mode,
		     const char *max_exits, char *why, size_t len)
{
	char reason[400];
	struct cmd c;

	dt_diff_cmd(&c, guest, mode);
	CMD(&c, "--against", file, "--backend", "emu");
	if (max_exits)
		CMD(&c, "--max-exits", max_exits);
	dt_run(&c, r);
	if (tv_test_engine("emu", mode, reason, sizeof(reason)))
		return true;
	if (!tv_backend_find("emu")) {
		ck_assert_msg(r->status == 2, "no emulator, yet diff exited %d", r->status);
		snprintf(why, len, "the emulator is not built in (diff exits 2)");
		return false;
	}
	ck_assert_msg(r->status == 77, "the emulator cannot run %s mode (%s), yet diff exited %d",
		      tv_mode_name(mode), reason, r->status);
	snprintf(why, len, "diff exits 77 as it should: %s", reason);
	return false;
}
