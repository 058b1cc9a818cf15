/* `twinvm trace show`: a trace as a person reads it, and the records' "insn": the instruction that
 * made each exit, found by looking back from the state after it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "disasm.h"
#include "run_binary.h"
#include "tv_test.h"

#define RUN(r, ...) tv_run_binary("TWINVM_BIN", (const char *const[]){ __VA_ARGS__, NULL }, (r))

/* The line of s that contains what, copied into line; false when there is none. */
static bool line_with(const char *s, const char *what, char *line, size_t len)
{
	const char *at = strstr(s, what), *start, *end;

	if (!at)
		return false;
	for (start = at; start > s && start[-1] != '\n'; start--)
		;
	end = strchr(at, '\n');
	snprintf(line, len, "%.*s", (int)((end ? end : at + strlen(at)) - start), start);
	return true;
}

/* A trace of the hypercalls guest on the emulator, in path. */
static void record_hypercalls(char *path, size_t len, const char *mode)
{
	struct result r;

	if (!tv_backend_find("emu"))
		TV_SKIP("the emulator is not built in");
	RUN(&r, "run", "--backend", "emu", "--guest", "hypercalls", "--mode", mode, "--trace",
	    tv_temp_path(path, len, ".jsonl"));
	ck_assert_msg(r.status == 0, "%s", r.err);
}

START_TEST(test_show_prints_one_line_per_exit_and_a_summary)
{
	struct result r;
	char path[64], line[512];
	bool capstone = tv_disasm((const uint8_t *)"\xf4", 1, 64, 0, line, sizeof(line)) == 1;

	record_hypercalls(path, sizeof(path), "long");
	RUN(&r, "trace", "show", path);
	unlink(path);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strncmp(r.out, "trace of hypercalls in long mode on emu, 0x200000 bytes of RAM; CPU ",
			      68) == 0, "%s", r.out);
	ck_assert_msg(line_with(r.out, "HC_printStr(0xb2) = 0x1b", line, sizeof(line)), "%s", r.out);
	ck_assert_msg(strstr(line, "    1  IO       out 0xec     'HC_print32bi...'") == line, "%s",
		      line);
	ck_assert_msg(strstr(line, "e7 ec") && (!capstone || strstr(line, "out 0xec, eax")), "%s",
		      line);
	ck_assert_msg(line_with(r.out, "HC_gvaToHva(0x400) = 0x400", line, sizeof(line)), "%s", r.out);
	ck_assert_msg(strstr(line, "   16  IO       in  0xee"), "%s", line);
	ck_assert_msg(line_with(r.out, "   21  HLT", line, sizeof(line)), "%s", r.out);
	ck_assert_msg(strstr(line, "f4") && (!capstone || strstr(line, "hlt")), "%s", line);
	ck_assert_msg(strstr(r.out, "\n       HC_gvaToHva: guest address 0xfffff000 maps"), "%s", r.out);
	ck_assert_msg(strstr(r.out, "\n21 exits: IO 20, HLT 1; hypercalls: HC_printStr 9, "
				    "HC_print32bit 6, HC_numExits 2, HC_numExitsByType 1, "
				    "HC_gvaToHva 2; guest RAM 0x200000 bytes, fnv1a64 0x"), "%s", r.out);
	ck_assert_int_eq(tv_count_lines(r.out), 2 + 21 + 1 + 1);
}
END_TEST

/* Every exit of an I/O guest names its instruction, in every mode: an OUT or IN whose port is the
 * exit's (the imm8 forms) or in DX, found at the address just before the state's RIP. */
START_TEST(test_every_io_record_names_its_instruction)
{
	static const char *const modes[] = { "real", "protected", "paged32", "long" };
	const char *mode = modes[_i];
	char path[64], msg[256];
	FILE *f;
	json_error_t err;
	json_t *rec;
	int records = 0;

	record_hypercalls(path, sizeof(path), mode);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while ((rec = json_loadf(f, JSON_DISABLE_EOF_CHECK, &err))) {
		const json_t *io = json_object_get(rec, "io"), *insn = json_object_get(rec, "insn");
		const char *bytes = json_string_value(json_object_get(insn, "bytes"));
		unsigned long long rip = 0, at = 0;

		if (json_object_get(rec, "reason")) {
			records++;
			snprintf(msg, sizeof(msg), "%s record %d", mode, records);
			ck_assert_msg(bytes != NULL, "%s has no insn", msg);
			sscanf(json_string_value(json_object_get(json_object_get(rec, "regs"), "rip")),
			       "%llx", &rip);
			sscanf(json_string_value(json_object_get(insn, "rip")), "%llx", &at);
			ck_assert_msg(at + strlen(bytes) / 2 == rip, "%s: %s at 0x%llx, rip 0x%llx",
				      msg, bytes, at, rip);
			if (io) {
				char port[8];
				size_t n = strlen(bytes);

				snprintf(port, sizeof(port), "%02x", (int)json_integer_value(
						json_object_get(io, "port")));
				ck_assert_msg(!strcmp(bytes + n - 2, port) ||
					      (bytes[n - 2] == 'e' && strchr("cdef", bytes[n - 1])),
					      "%s: %s for port %s", msg, bytes, port);
			} else {
				ck_assert_str_eq(bytes, "f4"); /* the HLT */
			}
		}
		json_decref(rec);
	}
	fclose(f);
	unlink(path);
	ck_assert_int_eq(records, 21);
}
END_TEST

/* A trace is the user's file: records with odd hex, fields of the wrong type or missing are shown
 * as far as they go, never read past their ends (the sanitizer build runs this too). */
START_TEST(test_odd_records_are_shown_without_harm)
{
	char path[64];
	struct result r;
	FILE *f = fopen(tv_temp_path(path, sizeof(path), ".jsonl"), "w");

	ck_assert_ptr_nonnull(f);
	fputs("{\"vm\":0,\"seq\":1,\"reason\":\"IO\",\"io\":{\"dir\":\"out\",\"port\":1,"
	      "\"data\":\"4\"},\"insn\":{\"rip\":\"0x1\",\"bytes\":\"e\"}}\n"
	      "{\"vm\":0,\"seq\":2,\"reason\":\"HLT\",\"hypercall\":\"x\",\"insn\":7,"
	      "\"mmio\":[]}\n{\"reason\":5,\"regs\":\"?\"}\n", f);
	fclose(f);
	RUN(&r, "trace", "show", path);
	unlink(path);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert_msg(strstr(r.out, "3 exits: IO 1, HLT 1"), "%s", r.out);
}
END_TEST

START_TEST(test_bad_input_is_one_line_and_exit_2)
{
	char path[64];
	struct result r;
	FILE *f = fopen(tv_temp_path(path, sizeof(path), ".jsonl"), "w");

	ck_assert_ptr_nonnull(f);
	fputs("{\"vm\":0,\"seq\":1,\"reason\":\"HLT\",\"code\":5}\n[1,2]\n", f);
	fclose(f);
	RUN(&r, "trace", "show", path);
	unlink(path);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "line 2: not a JSON object") && tv_count_lines(r.err) == 1,
		      "%s", r.err);
	RUN(&r, "trace", "show", "/");
	ck_assert_msg(r.status == 2 && strstr(r.err, "not a regular file"), "%s", r.err);
	RUN(&r, "trace");
	ck_assert_msg(r.status == 2 && tv_count_lines(r.err) == 1, "%s", r.err);
	RUN(&r, "trace", "list");
	ck_assert_msg(r.status == 2 && strstr(r.err, "unknown command 'list'"), "%s", r.err);
	RUN(&r, "trace", "show", "a", "b");
	ck_assert_msg(r.status == 2 && strstr(r.err, "one trace file"), "%s", r.err);
	RUN(&r, "trace", "--help");
	ck_assert_msg(r.status == 0 && strstr(r.out, "usage: twinvm trace show"), "%s", r.out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace_show");
	TCase *tc = tcase_create("show");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_show_prints_one_line_per_exit_and_a_summary);
	tcase_add_loop_test(tc, test_every_io_record_names_its_instruction, 0, 4);
	tcase_add_test(tc, test_odd_records_are_shown_without_harm);
	tcase_add_test(tc, test_bad_input_is_one_line_and_exit_2);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
