/* The matrix's --timeline SVG (issue 13, item 13): a title that names the engine and the policy,
 * a legend with each VM's weight, and every quantum a rectangle of its own, apart from the next
 * one of the same VM. The SVG is read back as text: the writer's own fixed forms. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_binary.h"
#include "tv_test.h"

#define MAX_RECTS 64

/* The whole file at path, NUL-terminated; the caller frees it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(text);
	n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* The slices of the row at y (the rectangles ROW high there), x and width, in drawing order, which
 * is time order; returns how many. */
static int row_rects(const char *svg, const char *y, double *x, double *w, int max)
{
	char key[64];
	int n = 0;

	snprintf(key, sizeof(key), "\" y=\"%s\" width=\"", y);
	for (const char *p = svg; (p = strstr(p, "<rect x=\"")); p++) {
		double rx, rw;
		const char *after = strchr(p + 9, '"');

		if (!after || strncmp(after, key, strlen(key)) != 0)
			continue;
		ck_assert_int_eq(sscanf(p, "<rect x=\"%lf\"", &rx), 1);
		ck_assert_int_eq(sscanf(after + strlen(key), "%lf", &rw), 1);
		ck_assert_int_lt(n, max);
		x[n] = rx;
		w[n++] = rw;
	}
	return n;
}

static void timeline_shows_engine_weights_and_quanta(const char *engine)
{
	static const char *const rows[] = { "44.0", "80.0" }; /* TOP + ROW * i + 4 */
	static const int quanta[] = { 14, 6 };
	char path[64], why[256], title[128];
	double x[MAX_RECTS], w[MAX_RECTS];
	struct result r;
	char *svg;

	if (!tv_test_engine(engine, TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	tv_temp_path(path, sizeof(path), ".svg");
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "matrix", "--backend", engine, "--quantum",
							   "10ms", "--quanta", "20", "--quiet",
							   "--timeline", path, NULL }, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	svg = slurp(path);
	unlink(path);
	snprintf(title, sizeof(title), "<title>twinvm matrix on %s: policy share, quantum 0.01 s"
		 "</title>", engine);
	ck_assert_msg(strstr(svg, title), "no %s in %.300s", title, svg);
	ck_assert_msg(strstr(svg, ">VM1 guest1-noio, weight 7: 14 quanta, CPU share "), "%s", svg);
	ck_assert_msg(strstr(svg, ">VM2 guest2-noio, weight 3: 6 quanta, CPU share "), "%s", svg);
	for (int i = 0; i < 2; i++) {
		int n = row_rects(svg, rows[i], x, w, MAX_RECTS);

		/* One rectangle per quantum: 7:3 runs VM1 twice in a row (turns microseconds
		 * apart), and those two are two rectangles... */
		ck_assert_msg(n == quanta[i], "VM%d: %d rectangles for %d quanta", i + 1, n,
			      quanta[i]);
		/* ...with at least a pixel of white between each and the next. */
		for (int k = 0; k + 1 < n; k++)
			ck_assert_msg(x[k + 1] - (x[k] + w[k]) >= 1.0,
				      "VM%d's rectangles %d and %d touch: x %.2f + %.2f, x %.2f", i + 1,
				      k + 1, k + 2, x[k], w[k], x[k + 1]);
	}
	free(svg);
}

START_TEST(test_timeline_shows_engine_weights_and_quanta_emu)
{
	timeline_shows_engine_weights_and_quanta("emu");
}
END_TEST

START_TEST(test_timeline_shows_engine_weights_and_quanta_kvm)
{
	timeline_shows_engine_weights_and_quanta("kvm");
}
END_TEST

/* The policies without a quantum say none in the title. */
START_TEST(test_timeline_title_of_io_has_no_quantum_emu)
{
	char path[64], why[256];
	struct result r;
	char *svg;

	if (!tv_test_engine("emu", TV_MODE_REAL, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	tv_temp_path(path, sizeof(path), ".svg");
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "matrix", "--backend", "emu", "--policy",
							   "io", "--quiet", "--timeline", path,
							   NULL }, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	svg = slurp(path);
	unlink(path);
	ck_assert_msg(strstr(svg, "<title>twinvm matrix on emu: policy io</title>"), "%.300s", svg);
	free(svg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("svg");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_timeline_shows_engine_weights_and_quanta_emu);
	tcase_add_test(tc, test_timeline_shows_engine_weights_and_quanta_kvm);
	tcase_add_test(tc, test_timeline_title_of_io_has_no_quantum_emu);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
