/* `twinvm diff`, the differential tester, as a user runs it: built-in guests agree on KVM and the
 * emulator, the cpuid guest does not (and the report names the instruction), every normalisation
 * rule holds on a small raw guest, golden traces agree with the emulator, and --ignore masks only
 * what it names. Exit codes: 0 identical, 1 diverged, 2 error, 77 cannot compare here.
 *
 * Whether KVM (or the emulator) runs a mode is probed, never assumed: a case that cannot run here
 * checks that diff says 77 and is reported as skipped with the probe's reason. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"
#include "disasm.h"
#include "run_binary.h"
#include "trace.h"
#include "trace_lines.h"
#include "tv_test.h"

/* ==== running the binary ===================================================================== */

/* An argument list under construction: argv[1] on; argv[0] stays unused. */
struct cmd {
	const char *argv[48];
	int argc;
};

/* Appends the NULL-terminated strings to c. */
static void cmd_add(struct cmd *c, ...)
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
#define CMD(c, ...) cmd_add((c), __VA_ARGS__, (const char *)NULL)

/* Runs $TWINVM_BIN with c's arguments, capturing its exit status, stdout and stderr. */
static void run(struct cmd *c, struct result *r)
{
	c->argv[c->argc + 1] = NULL;
	tv_run_binary("TWINVM_BIN", c->argv + 1, r);
}

/* Starts `twinvm diff --guest guest --mode mode` in c; more arguments can be added. */
static void diff_cmd(struct cmd *c, const char *guest, enum tv_mode mode)
{
	memset(c, 0, sizeof(*c));
	CMD(c, "diff", "--guest", guest, "--mode", tv_mode_name(mode));
}

/* The first line of s, for messages and for parsing the report's headline. */
static const char *first_line(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");

	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), s);
	return buf;
}

/* The line of s that contains what, or NULL. */
static const char *line_with(const char *s, const char *what, char *buf, size_t len)
{
	const char *p = strstr(s, what), *start;

	if (!p)
		return NULL;
	for (start = p; start > s && start[-1] != '\n'; start--)
		;
	return first_line(start, buf, len);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void assert_identical(const struct result *r)
{
	ck_assert_msg(r->status == 0 && starts_with(r->out, "identical:"),
		      "expected exit 0 and an \"identical:\" line; status %d\nstdout: %s\nstderr: %s",
		      r->status, r->out, r->err);
}

static void assert_diverged(const struct result *r)
{
	ck_assert_msg(r->status == 1 && strstr(r->out, "DIVERGED") != NULL,
		      "expected exit 1 and a DIVERGED report; status %d\nstdout: %s\nstderr: %s",
		      r->status, r->out, r->err);
}

/* ==== what this host can run ================================================================= */

/* True when both engines run mode here; otherwise false with the probe's reason in why. */
static bool both_engines_run(enum tv_mode mode, char *why, size_t len)
{
	return tv_test_engine("kvm", mode, why, len) && tv_test_engine("emu", mode, why, len);
}

/* Runs the diff in c and, when an engine cannot run mode here, checks that diff said so (77 and
 * one line; 2 when the emulator is not built in). Returns false in that case, with why saying
 * so for the caller's TV_SKIP. */
static bool diff_can_compare(struct cmd *c, struct result *r, enum tv_mode mode, char *why,
			     size_t len)
{
	char reason[400];
	bool both = both_engines_run(mode, reason, sizeof(reason));

	run(c, r);
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

static bool have_capstone(void)
{
	static const uint8_t cpuid[] = { 0x0f, 0xa2 };
	char text[64];

	return tv_disasm(cpuid, sizeof(cpuid), 64, 0, text, sizeof(text)) == 2;
}

/* ==== temporary files ======================================================================== */

/* A raw guest image in a temporary file; the caller unlinks it. */
static const char *temp_guest(const uint8_t *bytes, size_t len, char *path, size_t path_len)
{
	FILE *f = fopen(tv_temp_path(path, path_len, ".bin"), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* ==== traces ================================================================================= */

#define MAX_RECORDS 64

struct trace {
	json_t *rec[MAX_RECORDS]; /* the exit records, in order */
	int n;
	json_t *ram; /* the closing {"ram":...} line, if any */
};

static void trace_load(struct trace *t, const char *path)
{
	struct tv_trace_reader in = { .f = fopen(path, "r"), .name = path };
	json_t *rec;

	ck_assert_msg(in.f != NULL, "cannot open %s", path);
	memset(t, 0, sizeof(*t));
	while ((rec = tv_test_trace_next(&in))) {
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

static void trace_free(struct trace *t)
{
	for (int i = 0; i < t->n; i++)
		json_decref(t->rec[i]);
	json_decref(t->ram);
	memset(t, 0, sizeof(*t));
}

/* `twinvm run --backend engine --mode mode --guest guest --trace TMP`, loaded into t. Returns
 * false, with why, when engine cannot run mode here. The run must exit with want_status. */
static bool traced_run(struct trace *t, const char *engine, enum tv_mode mode, const char *guest,
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
	run(&c, &r);
	ck_assert_msg(r.status == want_status, "%s/%s: twinvm run exited %d, not %d: %s", engine,
		      tv_mode_name(mode), r.status, want_status, r.err);
	trace_load(t, path);
	unlink(path);
	return true;
}

static const char *reason(const json_t *rec)
{
	const char *s = json_string_value(json_object_get(rec, "reason"));

	return s ? s : "(none)";
}

static uint64_t hex_at(const json_t *obj, const char *key)
{
	uint64_t v = 0;

	ck_assert_msg(tv_trace_hex(obj, key, &v) == 0, "no hex value \"%s\" in the record", key);
	return v;
}

static uint64_t reg(const json_t *rec, const char *name)
{
	return hex_at(json_object_get(rec, "regs"), name);
}

/* What a record must hold. NULL/0 fields are not checked, except rip, which always is. */
struct want {
	const char *reason;
	const char *dir; /* IO: "in" or "out" */
	int port, size, count;
	const char *data; /* IO or MMIO data, hex */
	uint64_t rip;
	const char *reg; /* one more register to check, with its value */
	uint64_t value;
};

static void assert_record(const json_t *rec, const struct want *w, const char *engine, int i)
{
	const json_t *io = json_object_get(rec, "io"), *mmio = json_object_get(rec, "mmio");
	const json_t *payload = io ? io : mmio;

	ck_assert_msg(strcmp(reason(rec), w->reason) == 0, "%s record %d: reason %s, want %s", engine,
		      i + 1, reason(rec), w->reason);
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
	ck_assert_msg(reg(rec, "rip") == w->rip, "%s record %d (%s): rip 0x%llx, want 0x%llx", engine,
		      i + 1, reason(rec), (unsigned long long)reg(rec, "rip"),
		      (unsigned long long)w->rip);
	if (w->reg)
		ck_assert_msg(reg(rec, w->reg) == w->value, "%s record %d: %s 0x%llx, want 0x%llx",
			      engine, i + 1, w->reg, (unsigned long long)reg(rec, w->reg),
			      (unsigned long long)w->value);
}

/* Runs guest on engine with a trace and checks every record against want[0..n). */
static void check_trace(const char *engine, enum tv_mode mode, const char *guest, int status,
			const struct want *want, int n)
{
	struct trace t;
	char why[512];

	if (!traced_run(&t, engine, mode, guest, status, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	ck_assert_msg(t.n == n, "%s/%s: %d records, want %d", engine, tv_mode_name(mode), t.n, n);
	for (int i = 0; i < n; i++)
		assert_record(t.rec[i], &want[i], engine, i);
	trace_free(&t);
}

/* ==== golden traces ========================================================================== */

#define MAX_GOLDEN 64

static char golden_dir[4096];
static char *golden_files[MAX_GOLDEN]; /* listed by main(), sorted */
static int ngolden;

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
				snprintf(golden_dir, sizeof(golden_dir), "%s/tests/golden", src);
			json_decref(info);
		}
	}
	if (!golden_dir[0])
		snprintf(golden_dir, sizeof(golden_dir), "%s/golden", dirname(file));
	d = opendir(golden_dir);
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

static void list_golden(void)
{
	struct dirent **list;
	int n;

	if (!find_golden_dir())
		return;
	n = scandir(golden_dir, &list, is_jsonl, alphasort);
	for (int i = 0; i < n; i++) {
		if (ngolden < MAX_GOLDEN)
			golden_files[ngolden++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	if (n > 0)
		free(list);
}

/* "<guest>-<mode>.jsonl" -> guest and mode. */
static void golden_name_parse(const char *file, char *guest, size_t len, enum tv_mode *mode)
{
	char name[256], *dash;

	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 6), file);
	dash = strrchr(name, '-');
	ck_assert_msg(dash != NULL, "%s: not named <guest>-<mode>.jsonl", file);
	*dash = '\0';
	ck_assert_msg(tv_mode_parse(dash + 1, mode), "%s: unknown mode '%s'", file, dash + 1);
	snprintf(guest, len, "%s", name);
}

/* A copy of golden file name in a temporary file, every line passed through edit (which returns
 * false to drop the line; line counts from 1). */
static const char *golden_copy(const char *name, bool (*edit)(json_t *rec, int line), char *path,
			       size_t len)
{
	char src[4200];
	struct tv_trace_reader in = { .name = src };
	json_t *rec;
	FILE *out;

	snprintf(src, sizeof(src), "%s/%s", golden_dir, name);
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
static bool diff_against(struct result *r, const char *file, const char *guest, enum tv_mode mode,
			 const char *max_exits, char *why, size_t len)
{
	char reason[400];
	struct cmd c;

	diff_cmd(&c, guest, mode);
	CMD(&c, "--against", file, "--backend", "emu");
	if (max_exits)
		CMD(&c, "--max-exits", max_exits);
	run(&c, r);
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

/* ==== the raw guests ========================================================================= */

/* IN and OUT, with the host supplying IN's value. Protected or long mode: these encodings are
 * the same in 32- and 64-bit code.
 *   0x00  e5 eb           in eax, 0xeb       ; HC_numExits: EAX = 1
 *   0x02  e7 ea           out 0xea, eax      ; HC_print32bit(EAX)
 *   0x04  e4 10           in al, 0x10        ; a port with no device: AL = 0xff
 *   0x06  e6 10           out 0x10, al       ; dropped
 *   0x08  ba 11 00 00 00  mov edx, 0x11
 *   0x0d  ed              in eax, dx         ; no device: EAX = 0xffffffff
 *   0x0e  ef              out dx, eax
 *   0x0f  f4              hlt */
static const uint8_t in_out[] = {
	0xe5, 0xeb, 0xe7, 0xea, 0xe4, 0x10, 0xe6, 0x10,
	0xba, 0x11, 0x00, 0x00, 0x00, 0xed, 0xef, 0xf4,
};

/* What the trace of in_out holds on either engine: every instruction completed, RIP past it, and
 * after an IN the value already in the register. */
static const struct want in_out_records[] = {
	{ "IO", "in", 0xeb, 4, 1, "01000000", 0x02, "rax", 0x1 },
	{ "IO", "out", 0xea, 4, 1, "01000000", 0x04, NULL, 0 },
	{ "IO", "in", 0x10, 1, 1, "ff", 0x06, "rax", 0xff },
	{ "IO", "out", 0x10, 1, 1, "ff", 0x08, NULL, 0 },
	{ "IO", "in", 0x11, 4, 1, "ffffffff", 0x0e, "rax", 0xffffffff },
	{ "IO", "out", 0x11, 4, 1, "ffffffff", 0x0f, NULL, 0 },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x10, NULL, 0 },
};

/* Protected mode with 2 MiB of RAM: 0x300000 is above RAM, so both accesses are MMIO.
 *   0x00  c7 05 00 00 30 00 78 56 34 12   mov dword [0x300000], 0x12345678   ; write, dropped
 *   0x0a  a1 00 00 30 00                  mov eax, [0x300000]                ; read: all ones
 *   0x0f  f4                              hlt */
static const uint8_t above_ram[] = {
	0xc7, 0x05, 0x00, 0x00, 0x30, 0x00, 0x78, 0x56, 0x34, 0x12,
	0xa1, 0x00, 0x00, 0x30, 0x00,
	0xf4,
};

static const struct want above_ram_records[] = {
	{ "MMIO", NULL, 0, 0, 0, "78563412", 0x0a, NULL, 0 },
	{ "MMIO", NULL, 0, 0, 0, "ffffffff", 0x0f, "rax", 0xffffffff },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x10, NULL, 0 },
};

/* Real mode, string I/O (all segments at 0). KVM gives rep insb one exit of count 5, the emulator
 * five exits of count 1.
 *   0x00  fc        cld
 *   0x01  bf 00 01  mov di, 0x100   ; ES:DI: free RAM past the image
 *   0x04  b9 05 00  mov cx, 5
 *   0x07  ba 10 00  mov dx, 0x10    ; no device: every byte read is 0xff
 *   0x0a  f3 6c     rep insb        ; five bytes to 0x100..0x104
 *   0x0c  be 18 00  mov si, 0x18    ; DS:SI: "Hello" below
 *   0x0f  b9 05 00  mov cx, 5
 *   0x12  ba e9 00  mov dx, 0xe9    ; HC_print8bit
 *   0x15  f3 6e     rep outsb       ; prints "Hello"
 *   0x17  f4        hlt
 *   0x18  "Hello" */
static const uint8_t string_io16[] = {
	0xfc, 0xbf, 0x00, 0x01, 0xb9, 0x05, 0x00, 0xba, 0x10, 0x00, 0xf3, 0x6c,
	0xbe, 0x18, 0x00, 0xb9, 0x05, 0x00, 0xba, 0xe9, 0x00, 0xf3, 0x6e, 0xf4,
	'H', 'e', 'l', 'l', 'o',
};

static const struct want string_io16_records[] = {
	{ "IO", "in", 0x10, 1, 5, "ffffffffff", 0x0c, "rdi", 0x105 },
	{ "IO", "out", 0xe9, 1, 5, "48656c6c6f", 0x17, "rsi", 0x1d },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x18, "rcx", 0 },
};

/* The same in 32-bit code (protected or long mode: the encodings are the same), with a single
 * insb and outsb after each rep to show that a string instruction without rep stays one record.
 *   0x00  fc              cld
 *   0x01  bf 00 01 00 00  mov edi, 0x100
 *   0x06  b9 05 00 00 00  mov ecx, 5
 *   0x0b  ba 10 00 00 00  mov edx, 0x10
 *   0x10  f3 6c           rep insb
 *   0x12  6c              insb            ; a sixth byte, to 0x105
 *   0x13  be 40 00 00 00  mov esi, 0x40
 *   0x18  b9 05 00 00 00  mov ecx, 5
 *   0x1d  ba e9 00 00 00  mov edx, 0xe9
 *   0x22  f3 6e           rep outsb       ; "Hello"
 *   0x24  6e              outsb           ; "!"
 *   0x25  f4              hlt
 *   0x40  "Hello!" */
static const uint8_t string_io32[0x46] = {
	0xfc, 0xbf, 0x00, 0x01, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00,
	0xba, 0x10, 0x00, 0x00, 0x00, 0xf3, 0x6c, 0x6c,
	0xbe, 0x40, 0x00, 0x00, 0x00, 0xb9, 0x05, 0x00, 0x00, 0x00,
	0xba, 0xe9, 0x00, 0x00, 0x00, 0xf3, 0x6e, 0x6e, 0xf4,
	[0x40] = 'H', 'e', 'l', 'l', 'o', '!',
};

static const struct want string_io32_records[] = {
	{ "IO", "in", 0x10, 1, 5, "ffffffffff", 0x12, "rdi", 0x105 },
	{ "IO", "in", 0x10, 1, 1, "ff", 0x13, "rdi", 0x106 },
	{ "IO", "out", 0xe9, 1, 5, "48656c6c6f", 0x24, "rsi", 0x45 },
	{ "IO", "out", 0xe9, 1, 1, "21", 0x25, "rsi", 0x46 },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x26, "rcx", 0 },
};

/* ud2 with no IDT: #UD cannot be delivered, the CPU gives up (SHUTDOWN), RIP on the ud2.
 * Protected and long mode only (README: in real mode this host's KVM delivers it through the
 * interrupt vector table). */
static const uint8_t undefined_opcode[] = { 0x0f, 0x0b };

static const struct want shutdown_records[] = {
	{ "SHUTDOWN", NULL, 0, 0, 0, NULL, 0x0, NULL, 0 },
};

/* Long mode, with page tables of the guest's own above 0x18000 that map virtual 0x40000000 to
 * physical 0x30000 through a 4 KiB page (and the first 2 MiB identity, for code and stack):
 *   PML4 0x20000 -> PDPT 0x21000: [0] -> PD 0x22000 ([0]: 2 MiB page at 0)
 *                                 [1] -> PD 0x23000 ([0] -> PT 0x24000 ([0]: 4 KiB page 0x30000))
 *   0x00  c7 04 25 00 00 03 00 34 12 ed 5e     mov dword [0x30000], 0x5eed1234  ; the marker
 *   0x0b  48 c7 04 25 00 00 02 00 03 10 02 00  mov qword [0x20000], 0x21003     ; PML4[0]
 *   0x17  48 c7 04 25 00 10 02 00 03 20 02 00  mov qword [0x21000], 0x22003     ; PDPT[0]
 *   0x23  48 c7 04 25 08 10 02 00 03 30 02 00  mov qword [0x21008], 0x23003     ; PDPT[1]
 *   0x2f  48 c7 04 25 00 20 02 00 83 00 00 00  mov qword [0x22000], 0x83        ; PD[0], PS
 *   0x3b  48 c7 04 25 00 30 02 00 03 40 02 00  mov qword [0x23000], 0x24003     ; PD'[0]
 *   0x47  48 c7 04 25 00 40 02 00 03 00 03 00  mov qword [0x24000], 0x30003     ; PT[0]
 *   0x53  b8 00 00 02 00                       mov eax, 0x20000
 *   0x58  0f 22 d8                             mov cr3, rax
 *   0x5b  8b 04 25 00 00 00 40                 mov eax, [0x40000000]  ; the marker, through
 *   0x62  e7 ea                                out 0xea, eax          ; the new mapping
 *   0x64  bb 00 00 00 40                       mov ebx, 0x40000000
 *   0x69  e5 ee                                in eax, 0xee           ; HC_gvaToHva: 0x30000
 *   0x6b  e7 ea                                out 0xea, eax
 *   0x6d  c7 04 25 04 00 00 40 ef be ad de     mov dword [0x40000004], 0xdeadbeef
 *   0x78  f4                                   hlt
 * An engine that ignored the new tables would read 0x40000000 identity-mapped, above RAM: an
 * MMIO exit, not the marker. */
static const uint8_t own_page_tables[] = {
	0xc7, 0x04, 0x25, 0x00, 0x00, 0x03, 0x00, 0x34, 0x12, 0xed, 0x5e,
	0x48, 0xc7, 0x04, 0x25, 0x00, 0x00, 0x02, 0x00, 0x03, 0x10, 0x02, 0x00,
	0x48, 0xc7, 0x04, 0x25, 0x00, 0x10, 0x02, 0x00, 0x03, 0x20, 0x02, 0x00,
	0x48, 0xc7, 0x04, 0x25, 0x08, 0x10, 0x02, 0x00, 0x03, 0x30, 0x02, 0x00,
	0x48, 0xc7, 0x04, 0x25, 0x00, 0x20, 0x02, 0x00, 0x83, 0x00, 0x00, 0x00,
	0x48, 0xc7, 0x04, 0x25, 0x00, 0x30, 0x02, 0x00, 0x03, 0x40, 0x02, 0x00,
	0x48, 0xc7, 0x04, 0x25, 0x00, 0x40, 0x02, 0x00, 0x03, 0x00, 0x03, 0x00,
	0xb8, 0x00, 0x00, 0x02, 0x00,
	0x0f, 0x22, 0xd8,
	0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40,
	0xe7, 0xea,
	0xbb, 0x00, 0x00, 0x00, 0x40,
	0xe5, 0xee,
	0xe7, 0xea,
	0xc7, 0x04, 0x25, 0x04, 0x00, 0x00, 0x40, 0xef, 0xbe, 0xad, 0xde,
	0xf4,
};

static const struct want own_page_tables_records[] = {
	{ "IO", "out", 0xea, 4, 1, "3412ed5e", 0x64, "rax", 0x5eed1234 },
	{ "IO", "in", 0xee, 4, 1, "00000300", 0x6b, "rax", 0x30000 },
	{ "IO", "out", 0xea, 4, 1, "00000300", 0x6d, "rbx", 0x40000000 },
	{ "HLT", NULL, 0, 0, 0, NULL, 0x79, NULL, 0 },
};

/* diff of a raw guest in mode, at exit level or with --step; extra arguments may follow. Skips
 * (after checking the 77) when an engine cannot run mode here. */
static void raw_guest_identical(const uint8_t *image, size_t len, enum tv_mode mode, bool step,
				const char *extra)
{
	struct result r;
	struct cmd c;
	char path[64], why[512], head[512];
	bool compared;

	temp_guest(image, len, path, sizeof(path));
	diff_cmd(&c, path, mode);
	if (step)
		CMD(&c, "--step");
	if (extra)
		CMD(&c, extra);
	compared = diff_can_compare(&c, &r, mode, why, sizeof(why));
	unlink(path);
	if (!compared)
		TV_SKIP("%s mode%s: %s", tv_mode_name(mode),
			step ? " --step" : "", why);
	ck_assert_msg(r.status == 0, "%s mode%s: diff says: %s", tv_mode_name(mode),
		      step ? " --step" : "", first_line(r.out, head, sizeof(head)));
	assert_identical(&r);
}

/* A raw guest's trace on engine, checked record by record. */
static void raw_guest_trace(const uint8_t *image, size_t len, const char *engine,
			    enum tv_mode mode, int status, const struct want *want, int n)
{
	char path[64];

	temp_guest(image, len, path, sizeof(path));
	check_trace(engine, mode, path, status, want, n);
	unlink(path);
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const engines[] = { "kvm", "emu" };
static const enum tv_mode protected_long[] = { TV_MODE_PROTECTED, TV_MODE_LONG };

/* ==== 1. built-in guests agree =============================================================== */

/* diff of a built-in guest in mode; in a mode an engine cannot run, checks the 77 and skips. */
static void builtin_identical(const char *guest, enum tv_mode mode, bool step, const char *max)
{
	struct result r;
	struct cmd c;
	char why[512], head[512];

	diff_cmd(&c, guest, mode);
	if (step)
		CMD(&c, "--step");
	if (max)
		CMD(&c, "--max-exits", max);
	if (!diff_can_compare(&c, &r, mode, why, sizeof(why)))
		TV_SKIP("%s/%s%s: %s", guest, tv_mode_name(mode),
			step ? " --step" : "", why);
	ck_assert_msg(r.status == 0, "%s/%s%s: %s", guest, tv_mode_name(mode), step ? " --step" : "",
		      first_line(r.out, head, sizeof(head)));
	assert_identical(&r);
}

/* Loop tests over all four modes (_i is the mode). */
START_TEST(test_hello_identical_at_exits) { builtin_identical("hello", _i, false, NULL); }
END_TEST
START_TEST(test_hello_identical_step) { builtin_identical("hello", _i, true, NULL); }
END_TEST
START_TEST(test_hypercalls_identical_at_exits) { builtin_identical("hypercalls", _i, false, NULL); }
END_TEST
START_TEST(test_hypercalls_identical_step) { builtin_identical("hypercalls", _i, true, NULL); }
END_TEST
/* Through the guest's own handlers: delivery is no exit on either engine, and a step over a
 * faulting instruction or an iret may run one more instruction on KVM (diff catches up). */
START_TEST(test_exceptions_identical_at_exits) { builtin_identical("exceptions", _i, false, NULL); }
END_TEST
START_TEST(test_exceptions_identical_step) { builtin_identical("exceptions", _i, true, NULL); }
END_TEST

START_TEST(test_guest1_identical_30_exits)
{
	builtin_identical("guest1", TV_MODE_REAL, false, "30");
}
END_TEST
START_TEST(test_guest1_identical_200_steps)
{
	builtin_identical("guest1", TV_MODE_REAL, true, "200");
}
END_TEST
START_TEST(test_guest2_identical_30_exits)
{
	builtin_identical("guest2", TV_MODE_REAL, false, "30");
}
END_TEST
START_TEST(test_guest2_identical_200_steps)
{
	builtin_identical("guest2", TV_MODE_REAL, true, "200");
}
END_TEST

/* The guests with no I/O never exit: only --step compares them. */
static const char *const no_io_guests[] = { "guest1-noio", "guest2-noio", "counter" };

START_TEST(test_no_io_guests_identical_200_steps)
{
	builtin_identical(no_io_guests[_i], TV_MODE_REAL, true, "200");
}
END_TEST

/* paged32: 77 exactly when an engine's probe fails here, 0 when both run it. */
START_TEST(test_paged32_exits_77_exactly_when_a_probe_fails)
{
	struct result r;
	struct cmd c;
	char kvm_why[512] = "", emu_why[512] = "";
	bool kvm, emu;

	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	kvm = tv_test_engine("kvm", TV_MODE_PAGED32, kvm_why, sizeof(kvm_why)) != NULL;
	emu = tv_test_engine("emu", TV_MODE_PAGED32, emu_why, sizeof(emu_why)) != NULL;
	diff_cmd(&c, "hello", TV_MODE_PAGED32);
	run(&c, &r);
	if (kvm && emu) {
		assert_identical(&r);
		return;
	}
	ck_assert_msg(r.status == 77, "paged32: probe says '%s', diff exited %d: %s%s",
		      kvm ? emu_why : kvm_why, r.status, r.out, r.err);
	ck_assert_int_eq(tv_count_lines(r.err), 1);
	ck_assert_str_eq(r.out, "");
	/* The probe's own reason, when the engine is built in and its probe said no (kvm_why
	 * starts with the host-limit tag, which is the test's, not diff's). */
	if (!kvm && tv_backend_find("kvm")) {
		const char *probe_why = strstr(kvm_why, "] ") ? strstr(kvm_why, "] ") + 2 : kvm_why;

		ck_assert_msg(strstr(r.err, probe_why) != NULL,
			      "stderr lacks the probe's reason '%s': %s", probe_why, r.err);
	}
	printf("NOTE: %s: twinvm diff --mode paged32 exits 77 here: %s", __func__, r.err);
	fflush(stdout);
}
END_TEST

/* ==== 2. diff catches a real difference ====================================================== */

static void cpuid_diverges(enum tv_mode mode, bool step)
{
	struct result r;
	struct cmd c;
	char why[512], line[512];

	diff_cmd(&c, "cpuid", mode);
	if (step)
		CMD(&c, "--step");
	if (!diff_can_compare(&c, &r, mode, why, sizeof(why)))
		TV_SKIP("cpuid/%s%s: %s", tv_mode_name(mode),
			step ? " --step" : "", why);
	assert_diverged(&r);
	/* At exit level the second, stepping pass names it; with --step the first pass does. */
	ck_assert_msg(line_with(r.out, "the instruction that differs", line, sizeof(line)) != NULL,
		      "the report names no instruction:\n%s", r.out);
	ck_assert_msg(strstr(line, "0f a2") != NULL, "not the cpuid bytes: %s", line);
	if (!have_capstone()) {
		printf("NOTE: %s: Capstone is not built in: \"cpuid\" by name not checked\n", __func__);
		fflush(stdout);
		return;
	}
	ck_assert_msg(strstr(line, "0f a2  cpuid") != NULL, "not disassembled as cpuid: %s", line);
}

START_TEST(test_cpuid_diverges_at_exits_naming_cpuid) { cpuid_diverges(_i, false); }
END_TEST
START_TEST(test_cpuid_diverges_step_naming_cpuid) { cpuid_diverges(_i, true); }
END_TEST

/* ==== 3. normalisation rules, one raw guest each ============================================= */

/* IN is completed (the value in EAX, RIP past it) before the record, as OUT is. */
START_TEST(test_in_and_out_identical)
{
	raw_guest_identical(in_out, sizeof(in_out), protected_long[_i], false, NULL);
}
END_TEST
START_TEST(test_in_and_out_identical_step)
{
	raw_guest_identical(in_out, sizeof(in_out), protected_long[_i], true, NULL);
}
END_TEST
START_TEST(test_in_and_out_trace_rip_past_and_value_in_rax)
{
	raw_guest_trace(in_out, sizeof(in_out), engines[_i], TV_MODE_PROTECTED, 0, in_out_records,
			N(in_out_records));
}
END_TEST

/* An MMIO read completes (all ones in EAX) before the record, as the write does. */
START_TEST(test_mmio_above_ram_identical)
{
	raw_guest_identical(above_ram, sizeof(above_ram), TV_MODE_PROTECTED, _i, "--mem=2M");
}
END_TEST
START_TEST(test_mmio_above_ram_trace)
{
	raw_guest_trace(above_ram, sizeof(above_ram), engines[_i], TV_MODE_PROTECTED, 0,
			above_ram_records, N(above_ram_records));
}
END_TEST

/* rep insb / rep outsb: one record per instruction on both engines, however each splits it.
 * Loop indices: _i is exits/--step, or the engine; in the 32-bit tests, _i % 2 picks the mode
 * (or the engine) and _i / 2 the level (or the mode). */
START_TEST(test_string_io_real_identical)
{
	raw_guest_identical(string_io16, sizeof(string_io16), TV_MODE_REAL, _i, NULL);
}
END_TEST
START_TEST(test_string_io_real_one_record_per_instruction)
{
	raw_guest_trace(string_io16, sizeof(string_io16), engines[_i], TV_MODE_REAL, 0,
			string_io16_records, N(string_io16_records));
}
END_TEST
START_TEST(test_string_io_32_identical)
{
	raw_guest_identical(string_io32, sizeof(string_io32), protected_long[_i % 2], _i / 2, NULL);
}
END_TEST
START_TEST(test_string_io_32_one_record_per_instruction)
{
	raw_guest_trace(string_io32, sizeof(string_io32), engines[_i % 2], protected_long[_i / 2], 0,
			string_io32_records, N(string_io32_records));
}
END_TEST

/* HC_gvaToHva(0x400) is 0x400 on every engine in every mode: host addresses compare as RAM
 * offsets. _i: engine * 4 + mode. */
START_TEST(test_gva_to_hva_0x400_is_ram_offset_0x400)
{
	const char *engine = engines[_i / TV_MODE_COUNT];
	enum tv_mode mode = _i % TV_MODE_COUNT;
	const json_t *hc = NULL, *rec = NULL;
	struct trace t;
	char why[512];

	if (!traced_run(&t, engine, mode, "hypercalls", 0, why, sizeof(why)))
		TV_SKIP("%s/%s: %s", engine, tv_mode_name(mode), why);
	for (int i = 0; i < t.n && !hc; i++) {
		const json_t *h = json_object_get(t.rec[i], "hypercall");
		uint64_t arg;

		if (h && strcmp(json_string_value(json_object_get(h, "name")), "HC_gvaToHva") == 0 &&
		    tv_trace_hex(h, "arg", &arg) == 0 && arg == 0x400) {
			hc = h;
			rec = t.rec[i];
		}
	}
	ck_assert_msg(hc != NULL, "%s/%s: no HC_gvaToHva(0x400) record", engine,
		      tv_mode_name(mode));
	ck_assert_uint_eq(hex_at(hc, "result"), 0x400);
	ck_assert_uint_eq(reg(rec, "rax") & 0xffffffff, 0x400);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rec, "io"), "data")),
			 "00040000");
	trace_free(&t);
}
END_TEST

/* ==== 4. the raw guests ============================================================== */

/* A triple fault ends both engines in SHUTDOWN with the same state. _i % 2: the mode (or the
 * engine); _i / 2: exits or --step (or the mode). */
START_TEST(test_triple_fault_identical)
{
	raw_guest_identical(undefined_opcode, sizeof(undefined_opcode), protected_long[_i % 2],
			    _i / 2, NULL);
}
END_TEST
START_TEST(test_triple_fault_trace_ends_in_shutdown)
{
	raw_guest_trace(undefined_opcode, sizeof(undefined_opcode), engines[_i % 2],
			protected_long[_i / 2], 1, shutdown_records, N(shutdown_records));
}
END_TEST

/* A long-mode guest that loads CR3 with tables of its own and reads through them. */
START_TEST(test_own_page_tables_identical)
{
	raw_guest_identical(own_page_tables, sizeof(own_page_tables), TV_MODE_LONG, _i, NULL);
}
END_TEST
START_TEST(test_own_page_tables_trace)
{
	raw_guest_trace(own_page_tables, sizeof(own_page_tables), engines[_i], TV_MODE_LONG, 0,
			own_page_tables_records, N(own_page_tables_records));
}
END_TEST

/* ==== 5. --against golden traces (no /dev/kvm needed) ======================================== */

START_TEST(test_golden_dir_has_agreeing_and_diverging_traces)
{
	int cpuid = 0;

	ck_assert_msg(ngolden > 0, "no golden traces found in '%s'", golden_dir);
	for (int i = 0; i < ngolden; i++)
		cpuid += strncmp(golden_files[i], "cpuid-", 6) == 0;
	ck_assert_msg(cpuid > 0 && cpuid < ngolden, "%d of %d golden traces are cpuid: want both "
		      "kinds", cpuid, ngolden);
}
END_TEST

/* _i: the golden file. Every one agrees with the emulator but cpuid-*, which must diverge: on
 * a register cpuid wrote, or, where the vendor strings agree (an AMD host under an AMD CPU
 * model such as --cpu epyc-rome), on the leaf-1 signature HC_print32bit sends out. */
START_TEST(test_golden_against_emu)
{
	const char *file = golden_files[_i];
	bool is_cpuid = strncmp(file, "cpuid-", 6) == 0;
	bool endless = strncmp(file, "guest1-", 7) == 0 || strncmp(file, "guest2-", 7) == 0;
	char path[4400], guest[256], why[512], head[512];
	enum tv_mode mode;
	struct result r;

	golden_name_parse(file, guest, sizeof(guest), &mode);
	snprintf(path, sizeof(path), "%s/%s", golden_dir, file);
	if (!diff_against(&r, path, guest, mode, endless ? "50" : NULL, why, sizeof(why)))
		TV_SKIP("%s: %s", file, why);
	if (is_cpuid) {
		assert_diverged(&r);
		ck_assert_msg(strstr(first_line(r.out, head, sizeof(head)), ": rbx: ") ||
			      strstr(head, ": rcx: ") || strstr(head, ": rdx: ") ||
			      strstr(head, ": rax: ") || strstr(head, ": io.data: "),
			      "%s: diverged, but not on a cpuid register: %s",
			      file, head);
	} else {
		ck_assert_msg(r.status == 0, "%s: %s%s", file, r.out, r.err);
		assert_identical(&r);
	}
}
END_TEST

/* Edits of hello-long.jsonl, each a divergence the emulator's run must show. */
static bool edit_rbx_of_record_5(json_t *rec, int line)
{
	if (line == 5)
		json_object_set_new(json_object_get(rec, "regs"), "rbx", json_string("0xbad"));
	return true;
}

/* Flips CF (bit 0) in record 5's RFLAGS, 0x6 in hello-long.jsonl: 0x7. */
static bool edit_cf_of_record_5(json_t *rec, int line)
{
	json_t *regs = json_object_get(rec, "regs");
	char hex[24];

	if (line == 5) {
		uint64_t v = strtoull(json_string_value(json_object_get(regs, "rflags")), NULL, 16);

		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)(v ^ 1));
		json_object_set_new(regs, "rflags", json_string(hex));
	}
	return true;
}

static bool keep_all(json_t *rec, int line)
{
	(void)rec;
	(void)line;
	return true;
}

static bool keep_10_records(json_t *rec, int line)
{
	(void)rec;
	return line <= 10;
}

static bool edit_ram_hash(json_t *rec, int line)
{
	(void)line;
	if (json_object_get(rec, "ram"))
		json_object_set_new(json_object_get(rec, "ram"), "fnv1a64",
				    json_string("0x1111111111111111"));
	return true;
}

/* diff --against an edited copy of hello-long.jsonl; the report on stdout. */
static bool diff_against_edited(struct result *r, bool (*edit)(json_t *, int), char *why,
				size_t len)
{
	char path[64];
	bool ran;

	ck_assert_msg(ngolden > 0, "no golden traces found in '%s'", golden_dir);
	golden_copy("hello-long.jsonl", edit, path, sizeof(path));
	ran = diff_against(r, path, "hello", TV_MODE_LONG, NULL, why, len);
	unlink(path);
	return ran;
}

START_TEST(test_golden_with_one_register_edited_diverges_naming_it)
{
	struct result r;
	char why[512];

	if (!diff_against_edited(&r, edit_rbx_of_record_5, why, sizeof(why)))
		TV_SKIP("%s", why);
	assert_diverged(&r);
	ck_assert_msg(starts_with(r.out, "DIVERGED at exit 5: rbx: emu 0x0, ") &&
		      strstr(r.out, " 0xbad\n") != NULL, "report: %s", r.out);
}
END_TEST

/* RFLAGS is compared like the other registers, flag by flag: one flag flipped in the trace
 * diverges at that exit, naming rflags, and --ignore rflags.cf masks that flag and no more. */
START_TEST(test_golden_with_one_flag_flipped_diverges_naming_rflags)
{
	struct result r;
	struct cmd c;
	char path[64], why[512];

	if (!diff_against_edited(&r, edit_cf_of_record_5, why, sizeof(why)))
		TV_SKIP("%s", why);
	assert_diverged(&r);
	ck_assert_msg(starts_with(r.out, "DIVERGED at exit 5: rflags: emu 0x6, ") &&
		      strstr(r.out, " 0x7\n") != NULL, "report: %s", r.out);

	golden_copy("hello-long.jsonl", edit_cf_of_record_5, path, sizeof(path));
	diff_cmd(&c, "hello", TV_MODE_LONG);
	CMD(&c, "--against", path, "--backend", "emu", "--ignore", "rflags.cf");
	run(&c, &r);
	unlink(path);
	assert_identical(&r);
}
END_TEST

START_TEST(test_golden_cut_short_diverges)
{
	struct result r;
	char why[512];

	if (!diff_against_edited(&r, keep_10_records, why, sizeof(why)))
		TV_SKIP("%s", why);
	assert_diverged(&r);
	ck_assert_msg(starts_with(r.out, "DIVERGED at exit 11: reason: emu IO, ") &&
		      strstr(r.out, "(the trace ends)") != NULL, "report: %s", r.out);
}
END_TEST

/* The trace's closing RAM hash is compared: a wrong one must diverge. */
START_TEST(test_golden_with_wrong_ram_hash_diverges)
{
	struct result r;
	char why[512];

	if (!diff_against_edited(&r, edit_ram_hash, why, sizeof(why)))
		TV_SKIP("%s", why);
	ck_assert_msg(r.status == 1 && strstr(r.out, "DIVERGED in guest RAM") != NULL,
		      "a golden trace with a wrong RAM hash: status %d, report: %s", r.status, r.out);
}
END_TEST

/* One malformed field of hello-long.jsonl (16 lines: 14 IO records, HLT, the RAM line): the value
 * put at path on line, and what the one error line must name. */
struct bad_golden {
	int line;
	const char *path[3];
	const char *value; /* JSON */
	const char *names;
};

static const struct bad_golden bad_goldens[] = {
	{ 3, { "reason" }, "5", "line 3: \"reason\": not a string" },
	{ 3, { "reason" }, "\"HALT\"", "line 3: \"reason\": not the name" },
	{ 15, { "code" }, "2", "line 15: \"reason\": not the name" },
	{ 1, { "seq" }, "null", "line 1: \"seq\"" },
	{ 4, { "io", "port" }, "\"0xe9\"", "line 4: \"io.port\"" },
	{ 4, { "io", "size" }, "3", "line 4: \"io.size\"" },
	{ 6, { "io", "data" }, "\"4\"", "line 6: \"io.data\"" },
	{ 6, { "io" }, "[]", "line 6: \"io\"" },
	{ 15, { "io" }, "{}", "line 15: \"io\": present" },
	{ 5, { "regs", "rip" }, "13", "line 5: \"regs.rip\"" },
	{ 5, { "regs", "rbx" }, "\"0x-1\"", "line 5: \"regs.rbx\"" },
	{ 2, { "sregs", "cs" }, "\"cs\"", "line 2: \"sregs.cs\"" },
	{ 2, { "sregs", "efer" }, "{}", "line 2: \"sregs.efer\"" },
	{ 7, { "hypercall", "name" }, "7", "line 7: \"hypercall.name\"" },
	{ 16, { "ram", "fnv1a64" }, "\"0x\"", "line 16: \"ram.fnv1a64\"" },
	{ 16, { "ram" }, "true", "line 16: \"ram\"" },
};
static const struct bad_golden *bad_golden;

static bool edit_bad_golden(json_t *rec, int line)
{
	const struct bad_golden *b = bad_golden;
	json_t *parent = rec, *value;
	int last = 0;

	if (line != b->line)
		return true;
	while (last < 2 && b->path[last + 1])
		parent = json_object_get(parent, b->path[last++]);
	ck_assert_msg(json_is_object(parent), "line %d has no %s", line, b->path[0]);
	value = json_loads(b->value, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(value);
	json_object_set_new(parent, b->path[last], value);
	return true;
}

/* A malformed golden trace: one line on stderr with the file, the line and the field; nothing on
 * stdout; exit 2. */
static void assert_golden_refused(const struct result *r, const char *path, const char *names)
{
	ck_assert_msg(r->status == 2, "status %d, stdout: %s, stderr: %s", r->status, r->out, r->err);
	ck_assert_msg(tv_count_lines(r->err) == 1, "stderr has %d lines: %s", tv_count_lines(r->err),
		      r->err);
	ck_assert_msg(strstr(r->err, path) && strstr(r->err, names), "stderr lacks %s or '%s': %s",
		      path, names, r->err);
	ck_assert_msg(r->out[0] == '\0', "stdout: %s", r->out);
}

/* _i: the bad field. A "reason" that was no string once crashed diff (SIGSEGV). */
START_TEST(test_golden_with_a_malformed_field_exits_2_naming_it)
{
	struct result r;
	struct cmd c;
	char path[64];

	ck_assert_msg(ngolden > 0, "no golden traces found in '%s'", golden_dir);
	bad_golden = &bad_goldens[_i];
	golden_copy("hello-long.jsonl", edit_bad_golden, path, sizeof(path));
	diff_cmd(&c, "hello", TV_MODE_LONG);
	CMD(&c, "--against", path, "--backend", "emu");
	run(&c, &r);
	unlink(path);
	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	assert_golden_refused(&r, path, bad_golden->names);
}
END_TEST

/* A line that is no JSON object, wherever it is: refused before any engine runs. */
START_TEST(test_golden_with_a_line_not_json_exits_2)
{
	static const char *const lines[] = { "{\"vm\":0,", "[1,2]", "", "{\"vm\":0}\0{}" };
	static const char *const names[] = { "line 17: not JSON", "line 17: not a JSON object",
					     "line 17: not JSON", "line 17: not JSON" };
	struct result r;
	struct cmd c;
	char path[64];
	FILE *f;

	ck_assert_msg(ngolden > 0, "no golden traces found in '%s'", golden_dir);
	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	for (int i = 0; i < N(lines); i++) {
		golden_copy("hello-long.jsonl", keep_all, path, sizeof(path));
		f = fopen(path, "a");
		ck_assert_ptr_nonnull(f);
		fwrite(lines[i], 1, strlen(lines[i]) + (i == 3 ? 3 : 0), f);
		fputc('\n', f);
		ck_assert_int_eq(fclose(f), 0);
		diff_cmd(&c, "hello", TV_MODE_LONG);
		CMD(&c, "--against", path, "--backend", "emu");
		run(&c, &r);
		unlink(path);
		assert_golden_refused(&r, path, names[i]);
	}
}
END_TEST

/* The reader itself (the fuzz target's entry): records, the RAM line, and lines it refuses. */
START_TEST(test_golden_reader_api)
{
	static const char good[] = "{\"vm\":0,\"seq\":1,\"reason\":\"HLT\",\"code\":5}\n"
				   "{\"vm\":0,\"ram\":{\"size\":\"0x1000\",\"fnv1a64\":\"0x1\"}}\n";
	static char longline[TV_TRACE_LINE_MAX + 2];
	json_t *rec, *ram;
	char msg[256];
	FILE *f;

	ck_assert_int_eq(tv_golden_parse_line(good, strchr(good, '\n') - good, &rec, &ram, msg,
					      sizeof(msg)), 0);
	ck_assert(rec && !ram);
	json_decref(rec);
	ck_assert_int_eq(tv_golden_parse_line("{\"reason\":[]}", 14, &rec, &ram, msg, sizeof(msg)),
			 -EINVAL);
	ck_assert(!rec && !ram);
	f = fmemopen((void *)good, sizeof(good) - 1, "r");
	ck_assert_int_eq(tv_golden_check(f, msg, sizeof(msg)), 0);
	ck_assert_int_eq(ftell(f), 0);
	fclose(f);
	memset(longline, ' ', sizeof(longline) - 1);
	f = fmemopen(longline, sizeof(longline) - 1, "r");
	ck_assert_int_eq(tv_golden_check(f, msg, sizeof(msg)), -EFBIG);
	ck_assert_msg(strstr(msg, "line 1: longer than") != NULL, "%s", msg);
	fclose(f);
}
END_TEST

/* ==== 6. --ignore ============================================================================ */

START_TEST(test_ignore_unknown_field_exits_2_with_one_line)
{
	static const char *const bad[] = { "rbxx", "rflags.xf", "regs", "" };

	for (int i = 0; i < N(bad); i++) {
		struct result r;
		struct cmd c;

		diff_cmd(&c, "hello", TV_MODE_REAL);
		CMD(&c, "--ignore", bad[i]);
		run(&c, &r);
		ck_assert_msg(r.status == 2, "--ignore '%s': status %d", bad[i], r.status);
		ck_assert_msg(tv_count_lines(r.err) == 1, "--ignore '%s': %d lines: %s", bad[i],
			      tv_count_lines(r.err), r.err);
		ck_assert_ptr_nonnull(strstr(r.err, "not a compared field"));
		ck_assert_str_eq(r.out, "");
	}
}
END_TEST

/* The headline's field: "DIVERGED at exit 1: rcx: kvm ..." -> "rcx". */
static const char *diverged_field(const char *out, char *buf, size_t len)
{
	const char *p = strstr(out, ": ");

	ck_assert_msg(starts_with(out, "DIVERGED at ") && p, "no headline: %s", out);
	p += 2;
	snprintf(buf, len, "%.*s", (int)strcspn(p, ": \n"), p);
	return buf;
}

/* --ignore rbx on cpuid: still diverges, on another field. _i: the mode. */
START_TEST(test_ignore_rbx_still_diverges_on_another_field)
{
	struct result r;
	struct cmd c;
	char why[512], field[64];

	diff_cmd(&c, "cpuid", _i);
	CMD(&c, "--ignore", "rbx");
	if (!diff_can_compare(&c, &r, _i, why, sizeof(why)))
		TV_SKIP("cpuid/%s: %s", tv_mode_name(_i), why);
	assert_diverged(&r);
	diverged_field(r.out, field, sizeof(field));
	ck_assert_msg(strcmp(field, "rbx") != 0, "rbx was ignored, yet reported: %s", r.out);
}
END_TEST

/* The same against the golden trace, with no KVM: rbx ignored, cpuid still diverges. */
START_TEST(test_ignore_rbx_against_golden_still_diverges)
{
	struct result r;
	struct cmd c;
	char path[4400], why[512], field[64];

	ck_assert_msg(ngolden > 0, "no golden traces found in '%s'", golden_dir);
	snprintf(path, sizeof(path), "%s/cpuid-long.jsonl", golden_dir);
	if (access(path, R_OK) != 0)
		TV_SKIP("no %s", path);
	if (!tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	diff_cmd(&c, "cpuid", TV_MODE_LONG);
	CMD(&c, "--against", path, "--ignore", "rbx");
	run(&c, &r);
	assert_diverged(&r);
	ck_assert_msg(strcmp(diverged_field(r.out, field, sizeof(field)), "rbx") != 0, "%s", r.out);
}
END_TEST

/* Masking every field cpuid's results reach leaves the RAM they were stored to: it diverges
 * there, and only --ignore ram makes the run identical. */
START_TEST(test_ignore_registers_leaves_ram_compared)
{
	struct result r;
	struct cmd c;
	char why[512];

	diff_cmd(&c, "cpuid", TV_MODE_PROTECTED);
	CMD(&c, "--ignore", "rax", "--ignore", "rbx", "--ignore", "rcx", "--ignore", "rdx",
	    "--ignore", "rsi", "--ignore", "rdi", "--ignore", "io.data");
	if (!diff_can_compare(&c, &r, TV_MODE_PROTECTED, why, sizeof(why)))
		TV_SKIP("cpuid/protected: %s", why);
	ck_assert_msg(r.status == 1 && starts_with(r.out, "DIVERGED in guest RAM"),
		      "status %d: %s", r.status, r.out);
	CMD(&c, "--ignore", "ram");
	run(&c, &r);
	assert_identical(&r);
	ck_assert_ptr_nonnull(strstr(r.out, "RAM not compared"));
}
END_TEST

/* ==== the suite ============================================================================== */

int main(void)
{
	Suite *s = suite_create("diff");
	TCase *builtin = tcase_create("builtin");
	TCase *norm = tcase_create("normalisation");
	TCase *raw = tcase_create("raw_guests");
	TCase *golden = tcase_create("golden");
	TCase *ignore = tcase_create("ignore");

	list_golden();

	tcase_set_timeout(builtin, 120);
	tcase_add_loop_test(builtin, test_hello_identical_at_exits, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_hello_identical_step, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_hypercalls_identical_at_exits, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_hypercalls_identical_step, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_exceptions_identical_at_exits, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_exceptions_identical_step, 0, TV_MODE_COUNT);
	tcase_add_test(builtin, test_guest1_identical_30_exits);
	tcase_add_test(builtin, test_guest1_identical_200_steps);
	tcase_add_test(builtin, test_guest2_identical_30_exits);
	tcase_add_test(builtin, test_guest2_identical_200_steps);
	tcase_add_loop_test(builtin, test_no_io_guests_identical_200_steps, 0, N(no_io_guests));
	tcase_add_test(builtin, test_paged32_exits_77_exactly_when_a_probe_fails);
	tcase_add_loop_test(builtin, test_cpuid_diverges_at_exits_naming_cpuid, 0, TV_MODE_COUNT);
	tcase_add_loop_test(builtin, test_cpuid_diverges_step_naming_cpuid, 0, TV_MODE_COUNT);
	suite_add_tcase(s, builtin);

	tcase_set_timeout(norm, 120);
	tcase_add_loop_test(norm, test_in_and_out_identical, 0, N(protected_long));
	tcase_add_loop_test(norm, test_in_and_out_identical_step, 0, N(protected_long));
	tcase_add_loop_test(norm, test_in_and_out_trace_rip_past_and_value_in_rax, 0, N(engines));
	tcase_add_loop_test(norm, test_mmio_above_ram_identical, 0, 2); /* exits, --step */
	tcase_add_loop_test(norm, test_mmio_above_ram_trace, 0, N(engines));
	tcase_add_loop_test(norm, test_string_io_real_identical, 0, 2); /* exits, --step */
	tcase_add_loop_test(norm, test_string_io_real_one_record_per_instruction, 0, N(engines));
	tcase_add_loop_test(norm, test_string_io_32_identical, 0, 2 * N(protected_long));
	tcase_add_loop_test(norm, test_string_io_32_one_record_per_instruction, 0,
			    N(engines) * N(protected_long));
	tcase_add_loop_test(norm, test_gva_to_hva_0x400_is_ram_offset_0x400, 0,
			    N(engines) * TV_MODE_COUNT);
	suite_add_tcase(s, norm);

	tcase_set_timeout(raw, 120);
	tcase_add_loop_test(raw, test_triple_fault_identical, 0, 2 * N(protected_long));
	tcase_add_loop_test(raw, test_triple_fault_trace_ends_in_shutdown, 0,
			    N(engines) * N(protected_long));
	tcase_add_loop_test(raw, test_own_page_tables_identical, 0, 2); /* exits, --step */
	tcase_add_loop_test(raw, test_own_page_tables_trace, 0, N(engines));
	suite_add_tcase(s, raw);

	tcase_set_timeout(golden, 120);
	tcase_add_test(golden, test_golden_dir_has_agreeing_and_diverging_traces);
	if (ngolden > 0)
		tcase_add_loop_test(golden, test_golden_against_emu, 0, ngolden);
	tcase_add_test(golden, test_golden_with_one_register_edited_diverges_naming_it);
	tcase_add_test(golden, test_golden_with_one_flag_flipped_diverges_naming_rflags);
	tcase_add_test(golden, test_golden_cut_short_diverges);
	tcase_add_test(golden, test_golden_with_wrong_ram_hash_diverges);
	tcase_add_loop_test(golden, test_golden_with_a_malformed_field_exits_2_naming_it, 0,
			    N(bad_goldens));
	tcase_add_test(golden, test_golden_with_a_line_not_json_exits_2);
	tcase_add_test(golden, test_golden_reader_api);
	suite_add_tcase(s, golden);

	tcase_set_timeout(ignore, 120);
	tcase_add_test(ignore, test_ignore_unknown_field_exits_2_with_one_line);
	tcase_add_loop_test(ignore, test_ignore_rbx_still_diverges_on_another_field, 0,
			    TV_MODE_COUNT);
	tcase_add_test(ignore, test_ignore_rbx_against_golden_still_diverges);
	tcase_add_test(ignore, test_ignore_registers_leaves_ram_compared);
	suite_add_tcase(s, ignore);

	return tv_test_main(s);
}
