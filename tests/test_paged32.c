/* paged32 without a KVM that runs it. No KVM host we have runs 32-bit paging (kvm-pvm drops
 * CR0.PG without long mode), so there are no paged32 goldens. The emulator's paged32 traces are
 * held to the KVM goldens of protected mode instead: the same 32-bit guest, identity-mapped, must
 * make the same exits with the same registers and segments; only CR0, CR3 and CR4 (paging on,
 * its directory, PSE) and guest RAM (which holds the page directory) may differ. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "run_guest.h"
#include "trace_lines.h"
#include "tv_test.h"

/* The fields paging changes: removed from both sides before they are compared. HC_gvaToHva's
 * whole host address goes too: it is where this process's RAM happens to be, not behaviour. */
static void drop_paging_fields(json_t *rec)
{
	json_t *sregs = json_object_get(rec, "sregs"), *hc = json_object_get(rec, "hypercall");

	if (hc)
		json_object_del(hc, "hva");

	if (sregs) {
		json_object_del(sregs, "cr0");
		json_object_del(sregs, "cr3");
		json_object_del(sregs, "cr4");
	}
}

/* The next exit record of in (the closing RAM line is not one), or NULL at its end. */
static json_t *next_record(struct tv_trace_reader *in)
{
	json_t *rec;

	while ((rec = tv_test_trace_record(in))) {
		if (json_object_get(rec, "ram")) {
			json_decref(rec);
			continue;
		}
		return rec;
	}
	return NULL;
}

/* _i: 0 hello, 1 hypercalls. */
START_TEST(test_emulator_paged32_matches_kvm_protected_golden)
{
	static const char *const guests[] = { "hello", "hypercalls" };
	const char *guest = guests[_i], *src = getenv("TWINVM_SRC");
	const struct tv_builtin *g = tv_builtin_find(guest);
	const struct tv_backend_ops *be;
	const uint8_t *image;
	struct tv_test_run t;
	char path[4200], why[512];
	FILE *golden, *trace = tmpfile();
	struct tv_trace_reader golden_in = { .name = path }, trace_in = { .name = "paged32 trace" };
	int n = 0;
	size_t len;

	ck_assert_msg(src != NULL, "TWINVM_SRC is not set (run through meson test)");
	be = tv_test_engine("emu", TV_MODE_PAGED32, why, sizeof(why));
	ck_assert(be != NULL);
	snprintf(path, sizeof(path), "%s/tests/golden/%s-protected.jsonl", src, guest);
	golden = fopen(path, "r");
	ck_assert_msg(golden != NULL, "%s: missing", path);
	ck_assert(g && tv_builtin_image(g, TV_MODE_PAGED32, &image, &len));
	tv_test_prepare(&t, be, TV_MODE_PAGED32, image, len, trace);
	tv_test_finish(&t, 30);
	ck_assert_int_eq(t.last.reason, TV_EXIT_HLT);
	fflush(trace);
	rewind(trace);
	golden_in.f = golden;
	trace_in.f = trace;
	for (;;) {
		json_t *want = next_record(&golden_in);
		json_t *got = next_record(&trace_in);
		char *w, *h;

		if (!want || !got) {
			ck_assert_msg(!want && !got, "%s: %s after %d records", guest,
				      want ? "the paged32 run made fewer exits"
					   : "the paged32 run made more exits", n);
			break;
		}
		drop_paging_fields(want);
		drop_paging_fields(got);
		w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
		h = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
		ck_assert_msg(json_equal(want, got), "%s record %d differs:\n  golden  %s\n  paged32 %s",
			      guest, n + 1, w, h);
		free(w);
		free(h);
		json_decref(want);
		json_decref(got);
		n++;
	}
	ck_assert_int_gt(n, 1);
	fclose(golden);
	fclose(trace);
	tv_test_run_end(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("paged32");
	TCase *tc = tcase_create("against_protected_goldens");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_emulator_paged32_matches_kvm_protected_golden, 0, 2);
	suite_add_tcase(s, tc);
	return tv_test_main(s);
}
