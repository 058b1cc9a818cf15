/* `twinvm run --step`: every instruction with its address, bytes and disassembly, the exits and the
 * changed registers; the same lines on KVM as on the emulator; the run's flags (--timeout,
 * --max-exits, --trace) as they are without --step. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "layout.h"
#include "run_binary.h"
#include "tv_test.h"

static const char *const engines[] = { "emu", "kvm" };

/* The whole of a file, NUL-terminated; the caller frees it. */
static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert(buf != NULL);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* `twinvm run -b engine -m mode -g guest --step-out FILE [more...]`: the step lines (the caller
 * frees them) and the run's result in *r. */
static char *step_run(const char *engine, enum tv_mode mode, const char *guest,
		      const char *const *more, struct result *r)
{
	const char *args[24] = { "run", "-b", engine, "-m", tv_mode_name(mode), "-g", guest,
				 "--step-out" };
	char path[64];
	char *stream;
	int n = 9;

	args[8] = tv_temp_path(path, sizeof(path), ".step");
	for (; more && *more; more++)
		args[n++] = *more;
	args[n] = NULL;
	tv_run_binary("TWINVM_BIN", args, r);
	stream = read_all(path);
	unlink(path);
	return stream;
}

/* A raw image of n bytes in a temporary file, whose path goes into path. */
static const char *temp_image(const uint8_t *code, size_t n, char *path, size_t len)
{
	FILE *f = fopen(tv_temp_path(path, len, ".bin"), "wb");

	ck_assert(f && fwrite(code, 1, n, f) == n && fclose(f) == 0);
	return path;
}

/* The lines that show an instruction (an address first, not indented). */
static int insn_lines(const char *stream)
{
	int n = 0;

	for (const char *p = stream; *p; p = strchr(p, '\n') + 1) {
		if (*p != ' ')
			n++;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

/* The start of the last line but k of s (k 0: the last), which ends in a newline. */
static const char *line_from_end(const char *s, int k)
{
	const char *p;

	ck_assert_msg(s[0] != '\0', "no lines");
	p = s + strlen(s) - 1; /* the last newline */
	for (int i = 0; i <= k; i++) {
		while (p > s && p[-1] != '\n')
			p--;
		if (i < k) {
			ck_assert_msg(p > s, "fewer than %d lines:\n%s", k + 1, s);
			p--;
		}
	}
	return p;
}

/* "; 15 exits (IO 14, HLT 1)" out of the run's last line on stderr. */
static void exit_summary(const char *err, char *out, size_t len)
{
	const char *p = strstr(err, "; ");
	const char *end = p ? strchr(p, ')') : NULL;

	ck_assert_msg(p && end, "no exit summary in: %s", err);
	snprintf(out, len, "%.*s", (int)(end - p + 1), p);
}

/* The first instruction's line: its address in the mode's form, the image's first bytes, a mov
 * (hello starts by loading the string's address). */
static void check_first_line(const char *stream, enum tv_mode mode)
{
	const uint8_t *image;
	char want[64], column[30];
	const char *p = stream;
	size_t len, i = 0;

	ck_assert(tv_builtin_image(tv_builtin_find("hello"), mode, &image, &len));
	if (mode == TV_MODE_REAL)
		snprintf(want, sizeof(want), "0000:%04llx  ", TV_ENTRY);
	else if (mode == TV_MODE_LONG)
		snprintf(want, sizeof(want), "0x%016llx  ", TV_ENTRY);
	else
		snprintf(want, sizeof(want), "0x%08llx  ", TV_ENTRY);
	ck_assert_msg(strncmp(p, want, strlen(want)) == 0, "first line is not at '%s': %.80s", want,
		      p);
	/* The bytes' column is 29 wide, then one space and the disassembly. */
	snprintf(column, sizeof(column), "%.29s", p + strlen(want));
	for (char *b = strtok(column, " "); b; b = strtok(NULL, " "), i++) {
		unsigned long byte = strtoul(b, NULL, 16);

		ck_assert_msg(strlen(b) == 2 && i < len && byte == image[TV_ENTRY - TV_IMAGE_BASE + i],
			      "byte %zu is '%s', the image has 0x%02x", i, b,
			      image[TV_ENTRY - TV_IMAGE_BASE + i]);
	}
	ck_assert_msg(i >= 2, "fewer than two bytes on the first line: %.80s", stream);
	p = stream + strlen(want) + 29 + 1;
	ck_assert_msg(strncmp(p, "mov ", 4) == 0, "first instruction is not a mov: %.80s", stream);
}

/* The 14 OUTs of "Hello, world!\n", in order, each as one exit line. */
static void check_outs(const char *stream)
{
	static const char prefix[] = "    exit IO out port=0xe9 size=1 data=0x";
	const char *text = "Hello, world!\n", *p = stream;
	size_t k = 0;

	while ((p = strstr(p, prefix)) != NULL) {
		unsigned v = 0;

		ck_assert_int_eq(sscanf(p + sizeof(prefix) - 1, "%x", &v), 1);
		ck_assert_msg(k < strlen(text) && v == (unsigned char)text[k],
			      "OUT %zu wrote 0x%x", k, v);
		ck_assert_msg(strstr(p, " hypercall=HC_print8bit\n") == strchr(p, '\n') - 23,
			      "OUT %zu names no hypercall: %.100s", k, p);
		k++;
		p++;
	}
	ck_assert_msg(k == strlen(text), "%zu OUTs to 0xe9, not %zu", k, strlen(text));
}

/* _i: the mode. hello on the emulator: the first instruction, every OUT, 42 put in RAX before
 * the HLT that ends the stream, a count of lines a second run repeats, and the exits counted as
 * a run without --step counts them (a step is no exit of the guest's). */
START_TEST(test_emu_step_shows_hello_from_the_first_instruction_to_the_hlt)
{
	enum tv_mode mode = (enum tv_mode)_i;
	struct result r, plain;
	char with[128], without[128];
	char *stream = step_run("emu", mode, "hello", NULL, &r), *again;
	const char *hlt;
	int n = insn_lines(stream);

	ck_assert_msg(r.status == 0, "%s: status %d: %s", tv_mode_name(mode), r.status, r.err);
	hlt = line_from_end(stream, 1);
	ck_assert_msg(strncmp(r.out, "Hello, world!\n", 14) == 0, "stdout: %s", r.out);
	check_first_line(stream, mode);
	check_outs(stream);
	ck_assert_msg(strcmp(line_from_end(stream, 0), "    exit HLT\n") == 0, "ends: %s",
		      line_from_end(stream, 2));
	ck_assert_msg(strstr(hlt, "  f4 ") && strstr(hlt, " hlt\n"), "not a hlt: %s", hlt);
	ck_assert_msg(strncmp(line_from_end(stream, 2), "    ", 4) == 0 &&
			      strstr(line_from_end(stream, 2), " rax=0x2a"),
		      "RAX is not set to 42 right before the hlt:\n%s", line_from_end(stream, 4));
	ck_assert_msg(n >= 14 * 4 && n <= 300, "%d instructions", n);

	again = step_run("emu", mode, "hello", NULL, &r);
	ck_assert_msg(strcmp(stream, again) == 0, "a second run printed other lines");
	exit_summary(r.err, with, sizeof(with));
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "-b", "emu", "-m",
				   tv_mode_name(mode), NULL }, &plain);
	exit_summary(plain.err, without, sizeof(without));
	ck_assert_str_eq(with, without);
	free(again);
	free(stream);
}
END_TEST

/* _i: the mode. KVM prints the emulator's lines, byte for byte, where it runs the mode. */
START_TEST(test_kvm_step_prints_the_emulators_lines)
{
	enum tv_mode mode = (enum tv_mode)_i;
	struct result rk, re;
	char why[256];
	char *kvm, *emu;

	if (!tv_test_engine("kvm", mode, why, sizeof(why)))
		TV_SKIP("%s: %s", tv_mode_name(mode), why);
	kvm = step_run("kvm", mode, "hello", NULL, &rk);
	emu = step_run("emu", mode, "hello", NULL, &re);
	ck_assert_msg(rk.status == 0 && re.status == 0, "status kvm %d, emu %d: %s %s", rk.status,
		      re.status, rk.err, re.err);
	ck_assert_msg(insn_lines(kvm) > 14, "kvm: %d lines", insn_lines(kvm));
	if (strcmp(kvm, emu) != 0) {
		size_t i = 0;

		while (kvm[i] == emu[i])
			i++;
		while (i > 0 && kvm[i - 1] != '\n')
			i--;
		ck_abort_msg("%s: the streams differ from\nkvm: %.200s\nemu: %.200s",
			     tv_mode_name(mode), kvm + i, emu + i);
	}
	free(kvm);
	free(emu);
}
END_TEST

/* The engine _i, or a skip: the emulator always runs; KVM where its probe runs the mode. */
#define ENGINE_OR_SKIP(mode, name)                                                  \
	do {                                                                        \
		char why_[256];                                                     \
		name = engines[_i];                                                 \
		if (!tv_test_engine(name, (mode), why_, sizeof(why_)))              \
			TV_SKIP("%s: %s", name, why_);                              \
	} while (0)

/* _i: the engine. --trace with --step writes what it writes without: the same exits, records and
 * guest RAM, not a record per step. */
START_TEST(test_step_leaves_the_trace_as_it_is)
{
	const char *engine;
	char plain_path[64], step_path[64];
	struct result r;
	char *plain, *stepped, *stream;

	ENGINE_OR_SKIP(TV_MODE_LONG, engine);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "-b", engine, "--trace",
				   tv_temp_path(plain_path, sizeof(plain_path), ".jsonl"), NULL }, &r);
	ck_assert_msg(r.status == 0, "%s: %s", engine, r.err);
	stream = step_run(engine, TV_MODE_LONG, "hello",
			  (const char *const[]){ "--trace",
						 tv_temp_path(step_path, sizeof(step_path), ".jsonl"),
						 NULL },
			  &r);
	ck_assert_msg(r.status == 0, "%s: %s", engine, r.err);
	plain = read_all(plain_path);
	stepped = read_all(step_path);
	unlink(plain_path);
	unlink(step_path);
	ck_assert_msg(tv_count_lines(plain) == 17, "%s: %d trace lines", engine, /* header too */
		      tv_count_lines(plain));
	ck_assert_msg(strcmp(plain, stepped) == 0, "%s: the traces differ:\n%.300s\n%.300s", engine,
		      plain, stepped);
	ck_assert_msg(strstr(stepped, "DEBUG") == NULL, "%s: a step in the trace", engine);
	free(plain);
	free(stepped);
	free(stream);
}
END_TEST

/* _i: the engine. A guest that never exits is stopped by --timeout under --step too: the stream
 * ends with the INTR the timer made, and the run says why. */
START_TEST(test_step_stops_at_the_timeout)
{
	const char *engine;
	struct timespec t0, t1;
	struct result r;
	char *stream;
	double s;

	ENGINE_OR_SKIP(TV_MODE_REAL, engine);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stream = step_run(engine, TV_MODE_REAL, "guest1-noio",
			  (const char *const[]){ "--timeout", "300ms", NULL }, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(r.status == 1 && strstr(r.err, "timeout"), "%s: status %d: %s", engine,
		      r.status, r.err);
	ck_assert_msg(s < 20, "%s: %.1f s for a 300 ms timeout", engine, s);
	ck_assert_msg(strcmp(line_from_end(stream, 0), "    exit INTR\n") == 0, "%s: ends: %s",
		      engine, line_from_end(stream, 1));
	ck_assert_msg(insn_lines(stream) > 10, "%s: %d instructions in 300 ms", engine,
		      insn_lines(stream));
	free(stream);
}
END_TEST

/* _i: the engine. --max-exits counts the guest's exits, not the steps: three OUTs, then the
 * stop, as without --step. */
START_TEST(test_step_stops_at_max_exits)
{
	const char *engine;
	struct result r;
	const char *p;
	char *stream;
	int outs = 0;

	ENGINE_OR_SKIP(TV_MODE_REAL, engine);
	stream = step_run(engine, TV_MODE_REAL, "guest1",
			  (const char *const[]){ "--max-exits", "3", NULL }, &r);
	ck_assert_msg(r.status == 1 && strstr(r.err, "stopped at the exit limit") &&
			      strstr(r.err, "; 3 exits (IO 3)"),
		      "%s: status %d: %s", engine, r.status, r.err);
	for (p = stream; (p = strstr(p, "    exit IO out port=0x10 size=2")) != NULL; p++)
		outs++;
	ck_assert_msg(outs == 3, "%s: %d OUTs", engine, outs);
	ck_assert_msg(strncmp(line_from_end(stream, 0), "    exit IO out port=0x10", 25) == 0,
		      "%s: ends: %s", engine, line_from_end(stream, 0));
	free(stream);
}
END_TEST

/* _i: the engine. A jump where nothing is mapped: the target's line says <unreadable>, and the
 * exit the engine ends in follows it (the same lines on both engines). */
START_TEST(test_step_shows_an_unmapped_rip_as_unreadable)
{
	/* movabs rax, 0x7fff00000000; jmp rax */
	static const uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0, 0xff, 0x7f, 0, 0, 0xff, 0xe0 };
	const char *engine;
	char image[64];
	struct result r;
	char *stream;

	ENGINE_OR_SKIP(TV_MODE_LONG, engine);
	stream = step_run(engine, TV_MODE_LONG, temp_image(code, sizeof(code), image, sizeof(image)),
			  NULL, &r);
	unlink(image);
	ck_assert_msg(r.status == 1, "%s: status %d: %s", engine, r.status, r.err);
	ck_assert_str_eq(line_from_end(stream, 2), "    rip=0x7fff00000000\n"
						   "0x00007fff00000000  <unreadable>\n"
						   "    exit SHUTDOWN\n");
	free(stream);
}
END_TEST

/* _i: the engine. A repeated string instruction is one line, however many steps the engine takes
 * for its iterations, with its exits merged and no step after it that only finishes it. */
START_TEST(test_step_shows_a_repeated_string_instruction_once)
{
	static const uint8_t code[] = {
		0xbf, 0x00, 0x08, 0, 0, 0xb9, 5, 0, 0, 0, 0xb0, 0x41, /* edi 0x800, ecx 5, al 'A' */
		0xf3, 0xaa,					      /* 0xc: rep stosb */
		0xbe, 0x00, 0x08, 0, 0, 0xb9, 3, 0, 0, 0, 0x66, 0xba, 0xe9, 0, /* esi, ecx 3, dx */
		0xf3, 0x6e,					      /* 0x1c: rep outsb */
		0xf4,						      /* 0x1e: hlt */
	};
	const char *engine, *p;
	char image[64];
	struct result r;
	char *stream;

	ENGINE_OR_SKIP(TV_MODE_PROTECTED, engine);
	stream = step_run(engine, TV_MODE_PROTECTED,
			  temp_image(code, sizeof(code), image, sizeof(image)), NULL, &r);
	unlink(image);
	ck_assert_msg(r.status == 0 && strcmp(r.out, "AAA") == 0, "%s: status %d, stdout '%s': %s",
		      engine, r.status, r.out, r.err);
	ck_assert_msg(insn_lines(stream) == 9, "%s: %d instruction lines:\n%s", engine,
		      insn_lines(stream), stream);
	p = strstr(stream, "0x0000000c  f3 aa ");
	ck_assert_msg(p && strstr(p, "\n    rcx=0x0 rdi=0x805\n0x0000000e  ") == strchr(p, '\n'),
		      "%s: rep stosb:\n%s", engine, stream);
	p = strstr(stream, "0x0000001c  f3 6e ");
	ck_assert_msg(p && strstr(p, "\n    exit IO out port=0xe9 size=1 count=3 data=414141 "
				     "hypercall=HC_print8bit\n    rcx=0x0 rsi=0x803\n"
				     "0x0000001e  f4 ") == strchr(p, '\n'),
		      "%s: rep outsb:\n%s", engine, stream);
	free(stream);
}
END_TEST

/* _i: the engine. The guest sees what it sees without --step: HC_numExits counts its own exits,
 * not the steps, so the hypercalls guest prints the same. */
START_TEST(test_step_leaves_the_guests_output_as_it_is)
{
	const char *engine;
	struct result plain, r;
	char *stream;

	ENGINE_OR_SKIP(TV_MODE_LONG, engine);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "-b", engine, "-g", "hypercalls",
				   NULL }, &plain);
	stream = step_run(engine, TV_MODE_LONG, "hypercalls", NULL, &r);
	ck_assert_msg(plain.status == 0 && r.status == 0, "%s: status %d, %d: %s", engine,
		      plain.status, r.status, r.err);
	ck_assert_msg(strstr(plain.out, "IO out: ") != NULL, "%s: %s", engine, plain.out);
	ck_assert_str_eq(r.out, plain.out);
	free(stream);
}
END_TEST

/* Without --step-out the lines are on stderr, the guest's output alone on stdout. */
START_TEST(test_step_writes_on_stderr_by_default)
{
	struct result r;

	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "-b", "emu", "-m", "real",
				   "--step", NULL }, &r);
	ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
	ck_assert_msg(strncmp(r.err, "0000:0000  ", 11) == 0, "stderr: %.100s", r.err);
	ck_assert_msg(strncmp(r.out, "Hello, world!\n42 at 0x400: ok", 29) == 0, "stdout: %s",
		      r.out);
}
END_TEST

/* A step stream that cannot be written ends the run with one line and exit 1; two streams that
 * want stdout are a usage error. */
START_TEST(test_step_output_failures_are_said)
{
	struct result r;

	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "-b", "emu", "--step-out",
				   "/dev/full", NULL }, &r);
	ck_assert_msg(r.status == 1 && strstr(r.err, "twinvm: writing /dev/full: No space left") &&
			      tv_count_lines(r.err) == 1,
		      "status %d: %s", r.status, r.err);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "-b", "emu", "--step-out", "-",
				   "--trace", "-", NULL }, &r);
	ck_assert_msg(r.status == 2 && strstr(r.err, "both want stdout") &&
			      tv_count_lines(r.err) == 1,
		      "status %d: %s", r.status, r.err);
}
END_TEST

static Suite *step_run_suite(void)
{
	Suite *s = suite_create("step_run");
	TCase *tc = tcase_create("step");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_emu_step_shows_hello_from_the_first_instruction_to_the_hlt, 0,
			    TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_kvm_step_prints_the_emulators_lines, 0, TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_step_leaves_the_trace_as_it_is, 0, 2);
	tcase_add_loop_test(tc, test_step_stops_at_the_timeout, 0, 2);
	tcase_add_loop_test(tc, test_step_stops_at_max_exits, 0, 2);
	tcase_add_loop_test(tc, test_step_shows_an_unmapped_rip_as_unreadable, 0, 2);
	tcase_add_loop_test(tc, test_step_shows_a_repeated_string_instruction_once, 0, 2);
	tcase_add_loop_test(tc, test_step_leaves_the_guests_output_as_it_is, 0, 2);
	tcase_add_test(tc, test_step_writes_on_stderr_by_default);
	tcase_add_test(tc, test_step_output_failures_are_said);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tv_test_main(step_run_suite());
}
