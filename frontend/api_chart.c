/* The --api-chart recorder: the engine's --trace-api lines read back into the steps of the run
 * (api_chart.h says how they fold). api_chart_svg.c draws them. */
#include "api_chart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h" /* TV_API_NOTE */

/* One call as its line gives it: "NAME(args) = result". */
struct chart_call {
	const char *name, *args, *result;
	size_t name_len, args_len, result_len;
	bool paren; /* written as a call: NAME(args) */
};

/* The calls that enter the guest: their box is the run loop. */
static bool is_run_call(const struct chart_call *k)
{
	static const char *const names[] = { "KVM_RUN", "uc_emu_start" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (k->name_len == strlen(names[i]) && !memcmp(k->name, names[i], k->name_len))
			return true;
	return false;
}

/* A copy of s[0, len), "..." at its end when it was longer than a box shows. */
static char *keep(struct tv_api_chart *c, const char *s, size_t len)
{
	char *copy = malloc((len < TV_CHART_TEXT ? len : TV_CHART_TEXT) + 1);

	if (!copy) {
		if (!c->error)
			c->error = -ENOMEM;
		return NULL;
	}
	if (len > TV_CHART_TEXT) {
		memcpy(copy, s, TV_CHART_TEXT - 3);
		memcpy(copy + TV_CHART_TEXT - 3, "...", 4);
	} else {
		memcpy(copy, s, len);
		copy[len] = 0;
	}
	return copy;
}

/* The group's calls named like k, a new entry when there is room, or NULL (counted in more). */
static struct tv_chart_calls *group_find(struct tv_chart_group *g, const char *name, size_t len)
{
	struct tv_chart_calls *k;

	if (len >= sizeof(g->of[0].name))
		len = sizeof(g->of[0].name) - 1;
	for (size_t i = 0; i < g->n; i++)
		if (strlen(g->of[i].name) == len && !memcmp(g->of[i].name, name, len))
			return &g->of[i];
	if (g->n == TV_CHART_NAMES)
		return NULL;
	k = &g->of[g->n++];
	memcpy(k->name, name, len);
	k->name[len] = 0;
	return k;
}

static void group_add(struct tv_api_chart *c, struct tv_chart_group *g, const struct chart_call *call)
{
	struct tv_chart_calls *k = group_find(g, call->name, call->name_len);

	if (!k) {
		g->more++;
		return;
	}
	k->paren = call->paren;
	if (k->count < TV_CHART_SAMPLES) {
		k->args[k->count] = keep(c, call->args, call->args_len);
		k->result[k->count] = keep(c, call->result, call->result_len);
	}
	k->count++;
}

static void calls_free(struct tv_chart_calls *k)
{
	for (unsigned long i = 0; i < k->count && i < TV_CHART_SAMPLES; i++) {
		free(k->args[i]);
		free(k->result[i]);
	}
	memset(k, 0, sizeof(*k));
}

static void group_free(struct tv_chart_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		calls_free(&g->of[i]);
	memset(g, 0, sizeof(*g));
}

/* Moves every call of from into to (whose kept samples it takes while there is room); from is
 * left empty. */
static void group_merge(struct tv_chart_group *to, struct tv_chart_group *from)
{
	for (size_t i = 0; i < from->n; i++) {
		struct tv_chart_calls *src = &from->of[i];
		struct tv_chart_calls *dst = group_find(to, src->name, strlen(src->name));

		if (!dst) {
			to->more += src->count;
			continue;
		}
		dst->paren = src->paren;
		for (unsigned long j = 0; j < src->count && j < TV_CHART_SAMPLES; j++) {
			if (dst->count + j < TV_CHART_SAMPLES) {
				dst->args[dst->count + j] = src->args[j];
				dst->result[dst->count + j] = src->result[j];
				src->args[j] = src->result[j] = NULL;
			}
		}
		dst->count += src->count;
	}
	to->more += from->more;
	group_free(from);
}

static void box_free(struct tv_chart_box *b)
{
	free(b->note);
	group_free(&b->calls);
	group_free(&b->inside);
	group_free(&b->between);
	memset(b, 0, sizeof(*b));
}

/* A run call with the loop's note: the steps since the loop's last call were the loop's body. */
static void fold_into_loop(struct tv_api_chart *c)
{
	struct tv_chart_box *loop = &c->box[c->loop];

	for (size_t i = (size_t)c->loop + 1; i < c->nbox; i++) {
		group_merge(&loop->between, &c->box[i].calls);
		group_merge(&loop->inside, &c->box[i].inside);
		group_merge(&loop->between, &c->box[i].between);
		box_free(&c->box[i]);
	}
	c->nbox = (size_t)c->loop + 1;
}

/* The box a step with note goes to: the loop's, the last one's, or a new one (NULL: no room). */
static struct tv_chart_box *box_for(struct tv_api_chart *c, const char *note, bool run)
{
	struct tv_chart_box *b = c->nbox ? &c->box[c->nbox - 1] : NULL;

	if (run && c->loop >= 0 && !strcmp(c->box[c->loop].note, note)) {
		fold_into_loop(c);
		return &c->box[c->loop];
	}
	if (b && b->run == run && !strcmp(b->note, note))
		return b;
	if (c->nbox == TV_CHART_BOXES)
		return NULL;
	b = &c->box[c->nbox];
	b->note = keep(c, note, strlen(note));
	if (!b->note)
		return NULL;
	b->run = run;
	c->nbox++;
	return b;
}

static void chart_step(struct tv_api_chart *c, const struct chart_call *k, const char *note)
{
	bool run = is_run_call(k);
	struct tv_chart_box *b = box_for(c, note, run);

	if (!b) {
		c->dropped++;
		group_free(&c->pending);
		return;
	}
	if (run)
		c->loop = b - c->box;
	group_add(c, &b->calls, k);
	group_merge(&b->inside, &c->pending);
}

/* "NAME(args) = result" of text[0, len); a line that is not a call is all name. */
static void parse_call(const char *text, size_t len, struct chart_call *k)
{
	const char *open = memchr(text, '(', len), *end = text + len, *close;

	*k = (struct chart_call){ .name = text, .name_len = len, .args = "", .result = "" };
	if (!open)
		return;
	k->name_len = (size_t)(open - text);
	k->paren = true;
	k->args = open + 1;
	k->args_len = (size_t)(end - k->args);
	/* The first ") = " ends the inputs: a struct's own parentheses are never followed by it. */
	for (close = open + 1; close + 4 <= end; close++) {
		if (!memcmp(close, ") = ", 4)) {
			k->args_len = (size_t)(close - k->args);
			k->result = close + 4;
			k->result_len = (size_t)(end - k->result);
			return;
		}
	}
	if (k->args_len && k->args[k->args_len - 1] == ')')
		k->args_len--;
}

/* A line inside a call: "hook OUT port 0xe9 size 1 value 0x48" is named by its first two words,
 * "uc_reg_read_batch(...) = ..." as a call. */
static void parse_inside(const char *text, struct chart_call *k)
{
	const char *space = strchr(text, ' '), *open = strchr(text, '(');

	if (open && (!space || open < space)) {
		parse_call(text, strlen(text), k);
		return;
	}
	if (space)
		space = strchr(space + 1, ' ');
	*k = (struct chart_call){ .name = text, .args = "", .result = "" };
	k->name_len = space ? (size_t)(space - text) : strlen(text);
	if (space) {
		k->args = space + 1;
		k->args_len = strlen(k->args);
	}
}

void tv_api_chart_line(struct tv_api_chart *c, const char *line)
{
	const char *note = NULL, *p;
	struct chart_call k;

	if (line[0] == ' ' && line[1] == ' ') {
		line += strspn(line, " ");
		parse_inside(line, &k);
		group_add(c, &c->pending, &k);
		return;
	}
	for (p = strstr(line, TV_API_NOTE); p; p = strstr(p + 1, TV_API_NOTE))
		note = p;
	if (!note || note == line)
		return; /* no step: a check or a read-back */
	parse_call(line, (size_t)(note - line), &k);
	chart_step(c, &k, note + strlen(TV_API_NOTE));
}

/* The stream's write: on to echo, and each whole line read back. */
static ssize_t chart_write(void *cookie, const char *buf, size_t size)
{
	struct tv_api_chart *c = cookie;

	if (c->echo)
		fwrite(buf, 1, size, c->echo);
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			c->line[c->len] = 0;
			if (!c->overlong)
				tv_api_chart_line(c, c->line);
			c->len = 0;
			c->overlong = false;
		} else if (c->len < sizeof(c->line) - 1) {
			c->line[c->len++] = buf[i];
		} else {
			c->overlong = true;
		}
	}
	return (ssize_t)size;
}

int tv_api_chart_open(struct tv_api_chart **out, FILE *echo)
{
	struct tv_api_chart *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->echo = echo;
	c->loop = -1;
	c->log = fopencookie(c, "w", (cookie_io_functions_t){ .write = chart_write });
	if (!c->log) {
		int err = errno;

		free(c);
		return -err;
	}
	/* Whole lines to echo, as the engine writes them to stderr without the recorder. */
	setvbuf(c->log, NULL, _IOLBF, BUFSIZ);
	*out = c;
	return 0;
}

void tv_api_chart_close(struct tv_api_chart *c)
{
	if (!c)
		return;
	fclose(c->log);
	for (size_t i = 0; i < c->nbox; i++)
		box_free(&c->box[i]);
	group_free(&c->pending);
	free(c);
}
