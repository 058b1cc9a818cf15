/* twinvm fuzz's loop and its replay. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bucket.h"
#include "compare.h"
#include "minimize.h"
#include "repro.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Reads the record at path into c, with its snippet analysed. */
static int load_case(const char *path, struct fz_case *c, char *oracle, size_t oracle_len,
		     char *why, size_t why_len)
{
	json_error_t err;
	json_t *rec = json_load_file(path, 0, &err);
	char reason[256];
	int rc;

	if (!rec) {
		snprintf(why, why_len, "%s: line %d: %s", path, err.line, err.text);
		return -EINVAL;
	}
	rc = fz_case_from_json(rec, c, oracle, oracle_len, reason, sizeof(reason));
	json_decref(rec);
	if (!rc) {
		struct fz_snippet masks = c->s; /* also the code: fz_analyze clears what it fills */

		/* The record's masks are the ones its verdict used; the boundaries are decoded. */
		rc = fz_analyze(masks.code, masks.len, masks.bits, &c->s);
		if (rc == -ENOTSUP)
			rc = 0; /* decoded; the record's masks are the ones that count */
		c->s.rflags_undefined = masks.rflags_undefined;
		c->s.gpr_undefined = masks.gpr_undefined;
		if (rc)
			snprintf(reason, sizeof(reason), "\"code\": does not decode");
	}
	if (rc)
		snprintf(why, why_len, "%s: %s", path, reason);
	return rc;
}

/* The names of dir's *.json files, sorted; *n of them. NULL with -errno in *n on failure. */
static char **list_records(const char *dir, int *n)
{
	struct dirent **ents;
	int count = scandir(dir, &ents, NULL, alphasort);
	char **names;
	int k = 0;

	if (count < 0) {
		*n = -errno;
		return NULL;
	}
	names = calloc((size_t)count + 1, sizeof(*names));
	for (int i = 0; i < count; i++) {
		size_t len = strlen(ents[i]->d_name);

		if (names && len > 5 && strcmp(ents[i]->d_name + len - 5, ".json") == 0)
			names[k++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	*n = names ? k : -ENOMEM;
	return names;
}

static void free_names(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* The buckets of the records in dir, for fz_run's known set. */
static int load_known(const char *dir, struct fz_buckets *known)
{
	int n;
	char **names = list_records(dir, &n);

	if (!names)
		return n;
	for (int i = 0; i < n; i++) {
		char path[4096];
		json_error_t err;
		json_t *rec;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rec = json_load_file(path, 0, &err);
		if (rec && json_is_string(json_object_get(rec, "key")))
			fz_buckets_add(known, json_string_value(json_object_get(rec, "key")));
		json_decref(rec);
	}
	free_names(names, n);
	return 0;
}

/* A file name from a bucket key: "007-popcnt-r64-r64", "008-ss-0-raised-as-gp-0". */
static void bucket_name(unsigned seq, const char *key, char *name, size_t len)
{
	size_t n = (size_t)snprintf(name, len, "%03u-", seq);
	bool dash = false;

	for (const char *p = key; *p && *p != '>' && n + 1 < len && n < 48; p++) {
		bool word = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    (*p >= 'A' && *p <= 'Z');

		if (word) {
			name[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
			dash = false;
		} else if (!dash && n > 4) {
			name[n++] = '-';
			dash = true;
		}
	}
	while (n > 4 && name[n - 1] == '-')
		n--;
	name[n] = '\0';
}

/* One diverging snippet: minimised, bucketed, written when new. */
static int found(const struct fz_run_opts *o, struct fz_case *c, struct fz_buckets *seen,
		 const struct fz_buckets *known, FILE *out, struct fz_stats *st)
{
	char key[512], disasm[512], name[64], why[512];
	int rc = fz_minimize(o->emu, o->oracle, fz_analyze, c, NULL);

	if (!rc)
		rc = fz_case_key(c, fz_insn_form, fz_explicit_gprs, key, sizeof(key));
	if (rc)
		return rc;
	if (fz_buckets_has(known, key)) {
		st->known++;
		return 0;
	}
	if (!fz_buckets_add(seen, key))
		return 0;
	st->new_buckets++;
	if (fz_disasm(c->s.code, c->s.len, c->s.bits, disasm, sizeof(disasm)) != 0)
		snprintf(disasm, sizeof(disasm), "(does not disassemble)");
	fprintf(out, "new: %s: %s\n", key, disasm);
	fflush(out);
	if (!o->out_dir)
		return 0;
	bucket_name((unsigned)st->new_buckets, key, name, sizeof(name));
	rc = fz_case_write(o->out_dir, name, c, key, o->oracle->name, disasm, why, sizeof(why));
	if (rc)
		tv_set_error("%s", why);
	return rc;
}

int fz_run(const struct fz_run_opts *o, FILE *out, struct fz_stats *st)
{
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
	struct fz_buckets seen = { 0 }, known = { 0 };
	struct fz_case *c = malloc(sizeof(*c));
	double t0 = now_s(), last = t0, t;
	uint64_t rng = o->seed ? o->seed : 1;
	struct fz_gen_opts gen = o->gen;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	gen.bits = (unsigned)tv_mode_bits(o->mode);
	if (!c)
		return -ENOMEM;
	if (o->known_dir && (rc = load_known(o->known_dir, &known)) != 0) {
		tv_set_error("%s: %s", o->known_dir, strerror(-rc));
		free(c);
		return rc;
	}
	stop_requested = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!stop_requested && (!o->count || st->snippets < o->count)) {
		rc = fz_generate(&rng, &gen, &c->s, &c->in);
		c->mode = o->mode;
		if (rc) {
			tv_set_error("the generator cannot make %u-bit snippets of those classes",
				     gen.bits);
			break;
		}
		rc = o->emu->run(o->emu, &c->s, &c->in, &c->emu);
		if (!rc)
			rc = o->oracle->run(o->oracle, &c->s, &c->in, &c->oracle);
		if (rc == -ENOTSUP) {
			st->unrunnable++;
			rc = 0;
			continue;
		}
		if (rc)
			break;
		st->snippets++;
		if (fz_compare(&c->s, &c->emu, &c->oracle, &c->diff)) {
			st->diverged++;
			rc = found(o, c, &seen, &known, out, st);
			if (rc)
				break;
		}
		if ((st->snippets & 1023) != 0)
			continue;
		t = now_s();
		if (o->duration_s > 0 && t - t0 >= o->duration_s)
			break;
		if (o->progress && t - last >= 1.0) {
			fprintf(stderr, "\rfuzz: %" PRIu64 " snippets, %.0f/s, %" PRIu64 " buckets ",
				st->snippets, (double)st->snippets / (t - t0), seen.n);
			last = t;
		}
	}
	if (o->progress)
		fprintf(stderr, "\n");
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	st->seconds = now_s() - t0;
	fz_buckets_free(&seen);
	fz_buckets_free(&known);
	free(c);
	return rc;
}

/* Loads each record of dir in turn (sorted by name) and hands it to fn with its file name and path;
 * stops at the first that does not load or that fn fails. 0, or -errno with why. */
static int each_case(const char *dir,
		     int (*fn)(void *ctx, const char *name, const char *path, struct fz_case *c,
			       char *why, size_t why_len),
		     void *ctx, char *why, size_t why_len)
{
	struct fz_case *c = malloc(sizeof(*c));
	int n, rc = 0;
	char **names = list_records(dir, &n);

	if (!names || !c) {
		snprintf(why, why_len, "%s: %s", dir, strerror(names ? ENOMEM : -n));
		free(c);
		free_names(names, n);
		return names ? -ENOMEM : n;
	}
	for (int i = 0; i < n && !rc; i++) {
		char path[4096], oracle[16];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		rc = load_case(path, c, oracle, sizeof(oracle), why, why_len);
		if (!rc)
			rc = fn(ctx, names[i], path, c, why, why_len);
	}
	free_names(names, n);
	free(c);
	return rc;
}

static int note_mode(void *ctx, const char *name, const char *path, struct fz_case *c, char *why,
		     size_t why_len)
{
	(void)name, (void)path, (void)why, (void)why_len;
	*(unsigned *)ctx |= 1u << c->mode;
	return 0;
}

int fz_replay_modes(const char *dir, unsigned *modes, char *why, size_t why_len)
{
	*modes = 0;
	return each_case(dir, note_mode, modes, why, why_len);
}

struct replay {
	struct fz_oracle *emu, *oracle;
	enum tv_mode mode;
	FILE *out;
	unsigned *diverging, *total;
};

/* One record, if it was made in the replay's mode: run again on both sides and compared. */
static int replay_case(void *ctx, const char *name, const char *path, struct fz_case *c,
		       char *why, size_t why_len)
{
	struct replay *r = ctx;
	struct fz_result recorded = c->oracle;
	char fields[256];
	struct fz_diff d;
	int rc;

	if (c->mode != r->mode)
		return 0;
	rc = r->emu->run(r->emu, &c->s, &c->in, &c->emu);
	if (!rc)
		rc = r->oracle->run(r->oracle, &c->s, &c->in, &c->oracle);
	if (rc) {
		snprintf(why, why_len, "%s: %s", path, tv_last_error());
		return rc;
	}
	++*r->total;
	/* Against the oracle here, and against the result recorded when it was found. */
	if (fz_compare(&c->s, &c->emu, &c->oracle, &c->diff) &&
	    fz_compare(&c->s, &c->emu, &recorded, &d)) {
		++*r->diverging;
		fz_diff_fields(&c->diff, fields, sizeof(fields));
		fprintf(r->out, "%s: still diverges (%s)\n", name, fields);
	} else {
		fprintf(r->out, "%s: no longer diverges\n", name);
	}
	return 0;
}

int fz_replay(struct fz_oracle *emu, struct fz_oracle *oracle, enum tv_mode mode, const char *dir,
	      FILE *out, unsigned *diverging, unsigned *total, char *why, size_t why_len)
{
	struct replay r = { .emu = emu, .oracle = oracle, .mode = mode, .out = out,
			    .diverging = diverging, .total = total };

	*diverging = *total = 0;
	return each_case(dir, replay_case, &r, why, why_len);
}
