/* The helpers the hypercall suites (test_hypercalls_*.c) share: the probes, a machine prepared
 * with a guest, guest RAM, stderr captured, and the paged tests' page-table edits. */
#include "hc_test.h"

#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "tv_test.h"

/* --- running them ----------------------------------------------------------------------------- */

static const uint8_t *hc_guest_code(const struct guest *g, enum tv_mode mode)
{
	return g->code[tv_mode_bits(mode) == 16 ? 0 : 1];
}

size_t hc_guest_len(const struct guest *g, enum tv_mode mode)
{
	return g->len[tv_mode_bits(mode) == 16 ? 0 : 1];
}

/* The probes' answers, asked once by main() before Check forks the tests: a probe runs a guest,
 * and on the emulator that costs as much as the test itself. */
static const char *const engines[] = { "kvm", "emu" };
static struct {
	const struct tv_backend_ops *be;
	char why[256];
} probed[2][TV_MODE_COUNT];

void hc_probe_all(void)
{
	for (int e = 0; e < 2; e++)
		for (int mode = 0; mode < TV_MODE_COUNT; mode++)
			probed[e][mode].be = tv_test_engine(engines[e], (enum tv_mode)mode,
							    probed[e][mode].why,
							    sizeof(probed[e][mode].why));
}

/* tv_test_engine(), answered from the probes main() ran. */
static const struct tv_backend_ops *hc_engine_for(const char *engine, enum tv_mode mode,
						  char *why, size_t why_len)
{
	int e = strcmp(engine, "kvm") == 0 ? 0 : 1;

	ck_assert_str_eq(engine, engines[e]);
	snprintf(why, why_len, "%s", probed[e][mode].why);
	return probed[e][mode].be;
}

/* A machine on engine in mode with image loaded, not yet run, for the test to set up RAM first;
 * false, with the probe's reason in why, when the engine cannot run the mode. */
bool hc_prepare(struct tv_test_run *t, const char *engine, enum tv_mode mode,
		const uint8_t *image, size_t len, FILE *trace, char *why, size_t why_len)
{
	const struct tv_backend_ops *be = hc_engine_for(engine, mode, why, why_len);

	if (!be)
		return false;
	tv_test_prepare(t, be, mode, image, len, trace);
	return true;
}

bool hc_prepare_guest(struct tv_test_run *t, const char *engine, enum tv_mode mode,
		      const struct guest *g, FILE *trace, char *why, size_t why_len)
{
	return hc_prepare(t, engine, mode, hc_guest_code(g, mode), hc_guest_len(g, mode), trace, why,
		       why_len);
}

/* Runs the prepared machine to its end and reads the registers and the console. */
void hc_run(struct tv_test_run *t)
{
	tv_test_finish(t, 30);
}

void hc_poke(struct tv_test_run *t, uint64_t gpa, const void *data, size_t len)
{
	ck_assert_int_eq(tv_ram_write(&t->m.ram, gpa, data, len), 0);
}

void hc_poke_str(struct tv_test_run *t, uint64_t gpa, const char *s)
{
	hc_poke(t, gpa, s, strlen(s) + 1);
}

/* The guest ran to its last instruction, the hlt, and halted there. */
void hc_expect_halted_at_end(const struct tv_test_run *t, size_t len)
{
	ck_assert_msg(t->last.reason == TV_EXIT_HLT, "ended in %s: %s",
		      tv_exit_reason_name(t->last.reason), t->last.detail);
	ck_assert_uint_eq(t->regs.rip, len);
}

/* --- stderr, where failure messages go ----------------------------------------------------- */

void hc_capture_stderr(struct hc_captured *c)
{
	fflush(stderr);
	c->f = tmpfile();
	ck_assert_ptr_nonnull(c->f);
	c->saved = dup(2);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_ge(dup2(fileno(c->f), 2), 0);
}

/* What was written to stderr so far, in c->text. */
const char *hc_captured_text(struct hc_captured *c)
{
	ssize_t n;

	fflush(stderr);
	n = pread(fileno(c->f), c->text, sizeof(c->text) - 1, 0);
	ck_assert_int_ge(n, 0);
	c->text[n] = '\0';
	return c->text;
}

/* Gives fd 2 back, leaving what was written in c->text. */
void hc_release_stderr(struct hc_captured *c)
{
	hc_captured_text(c);
	ck_assert_int_ge(dup2(c->saved, 2), 0);
	close(c->saved);
	fclose(c->f);
}

int hc_count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* --- through the guest's own page tables (paged modes) ---------------------------------------- */

/* Maps the large page at ALIAS (4 MiB in paged32, 2 MiB in long mode) to physical 0, present or
 * not: the entry differs from twinvm's identity tables only in where it points. */
void hc_map_alias(struct tv_test_run *t, enum tv_mode mode, bool present)
{
	uint64_t e = TV_PTE_RW | TV_PTE_PS | (present ? TV_PTE_P : 0);
	uint32_t e32 = (uint32_t)e;

	if (mode == TV_MODE_PAGED32)
		hc_poke(t, TV_PD32 + 4 * (ALIAS >> 22), &e32, sizeof(e32));
	else
		hc_poke(t, TV_PD64 + 8 * (ALIAS >> 21), &e, sizeof(e));
}

/* Splits the large page at ALIAS into 4 KiB pages through a page table at SPLIT_PT whose first two
 * entries are in reverse order: ALIAS -> physical 0x31000, ALIAS + 0x1000 -> 0x30000. */
void hc_map_split(struct tv_test_run *t, enum tv_mode mode)
{
	const uint64_t pte0 = 0x31000 | TV_PTE_P | TV_PTE_RW, pte1 = 0x30000 | TV_PTE_P | TV_PTE_RW;
	const uint64_t pde = SPLIT_PT | TV_PTE_P | TV_PTE_RW;

	if (mode == TV_MODE_PAGED32) {
		const uint32_t p0 = (uint32_t)pte0, p1 = (uint32_t)pte1, d = (uint32_t)pde;

		hc_poke(t, SPLIT_PT, &p0, 4);
		hc_poke(t, SPLIT_PT + 4, &p1, 4);
		hc_poke(t, TV_PD32 + 4 * (ALIAS >> 22), &d, 4);
	} else {
		hc_poke(t, SPLIT_PT, &pte0, 8);
		hc_poke(t, SPLIT_PT + 8, &pte1, 8);
		hc_poke(t, TV_PD64 + 8 * (ALIAS >> 21), &pde, 8);
	}
}
