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

/* The fields a refusal breaks. */
enum field { NONE, CLASS, DATA, TYPE, MACHINE, ENTRY, PHOFF, PHNUM, PHENTSIZE, P_TYPE, P_OFFSET,
	     P_PADDR, P_MEMSZ, LEN };

/* Sets field w of the crafted ELF64 to v. */
static void set(struct craft *f, enum field w, uint64_t v)
{
	Elf64_Ehdr *h = craft_ehdr64(f);
	Elf64_Phdr *p = craft_phdr64(f, 0);

	switch (w) {
	case NONE: break;
	case CLASS: f->b[EI_CLASS] = (uint8_t)v; break;
	case DATA: f->b[EI_DATA] = (uint8_t)v; break;
	case TYPE: h->e_type = (Elf64_Half)v; break;
	case MACHINE: h->e_machine = (Elf64_Half)v; break;
	case ENTRY: h->e_entry = v; break;
	case PHOFF: h->e_phoff = v; break;
	case PHNUM: h->e_phnum = (Elf64_Half)v; break;
	case PHENTSIZE: h->e_phentsize = (Elf64_Half)v; break;
	case P_TYPE: p->p_type = (Elf64_Word)v; break;
	case P_OFFSET: p->p_offset = v; break;
	case P_PADDR: p->p_paddr = v; break;
	case P_MEMSZ: p->p_memsz = v; break;
	case LEN: f->len = (size_t)v; break;
	}
}

/* Each fault (one or two fields of the crafted file, 272 bytes with its 16 at 0x100 loaded at
 * 0x1000), the mode it is run in, and what the one line says. */
static const struct {
	struct { enum field w; uint64_t v; } edit[2];
	enum tv_mode mode;
	const char *says;
} refusals[] = {
	{ { { PHOFF, 0x110 } }, TV_MODE_LONG, "the program headers (1 of 56 bytes at e_phoff 0x110) "
					      "run past the end of the file (272 bytes)" },
	{ { { PHNUM, 100 } }, TV_MODE_LONG, "run past the end of the file" },
	{ { { PHENTSIZE, 32 } }, TV_MODE_LONG, "e_phentsize 32 is not ELF64's program header size "
					       "(56)" },
	{ { { P_OFFSET, 0x108 } }, TV_MODE_LONG, "segment 0's bytes (p_offset 0x108, p_filesz 0x10) "
						 "run past the end of the file (272 bytes)" },
	{ { { P_MEMSZ, 8 } }, TV_MODE_LONG, "p_filesz 0x10 is larger than its p_memsz 0x8" },
	{ { { P_PADDR, TV_RAM_DEFAULT - 8 } }, TV_MODE_LONG,
	  "segment 0 (p_paddr 0x1ffff8, p_memsz 0x20) leaves guest RAM (0x200000 bytes)" },
	{ { { P_PADDR, TV_STACK_BOTTOM - 8 } }, TV_MODE_REAL,
	  "overlaps the stack at 0xe000-0xefff that real mode uses" },
	{ { { P_PADDR, TV_GDT } }, TV_MODE_PROTECTED,
	  "overlaps the GDT at 0x10000-0x10fff that protected mode uses" },
	{ { { P_PADDR, TV_PD32 } }, TV_MODE_PAGED32, "overlaps the page directory at 0x11000-0x11fff" },
	{ { { P_PADDR, TV_PDPT } }, TV_MODE_LONG, "overlaps the page tables at 0x12000-0x17fff" },
	{ { { P_TYPE, PT_NOTE } }, TV_MODE_LONG, "no PT_LOAD segment" },
	{ { { PHNUM, 0 }, { PHOFF, ~0ull } }, TV_MODE_LONG, "the ELF file has no PT_LOAD segment" },
	{ { { ENTRY, 0x3000 } }, TV_MODE_LONG, "the entry point 0x3000 (e_entry) lies in no PT_LOAD" },
	{ { { TYPE, 0 } }, TV_MODE_LONG, "the ELF file is of type 0, not an executable (ET_EXEC 2)" },
	{ { { TYPE, ET_REL } }, TV_MODE_LONG, "an object file from as; link it with ld first" },
	{ { { MACHINE, EM_AARCH64 } }, TV_MODE_LONG, "for machine 183, not x86" },
	{ { { DATA, ELFDATA2MSB } }, TV_MODE_LONG, "not little-endian" },
	{ { { CLASS, 3 } }, TV_MODE_LONG, "ELF class 3 is neither ELF32 (1) nor ELF64 (2)" },
	{ { { LEN, 40 } }, TV_MODE_LONG, "the ELF header is cut short: 40 bytes, ELF64's is 64" },
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
	set(&f, refusals[_i].edit[0].w, refusals[_i].edit[0].v);
	set(&f, refusals[_i].edit[1].w, refusals[_i].edit[1].v);
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
			 "ld %s -n -Ttext=0x1000 -o my%d.elf my%d.o", dir, src, builds[i].bits, src,
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
