/* SVG Gantt chart of a matrix run. */
#include "timeline.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define LEFT 150.0   /* room for the row labels */
#define WIDTH 900.0  /* the time axis */
#define ROW 36.0
#define TOP 40.0
#define GAP 1.5      /* white between two slices in a row */

static const char *const colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
				       "#9467bd", "#8c564b", "#e377c2", "#17becf" };
#define COLOUR(i) colours[(i) % (sizeof(colours) / sizeof(colours[0]))]

/* A tick spacing of 1, 2 or 5 times a power of ten giving about eight ticks. */
static double tick_step(double span)
{
	double raw = span / 8, pow10 = pow(10, floor(log10(raw)));

	if (raw / pow10 < 2)
		return pow10;
	return raw / pow10 < 5 ? 2 * pow10 : 5 * pow10;
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The engine's and the policy's names, and the quantum where the policy has one. */
static void write_title(FILE *f, const struct tv_sched *s)
{
	const char *engine = s->nvms && s->vms[0].m.be ? s->vms[0].m.be->name : "unknown";
	char text[160];
	int n;

	n = snprintf(text, sizeof(text), "twinvm matrix on %s: policy %s", engine,
		     tv_policy_name(s->opt.policy));
	if (tv_policy_timed(s->opt.policy) && n > 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - (size_t)n, ", quantum %g s", s->opt.quantum_s);
	fputs("<title>", f);
	xml_text(f, text);
	fputs("</title>\n", f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fputs("<text x=\"10\" y=\"22\" font-size=\"15\">", f);
	xml_text(f, text);
	fputs("</text>\n", f);
}

/* One row per VM, a rectangle per slice. Each is drawn GAP narrower than its time, half off each
 * end, so that two quanta of one VM in a row are two rectangles with white between, not a bar;
 * a slice too thin for that (io's, thousands to the pixel) is drawn 0.5 px wide. */
static void write_rows(FILE *f, const struct tv_sched *s, double end)
{
	for (int i = 0; i < s->nvms; i++) {
		const struct tv_sched_vm *vm = &s->vms[i];
		const char *colour = COLOUR(i);
		double y = TOP + ROW * i;

		fprintf(f, "<text x=\"10\" y=\"%.1f\">VM%d ", y + ROW / 2 + 4, i + 1);
		xml_text(f, vm->name);
		fprintf(f, "</text>\n");
		for (size_t k = 0; k < vm->nslices; k++) {
			double x0 = LEFT + WIDTH * vm->slices[k].t0 / end;
			double w = WIDTH * (vm->slices[k].t1 - vm->slices[k].t0) / end;

			if (w - GAP >= 0.5) {
				x0 += GAP / 2;
				w -= GAP;
			} else {
				w = 0.5;
			}
			fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
				   "fill=\"%s\"/>\n", x0, y + 4, w, ROW - 8, colour);
		}
	}
}

/* The time axis under the rows, ticked every 1, 2 or 5 times a power of ten; returns its y. */
static double write_axis(FILE *f, const struct tv_sched *s, double end)
{
	double axis_y = TOP + ROW * s->nvms + 6, step = tick_step(end);

	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		   "stroke=\"black\"/>\n", LEFT, axis_y, LEFT + WIDTH, axis_y);
	for (double t = 0; t <= end + 1e-9; t += step) {
		double x = LEFT + WIDTH * t / end;

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"black\"/>\n", x, axis_y, x, axis_y + 5);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g s</text>\n", x,
			axis_y + 19, t);
	}
	return axis_y;
}

/* Each VM's colour, name, weight (share's; the other policies give each VM an equal part), turns,
 * and CPU share against its target. */
static void write_legend(FILE *f, const struct tv_sched *s, double axis_y)
{
	double cpu_total = 0;

	for (int i = 0; i < s->nvms; i++)
		cpu_total += s->vms[i].cpu_s;
	for (int i = 0; i < s->nvms; i++) {
		const struct tv_sched_vm *vm = &s->vms[i];
		double y = axis_y + 42 + 22 * i;

		fprintf(f, "<rect x=\"10\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\"/>\n",
			y - 12, COLOUR(i));
		fprintf(f, "<text x=\"30\" y=\"%.1f\">VM%d ", y, i + 1);
		xml_text(f, vm->name);
		if (s->opt.policy == TV_POLICY_SHARE)
			fprintf(f, ", weight %u", vm->weight);
		fprintf(f, ": %llu quanta, CPU share %.1f%% (target %.1f%%)</text>\n",
			(unsigned long long)vm->quanta,
			cpu_total > 0 ? 100 * vm->cpu_s / cpu_total : 0.0,
			100 * tv_sched_target(s, i));
	}
}

int tv_timeline_write_svg(const struct tv_sched *s, const char *path)
{
	double end = 0, axis_y;
	FILE *f = fopen(path, "w");

	if (!f) {
		tv_set_error("%s: %s", path, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < s->nvms; i++) {
		const struct tv_sched_vm *vm = &s->vms[i];

		if (vm->nslices && vm->slices[vm->nslices - 1].t1 > end)
			end = vm->slices[vm->nslices - 1].t1;
	}
	if (end <= 0)
		end = 1;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "font-family=\"sans-serif\" font-size=\"13\">\n", LEFT + WIDTH + 30,
		TOP + ROW * s->nvms + 50 + 22 * s->nvms);
	write_title(f, s);
	write_rows(f, s, end);
	axis_y = write_axis(f, s, end);
	write_legend(f, s, axis_y);
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0) {
		tv_set_error("%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}
