/* The fuzzer's native oracle in tests (native_oracle.h). */
#include "native_oracle.h"

#include <errno.h>
#include <string.h>

struct fz_oracle *open_native(void)
{
	struct fz_oracle *o = NULL;
	char why[256];

	ck_assert_msg(fz_native_open(64, &o, why, sizeof(why)) == 0, "%s", why);
	return o;
}

void snippet_bits(struct fz_snippet *s, const uint8_t *code, size_t len, unsigned bits)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->code, code, len);
	s->len = (uint16_t)len;
	s->ninsn = 1;
	s->bits = 64;
	s->off[1] = s->len;
	s->bits = (uint8_t)bits;
}

void snippet(struct fz_snippet *s, const uint8_t *code, size_t len)
{
	snippet_bits(s, code, len, 64);
}

struct fz_oracle *open_native_bits(unsigned bits, char *why, size_t len)
{
	struct fz_oracle *o = NULL;
	int rc = fz_native_open(bits, &o, why, len);

	if (rc == 0)
		return o;
	ck_assert_msg(rc == -ENOTSUP && tv_test_host_limit("native", bits == 16 ? TV_MODE_REAL
							   : TV_MODE_PROTECTED, why, why, len),
		      "the native oracle cannot run %u-bit code here, and no known host limit "
		      "explains it: %s", bits, why);
	return NULL;
}

void start_state(struct fz_state *in, unsigned bits)
{
	memset(in, 0, sizeof(*in));
	in->gpr[FZ_RSP] = fz_scratch_start(bits) + 0x800;
}
