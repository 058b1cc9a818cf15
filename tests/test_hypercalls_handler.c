/* The hypercall device alone, with exits no engine here makes: batched string
 * OUTs, wrong widths, other ports, a string across pages with an unaligned DS base, and failure
 * messages throttled after ten of a kind. Helpers and guests: hc_test.h. */
#include <stdlib.h>
#include <string.h>

#include "guestmem.h"
#include "hc_test.h"
#include "hypercalls.h"
#include "machine.h"
#include "tv_test.h"

/* --- the handler alone, with exits no engine here makes ------------------------------------------
 *
 * Both engines on this host split rep outsb into one exit per byte, so a batched string OUT
 * (count > 1), which KVM may report, is handed to the hypercall device directly. These calls read no
 * guest registers, so a machine with no engine will do. */

struct bare {
	struct tv_machine m;
	char *console;
	size_t console_len;
};

/* A bare machine with the hypercall device, its failures said on warnings. */
static void bare_start_with(struct bare *b, FILE *warnings)
{
	memset(b, 0, sizeof(*b));
	b->m.opt.console = open_memstream(&b->console, &b->console_len);
	ck_assert_ptr_nonnull(b->m.opt.console);
	ck_assert_int_eq(tv_machine_init_devices(&b->m), 0);
	ck_assert_int_eq(tv_hypercalls_attach(&b->m, warnings), 0);
}

static void bare_start(struct bare *b)
{
	bare_start_with(b, stderr);
}

/* Hands e to the device on its port, as the machine does but without counting the exit; true
 * when it was a hypercall. */
static bool hypercall(struct bare *b, struct tv_exit *e)
{
	const struct tv_device *d = tv_machine_pio_at(&b->m, e->io.port);

	b->m.hc.name = NULL;
	d->fn(d->ctx, &b->m, e);
	return b->m.hc.name != NULL;
}

static void bare_end(struct bare *b)
{
	b->m.be = NULL; /* the fake engine has nothing to close */
	tv_machine_destroy(&b->m); /* the device's clean-up */
	fclose(b->m.opt.console);
	free(b->console);
}

static struct tv_exit io_exit(uint16_t port, uint8_t dir, uint8_t size, uint32_t count,
			      void *data)
{
	struct tv_exit e = { .reason = TV_EXIT_IO };

	e.io.port = port;
	e.io.direction = dir;
	e.io.size = size;
	e.io.count = count;
	e.io.data = data;
	return e;
}

START_TEST(test_print8bit_prints_every_element_of_a_batched_string_out)
{
	uint8_t bytes[] = { 'a', 'b', 'c' };
	uint8_t words[] = { 'd', 0x11, 'e', 0x22 }; /* outsw: each element's low byte prints */
	struct tv_exit e;
	struct bare b;

	bare_start(&b);
	e = io_exit(HC_PORT_PRINT8BIT, TV_IO_OUT, 1, 3, bytes);
	ck_assert(hypercall(&b, &e));
	e = io_exit(HC_PORT_PRINT8BIT, TV_IO_OUT, 2, 2, words);
	ck_assert(hypercall(&b, &e));
	fflush(b.m.opt.console);
	ck_assert_str_eq(b.console, "abcde");
	bare_end(&b);
}
END_TEST

START_TEST(test_print32bit_refuses_a_byte_wide_out)
{
	uint8_t byte[] = { 7 };
	struct tv_exit e = io_exit(HC_PORT_PRINT32BIT, TV_IO_OUT, 1, 1, byte);
	struct bare b;

	bare_start(&b);
	ck_assert(hypercall(&b, &e));
	fflush(b.m.opt.console);
	ck_assert_str_eq(b.console, "");
	ck_assert(b.m.hc.failed);
	ck_assert_ptr_nonnull(strstr(b.m.hc.error, "expects one 32-bit OUT"));
	bare_end(&b);
}
END_TEST

START_TEST(test_numexits_answers_a_16_bit_in_with_the_low_half)
{
	uint8_t data[4] = { 0xff, 0xff, 0xff, 0xff };
	struct tv_exit e = io_exit(HC_PORT_NUMEXITS, TV_IO_IN, 2, 1, data);
	struct bare b;

	bare_start(&b);
	b.m.stats.total = 0x12345;
	ck_assert(hypercall(&b, &e));
	ck_assert_uint_eq(data[0], 0x45);
	ck_assert_uint_eq(data[1], 0x23);
	ck_assert_uint_eq(data[2], 0xff); /* beyond the access: untouched */
	bare_end(&b);
}
END_TEST

START_TEST(test_other_ports_are_not_hypercalls)
{
	uint8_t data[1] = { 0 };
	struct tv_exit e = io_exit(0xe8, TV_IO_OUT, 1, 1, data);
	struct bare b;

	bare_start(&b);
	ck_assert(!hypercall(&b, &e));
	e.io.port = 0xef;
	ck_assert(!hypercall(&b, &e));
	bare_end(&b);
}
END_TEST

/* --- the handler with guest registers from a fake engine ----------------------------------------
 *
 * HC_printStr and HC_gvaToHva read the guest's registers. A fake engine that answers get_regs and
 * get_sregs from a struct lets a test set states the built-in modes never use (a data segment
 * whose base is not page aligned) on every host, with no engine at all. */

static struct tv_regs fake_regs;
static struct tv_sregs fake_sregs;

static int fake_get_regs(struct tv_vcpu *v, struct tv_regs *r)
{
	(void)v;
	*r = fake_regs;
	return 0;
}

static int fake_get_sregs(struct tv_vcpu *v, struct tv_sregs *s)
{
	(void)v;
	*s = fake_sregs;
	return 0;
}

static const struct tv_backend_ops fake_engine = {
	.name = "fake",
	.get_regs = fake_get_regs,
	.get_sregs = fake_get_sregs,
};

/* A bare machine on the fake engine with the default RAM in mode (tables and GDT written). */
static void fake_start(struct bare *b, enum tv_mode mode)
{
	struct tv_regs r;

	bare_start(b);
	b->m.be = &fake_engine;
	ck_assert_int_eq(tv_ram_alloc(&b->m.ram, TV_RAM_DEFAULT), 0);
	ck_assert_int_eq(tv_mode_setup(mode, b->m.ram.host, b->m.ram.size, &fake_sregs, &r), 0);
	memset(&fake_regs, 0, sizeof(fake_regs));
	b->m.mode = mode;
}

static void fake_end(struct bare *b)
{
	tv_ram_free(&b->m.ram);
	bare_end(b);
}

static void fake_poke(struct bare *b, uint64_t gpa, const void *data, size_t len)
{
	ck_assert_int_eq(tv_ram_write(&b->m.ram, gpa, data, len), 0);
}

/* With DS.base = ALIAS + 0x800, offset 0x7f8 is linear ALIAS + 0xff8: the string's last 8 bytes
 * before the linear page boundary are on one split page and the rest on the other, which is
 * physically *below* it. Split at the offset's page boundary (0x1000) instead, the walk would read
 * on from 0x31ff8 into physical 0x32000, the page after it in RAM. */
START_TEST(test_printstr_splits_at_linear_page_boundaries_with_an_unaligned_ds_base)
{
	const uint32_t pte0 = 0x31000 | TV_PTE_P | TV_PTE_RW, pte1 = 0x30000 | TV_PTE_P | TV_PTE_RW;
	const uint32_t pde = SPLIT_PT | TV_PTE_P | TV_PTE_RW;
	uint32_t offset = 0x7f8;
	struct tv_exit e = io_exit(HC_PORT_PRINTSTR, TV_IO_OUT, 4, 1, &offset);
	struct bare b;

	fake_start(&b, TV_MODE_PAGED32);
	fake_poke(&b, SPLIT_PT, &pte0, 4);
	fake_poke(&b, SPLIT_PT + 4, &pte1, 4);
	fake_poke(&b, TV_PD32 + 4 * (ALIAS >> 22), &pde, 4);
	fake_poke(&b, 0x31ff8, "01234567", 8);
	fake_poke(&b, 0x30000, "89\n", 4);
	fake_poke(&b, 0x32000, "physically next\n", 17);
	fake_sregs.ds.base = ALIAS + 0x800;
	ck_assert(hypercall(&b, &e));
	fflush(b.m.opt.console);
	ck_assert_msg(!b.m.hc.failed, "failed: %s", b.m.hc.error);
	ck_assert_str_eq(b.console, "0123456789\n");
	fake_end(&b);
}
END_TEST

/* One rep outsb of 1,000 bytes to port 0xEA, where HC_print32bit takes only a 32-bit OUT: a
 * thousand failures of one kind, ten of which are printed; three of another kind, all printed; and
 * at the machine's end one line for the rest. */
START_TEST(test_failure_messages_are_throttled_after_ten_of_a_kind)
{
	uint8_t byte[1] = { 7 };
	struct hc_captured c;
	struct bare b;

	bare_start(&b);
	hc_capture_stderr(&c);
	for (int i = 0; i < 1000; i++) {
		struct tv_exit e = io_exit(HC_PORT_PRINT32BIT, TV_IO_OUT, 1, 1, byte);

		ck_assert(hypercall(&b, &e));
		ck_assert(b.m.hc.failed); /* every one fails, printed or not */
	}
	for (int i = 0; i < 3; i++) {
		struct tv_exit e = io_exit(HC_PORT_NUMEXITS, TV_IO_OUT, 4, 1, byte);

		ck_assert(hypercall(&b, &e));
	}
	hc_captured_text(&c);
	ck_assert_int_eq(hc_count_lines_with(c.text, "twinvm: HC_print32bit: expects one 32-bit OUT"),
			 10);
	ck_assert_int_eq(hc_count_lines_with(c.text, "twinvm: HC_numExits: expects one IN"), 3);
	ck_assert_int_eq(hc_count_lines_with(c.text, "suppressed"), 0);
	tv_machine_destroy(&b.m);
	hc_release_stderr(&c);
	ck_assert_int_eq(hc_count_lines_with(c.text, "\n"), 14);
	ck_assert_int_eq(hc_count_lines_with(c.text, "suppressed"), 1);
	ck_assert_msg(strstr(c.text, "twinvm: HC_print32bit: expects one 32-bit OUT (outl) on port 0xea, "
				     "got OUT of size 1 count 1 (990 more like this suppressed)\n"),
		      "%s", c.text);
	bare_end(&b);
}
END_TEST

/* A refused HC_numExitsByType (an OUT, or a string IN) has no effect: the scratch page keeps
 * what it held, and the guest's IN buffer what it held. */
START_TEST(test_refused_numexitsbytype_leaves_the_scratch_page_alone)
{
	uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, scratch[32], want[32];
	struct tv_exit out = io_exit(HC_PORT_NUMEXITSBYTYPE, TV_IO_OUT, 4, 1, data);
	struct tv_exit rep_in = io_exit(HC_PORT_NUMEXITSBYTYPE, TV_IO_IN, 1, 8, data);
	struct bare b;

	bare_start_with(&b, NULL);
	ck_assert_int_eq(tv_ram_alloc(&b.m.ram, TV_RAM_DEFAULT), 0);
	memset(want, 0xa5, sizeof(want));
	ck_assert_int_eq(tv_ram_write(&b.m.ram, HC_SCRATCH, want, sizeof(want)), 0);
	b.m.stats.io_in = 3;

	ck_assert(hypercall(&b, &out));
	ck_assert(b.m.hc.failed);
	ck_assert(hypercall(&b, &rep_in));
	ck_assert(b.m.hc.failed);
	ck_assert_int_eq(tv_ram_read(&b.m.ram, HC_SCRATCH, scratch, sizeof(scratch)), 0);
	ck_assert_mem_eq(scratch, want, sizeof(want));
	ck_assert_uint_eq(data[0], 1);
	tv_ram_free(&b.m.ram);
	bare_end(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hypercalls_handler");
	TCase *handler = tcase_create("handler");

	tcase_add_test(handler, test_print8bit_prints_every_element_of_a_batched_string_out);
	tcase_add_test(handler, test_print32bit_refuses_a_byte_wide_out);
	tcase_add_test(handler, test_numexits_answers_a_16_bit_in_with_the_low_half);
	tcase_add_test(handler, test_other_ports_are_not_hypercalls);
	tcase_add_test(handler, test_printstr_splits_at_linear_page_boundaries_with_an_unaligned_ds_base);
	tcase_add_test(handler, test_failure_messages_are_throttled_after_ten_of_a_kind);
	tcase_add_test(handler, test_refused_numexitsbytype_leaves_the_scratch_page_alone);
	suite_add_tcase(s, handler);
	return tv_test_main(s);
}
