/* set_debug_points (backend.h): breakpoints and watchpoints on both engines, in every mode each
 * runs, on the hello guest. It prints "Hello, world!\n" a byte at a time from a string it reads in
 * a loop, stores 42 at 0x400, puts 42 in EAX and halts. The hlt's address is where a run without
 * points ends, less one; the loop's "test al, al" is where the read of the string's first byte
 * stops; the string is found in the image. */
#include <errno.h>
#include <string.h>

#include "builtin.h"
#include "layout.h"
#include "run_guest.h"
#include "own_page_tables.h"
#include "tv_test.h"

static const char *const engines[] = { "emu", "kvm" };

#define CHECK_ADDR 0x400ull /* where hello stores 42 (guests/hello.c) */
#define HELLO "Hello, world!\n"

struct dp {
	struct tv_test_run t;
	const struct tv_backend_ops *be;
	enum tv_mode mode;
};

/* _i of a case looped over both engines and every mode. */
static const char *loop_engine(int i)
{
	return engines[i / TV_MODE_COUNT];
}

/* The guest address of hello's string in mode (images are loaded at TV_IMAGE_BASE). */
static uint64_t string_address(enum tv_mode mode)
{
	const uint8_t *image, *s;
	size_t len;

	ck_assert(tv_builtin_image(tv_builtin_find("hello"), mode, &image, &len));
	s = memmem(image, len, HELLO, strlen(HELLO));
	ck_assert_msg(s != NULL, "no string in hello's image");
	return TV_IMAGE_BASE + (uint64_t)(s - image);
}

/* hello booted on engine in mode with the points p[0..n) set. false, with why for TV_SKIP, where
 * the engine does not run the mode or (KVM) has no debug registers here. */
static bool dp_boot(struct dp *d, const char *engine, enum tv_mode mode,
		    const struct tv_debug_point *p, size_t n, char *why, size_t len)
{
	const uint8_t *image;
	size_t ilen;
	int rc;

	memset(d, 0, sizeof(*d));
	d->be = tv_test_engine(engine, mode, why, len);
	if (!d->be)
		return false;
	d->mode = mode;
	ck_assert(tv_builtin_image(tv_builtin_find("hello"), mode, &image, &ilen));
	tv_test_prepare(&d->t, d->be, mode, image, ilen, NULL);
	ck_assert_ptr_nonnull(d->be->set_debug_points);
	rc = d->be->set_debug_points(d->t.m.vcpu, p, n);
	if (rc == -EOPNOTSUPP && tv_test_host_limit(engine, mode, tv_last_error(), why, len)) {
		tv_test_run_end(&d->t);
		return false;
	}
	ck_assert_msg(rc == 0, "%s %s: set_debug_points: %s", engine, tv_mode_name(mode),
		      tv_last_error());
	return true;
}

/* Runs to the next exit that is not I/O; the registers into d->t.regs, the console flushed. */
static void dp_run(struct dp *d, struct tv_exit *e)
{
	do
		ck_assert_msg(tv_machine_step(&d->t.m, e) == 0, "run: %s", tv_last_error());
	while (e->reason == TV_EXIT_IO || e->reason == TV_EXIT_MMIO);
	ck_assert_int_eq(d->be->get_regs(d->t.m.vcpu, &d->t.regs), 0);
	ck_assert(tv_machine_flush(&d->t.m, d->t.console_f, "console"));
	fflush(d->t.console_f);
}

static void dp_set(struct dp *d, const struct tv_debug_point *p, size_t n)
{
	ck_assert_msg(d->be->set_debug_points(d->t.m.vcpu, p, n) == 0, "set_debug_points: %s",
		      tv_last_error());
}

/* The exit is the stop of point hit at addr. */
static void assert_stop(const struct dp *d, const struct tv_exit *e, int hit, uint64_t addr)
{
	ck_assert_msg(e->reason == TV_EXIT_DEBUG && e->debug.hit == hit &&
			      (hit < 0 || e->debug.addr == addr),
		      "%s %s: exit %s hit %d addr 0x%llx, not point %d at 0x%llx (rip 0x%llx)",
		      d->be->name, tv_mode_name(d->mode), tv_exit_reason_name(e->reason),
		      e->reason == TV_EXIT_DEBUG ? e->debug.hit : -9,
		      (unsigned long long)e->debug.addr, hit, (unsigned long long)addr,
		      (unsigned long long)d->t.regs.rip);
}

/* The run ends as hello's does: HLT, all of the text printed, 42 in EAX and at 0x400. */
static void assert_hello_ends(const struct dp *d, const struct tv_exit *e)
{
	ck_assert_msg(e->reason == TV_EXIT_HLT, "%s %s: ended with %s (hit %d, rip 0x%llx)",
		      d->be->name, tv_mode_name(d->mode), tv_exit_reason_name(e->reason),
		      e->reason == TV_EXIT_DEBUG ? e->debug.hit : -9,
		      (unsigned long long)d->t.regs.rip);
	ck_assert_str_eq(d->t.console, HELLO);
	ck_assert_uint_eq(d->t.regs.rax & 0xffffffff, 42);
	ck_assert_uint_eq(d->t.m.ram.host[CHECK_ADDR], 42);
}

/* Where hello's hlt is on engine in mode: a run without points ends one byte past it. */
static bool hlt_address(const char *engine, enum tv_mode mode, uint64_t *hlt, char *why,
			size_t len)
{
	struct tv_exit e;
	struct dp d;

	if (!dp_boot(&d, engine, mode, NULL, 0, why, len))
		return false;
	dp_run(&d, &e);
	assert_hello_ends(&d, &e);
	*hlt = d.t.regs.rip - 1;
	tv_test_run_end(&d.t);
	return true;
}

/* _i: engine and mode. An EXEC point on the hlt stops with RIP on it and the hlt not run (the
 * exit is DEBUG, not HLT); run on from there, the hlt runs and the guest ends. */
START_TEST(test_exec_point_stops_before_the_hlt_and_resuming_runs_it)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p = { .kind = TV_DEBUG_EXEC, .len = 1 };
	struct tv_exit e;
	struct dp d;
	char why[1024];

	if (!hlt_address(loop_engine(_i), mode, &p.addr, why, sizeof(why)) ||
	    !dp_boot(&d, loop_engine(_i), mode, &p, 1, why, sizeof(why)))
		TV_SKIP("%s", why);
	dp_run(&d, &e);
	assert_stop(&d, &e, 0, p.addr);
	ck_assert_uint_eq(d.t.regs.rip, p.addr);
	ck_assert_str_eq(d.t.console, HELLO);
	dp_run(&d, &e);
	assert_hello_ends(&d, &e);
	ck_assert_uint_eq(d.t.regs.rip, p.addr + 1);
	tv_test_run_end(&d.t);
}
END_TEST


/* Where hello's loop stops after reading the string's first byte: on "test al, al", which the
 * loop runs once per byte, the NUL included. Found on the emulator (the same image runs on KVM),
 * whose watchpoints every host has. */
static uint64_t loop_test_address(enum tv_mode mode)
{
	struct tv_debug_point p = { .kind = TV_DEBUG_ACCESS, .addr = string_address(mode), .len = 1 };
	struct tv_exit e;
	struct dp d;
	char why[1024];

	ck_assert_msg(dp_boot(&d, "emu", mode, &p, 1, why, sizeof(why)), "%s", why);
	dp_run(&d, &e);
	assert_stop(&d, &e, 0, p.addr);
	tv_test_run_end(&d.t);
	return d.t.regs.rip;
}

/* _i: engine and mode. A WRITE point on bytes 2-3 of the dword hello stores at 0x400 stops with
 * the store done and RIP on the next instruction: one step from there puts 42 in EAX and RIP on
 * the hlt. */
START_TEST(test_write_point_stops_just_past_the_store)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p = { .kind = TV_DEBUG_WRITE, .addr = CHECK_ADDR + 2, .len = 2 };
	uint64_t hlt;
	uint32_t stored;
	struct tv_exit e;
	struct dp d;
	char why[1024];

	if (!hlt_address(loop_engine(_i), mode, &hlt, why, sizeof(why)) ||
	    !dp_boot(&d, loop_engine(_i), mode, &p, 1, why, sizeof(why)))
		TV_SKIP("%s", why);
	dp_run(&d, &e);
	assert_stop(&d, &e, 0, p.addr);
	memcpy(&stored, d.t.m.ram.host + CHECK_ADDR, 4);
	ck_assert_uint_eq(stored, 42);
	ck_assert_uint_ne(d.t.regs.rax & 0xffffffff, 42);
	ck_assert_str_eq(d.t.console, HELLO);
	ck_assert_int_eq(d.be->set_run_flags(d.t.m.vcpu, TV_RUN_STEP), 0);
	dp_run(&d, &e);
	assert_stop(&d, &e, -1, 0);
	ck_assert_uint_eq(d.t.regs.rax & 0xffffffff, 42);
	ck_assert_uint_eq(d.t.regs.rip, hlt);
	ck_assert_int_eq(d.be->set_run_flags(d.t.m.vcpu, 0), 0);
	dp_run(&d, &e);
	assert_hello_ends(&d, &e);
	tv_test_run_end(&d.t);
}
END_TEST

/* _i: engine and mode. An ACCESS point on the string's first byte, which hello only reads, stops
 * right after the read: 'H' in AL, nothing printed yet. A WRITE point there never stops it, even
 * beside an ACCESS point (on 0x400, which stops at the store). */
START_TEST(test_access_point_stops_after_a_read_and_write_point_does_not)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p[2] = { { .kind = TV_DEBUG_ACCESS, .addr = string_address(mode),
					 .len = 1 },
				       { .kind = TV_DEBUG_ACCESS, .addr = CHECK_ADDR, .len = 4 } };
	struct tv_exit e;
	struct dp d;
	char why[1024];

	if (!dp_boot(&d, loop_engine(_i), mode, p, 1, why, sizeof(why)))
		TV_SKIP("%s", why);
	dp_run(&d, &e);
	assert_stop(&d, &e, 0, p[0].addr);
	ck_assert_uint_eq(d.t.regs.rax & 0xff, 'H');
	ck_assert_uint_eq(d.t.console_len, 0);
	ck_assert_uint_eq(d.t.regs.rip, loop_test_address(mode));
	tv_test_run_end(&d.t);

	p[0].kind = TV_DEBUG_WRITE;
	ck_assert(dp_boot(&d, loop_engine(_i), mode, p, 2, why, sizeof(why)));
	dp_run(&d, &e);
	assert_stop(&d, &e, 1, CHECK_ADDR);
	ck_assert_str_eq(d.t.console, HELLO);
	dp_run(&d, &e);
	assert_hello_ends(&d, &e);
	tv_test_run_end(&d.t);
}
END_TEST

/* _i: engine and mode. An EXEC point on the loop's "test al, al" stops once per pass, before the
 * test of each byte: fifteen stops (the NUL's too), each with that byte in AL and the bytes
 * before it printed; then the guest ends. */
START_TEST(test_exec_point_in_a_loop_stops_once_per_pass)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p = { .kind = TV_DEBUG_EXEC, .len = 1 };
	struct tv_exit e;
	struct dp d;
	char why[1024];

	if (!tv_test_engine(loop_engine(_i), mode, why, sizeof(why)))
		TV_SKIP("%s", why);
	p.addr = loop_test_address(mode);
	if (!dp_boot(&d, loop_engine(_i), mode, &p, 1, why, sizeof(why)))
		TV_SKIP("%s", why);
	for (size_t k = 0; k <= strlen(HELLO); k++) {
		dp_run(&d, &e);
		assert_stop(&d, &e, 0, p.addr);
		ck_assert_uint_eq(d.t.regs.rip, p.addr);
		ck_assert_uint_eq(d.t.regs.rax & 0xff, (uint8_t)HELLO[k]);
		ck_assert_uint_eq(d.t.console_len, k);
	}
	dp_run(&d, &e);
	assert_hello_ends(&d, &e);
	tv_test_run_end(&d.t);
}
END_TEST

/* _i: engine and mode. Points cleared after a stop stop nothing more: the loop's point, which
 * would stop fourteen more times, is gone. */
START_TEST(test_cleared_points_run_to_the_end)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p = { .kind = TV_DEBUG_EXEC, .len = 1 };
	struct tv_exit e;
	struct dp d;
	char why[1024];

	if (!tv_test_engine(loop_engine(_i), mode, why, sizeof(why)))
		TV_SKIP("%s", why);
	p.addr = loop_test_address(mode);
	if (!dp_boot(&d, loop_engine(_i), mode, &p, 1, why, sizeof(why)))
		TV_SKIP("%s", why);
	dp_run(&d, &e);
	assert_stop(&d, &e, 0, p.addr);
	dp_set(&d, NULL, 0);
	dp_run(&d, &e);
	assert_hello_ends(&d, &e);
	tv_test_run_end(&d.t);
}
END_TEST

/* Single-steps hello to its end with the points p[0..n) set: counts in seen[] the steps that
 * report each point, and fails on a step that reports one out of order (order[k]: the k-th
 * point expected) or that leaves RIP where it was (a point reported apart from its step). */
static void step_to_the_end(struct dp *d, const struct tv_debug_point *p, size_t n,
			    const int *order, int *seen)
{
	struct tv_exit e;
	uint64_t rip = d->t.regs.rip;
	int steps = 0, k = 0;

	ck_assert_int_eq(d->be->set_run_flags(d->t.m.vcpu, TV_RUN_STEP), 0);
	for (dp_run(d, &e); e.reason == TV_EXIT_DEBUG; dp_run(d, &e), steps++) {
		ck_assert_msg(steps < 1000, "no end after %d steps", steps);
		ck_assert_msg(d->t.regs.rip != rip, "%s %s: step %d stays at 0x%llx (point %d)",
			      d->be->name, tv_mode_name(d->mode), steps, (unsigned long long)rip,
			      e.debug.hit);
		rip = d->t.regs.rip;
		if (e.debug.hit < 0)
			continue;
		ck_assert_msg(e.debug.hit == order[k], "%s %s: step %d reports point %d, not %d",
			      d->be->name, tv_mode_name(d->mode), steps, e.debug.hit, order[k]);
		ck_assert_uint_eq(e.debug.addr, p[e.debug.hit].addr);
		seen[e.debug.hit]++;
		k++;
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(seen[i] == 1, "point %zu reported %d times", i, seen[i]);
	assert_hello_ends(d, &e);
}

/* _i: engine and mode. Single-step onto an EXEC point (the hlt) reports the point, RIP on it;
 * the next step runs the hlt. The point is set after stepping began (so that on the emulator
 * the step's code hook comes before the point's). */
START_TEST(test_a_step_onto_a_breakpoint_reports_it)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p = { .kind = TV_DEBUG_EXEC, .len = 1 };
	const int order[] = { 0 };
	int seen[1] = { 0 };
	struct dp d;
	char why[1024];

	if (!hlt_address(loop_engine(_i), mode, &p.addr, why, sizeof(why)) ||
	    !dp_boot(&d, loop_engine(_i), mode, NULL, 0, why, sizeof(why)))
		TV_SKIP("%s", why);
	ck_assert_int_eq(d.be->set_run_flags(d.t.m.vcpu, TV_RUN_STEP), 0);
	dp_set(&d, &p, 1);
	step_to_the_end(&d, &p, 1, order, seen);
	tv_test_run_end(&d.t);
}
END_TEST

/* _i: engine and mode. The step over the store reports the WRITE point, and the step that ends
 * on the hlt its EXEC point, in that order; every other step none. */
START_TEST(test_a_step_over_a_watched_store_reports_it)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p[2] = { { .kind = TV_DEBUG_EXEC, .len = 1 },
				       { .kind = TV_DEBUG_WRITE, .addr = CHECK_ADDR, .len = 4 } };
	const int order[] = { 1, 0 };
	int seen[2] = { 0, 0 };
	struct dp d;
	char why[1024];

	if (!hlt_address(loop_engine(_i), mode, &p[0].addr, why, sizeof(why)) ||
	    !dp_boot(&d, loop_engine(_i), mode, p, 2, why, sizeof(why)))
		TV_SKIP("%s", why);
	step_to_the_end(&d, p, 2, order, seen);
	tv_test_run_end(&d.t);
}
END_TEST

/* One stop: the point and the registers that show where the guest was. */
struct stop {
	int hit;
	uint64_t rip, rax;
};

/* Runs hello on engine in mode with points p[0..n) to its end, each stop into out[] (*count of
 * them). false, with why, where the engine cannot. */
static bool record_stops(const char *engine, enum tv_mode mode, const struct tv_debug_point *p,
			 size_t n, struct stop *out, size_t max, size_t *count, char *why, size_t len)
{
	struct tv_exit e;
	struct dp d;

	if (!dp_boot(&d, engine, mode, p, n, why, len))
		return false;
	for (*count = 0, dp_run(&d, &e); e.reason == TV_EXIT_DEBUG; dp_run(&d, &e)) {
		ck_assert_uint_lt(*count, max);
		out[(*count)++] = (struct stop){ e.debug.hit, d.t.regs.rip, d.t.regs.rax };
	}
	assert_hello_ends(&d, &e);
	tv_test_run_end(&d.t);
	return true;
}

/* _i: mode, then 0 breakpoints, 1 watchpoints. KVM stops where the emulator does, with the same
 * registers, for the same points. */
START_TEST(test_both_engines_stop_at_the_same_places)
{
	enum tv_mode mode = (enum tv_mode)(_i % TV_MODE_COUNT);
	struct tv_debug_point p[3];
	struct stop emu[40], kvm[40];
	size_t n_emu, n_kvm;
	char why[1024];

	if (!tv_test_engine("kvm", mode, why, sizeof(why)))
		TV_SKIP("%s", why);
	if (_i < TV_MODE_COUNT) {
		p[0] = (struct tv_debug_point){ TV_DEBUG_EXEC, loop_test_address(mode), 1 };
		ck_assert(hlt_address("emu", mode, &p[1].addr, why, sizeof(why)));
		p[1].kind = TV_DEBUG_EXEC;
		p[1].len = 1;
	} else {
		p[0] = (struct tv_debug_point){ TV_DEBUG_WRITE, CHECK_ADDR, 4 };
		p[1] = (struct tv_debug_point){ TV_DEBUG_ACCESS, string_address(mode) + 5, 1 };
	}
	p[2] = (struct tv_debug_point){ TV_DEBUG_EXEC, TV_SCRATCH, 1 }; /* never run */
	ck_assert(record_stops("emu", mode, p, 3, emu, 40, &n_emu, why, sizeof(why)));
	if (!record_stops("kvm", mode, p, 3, kvm, 40, &n_kvm, why, sizeof(why)))
		TV_SKIP("%s", why);
	ck_assert_uint_eq(n_emu, n_kvm);
	ck_assert_uint_ge(n_emu, _i < TV_MODE_COUNT ? 16 : 2);
	for (size_t i = 0; i < n_emu; i++)
		ck_assert_msg(emu[i].hit == kvm[i].hit && emu[i].rip == kvm[i].rip &&
				      emu[i].rax == kvm[i].rax,
			      "stop %zu: emu point %d rip 0x%llx rax 0x%llx, kvm point %d rip 0x%llx "
			      "rax 0x%llx", i, emu[i].hit, (unsigned long long)emu[i].rip,
			      (unsigned long long)emu[i].rax, kvm[i].hit,
			      (unsigned long long)kvm[i].rip, (unsigned long long)kvm[i].rax);
}
END_TEST

/* _i: engine. Refused: five points, a length of 3, a misaligned watchpoint, a two-byte
 * breakpoint, an unknown kind. The set given before stays: the run stops at the hlt. */
START_TEST(test_bad_points_are_refused_and_the_old_set_stays)
{
	const struct tv_debug_point bad[][1] = {
		{ { .kind = TV_DEBUG_WRITE, .addr = 0x400, .len = 3 } },
		{ { .kind = TV_DEBUG_WRITE, .addr = 0x402, .len = 4 } },
		{ { .kind = TV_DEBUG_ACCESS, .addr = 0x404, .len = 8 } },
		{ { .kind = TV_DEBUG_EXEC, .addr = 0x10, .len = 2 } },
		{ { .kind = (enum tv_debug_kind)7, .addr = 0x400, .len = 1 } },
	};
	struct tv_debug_point five[5], p = { .kind = TV_DEBUG_EXEC, .len = 1 };
	struct tv_exit e;
	struct dp d;
	char why[1024];

	if (!hlt_address(engines[_i], TV_MODE_LONG, &p.addr, why, sizeof(why)) ||
	    !dp_boot(&d, engines[_i], TV_MODE_LONG, &p, 1, why, sizeof(why)))
		TV_SKIP("%s", why);
	for (size_t i = 0; i < 5; i++)
		five[i] = (struct tv_debug_point){ .kind = TV_DEBUG_EXEC, .addr = TV_SCRATCH + i,
						   .len = 1 };
	ck_assert_int_eq(d.be->set_debug_points(d.t.m.vcpu, five, 5), -EINVAL);
	ck_assert_msg(strstr(tv_last_error(), "5 asked for, at most 4"), "%s", tv_last_error());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(d.be->set_debug_points(d.t.m.vcpu, bad[i], 1) == -EINVAL,
			      "bad set %zu taken", i);
	dp_run(&d, &e);
	assert_stop(&d, &e, 0, p.addr);
	dp_run(&d, &e);
	assert_hello_ends(&d, &e);
	tv_test_run_end(&d.t);
}
END_TEST

/* The raw guest of own_page_tables.h, which builds its own long-mode page tables: virtual
 * 0x40000000 maps to physical 0x30000 (which is also mapped at virtual 0x30000, by the 2 MiB
 * identity page below). It reads the marker at 0x40000000 (the instruction at 0x5b), writes
 * 0xdeadbeef to 0x40000004 (at 0x6d) and halts at 0x78. */

/* The own-page-tables guest on engine in long mode with points p[0..n), run to its end: the
 * RIP of each stop, its point in the low byte (rip << 8 | hit), into stops[] (*count of them).
 * false with why where the engine cannot. */
static bool remapped_run(const char *engine, const struct tv_debug_point *p, size_t n,
			 uint64_t *stops, size_t *count, char *why, size_t len)
{
	struct dp d = { .mode = TV_MODE_LONG };
	struct tv_exit e;
	int rc;

	d.be = tv_test_engine(engine, TV_MODE_LONG, why, len);
	if (!d.be)
		return false;
	tv_test_prepare(&d.t, d.be, TV_MODE_LONG, tv_own_page_tables, tv_own_page_tables_len, NULL);
	rc = d.be->set_debug_points(d.t.m.vcpu, p, n);
	if (rc == -EOPNOTSUPP && tv_test_host_limit(engine, TV_MODE_LONG, tv_last_error(), why, len)) {
		tv_test_run_end(&d.t);
		return false;
	}
	ck_assert_msg(rc == 0, "set_debug_points: %s", tv_last_error());
	for (*count = 0, dp_run(&d, &e); e.reason == TV_EXIT_DEBUG && *count < 4; dp_run(&d, &e))
		stops[(*count)++] = d.t.regs.rip << 8 | (uint8_t)e.debug.hit;
	ck_assert_msg(e.reason == TV_EXIT_HLT && d.t.regs.rip == 0x79, "%s at 0x%llx",
		      tv_exit_reason_name(e.reason), (unsigned long long)d.t.regs.rip);
	ck_assert_uint_eq(*(uint32_t *)(d.t.m.ram.host + 0x30004), 0xdeadbeef);
	tv_test_run_end(&d.t);
	return true;
}

/* _i: engine. A data point's address is the guest's virtual address, walked through the guest's
 * own page tables: points on 0x40000000 and 0x40000004 stop after the read (RIP 0x62) and the
 * write (0x78) there. Points on 0x30000 and 0x30004, the frame those map to, stop for the guest's
 * write to virtual 0x30000 (0xb), identity-mapped; on KVM only there, while the emulator, whose
 * memory hooks see physical addresses (Unicorn 2.1.1), also stops for the accesses through the
 * alias at 0x40000000 (README, "Differences between the engines"). */
START_TEST(test_data_points_watch_virtual_addresses)
{
	const struct tv_debug_point virt[2] = { { TV_DEBUG_ACCESS, 0x40000000, 4 },
						{ TV_DEBUG_WRITE, 0x40000004, 4 } },
				    phys[2] = { { TV_DEBUG_ACCESS, 0x30000, 4 },
						{ TV_DEBUG_WRITE, 0x30004, 4 } };
	uint64_t stops[4];
	size_t n;
	char why[1024];

	if (!remapped_run(engines[_i], virt, 2, stops, &n, why, sizeof(why)))
		TV_SKIP("%s", why);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(stops[0], 0x62ull << 8 | 0);
	ck_assert_uint_eq(stops[1], 0x78ull << 8 | 1);
	ck_assert(remapped_run(engines[_i], phys, 2, stops, &n, why, sizeof(why)));
	ck_assert_uint_eq(n, _i == 0 ? 3 : 1);
	ck_assert_uint_eq(stops[0], 0xbull << 8 | 0);
	if (_i == 0) {
		ck_assert_uint_eq(stops[1], 0x62ull << 8 | 0);
		ck_assert_uint_eq(stops[2], 0x78ull << 8 | 1);
	}
}
END_TEST

static Suite *debug_points_suite(void)
{
	Suite *s = suite_create("debug_points");
	TCase *tc = tcase_create("points");

	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_exec_point_stops_before_the_hlt_and_resuming_runs_it, 0,
			    2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_write_point_stops_just_past_the_store, 0, 2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_access_point_stops_after_a_read_and_write_point_does_not, 0,
			    2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_exec_point_in_a_loop_stops_once_per_pass, 0,
			    2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_cleared_points_run_to_the_end, 0, 2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_a_step_onto_a_breakpoint_reports_it, 0, 2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_a_step_over_a_watched_store_reports_it, 0, 2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_both_engines_stop_at_the_same_places, 0, 2 * TV_MODE_COUNT);
	tcase_add_loop_test(tc, test_bad_points_are_refused_and_the_old_set_stays, 0, 2);
	tcase_add_loop_test(tc, test_data_points_watch_virtual_addresses, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tv_test_main(debug_points_suite());
}
