/* The --api-chart drawing: one box per step of the run, top to bottom, with arrows between them.
 * Each box has its number and calls, what they were given and returned (values that repeat with
 * a change written once: "KVM_CAP_{USER_MEMORY, SYNC_REGS}"), and the step's note. The run box
 * has the loop: an arrow back into it, with what it repeats beside it. Plain SVG 1.1 text. */
#include "api_chart.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 980
#define BOX_X 24
#define BOX_W 730
#define TOP 78	     /* the first box */
#define GAP 26	     /* between boxes: the arrow */
#define HEAD 22	     /* a box's first line: number and calls */
#define MONO 14	     /* a line of calls, inputs and results */
#define NOTE 16	     /* a line of the note */
#define PAD 8	     /* inside a box, above and below */
#define COLS 104     /* characters on a mono line (11px monospace in BOX_W) */
#define NOTE_COLS 96 /* on a note line */
#define LABEL_COLS 30 /* beside the loop */
#define MAX_LINES 8  /* of one text in a box */

/* Text being put together; what does not fit is cut. */
struct text {
	char s[2048];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len >= sizeof(t->s) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->s + t->len, sizeof(t->s) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len > sizeof(t->s) - 1)
		t->len = sizeof(t->s) - 1;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c);
}

/* What n values share at their start, not ending inside a word ("KVM_CAP_", "data "). */
static size_t common_prefix(char *const *v, size_t n)
{
	const char *a = or_empty(v[0]);
	size_t len = strlen(a);
	bool split = false;

	for (size_t i = 1; i < n; i++) {
		const char *b = or_empty(v[i]);
		size_t j = 0;

		while (j < len && a[j] == b[j])
			j++;
		len = j;
	}
	for (size_t i = 0; i < n; i++)
		split = split || word_char(or_empty(v[i])[len]);
	while (split && len > 0 && word_char(a[len - 1]))
		len--;
	return len;
}

/* What they share at their end after the first skip bytes, not starting inside a word
 * (", begin 1, end 0"). */
static size_t common_suffix(char *const *v, size_t n, size_t skip)
{
	const char *a = or_empty(v[0]);
	size_t alen = strlen(a), len = alen - skip;
	bool split = false;

	for (size_t i = 1; i < n; i++) {
		const char *b = or_empty(v[i]);
		size_t blen = strlen(b), j = 0;

		while (j < len && j + skip < blen && a[alen - 1 - j] == b[blen - 1 - j])
			j++;
		len = j;
	}
	for (size_t i = 0; i < n; i++) {
		const char *b = or_empty(v[i]);
		size_t blen = strlen(b);

		split = split || (blen > len && word_char(b[blen - len - 1]));
	}
	while (split && len > 0 && word_char(a[alen - len]))
		len--;
	return len;
}

/* n kept values of one input or result: one when all are the same, else what they share
 * written once around the parts that differ, "KVM_CAP_{USER_MEMORY, SYNC_REGS}"; more: some
 * were not kept. */
static void squeeze(struct text *t, char *const *v, size_t n, bool more)
{
	const char *first = or_empty(v[0]), *sep = ", ";
	size_t pre, suf;
	bool same = true;

	for (size_t i = 1; i < n; i++)
		same = same && !strcmp(first, or_empty(v[i]));
	if (same) {
		put(t, "%s", first);
		return;
	}
	pre = common_prefix(v, n);
	suf = common_suffix(v, n, pre);
	for (size_t i = 0; i < n; i++) {
		if (strlen(or_empty(v[i])) == pre + suf)
			pre = suf = 0; /* a value that is all shared part: no part to list */
	}
	for (size_t i = 0; i < n; i++)
		if (strpbrk(or_empty(v[i]) + pre, " ,"))
			sep = "; ";
	put(t, "%.*s{", (int)pre, first);
	for (size_t i = 0; i < n; i++) {
		const char *part = or_empty(v[i]) + pre;

		put(t, "%s%.*s", i ? sep : "", (int)(strlen(part) - suf), part);
	}
	if (more)
		put(t, "%s...", sep);
	put(t, "}%s", first + strlen(first) - suf);
}

/* "KVM_CHECK_EXTENSION(KVM_CAP_{USER_MEMORY, ...}) = {1, 1, 7}": the kept calls of one name;
 * a line inside a call that is no call, "hook OUT port 0xe9 size 1 value {0x48, 0x65}". */
static void calls_text(struct text *t, const struct tv_chart_calls *k)
{
	size_t n = k->count < TV_CHART_SAMPLES ? k->count : TV_CHART_SAMPLES;
	bool more = k->count > n;
	bool any_result = false;

	for (size_t i = 0; i < n; i++)
		any_result = any_result || (k->result[i] && k->result[i][0]);
	put(t, "%s%s", k->name, k->paren ? "(" : " ");
	squeeze(t, k->args, n, more);
	put(t, "%s", k->paren ? ")" : "");
	if (any_result) {
		put(t, " = ");
		squeeze(t, k->result, n, more);
	}
}

/* "uc_reg_write x17, uc_reg_read": the names of a group with how many calls each. */
static void names_text(struct text *t, const struct tv_chart_group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		put(t, "%s%s", i ? ", " : "", g->of[i].name);
		if (g->of[i].count > 1)
			put(t, " x%lu", g->of[i].count);
	}
	if (g->more)
		put(t, ", %lu more", g->more);
}

/* Writes s as XML character data: markup escaped, bytes that are not printable ASCII as '?'. */
static void xml_text(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '&')
			fputs("&amp;", out);
		else if (ch == '<')
			fputs("&lt;", out);
		else if (ch == '>')
			fputs("&gt;", out);
		else if (ch < 0x20 || ch > 0x7e)
			fputc('?', out);
		else
			fputc(ch, out);
	}
}

/* Splits s into lines of at most cols characters, at a space where one is near; at most max
 * lines, the last ending in "..." when s did not fit. Fills starts and lens; returns the count. */
static size_t wrap(const char *s, size_t cols, size_t max, const char **starts, size_t *lens,
		   bool *cut)
{
	size_t n = 0, len = strlen(s);

	*cut = false;
	while (len && n < max) {
		size_t take = len <= cols ? len : cols;

		if (take < len) {
			size_t sp = take;

			while (sp > cols / 2 && s[sp] != ' ')
				sp--;
			if (s[sp] == ' ')
				take = sp;
		}
		starts[n] = s;
		lens[n++] = take;
		s += take;
		len -= take;
		while (len && *s == ' ') {
			s++;
			len--;
		}
	}
	*cut = len > 0;
	return n;
}

/* One wrapped text: its lines at x from y down, each step high; returns the lines drawn. */
static size_t draw_lines(FILE *out, const char *s, size_t cols, size_t max, int x, int y, int step,
			 const char *attrs)
{
	const char *starts[MAX_LINES];
	size_t lens[MAX_LINES], n;
	bool cut;

	n = wrap(s, cols, max < MAX_LINES ? max : MAX_LINES, starts, lens, &cut);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<text x=\"%d\" y=\"%d\" %s>", x, y + (int)i * step, attrs);
		xml_text(out, starts[i], lens[i]);
		if (cut && i == n - 1)
			fputs("...", out);
		fputs("</text>\n", out);
	}
	return n;
}

static size_t count_lines(const char *s, size_t cols, size_t max)
{
	const char *starts[MAX_LINES];
	size_t lens[MAX_LINES];
	bool cut;

	return wrap(s, cols, max < MAX_LINES ? max : MAX_LINES, starts, lens, &cut);
}

/* A box's texts: its calls (one per name), what happened inside them, and its note. */
struct box_text {
	struct text head, calls[TV_CHART_NAMES], inside, note;
	size_t ncalls;
};

static void box_texts(const struct tv_chart_box *b, size_t number, struct box_text *bt)
{
	memset(bt, 0, sizeof(*bt));
	put(&bt->head, "%zu. ", number);
	names_text(&bt->head, &b->calls);
	bt->ncalls = b->calls.n;
	for (size_t i = 0; i < b->calls.n; i++)
		calls_text(&bt->calls[i], &b->calls.of[i]);
	for (size_t i = 0; i < b->inside.n; i++) {
		put(&bt->inside, "%s", i ? "; " : "inside: ");
		calls_text(&bt->inside, &b->inside.of[i]);
		if (b->inside.of[i].count > 1)
			put(&bt->inside, " x%lu", b->inside.of[i].count);
	}
	put(&bt->note, "%s", or_empty(b->note));
}

static int box_height(const struct box_text *bt)
{
	size_t mono = 0;

	for (size_t i = 0; i < bt->ncalls; i++)
		mono += count_lines(bt->calls[i].s, COLS, i ? 3 : 4);
	mono += count_lines(bt->inside.s, COLS, 3);
	return PAD + HEAD + (int)mono * MONO + (int)count_lines(bt->note.s, NOTE_COLS, 2) * NOTE +
	       PAD;
}

/* Draws a box's texts from y down; returns its height. */
static int draw_box(FILE *out, const struct tv_chart_box *b, const struct box_text *bt, int y)
{
	int h = box_height(bt), x = BOX_X + 12, cur = y + PAD;

	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" class=\"%s\"/>\n",
		BOX_X, y, BOX_W, h, b->run ? "run" : "step");
	draw_lines(out, bt->head.s, COLS, 1, x, cur + HEAD - 7, HEAD, "class=\"head\"");
	cur += HEAD;
	for (size_t i = 0; i < bt->ncalls; i++)
		cur += MONO * (int)draw_lines(out, bt->calls[i].s, COLS, i ? 3 : 4, x, cur + MONO - 3,
					      MONO, "class=\"mono\"");
	cur += MONO * (int)draw_lines(out, bt->inside.s, COLS, 3, x, cur + MONO - 3, MONO,
				      "class=\"mono\"");
	draw_lines(out, bt->note.s, NOTE_COLS, 2, x, cur + NOTE - 4, NOTE, "class=\"note\"");
	return h;
}

/* The run loop beside a run box that repeats or has calls inside: what it repeats. false: no
 * loop to draw. */
static bool loop_label(const struct tv_chart_box *b, struct text *t)
{
	unsigned long runs = b->calls.more;

	for (size_t i = 0; i < b->calls.n; i++)
		runs += b->calls.of[i].count;
	if (!b->run || (runs < 2 && !b->inside.n && !b->between.n))
		return false;
	put(t, "the run loop");
	if (runs > 1) {
		put(t, ": run, handle the exit, run again: ");
		names_text(t, &b->calls);
	}
	if (b->between.n) {
		put(t, "; between two runs: ");
		names_text(t, &b->between);
	}
	if (b->inside.n) {
		put(t, "%s inside the run: ", runs > 1 || b->between.n ? ";" : ",");
		names_text(t, &b->inside);
	}
	return true;
}

static void draw_loop(FILE *out, const struct tv_chart_box *b, int y, int h)
{
	struct text label = { .len = 0 };
	int x = BOX_X + BOX_W;

	if (!loop_label(b, &label))
		return;
	fprintf(out, "<path d=\"M%d,%d h24 V%d h-20\" class=\"loop\" marker-end=\"url(#loophead)\"/>\n",
		x, y + h - 10, y + 10);
	draw_lines(out, label.s, LABEL_COLS, MAX_LINES, x + 32, y + 14, 14, "class=\"label\"");
}

static const char svg_style[] =
	".step{fill:#f3f5fa;stroke:#5b6b8c;stroke-width:1.2}\n"
	".run{fill:#fff3df;stroke:#c77d00;stroke-width:1.8}\n"
	"text{font-family:'DejaVu Sans',Arial,sans-serif;font-size:12px;fill:#222}\n"
	".head{font-family:'DejaVu Sans Mono',monospace;font-size:13px;font-weight:bold}\n"
	".mono{font-family:'DejaVu Sans Mono',monospace;font-size:11px;fill:#333}\n"
	".note{font-style:italic;fill:#1f5faa}\n"
	".title{font-size:18px;font-weight:bold}\n"
	".label{font-size:11px;fill:#8a5a00}\n"
	".arrow{stroke:#5b6b8c;stroke-width:1.4;fill:none}\n"
	".loop{stroke:#c77d00;stroke-width:1.8;fill:none}\n";

static void svg_head(FILE *out, const struct tv_api_chart *c, const char *title, int height)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "viewBox=\"0 0 %d %d\">\n<title>",
		WIDTH, height, WIDTH, height);
	xml_text(out, title, strlen(title));
	fprintf(out, "</title>\n<style>\n%s</style>\n<defs>\n", svg_style);
	fputs("<marker id=\"head\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" "
	      "orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#5b6b8c\"/></marker>\n"
	      "<marker id=\"loophead\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" "
	      "orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"#c77d00\"/></marker>\n"
	      "</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
	      out);
	fprintf(out, "<text x=\"%d\" y=\"30\" class=\"title\">", BOX_X);
	xml_text(out, title, strlen(title));
	fprintf(out, "</text>\n<text x=\"%d\" y=\"52\">%zu steps, top to bottom: each box has its "
		     "calls, with what they were given and returned, and what the step is for "
		     "(in blue).</text>\n",
		BOX_X, c->nbox);
	fprintf(out, "<text x=\"%d\" y=\"68\">Calls repeated with a change are written once: "
		     "X_{A, B} is X_A then X_B. The run loop is drawn beside its box.</text>\n",
		BOX_X);
}

int tv_api_chart_write(struct tv_api_chart *c, FILE *out, const char *title)
{
	struct box_text *bt = malloc(sizeof(*bt));
	int height = TOP, y = TOP;

	if (!bt)
		return -ENOMEM;
	fflush(c->log); /* the lines still in the stream's buffer */
	for (size_t i = 0; i < c->nbox; i++) {
		box_texts(&c->box[i], i + 1, bt);
		height += box_height(bt) + GAP;
	}
	height += c->dropped ? 30 : 0;
	svg_head(out, c, title, height);
	for (size_t i = 0; i < c->nbox; i++) {
		int h;

		box_texts(&c->box[i], i + 1, bt);
		h = draw_box(out, &c->box[i], bt, y);
		draw_loop(out, &c->box[i], y, h);
		if (i + 1 < c->nbox)
			fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"arrow\" "
				     "marker-end=\"url(#head)\"/>\n",
				BOX_X + BOX_W / 2, y + h, BOX_X + BOX_W / 2, y + h + GAP - 2);
		y += h + GAP;
	}
	if (c->dropped)
		fprintf(out, "<text x=\"%d\" y=\"%d\">... and %lu more steps, not drawn (a chart "
			     "keeps %d)</text>\n",
			BOX_X, y + 4, c->dropped, TV_CHART_BOXES);
	fputs("</svg>\n", out);
	free(bt);
	if (c->error)
		return c->error;
	return ferror(out) ? -EIO : 0;
}
