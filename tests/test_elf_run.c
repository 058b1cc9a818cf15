/* ELF guests through `twinvm run` as a user runs it: each file the loader refuses is one line
 * "twinvm: FILE: ..." and exit 2; the README's recipe (cpp, as, ld on guests/template.S) builds a
 * guest that runs in all four modes; a built-in guest built for real mode alone runs there
 * without --mode. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_craft.h"
#include "layout.h"
#include "run_binary.h"
#include "tv_test.h"

#define RUN(r, ...) tv_run_binary("TWINVM_BIN", (const char *const[]){ __VA_ARGS__, NULL }, (r))

/* Each way to break the crafted file, the mode it runs in, and what the one line says. */
static void phoff_past_end(struct craft *f) { craft_ehdr64(f)->e_phoff = f->len; }
static void phnum_past_end(struct craft *f) { craft_ehdr64(f)->e_phnum = 100; }
static void phentsize_wrong(struct craft *f) { craft_ehdr64(f)->e_phentsize = 32; }
static void offset_past_end(struct craft *f) { craft_phdr64(f, 0)->p_offset = f->len - 8; }
static void filesz_over_memsz(struct craft *f) { craft_phdr64(f, 0)->p_memsz = 8; }
static void past_ram(struct craft *f) { craft_phdr64(f, 0)->p_paddr = TV_RAM_DEFAULT - 8; }
static void on_the_stack(struct craft *f) { craft_phdr64(f, 0)->p_paddr = TV_STACK_BOTTOM - 8; }
static void on_the_gdt(struct craft *f) { craft_phdr64(f, 0)->p_paddr = TV_GDT; }
static void on_the_pd32(struct craft *f) { craft_phdr64(f, 0)->p_paddr = TV_PD32; }
static void on_the_pml4(struct craft *f) { craft_phdr64(f, 0)->p_paddr = TV_PML4 + 0x1000; }
static void no_load(struct craft *f) { craft_phdr64(f, 0)->p_type = PT_NOTE; }
static void entry_outside(struct craft *f) { craft_ehdr64(f)->e_entry = 0x3000; }
static void object_file(struct craft *f) { craft_ehdr64(f)->e_type = ET_REL; }
static void arm(struct craft *f) { craft_ehdr64(f)->e_machine = EM_AARCH64; }
static void big_endian(struct craft *f) { f->b[EI_DATA] = ELFDATA2MSB; }
static void class_3(struct craft *f) { f->b[EI_CLASS] = 3; }
static void cut_short(struct craft *f) { f->len = 40; }

static const struct {
	void (*edit)(struct craft *f);
	enum tv_mode mode;
	const char *says;
} refusals[] = {
	{ phoff_past_end, TV_MODE_LONG, "the program headers (1 of 56 bytes at e_phoff 0x110) run "
					"past the end of the file (272 bytes)" },
	{ phnum_past_end, TV_MODE_LONG, "run past the end of the file" },
	{ phentsize_wrong, TV_MODE_LONG, "e_phentsize 32 is not ELF64's program header size (56)" },
	{ offset_past_end, TV_MODE_LONG, "segment 0's bytes (p_offset 0x108, p_filesz 0x10) run "
					 "past the end of the file (272 bytes)" },
	{ filesz_over_memsz, TV_MODE_LONG, "p_filesz 0x10 is larger than its p_memsz 0x8" },
	{ past_ram, TV_MODE_LONG, "segment 0 (p_paddr 0x1ffff8, p_memsz 0x20) leaves guest RAM "
				  "(0x200000 bytes)" },
	{ on_the_stack, TV_MODE_REAL, "overlaps the stack at 0xe000-0xefff that real mode uses" },
	{ on_the_gdt, TV_MODE_PROTECTED, "overlaps the GDT at 0x10000-0x10fff that protected mode" },
	{ on_the_pd32, TV_MODE_PAGED32, "overlaps the page directory at 0x11000-0x11fff" },
	{ on_the_pml4, TV_MODE_LONG, "overlaps the page tables at 0x12000-0x17fff" },
	{ no_load, TV_MODE_LONG, "no PT_LOAD segment" },
	{ entry_outside, TV_MODE_LONG, "the entry point 0x3000 (e_entry) lies in no PT_LOAD" },
	{ object_file, TV_MODE_LONG, "an object file from as; link it with ld first" },
	{ arm, TV_MODE_LONG, "for machine 183, not x86" },
	{ big_endian, TV_MODE_LONG, "not little-endian" },
	{ class_3, TV_MODE_LONG, "ELF class 3 is neither ELF32 (1) nor ELF64 (2)" },
	{ cut_short, TV_MODE_LONG, "the ELF header is cut short: 40 bytes, ELF64's is 64" },
};

/* The crafted file with one fault, written to a temporary file and run: exit 2, one line that
 * names the file and says what is wrong. */
START_TEST(test_each_refusal_is_one_line_exit_2)
{
	struct result r;
	struct craft f;
	char path[64], want[512];
	FILE *out;

	craft_elf(&f, 64, refusals[_i].mode);
	refusals[_i].edit(&f);
	out = fopen(tv_temp_path(path, sizeof(path), ".elf"), "wb");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(f.b, 1, f.len, out), f.len);
	ck_assert_int_eq(fclose(out), 0);
	RUN(&r, "run", "--backend", "emu", "--mode", tv_mode_name(refusals[_i].mode), "--guest",
	    path);
	unlink(path);
	snprintf(want, sizeof(want), "twinvm: %s: ", path);
	ck_assert_msg(r.status == 2, "status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "stderr: %s", r.err);
	ck_assert_msg(strstr(r.err, refusals[_i].says), "stderr lacks '%s': %s", refusals[_i].says,
		      r.err);
	ck_assert_msg(tv_count_lines(r.err) == 1, "stderr: %s", r.err);
	ck_assert_str_eq(r.out, "");
}
END_TEST

/* The crafted file itself runs, so each refusal above is its one fault. */
START_TEST(test_unbroken_crafted_elf_runs)
{
	struct result r;
	struct craft f;
	char path[64];
	FILE *out;

	craft_elf(&f, 64, TV_MODE_LONG);
	out = fopen(tv_temp_path(path, sizeof(path), ".elf"), "wb");
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(fwrite(f.b, 1, f.len, out), f.len);
	ck_assert_int_eq(fclose(out), 0);
	RUN(&r, "run", "--backend", "emu", "--mode", "long", "--guest", path);
	unlink(path);
	ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.err, "twinvm: guest halted"));
}
END_TEST

/* Whether tool is an executable file in one of PATH's directories. */
static bool in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char dir[4096], file[4200];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
		snprintf(file, sizeof(file), "%s/%s", dir[0] ? dir : ".", tool);
		if (access(file, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* The README's "Write your own guest", step by step: cpp, as and ld build guests/template.S for
 * each width, and each runs in its modes on the emulator and prints its line. */
START_TEST(test_template_recipe_runs_in_all_four_modes)
{
	static const char *const tools[] = { "cpp", "as", "ld" };
	static const struct {
		int bits;
		const char *as, *ld, *mode;
	} builds[] = {
		{ 16, "--32", "-m elf_i386", "real" },
		{ 32, "--32", "-m elf_i386", "protected" },
		{ 32, "--32", "-m elf_i386", "paged32" },
		{ 64, "--64", "", "long" },
	};
	char dir[] = "/tmp/twinvm-recipe-XXXXXX", cmd[2048], elf[128];
	const char *src = getenv("TWINVM_SRC");
	struct result r;

	for (size_t i = 0; i < 3; i++)
		if (!in_path(tools[i]))
			TV_SKIP("[host limit: %s] %s is not in PATH: the recipe needs cpp, as and ld",
				tv_host_limit_tag(TV_LIMIT_NO_BINUTILS), tools[i]);
	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (size_t i = 0; i < 4; i++) {
		snprintf(cmd, sizeof(cmd),
			 "cd %s && cpp -P -x assembler-with-cpp -I %s/guests -DBITS=%d "
			 "%s/guests/template.S -o my%d.s && as %s -o my%d.o my%d.s && "
			 "ld %s -Ttext=0x1000 -o my%d.elf my%d.o", dir, src, builds[i].bits, src,
			 builds[i].bits, builds[i].as, builds[i].bits, builds[i].bits, builds[i].ld,
			 builds[i].bits, builds[i].bits);
		ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
		snprintf(elf, sizeof(elf), "%s/my%d.elf", dir, builds[i].bits);
		RUN(&r, "run", "--backend", "emu", "--mode", builds[i].mode, "--guest", elf);
		ck_assert_msg(r.status == 0, "%s mode: status %d, stderr: %s", builds[i].mode,
			      r.status, r.err);
		ck_assert_str_eq(r.out, "Hello from my guest\n");
		ck_assert_ptr_nonnull(strstr(r.err, "twinvm: guest halted"));
	}
	snprintf(cmd, sizeof(cmd), "rm -r %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* guest1 has a real-mode build alone: without --mode it runs in real mode (CR0 0x10: PE off)
 * where it used to ask for a 64-bit build; with --mode long it is still refused. */
START_TEST(test_real_mode_builtin_picks_real_mode)
{
	struct result r;

	RUN(&r, "run", "--backend", "emu", "--guest", "guest1", "--max-exits", "3", "--trace", "-");
	ck_assert_msg(r.status == 1, "status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "stopped at the exit limit"), "%s", r.err);
	ck_assert_msg(strstr(r.out, "\"seq\":3,"), "%.300s", r.out);
	ck_assert_msg(strstr(r.out, "\"cr0\":\"0x10\""), "not real mode: %.300s", r.out);

	RUN(&r, "run", "--backend", "emu", "--guest", "counter", "--timeout", "0.2");
	ck_assert_msg(strstr(r.err, "timeout"), "status %d: %s", r.status, r.err);

	RUN(&r, "run", "--backend", "emu", "--guest", "guest1", "--mode", "long");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "twinvm: the built-in guest guest1 has no 64-bit build for long mode "
				"(it runs in real mode)\n");
}
END_TEST

/* A guest with builds for every width keeps the default, long mode (EFER LME and LMA). */
START_TEST(test_other_guests_default_to_long_mode)
{
	struct result r;

	RUN(&r, "run", "--backend", "emu", "--guest", "hello", "--trace", "-");
	ck_assert_msg(r.status == 0, "status %d, stderr: %s", r.status, r.err);
	ck_assert_msg(strstr(r.out, "\"efer\":\"0x500\""), "not long mode: %.300s", r.out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("elf_run");
	TCase *tc = tcase_create("elf_run");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_each_refusal_is_one_line_exit_2, 0,
			    sizeof(refusals) / sizeof(refusals[0]));
	tcase_add_test(tc, test_unbroken_crafted_elf_runs);
	tcase_add_test(tc, test_template_recipe_runs_in_all_four_modes);
	tcase_add_test(tc, test_real_mode_builtin_picks_real_mode);
	tcase_add_test(tc, test_other_guests_default_to_long_mode);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
