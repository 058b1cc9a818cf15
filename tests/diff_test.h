/* The helpers the `twinvm diff` suites (test_diff_*.c) share: running the binary, the host's
 * engines, traces of `twinvm run --trace`, and the golden traces in tests/golden. */
#ifndef TWINVM_TEST_DIFF_TEST_H
#define TWINVM_TEST_DIFF_TEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modes.h"
#include "run_binary.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- running the binary ---------------------------------------------------------------------- */

/* An argument list under construction: argv[1] on; argv[0] stays unused. */
struct cmd {
	const char *argv[48];
	int argc;
};

/* Appends the NULL-terminated strings to c. */
void dt_cmd_add(struct cmd *c, ...);
#define CMD(c, ...) dt_cmd_add((c), __VA_ARGS__, (const char *)NULL)

/* Runs $TWINVM_BIN with c's arguments, capturing its exit status, stdout and stderr. */
void dt_run(struct cmd *c, struct result *r);

/* Starts `twinvm diff --guest guest --mode mode` in c; more arguments can be added. */
void dt_diff_cmd(struct cmd *c, const char *guest, enum tv_mode mode);

/* The first line of s, for messages and for parsing the report's headline. */
const char *dt_first_line(const char *s, char *buf, size_t len);

/* The line of s that contains what, or NULL. */
const char *dt_line_with(const char *s, const char *what, char *buf, size_t len);

bool dt_starts_with(const char *s, const char *prefix);

/* Exit 0 and an "identical:" line. */
void dt_assert_identical(const struct result *r);

/* Exit 1 and a DIVERGED report. */
void dt_assert_diverged(const struct result *r);

/* ---- what this host can run ------------------------------------------------------------------ */

/* True when both engines run mode here; otherwise false with the probe's reason in why. */
bool dt_both_engines_run(enum tv_mode mode, char *why, size_t len);

/* Runs the diff in c and, when an engine cannot run mode here, checks that diff said so (77 and
 * one line; 2 when the emulator is not built in). Returns false in that case, with why saying
 * so for the caller's TV_SKIP. */
bool dt_diff_can_compare(struct cmd *c, struct result *r, enum tv_mode mode, char *why,
			 size_t len);

/* Whether Capstone is built in (the report then disassembles). */
bool dt_have_capstone(void);

/* A raw guest image in a temporary file; the caller unlinks it. */
const char *dt_temp_guest(const uint8_t *bytes, size_t len, char *path, size_t path_len);

/* ---- traces ---------------------------------------------------------------------------------- */

#define MAX_RECORDS 64

struct trace {
	json_t *rec[MAX_RECORDS]; /* the exit records, in order */
	int n;
	json_t *ram; /* the closing {"ram":...} line, if any */
};

/* The trace file at path, read into t. */
void dt_trace_load(struct trace *t, const char *path);
void dt_trace_free(struct trace *t);

/* `twinvm run --backend engine --mode mode --guest guest --trace TMP`, loaded into t. Returns
 * false, with why, when engine cannot run mode here. The run must exit with want_status. */
bool dt_traced_run(struct trace *t, const char *engine, enum tv_mode mode, const char *guest,
		   int want_status, char *why, size_t why_len);

/* A record's "reason", or "(none)". */
const char *dt_reason(const json_t *rec);

/* The hex member key of obj; fails the case when it is missing. */
uint64_t dt_hex_at(const json_t *obj, const char *key);

/* The register name of a record. */
uint64_t dt_reg(const json_t *rec, const char *name);

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

/* Record i of engine's trace holds what w says. */
void dt_assert_record(const json_t *rec, const struct want *w, const char *engine, int i);

/* Runs guest on engine with a trace and checks every record against want[0..n). */
void dt_check_trace(const char *engine, enum tv_mode mode, const char *guest, int status,
		    const struct want *want, int n);

/* ---- golden traces --------------------------------------------------------------------------- */

#define MAX_GOLDEN 64

extern char dt_golden_dir[4096];
extern char *dt_golden_files[MAX_GOLDEN]; /* listed by dt_list_golden(), sorted */
extern int dt_ngolden;

/* Finds tests/golden and lists its traces; main() calls it before adding the cases. */
void dt_list_golden(void);

/* "<guest>-<mode>.jsonl" -> guest and mode. */
void dt_golden_name_parse(const char *file, char *guest, size_t len, enum tv_mode *mode);

/* A copy of golden file name in a temporary file, every line passed through edit (which returns
 * false to drop the line; line counts from 1). */
bool dt_drop_expectations(json_t *rec, int line);
const char *dt_golden_copy(const char *name, bool (*edit)(json_t *rec, int line), char *path,
			   size_t len);

/* `twinvm diff --against FILE --guest G --mode M` on the emulator; false (with why) when the
 * emulator cannot run the mode here, after checking that diff said 77. */
bool dt_diff_against(struct result *r, const char *file, const char *guest, enum tv_mode mode,
		     const char *max_exits, char *why, size_t len);

#endif
