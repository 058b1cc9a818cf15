/* The helpers the hypercall suites (test_hypercalls_*.c) share: the ABI as literals, the tiny
 * guests (hc_guests.c), a machine prepared with one on an engine the probes allow, and the checks
 * and set-ups more than one suite makes. */
#ifndef TWINVM_TEST_HC_TEST_H
#define TWINVM_TEST_HC_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "layout.h"
#include "modes.h"
#include "run_guest.h"

/* The ABI as the README gives it, written here as literals rather than taken from core's headers,
 * so that a change to the code cannot carry the tests' expectations along with it. */
#define HC_PORT_PRINT8BIT 0xE9
#define HC_PORT_PRINT32BIT 0xEA
#define HC_PORT_NUMEXITS 0xEB
#define HC_PORT_PRINTSTR 0xEC
#define HC_PORT_NUMEXITSBYTYPE 0xED
#define HC_PORT_GVATOHVA 0xEE
#define HC_STR_MAX 4096     /* the longest string HC_printStr prints */
#define HC_SCRATCH 0xF000u  /* where HC_numExitsByType leaves its text */

/* ---- the guests (hc_guests.c) ---------------------------------------------------------------- */

#define O16 0x66,
#define O32
#define LE32(v) ((v) & 0xff), (((v) >> 8) & 0xff), (((v) >> 16) & 0xff), (((v) >> 24) & 0xffu)

struct guest {
	const uint8_t *code[2]; /* [0] 16-bit, [1] 32- and 64-bit */
	size_t len[2];
};

/* Guest-physical (and, identity-mapped, guest-virtual) addresses the tests use. */
#define DATA 0x800u              /* a string the test writes, just past the code */
#define LONG_STR 0x20000u        /* a 4 KiB string, in the RAM free for the guest */
#define RAM_END ((uint32_t)TV_RAM_DEFAULT)
#define OUTSIDE 0x7fff0000u      /* identity-mapped, far above RAM */
#define ALIAS 0x400000u          /* a large page the paged tests map at physical 0, or split */
#define SPLIT_PT 0x22000u        /* the 4 KiB page table that splits it */
#define SPLIT_STR (ALIAS + 0xff8u) /* a string across the split's two pages */
#define MARKER 0x600du           /* ECX after the hypercall: the guest went on */

/* The paged-only tests loop from TV_MODE_PAGED32 to the end. */
_Static_assert(TV_MODE_PAGED32 + 2 == TV_MODE_COUNT && TV_MODE_LONG + 1 == TV_MODE_COUNT,
	       "the paged modes are the last two");

extern const struct guest print8bit, print32bit, numexits, printstr_data, printstr_long,
	printstr_at_ram_end, printstr_outside_ram, printstr_alias, printstr_split, numexitsbytype,
	gvatohva_last_byte, gvatohva_past_ram, gvatohva_alias, numexits_around_printstr, flood;

/* The guest's image length for mode's code width. */
size_t hc_guest_len(const struct guest *g, enum tv_mode mode);

/* ---- running them (hc_test.c) ---------------------------------------------------------------- */

/* Asks the probes once, before Check forks the tests: a probe runs a guest, and on the emulator
 * that costs as much as the test itself. main() calls it. */
void hc_probe_all(void);

/* A machine on engine in mode with image loaded, not yet run, for the test to set up RAM first;
 * false, with the probe's reason in why, when the engine cannot run the mode. */
bool hc_prepare(struct tv_test_run *t, const char *engine, enum tv_mode mode,
		const uint8_t *image, size_t len, FILE *trace, char *why, size_t why_len);
bool hc_prepare_guest(struct tv_test_run *t, const char *engine, enum tv_mode mode,
		      const struct guest *g, FILE *trace, char *why, size_t why_len);

/* Runs the prepared machine to its end and reads the registers and the console. */
void hc_run(struct tv_test_run *t);

void hc_poke(struct tv_test_run *t, uint64_t gpa, const void *data, size_t len);
void hc_poke_str(struct tv_test_run *t, uint64_t gpa, const char *s);

/* The guest ran to its last instruction, the hlt, and halted there. */
void hc_expect_halted_at_end(const struct tv_test_run *t, size_t len);

/* HC_gvaToHva's answer for gpa: guest RAM starts at a 4 GiB-aligned host address (the README's
 * ABI), so the low 32 bits of the host address are the RAM offset itself. */
#define hva32(gpa) ((uint32_t)(gpa))

/* test_<what>_kvm and test_<what>_emu, loop tests over modes that call fn(engine, mode). */
#define ON_EACH_ENGINE(what, fn)                                                              \
	START_TEST(test_##what##_kvm) { fn("kvm", (enum tv_mode)_i); }                        \
	END_TEST                                                                              \
	START_TEST(test_##what##_emu) { fn("emu", (enum tv_mode)_i); }                        \
	END_TEST

#define ADD_ON_EACH_ENGINE(tc, what, first_mode)                                              \
	do {                                                                                  \
		tcase_add_loop_test(tc, test_##what##_kvm, first_mode, TV_MODE_COUNT);        \
		tcase_add_loop_test(tc, test_##what##_emu, first_mode, TV_MODE_COUNT);        \
	} while (0)

/* ---- stderr, where failure messages go ------------------------------------------------------- */

/* Failure messages go to stderr: a test takes fd 2 over with a temporary file while it runs. */
struct hc_captured {
	FILE *f;
	int saved;
	char text[8192];
};

void hc_capture_stderr(struct hc_captured *c);
/* What was written to stderr so far, in c->text. */
const char *hc_captured_text(struct hc_captured *c);
/* Gives fd 2 back, leaving what was written in c->text. */
void hc_release_stderr(struct hc_captured *c);
/* How often needle occurs in text. */
int hc_count_lines_with(const char *text, const char *needle);

/* ---- the guest's page tables (paged modes) --------------------------------------------------- */

/* Maps the large page at ALIAS (4 MiB in paged32, 2 MiB in long mode) to physical 0, present or
 * not: the entry differs from twinvm's identity tables only in where it points. */
void hc_map_alias(struct tv_test_run *t, enum tv_mode mode, bool present);

/* Splits the large page at ALIAS into 4 KiB pages through a page table at SPLIT_PT whose first two
 * entries are in reverse order: ALIAS -> physical 0x31000, ALIAS + 0x1000 -> 0x30000. */
void hc_map_split(struct tv_test_run *t, enum tv_mode mode);

#endif
