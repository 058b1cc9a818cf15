/* The catalogue of built-in guests and their host-side checks. */
#include "builtin.h"

#include <inttypes.h>
#include <string.h>

#define BLOBS(name)                                                                    \
	extern const uint8_t tv_blob_##name##_16[], tv_blob_##name##_32[],             \
		tv_blob_##name##_64[];                                                 \
	extern const size_t tv_blob_##name##_16_len, tv_blob_##name##_32_len,          \
		tv_blob_##name##_64_len;
#define IMAGES(name)                                                                   \
	.image = { tv_blob_##name##_16, tv_blob_##name##_32, tv_blob_##name##_64 },     \
	.len = { &tv_blob_##name##_16_len, &tv_blob_##name##_32_len, &tv_blob_##name##_64_len }

#define BLOBS16(name)                                                                  \
	extern const uint8_t tv_blob_##name##_16[];                                    \
	extern const size_t tv_blob_##name##_16_len;
/* A guest written for real mode only. */
#define IMAGES16(name) .image = { tv_blob_##name##_16 }, .len = { &tv_blob_##name##_16_len }

BLOBS(hello)
BLOBS(hypercalls)
BLOBS(cpuid)
BLOBS(exceptions)
BLOBS(interrupts)
BLOBS16(guest1)
BLOBS16(guest2)
BLOBS16(guest1_noio)
BLOBS16(guest2_noio)
BLOBS16(counter)

/* hello's two 42s, as in the assignment: one the guest stored at 0x400, one it left in RAX. */
static int hello_check(struct tv_machine *m, FILE *out)
{
	struct tv_regs regs;
	uint32_t stored = 0;
	int failed = 0;

	tv_ram_read(&m->ram, 0x400, &stored, sizeof(stored));
	fprintf(out, "42 at 0x400: %s (found %" PRIu32 ")\n", stored == 42 ? "ok" : "FAILED", stored);
	failed += stored != 42;

	if (m->be->get_regs(m->vcpu, &regs) != 0) {
		fprintf(out, "42 in RAX: FAILED (%s)\n", tv_last_error());
		return failed + 1;
	}
	fprintf(out, "42 in RAX: %s (found %" PRIu64 ")\n", regs.rax == 42 ? "ok" : "FAILED",
		regs.rax);
	return failed + (regs.rax != 42);
}

static const struct tv_builtin hello = {
	.name = "hello",
	.summary = "prints \"Hello, world!\", stores 42 at 0x400, halts with 42 in RAX",
	IMAGES(hello),
	.check = hello_check,
};

static const struct tv_builtin hypercalls = {
	.name = "hypercalls",
	.summary = "calls each of the six hypercalls and prints what they return",
	IMAGES(hypercalls),
};

static const struct tv_builtin cpuid = {
	.name = "cpuid",
	.summary = "prints the CPU vendor and CPUID(1).EAX: differs between KVM and the emulator",
	IMAGES(cpuid),
};

/* exceptions and interrupts check their frames themselves and halt with the number of cases that
 * failed in EAX. */
static int frames_check(struct tv_machine *m, FILE *out)
{
	struct tv_regs regs;

	if (m->be->get_regs(m->vcpu, &regs) != 0) {
		fprintf(out, "guest checks: FAILED (%s)\n", tv_last_error());
		return 1;
	}
	if ((uint32_t)regs.rax == 0) {
		fprintf(out, "guest checks: ok (EAX 0)\n");
		return 0;
	}
	fprintf(out, "guest checks: FAILED (EAX 0x%" PRIx32 ")\n", (uint32_t)regs.rax);
	return 1;
}

static const struct tv_builtin exceptions = {
	.name = "exceptions",
	.summary = "raises each exception its mode can, through its own IVT or IDT, checks the frames",
	IMAGES(exceptions),
	.check = frames_check,
};

static const struct tv_builtin interrupts = {
	.name = "interrupts",
	.summary = "int n, int3, into, bound, iret's #TS through its own IVT or IDT; checks the frames",
	IMAGES(interrupts),
	.check = frames_check,
};

static const struct tv_builtin guest1 = {
	.name = "guest1",
	.summary = "matrix: writes AX to port 0x10 and increments it, forever (real mode)",
	IMAGES16(guest1),
};

static const struct tv_builtin guest2 = {
	.name = "guest2",
	.summary = "matrix: writes AX to port 0x11 and decrements it, forever (real mode)",
	IMAGES16(guest2),
};

static const struct tv_builtin guest1_noio = {
	.name = "guest1-noio",
	.summary = "matrix: guest1 without the OUT; only a timer can preempt it (real mode)",
	IMAGES16(guest1_noio),
};

static const struct tv_builtin guest2_noio = {
	.name = "guest2-noio",
	.summary = "matrix: guest2 without the OUT (real mode)",
	IMAGES16(guest2_noio),
};

static const struct tv_builtin counter = {
	.name = "counter",
	.summary = "four counters that preemption must keep equal; halts with 0xbad at 0x504 if not",
	IMAGES16(counter),
};

const struct tv_builtin *const tv_builtins[] = {
	&hello, &hypercalls, &cpuid, &exceptions, &interrupts, &guest1, &guest2,
	&guest1_noio, &guest2_noio, &counter, NULL,
};

const struct tv_builtin *tv_builtin_find(const char *name)
{
	for (size_t i = 0; tv_builtins[i]; i++)
		if (strcmp(tv_builtins[i]->name, name) == 0)
			return tv_builtins[i];
	return NULL;
}

enum tv_mode tv_builtin_mode(const struct tv_builtin *g)
{
	return g && g->image[0] && !g->image[1] && !g->image[2] ? TV_MODE_REAL : TV_MODE_LONG;
}

bool tv_builtin_image(const struct tv_builtin *g, enum tv_mode mode, const uint8_t **image,
		      size_t *len)
{
	int slot = tv_mode_bits(mode) == 16 ? 0 : tv_mode_bits(mode) == 32 ? 1 : 2;

	if (!g->image[slot])
		return false;
	*image = g->image[slot];
	*len = *g->len[slot];
	return true;
}
