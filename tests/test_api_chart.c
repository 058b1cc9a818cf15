/* twinvm run --api-chart and the step notes of --trace-api: the chart of a long-mode run is a
 * well-formed SVG with the run's steps in order, on the emulator and on KVM; the notes are on the
 * emulator's --trace-api lines; the recorder folds the run loop; a chart that cannot be written
 * stops the tool before the guest runs. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api_chart.h"
#include "run_binary.h"
#include "tv_test.h"

/* The whole of a file, NUL-terminated; the caller frees it. */
static char *slurp_path(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int ch;

	ck_assert_msg(f != NULL, "%s: cannot read it back", path);
	ck_assert_ptr_nonnull(mem);
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, mem);
	fclose(f);
	fclose(mem);
	return buf;
}

/* Runs twinvm with args, its stderr whole (r->err keeps only 8 KiB) in *err; the status. */
static int run_with_stderr(const char *const *args, char **err)
{
	const char *bin = getenv("TWINVM_BIN");
	char path[64];
	const char *argv[32] = { bin };
	pid_t pid;
	int st, i;

	ck_assert_msg(bin != NULL, "TWINVM_BIN is not set (run through meson test)");
	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	tv_temp_path(path, sizeof(path), ".err");
	fflush(stdout);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (!freopen(path, "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(126);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "twinvm died with signal %d", WTERMSIG(st));
	*err = slurp_path(path);
	unlink(path);
	return WEXITSTATUS(st);
}

/* Whether svg is well-formed as far as its tags go: every element closed in order, one root
 * <svg>, no stray '<' or bare '&' in text. NULL, or what is wrong. */
static const char *tags_unbalanced(const char *svg)
{
	const char *stack[64], *p = svg;
	size_t depth = 0, roots = 0;

	while ((p = strpbrk(p, "<&"))) {
		if (*p == '&') {
			if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4))
				return "a bare '&'";
			p++;
			continue;
		}
		if (!strncmp(p, "<?", 2)) {
			p = strstr(p, "?>");
			if (!p)
				return "an unclosed <?";
			continue;
		}
		const char *name = p + 1 + (p[1] == '/'), *end = strchr(p, '>');
		size_t len = strcspn(name, " \t\n/>");

		if (!end || len == 0 || memchr(name, '<', (size_t)(end - name)))
			return "a tag that does not end";
		if (p[1] == '/') {
			if (!depth || strncmp(stack[depth - 1], name, len) ||
			    strcspn(stack[depth - 1], " \t\n/>") != len)
				return "a closing tag that does not match";
			depth--;
		} else if (end[-1] != '/') {
			if (depth == sizeof(stack) / sizeof(stack[0]))
				return "elements nested too deep";
			roots += depth == 0;
			stack[depth++] = name;
		} else if (depth == 0) {
			return "an empty element outside the root";
		}
		p = end + 1;
	}
	if (depth)
		return "an element left open";
	return roots == 1 && strstr(svg, "<svg ") ? NULL : "not one <svg> root";
}

static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)); s += strlen(what))
		n++;
	return n;
}

/* The chart of a long-mode hello run on engine: well-formed, 10 steps at least, and calls[] in
 * that order. */
static void check_chart(const char *engine, const char *const *calls)
{
	char path[64], *svg, *err;
	const char *at, *bad;
	int status, boxes;

	tv_temp_path(path, sizeof(path), ".svg");
	status = run_with_stderr((const char *const[]){ "run", "--mode", "long", "--backend", engine,
							"--api-chart", path, NULL },
				 &err);
	ck_assert_msg(status == 0, "%s: status %d: %s", engine, status, err);
	ck_assert_msg(!strstr(err, "  # "), "%s: notes on stderr without --trace-api: %s", engine,
		      err);
	svg = slurp_path(path);
	unlink(path);
	bad = tags_unbalanced(svg);
	ck_assert_msg(bad == NULL, "%s: the SVG has %s", engine, bad);
	boxes = count_of(svg, "class=\"step\"/>") + count_of(svg, "class=\"run\"/>");
	ck_assert_msg(boxes >= 10, "%s: %d step boxes", engine, boxes);
	at = svg;
	for (size_t i = 0; calls[i]; i++) {
		at = strstr(at, calls[i]);
		ck_assert_msg(at != NULL, "%s: no %s after the calls before it", engine, calls[i]);
	}
	free(svg);
	free(err);
}

START_TEST(test_emu_long_mode_chart_has_the_steps_in_order)
{
	char why[512];

	if (!tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	check_chart("emu", (const char *const[]){ "uc_open(", "uc_mem_map_ptr(", "uc_emu_start(",
						  NULL });
}
END_TEST

START_TEST(test_kvm_long_mode_chart_has_the_steps_in_order)
{
	char why[512];

	if (!tv_test_engine("kvm", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("kvm: %s", why);
	check_chart("kvm", (const char *const[]){ "KVM_CREATE_VM(", "KVM_SET_USER_MEMORY_REGION(",
						  "KVM_CREATE_VCPU(", "KVM_SET_SREGS(", "KVM_RUN(",
						  NULL });
}
END_TEST

/* The line of call on stderr, which must be "call...) = result  # note". */
static void assert_noted(const char *err, const char *call, const char *note)
{
	const char *line = strstr(err, call), *eol, *sep;

	ck_assert_msg(line != NULL, "no %s line: %s", call, err);
	eol = strchr(line, '\n');
	sep = strstr(line, "  # ");
	ck_assert_msg(sep && eol && sep < eol, "%s has no step note", call);
	ck_assert_msg(strstr(line, ") = ") < sep, "%s: the note is not after the result", call);
	ck_assert_msg(!strncmp(sep + 4, note, strlen(note)), "%s: the note is not '%s...'", call,
		      note);
}

START_TEST(test_emu_trace_api_prints_the_step_notes)
{
	char why[512], *err;
	int status;

	if (!tv_test_engine("emu", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("emu: %s", why);
	status = run_with_stderr((const char *const[]){ "run", "--mode", "long", "--backend", "emu",
							"--trace-api", NULL },
				 &err);
	ck_assert_msg(status == 0, "status %d: %s", status, err);
	assert_noted(err, "uc_open(UC_ARCH_X86, UC_MODE_64", "the VM and its one CPU");
	assert_noted(err, "uc_mem_map_ptr(0x0, 0x200000,", "guest RAM: our buffer becomes");
	assert_noted(err, "uc_reg_write(UC_X86_REG_CR0,", "the mode");
	assert_noted(err, "uc_emu_start(", "run the guest");
	assert_noted(err, "uc_close(", "the VM and its CPU freed");
	/* The hooks inside the run are indented, with no note. */
	ck_assert_msg(strstr(err, "\n  hook OUT port 0xe9 size 1 value 0x48\n"), "%s", err);
	free(err);
}
END_TEST

START_TEST(test_unwritable_chart_stops_before_the_guest_runs)
{
	struct result r;

	tv_run_binary("TWINVM_BIN",
		      (const char *const[]){ "run", "--backend", "emu", "--api-chart",
					     "/nonexistent-dir/chart.svg", NULL },
		      &r);
	ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
	ck_assert_msg(!strncmp(r.err, "twinvm: cannot write --api-chart /nonexistent-dir/chart.svg",
			       strlen("twinvm: cannot write --api-chart /nonexistent-dir/chart.svg")),
		      "%s", r.err);
	ck_assert_msg(tv_count_lines(r.err) == 1, "%d lines: %s", tv_count_lines(r.err), r.err);
	ck_assert_msg(r.out[0] == 0, "the guest ran: %s", r.out);
}
END_TEST

/* One KVM_RUN per exit, with reads between them, is one box drawn as a loop; the HLT its own. */
START_TEST(test_chart_folds_the_run_loop)
{
	static const char *const lines[] = {
		"KVM_CREATE_VM(type 0) = fd 4  # an empty VM",
		"KVM_RUN() = 0: KVM_EXIT_IO out port 0xe9 size 1 count 1 data 48  # run until an exit",
		"KVM_GET_REGS() = 0: rip 0x2  # read the general registers",
		"KVM_RUN() = 0: KVM_EXIT_IO in port 0xeb size 4 count 1  # run until an exit",
		"  in data 0f 00 00 00 -> kvm_run + 0x1000",
		"KVM_GET_REGS() = 0: rip 0x4  # read the general registers",
		"KVM_GET_SREGS() = 0: cr0 0x1",
		"KVM_RUN() = 0: KVM_EXIT_IO out port 0xe9 size 1 count 1 data 65  # run until an exit",
		"KVM_RUN() = 0: KVM_EXIT_HLT  # the guest halted",
	};
	struct tv_api_chart *c;
	char *svg = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&svg, &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(tv_api_chart_open(&c, NULL), 0);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		fprintf(c->log, "%s\n", lines[i]);
	ck_assert_int_eq(tv_api_chart_write(c, out, "KVM: long mode, guest test"), 0);
	fclose(out);
	ck_assert_int_eq(c->nbox, 3);
	ck_assert(c->box[1].run && c->box[2].run);
	ck_assert_int_eq(c->box[1].between.n, 1);
	ck_assert_str_eq(c->box[1].between.of[0].name, "KVM_GET_REGS");
	ck_assert_int_eq(c->box[1].between.of[0].count, 2);
	ck_assert_str_eq(c->box[1].inside.of[0].name, "in data");
	tv_api_chart_close(c);

	ck_assert_msg(tags_unbalanced(svg) == NULL, "%s", tags_unbalanced(svg));
	ck_assert_msg(strstr(svg, ">2. KVM_RUN x3<"), "%s", svg);
	/* What the exits share is written once, what differs listed in braces. */
	ck_assert_msg(strstr(svg, "KVM_RUN() = 0: KVM_EXIT_IO {out port 0xe9 size 1 count 1 data 48; "
				  "in port 0xeb size 4 count 1;"),
		      "%s", svg);
	ck_assert_msg(strstr(svg, ">3. KVM_RUN<"), "%s", svg);
	ck_assert_int_eq(count_of(svg, "class=\"loop\""), 1);
	free(svg);
}
END_TEST

/* A run of more steps than a chart draws: the first ones are drawn, the rest counted. */
START_TEST(test_chart_draws_its_first_steps_and_counts_the_rest)
{
	struct tv_api_chart *c;
	char *svg = NULL, want[64];
	size_t len = 0;
	FILE *out = open_memstream(&svg, &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(tv_api_chart_open(&c, NULL), 0);
	for (int i = 0; i < TV_CHART_BOXES + 36; i++)
		fprintf(c->log, "KVM_SET_REGS(rip 0x%x) = 0  # step %d\n", i, i);
	ck_assert_int_eq(tv_api_chart_write(c, out, "many steps"), 0);
	fclose(out);
	ck_assert_int_eq(c->nbox, TV_CHART_BOXES);
	ck_assert_int_eq(c->dropped, 36);
	tv_api_chart_close(c);
	ck_assert_msg(tags_unbalanced(svg) == NULL, "%s", tags_unbalanced(svg));
	snprintf(want, sizeof(want), ">%d. KVM_SET_REGS<", TV_CHART_BOXES);
	ck_assert_msg(strstr(svg, want), "no box %d", TV_CHART_BOXES);
	ck_assert_msg(strstr(svg, "... and 36 more steps"), "the rest is not counted");
	free(svg);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("api_chart");
	TCase *tc = tcase_create("api_chart");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_emu_long_mode_chart_has_the_steps_in_order);
	tcase_add_test(tc, test_kvm_long_mode_chart_has_the_steps_in_order);
	tcase_add_test(tc, test_emu_trace_api_prints_the_step_notes);
	tcase_add_test(tc, test_unwritable_chart_stops_before_the_guest_runs);
	tcase_add_test(tc, test_chart_folds_the_run_loop);
	tcase_add_test(tc, test_chart_draws_its_first_steps_and_counts_the_rest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tv_test_main(suite());
}
