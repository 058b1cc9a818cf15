/* Lockstep comparison of two engines, or of one engine and a golden trace: the two sides, the
 * lockstep, guest RAM at the end. The fields are diff_fields.c's, the report diff_report.c's. */
#include "diff.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"
#include "diff_side.h"
#include "disasm.h"
#include "insn.h"
#include "kick.h"
#include "record.h"
#include "trace.h"

#define LOCATE_MAX_STEPS 5000000ull /* steps to locate an instruction; also a rep catch-up's bound */

/* Where error lines go: never into the report. */
static FILE *diff_err(const struct tv_diff_opts *o)
{
	return o->err ? o->err : stderr;
}

/* ---- the two sides ---------------------------------------------------------------------- */

/* cpuid: the CPUID table the side's guest sees instead of its engine's own, or NULL. */
static int side_open_live(struct side *s, const struct tv_diff_opts *o,
			  const struct tv_backend_ops *be, bool step,
			  const struct tv_cpuid_table *cpuid)
{
	struct tv_machine_opts mopt = {
		.backend = be, .ram_size = o->ram_size,
		.run_flags = step ? TV_RUN_STEP : TV_RUN_PRECISE, .cpu_model = o->cpu_model,
		.platform = o->platform, .multiboot_env = o->multiboot_env,
		.multiboot_env_len = o->multiboot_env_len, .cpuid = cpuid,
		.multiboot_cmdline = o->multiboot_cmdline,
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
/* ---- lockstep ------------------------------------------------------------------------------ */

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
		if (tv_diff_first_difference(o, ra, next, undefined) == NULL) {
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
		const struct tv_diff_field *f;

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
			d->field = &tv_diff_field_table[0];
			return TV_DIFF_DIVERGED;
		}
		step_flags(o, a, &undefined);
		f = tv_diff_first_difference(o, ra, rb, undefined);
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
			f = tv_diff_first_difference(o, ra, rb, undefined);
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
			tv_diff_value_text(tv_diff_field_value(ra, f), d->a, sizeof(d->a));
			tv_diff_value_text(tv_diff_field_value(rb, f), d->b, sizeof(d->b));
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
		/* isa-debug-exit ended the guest (a is live): where a run, and its trace, end too */
		if (record_final(ra) || a->m.guest_exit || (max && n >= max)) {
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

	if (tv_diff_ignored(o, "ram"))
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

/* Opens both live sides, b with a's CPUID table where o asks for it (mirror_cpuid). 0, or -errno
 * with the failing engine's error line written; both sides are closed then. */
static int sides_open_live(struct side *a, struct side *b, const struct tv_diff_opts *o,
			   bool step)
{
	struct tv_cpuid_table table = { 0 };
	const struct tv_backend_ops *failed = o->a;
	int rc = side_open_live(a, o, o->a, step, NULL);

	if (!rc && o->mirror_cpuid && o->a->cpuid_table)
		rc = o->a->cpuid_table(a->m.vcpu, &table);
	if (!rc) {
		failed = o->b;
		rc = side_open_live(b, o, o->b, step, table.n ? &table : NULL);
	} else {
		memset(b, 0, sizeof(*b));
	}
	tv_cpuid_table_free(&table);
	if (rc) {
		fprintf(diff_err(o), "twinvm diff: %s: %s\n", failed->name, tv_last_error());
		side_close(a);
		side_close(b);
	}
	return rc;
}

/* After an exit-level divergence between two live engines: the same guest again, instruction by
 * instruction, to name the first instruction after which the two states differ. */
static void locate(const struct tv_diff_opts *o)
{
	struct side a, b;
	struct divergence d;
	char why[512];
	enum tv_diff_status st;

	if (sides_open_live(&a, &b, o, true) != 0)
		return;
	st = lockstep(o, &a, &b, LOCATE_MAX_STEPS, &d, why, sizeof(why));
	if (st == TV_DIFF_DIVERGED) {
		fprintf(o->out, "stepping the guest again to find the instruction:\n");
		tv_diff_report(o, &a, &b, &d, true);
		json_decref(d.rec_a);
		json_decref(d.rec_b);
	} else {
		fprintf(o->out, "stepping the guest again found no differing instruction (%s)\n",
			st == TV_DIFF_ERROR ? why : "the states agree after every instruction");
	}
	side_close(&a);
	side_close(&b);
}

/* The fields the golden says it differs in, which were not compared, and why: one line for each
 * reason. */
static void say_expected(const struct tv_diff_opts *o)
{
	const struct tv_golden_header *h = o->golden_header;

	for (int i = 0; h && i < h->nexpect; i++) {
		int j;

		for (j = 0; j < i && strcmp(h->expect[j].reason, h->expect[i].reason) != 0; j++)
			;
		if (j < i)
			continue; /* said with its reason's first field */
		fprintf(o->out, "not compared, as %s expects them to differ:", o->golden_name);
		for (j = i; j < h->nexpect; j++)
			if (strcmp(h->expect[j].reason, h->expect[i].reason) == 0)
				fprintf(o->out, " %s", h->expect[j].field);
		fprintf(o->out, " (%s)\n", h->expect[i].reason);
	}
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

	if (o->b) {
		if (sides_open_live(&a, &b, o, o->step) != 0)
			return TV_DIFF_ERROR;
	} else {
		rc = side_open_live(&a, o, o->a, o->step, NULL);
		if (rc) {
			fprintf(diff_err(o), "twinvm diff: %s: %s\n", o->a->name, tv_last_error());
			side_close(&a);
			return TV_DIFF_ERROR;
		}
		memset(&b, 0, sizeof(b));
		b.label = o->golden_name;
		b.golden.in.f = o->golden;
	}

	st = lockstep(o, &a, &b, o->max_records, &d, why, sizeof(why));
	if (st == TV_DIFF_ERROR) {
		fprintf(diff_err(o), "twinvm diff: %s\n", why);
	} else if (st == TV_DIFF_DIVERGED) {
		tv_diff_report(o, &a, &b, &d, o->step);
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
	if (st != TV_DIFF_ERROR)
		say_expected(o);
	if (st == TV_DIFF_DIVERGED && !o->step && o->b)
		locate(o);
	return st;
}
