/* The local APIC as an interrupt source with --platform pc: self-IPIs through ICR with TPR, PPR
 * and EOI (guests/lapic_ipi.S), and the timer waking HLT, interrupting a spin with no exit,
 * one-shot, periodic and masked (guests/lapic_timer.S). Each guest on both engines, in the fast
 * and precise (--trace) modes, and on the emulator in the step mode too (KVM's step mode is left
 * out, as in test_irq.c: kvm-pvm single-steps into an injected interrupt wrongly). twinvm diff
 * agrees on the self-IPI guest exit by exit; the timer guest cannot be held to that, since when
 * the timer fires depends on the host's clock and each engine's speed. Then the device on a
 * machine without an engine: what the guests cannot see exactly (the count at a divider, the
 * arbitration with the PICs' ExtINT) and what a guest must not get through (illegal vectors,
 * wrong accesses). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev_lapic.h"
#include "devices.h"
#include "run_binary.h"
#include "tv_test.h"

#define APIC 0xfee00000u
#define LE32(v) ((v) & 0xff), (((v) >> 8) & 0xff), (((v) >> 16) & 0xff), (((v) >> 24) & 0xffu)

static const char *const engines[] = { "emu", "kvm" };

/* Runs the guest file in $env on engine i / TV_RUN_WAYS in way i % TV_RUN_WAYS and asserts it
 * passed every check (status 1: its code 0; (n << 1) | 1 names the first that failed). */
static void run_guest_file(const char *env, int i)
{
	const char *engine = engines[i / TV_RUN_WAYS];
	enum tv_run_way way = (enum tv_run_way)(i % TV_RUN_WAYS);
	char why[512];
	struct result r;

	if (!tv_run_pc_guest(engine, TV_MODE_LONG, getenv(env), way, &r, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_msg(r.status == 1, "%s, %s: status %d (check %d failed): %s", engine,
		      tv_run_way_name[way], r.status, r.status >> 1, r.err);
}

START_TEST(test_self_ipis_are_taken_by_priority_with_tpr_and_eoi)
{
	run_guest_file("TWINVM_GUEST_LAPIC_IPI", _i);
}
END_TEST

START_TEST(test_the_timer_counts_fires_and_wakes_hlt)
{
	run_guest_file("TWINVM_GUEST_LAPIC_TIMER", _i);
}
END_TEST

/* twinvm diff runs the self-IPI guest on both engines in lockstep: every exit the same, with
 * the interrupts taken at the same instructions. */
START_TEST(test_diff_agrees_on_the_self_ipis)
{
	const char *guest = getenv("TWINVM_GUEST_LAPIC_IPI");
	char why[512];
	struct result r;

	if (!tv_test_engine("kvm", TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("kvm: %s", why);
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "diff", "--platform", "pc", "--mode",
				   "long", "--guest", guest, NULL }, &r);
	ck_assert_msg(r.status == 0 && strstr(r.out, "identical: "), "status %d: %s%s", r.status,
		      r.out, r.err);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Long mode: the APIC enabled, LVTT one-shot vector 0x40, TDCR tdcr, TMICT count, then "sti"
 * when sti, and "hlt". */
#define TIMER_THEN_HLT(tdcr, count, sti)                                                    \
	0xbf, LE32(APIC),                                 /* mov edi, APIC */               \
	0xc7, 0x87, LE32(0xf0u), LE32(0x1ffu),            /* SPIV: enabled */               \
	0xc7, 0x87, LE32(0x3e0u), LE32(tdcr),             /* TDCR */                        \
	0xc7, 0x87, LE32(0x320u), LE32(0x40u),            /* LVTT: one-shot, vector 0x40 */ \
	0xc7, 0x87, LE32(0x380u), LE32(count),            /* TMICT */                       \
	(sti) ? 0xfb : 0x90, 0xf4                         /* sti or nop; hlt */

/* A HLT with IF clear is halted for good whatever the timer does: the run ends there at once,
 * not when the timer (2 s) fires. */
START_TEST(test_hlt_with_interrupts_off_ends_the_run_though_the_timer_is_armed)
{
	static const uint8_t guest[] = { 0xfa, TIMER_THEN_HLT(0xbu, 2000000000u, false) };
	const char *engine = engines[_i];
	char why[512];
	struct result r;
	double t0 = now_s();

	if (!tv_run_image(engine, TV_MODE_LONG, "pc", guest, sizeof(guest), &r, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	ck_assert_msg(r.status == 0 && strstr(r.err, "guest halted"), "%s: status %d: %s", engine,
		      r.status, r.err);
	ck_assert_msg(now_s() - t0 < 1.5, "%s: %.2f s", engine, now_s() - t0);
}
END_TEST

/* "sti; hlt" waiting for a timer 12.8 s away (100 000 000 at divide by 128): --timeout 1 stops
 * the wait and says so. */
START_TEST(test_a_timeout_stops_a_hlt_waiting_for_the_timer)
{
	static const uint8_t guest[] = { TIMER_THEN_HLT(0xau, 100000000u, true) };
	const char *engine = engines[_i];
	char why[512], path[64];
	struct result r;
	double t0;
	FILE *f;

	if (!tv_test_engine(engine, TV_MODE_LONG, why, sizeof(why)))
		TV_SKIP("%s: %s", engine, why);
	tv_temp_path(path, sizeof(path), ".bin");
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(guest, 1, sizeof(guest), f), sizeof(guest));
	fclose(f);
	t0 = now_s();
	tv_run_binary("TWINVM_BIN", (const char *const[]){ "run", "--backend", engine, "--mode",
				   "long", "--platform", "pc", "--timeout", "1", "--guest", path,
				   NULL }, &r);
	unlink(path);
	ck_assert_msg(strstr(r.err, "twinvm: timeout: the guest was stopped after 1 s"),
		      "%s: status %d: %s", engine, r.status, r.err);
	ck_assert_msg(now_s() - t0 < 5, "%s: %.2f s", engine, now_s() - t0);
}
END_TEST

/* A machine with the PICs and the APIC and no engine: what is asserted is in irq_src. */
static struct lapic *machine_with_apic(struct tv_machine *m)
{
	memset(m, 0, sizeof(*m));
	ck_assert_int_eq(tv_machine_init_devices(m), 0);
	ck_assert_int_eq(tv_pic_attach(m), 0);
	ck_assert_int_eq(tv_apic_attach(m), 0);
	ck_assert_uint_eq(m->nmmio, 1);
	return m->mmio[0].ctx;
}

static uint32_t apic_io(struct tv_machine *m, uint32_t off, uint32_t len, bool write, uint32_t v)
{
	struct tv_exit e = { .reason = TV_EXIT_MMIO };

	e.mmio.addr = APIC + off;
	e.mmio.len = len;
	e.mmio.is_write = write;
	memcpy(e.mmio.data, &v, sizeof(v));
	ck_assert_int_eq(tv_machine_io(m, &e), TV_IO_CONTINUE);
	memcpy(&v, e.mmio.data, sizeof(v));
	return v;
}
#define RD(m, off) apic_io(m, off, 4, false, 0)
#define WR(m, off, v) apic_io(m, off, 4, true, v)

START_TEST(test_illegal_vectors_are_not_sent_and_set_esr)
{
	struct tv_machine m;

	machine_with_apic(&m);
	WR(&m, 0xf0, 0x1ff);
	for (uint32_t v = 0; v < 16; v++)
		WR(&m, 0x300, 0x44000 | v);           /* self, fixed */
	WR(&m, 0x300, 0x44100 | 15);                  /* self, lowest priority */
	ck_assert_uint_eq(RD(&m, 0x200), 0);          /* IRR 0-31: nothing */
	ck_assert_int_eq(m.irq_src[TV_IRQ_LAPIC].vector, -1);
	ck_assert_uint_eq(RD(&m, 0x280), 0);          /* not latched yet */
	WR(&m, 0x280, 0);
	ck_assert_uint_eq(RD(&m, 0x280), LAPIC_ESR_SEND_ILLEGAL);
	WR(&m, 0x280, 0);
	ck_assert_uint_eq(RD(&m, 0x280), 0);
	/* The error entry unmasked raises its vector; its own illegal vector raises nothing. */
	WR(&m, 0x370, 0x33);
	WR(&m, 0x300, 0x44000 | 3);
	ck_assert_int_eq(m.irq_src[TV_IRQ_LAPIC].vector, 0x33);
	tv_machine_destroy(&m);
}
END_TEST

START_TEST(test_tpr_and_ppr_hold_a_vector_and_extint_comes_first)
{
	struct tv_machine m;

	machine_with_apic(&m);
	WR(&m, 0x300, 0x44050);                       /* software-disabled: dropped */
	ck_assert_uint_eq(RD(&m, 0x220), 0);
	WR(&m, 0xf0, 0x1ff);
	WR(&m, 0x80, 0x50);
	WR(&m, 0x300, 0x44050);
	ck_assert_uint_eq(RD(&m, 0x220), 1u << 16);   /* in IRR, held: class 5 is not above 5 */
	ck_assert_int_eq(m.irq_src[TV_IRQ_LAPIC].vector, -1);
	ck_assert_uint_eq(RD(&m, 0xa0), 0x50);
	WR(&m, 0x80, 0x4f);
	ck_assert_int_eq(m.irq_src[TV_IRQ_LAPIC].vector, 0x50);
	ck_assert_int_eq(m.irq_at_engine, TV_IRQ_LAPIC);
	/* IRQ 11 through the PICs (vector 0x73) goes to the vCPU before it. */
	ck_assert_int_eq(tv_machine_irq_line(&m, 11, true), 0);
	ck_assert_int_eq(m.irq_at_engine, TV_IRQ_EXTINT);
	ck_assert_int_eq(m.be_irq_vector, 0x73);
	ck_assert_int_eq(tv_machine_irq_line(&m, 11, false), 0);
	/* Clearing SPIV's enable bit takes the APIC's vector back, and masks LVT entries. */
	WR(&m, 0xf0, 0xff);
	ck_assert_int_eq(m.irq_src[TV_IRQ_LAPIC].vector, -1);
	WR(&m, 0x320, 0x40);
	ck_assert_uint_eq(RD(&m, 0x320), 0x10040);
	tv_machine_destroy(&m);
}
END_TEST

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Divide by 128: the count goes down by one per 128 ns, within what the clock says passed
 * between the write and the read. Every TDCR value decodes to its divisor. */
START_TEST(test_the_count_goes_down_at_the_divided_rate)
{
	static const struct {
		uint32_t tdcr, divisor;
	} div[] = { { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 }, { 0x8, 32 }, { 0x9, 64 },
		    { 0xa, 128 }, { 0xb, 1 } };
	struct tv_machine m;

	machine_with_apic(&m);
	WR(&m, 0xf0, 0x1ff);
	WR(&m, 0x320, 0x10040);                       /* masked, one-shot */
	for (size_t i = 0; i < sizeof(div) / sizeof(div[0]); i++) {
		uint64_t t0, t1, t2, t3;
		uint32_t count, most, least, initial = 0xfffffff0u;

		WR(&m, 0x3e0, div[i].tdcr | 0xf4);        /* the other bits are not kept */
		ck_assert_uint_eq(RD(&m, 0x3e0), div[i].tdcr);
		t0 = mono_ns();
		WR(&m, 0x380, initial);
		t1 = mono_ns();
		usleep(2000);
		t2 = mono_ns();
		count = RD(&m, 0x390);
		t3 = mono_ns();
		most = initial - (uint32_t)((t2 - t1) / div[i].divisor);
		least = initial - (uint32_t)((t3 - t0) / div[i].divisor) - 1;
		ck_assert_msg(count <= most && count >= least, "divide %u: %u not in [%u, %u]",
			      div[i].divisor, count, least, most);
	}
	WR(&m, 0x380, 0);
	ck_assert_uint_eq(RD(&m, 0x390), 0);
	tv_machine_destroy(&m);
}
END_TEST

/* Accesses no register takes: the wrong size, unaligned, a byte of ICR: nothing sent. */
START_TEST(test_partial_icr_writes_send_nothing)
{
	struct tv_machine m;

	machine_with_apic(&m);
	WR(&m, 0xf0, 0x1ff);
	apic_io(&m, 0x300, 1, true, 0x50);
	apic_io(&m, 0x300, 2, true, 0x4050);
	apic_io(&m, 0x302, 4, true, 0x44050);
	apic_io(&m, 0x304, 4, true, 0x44050);
	ck_assert_uint_eq(RD(&m, 0x220), 0);
	ck_assert_int_eq(m.irq_src[TV_IRQ_LAPIC].vector, -1);
	tv_machine_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lapic");
	TCase *tc = tcase_create("lapic");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_self_ipis_are_taken_by_priority_with_tpr_and_eoi, 0,
			    2 * TV_RUN_WAYS - 1);
	tcase_add_loop_test(tc, test_the_timer_counts_fires_and_wakes_hlt, 0, 2 * TV_RUN_WAYS - 1);
	tcase_add_test(tc, test_diff_agrees_on_the_self_ipis);
	tcase_add_loop_test(tc, test_hlt_with_interrupts_off_ends_the_run_though_the_timer_is_armed,
			    0, 2);
	tcase_add_loop_test(tc, test_a_timeout_stops_a_hlt_waiting_for_the_timer, 0, 2);
	tcase_add_test(tc, test_illegal_vectors_are_not_sent_and_set_esr);
	tcase_add_test(tc, test_tpr_and_ppr_hold_a_vector_and_extint_comes_first);
	tcase_add_test(tc, test_the_count_goes_down_at_the_divided_rate);
	tcase_add_test(tc, test_partial_icr_writes_send_nothing);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
