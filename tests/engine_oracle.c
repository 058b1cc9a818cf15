/* The fuzzer's engine oracles in tests (engine_oracle.h). */
#include "engine_oracle.h"

#include <string.h>

const enum tv_mode all_modes[4] = { TV_MODE_REAL, TV_MODE_PROTECTED, TV_MODE_PAGED32,
				     TV_MODE_LONG };

void snippet(struct fz_snippet *s, enum tv_mode mode, const uint8_t *code, size_t len,
	     bool system)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->code, code, len);
	s->len = (uint16_t)len;
	s->ninsn = 1;
	s->off[1] = s->len;
	s->bits = (uint8_t)tv_mode_bits(mode);
	s->system = system;
}

void start(struct fz_state *in, enum tv_mode mode)
{
	memset(in, 0, sizeof(*in));
	in->gpr[FZ_RSP] = fz_scratch_start((unsigned)tv_mode_bits(mode)) + 0x800;
	in->rip = fz_code_start((unsigned)tv_mode_bits(mode));
}

struct fz_oracle *open_engine(const char *engine, enum tv_mode mode, char *why, size_t len)
{
	const struct tv_backend_ops *be = tv_test_engine(engine, mode, why, len);
	struct fz_oracle *o = NULL;

	if (!be)
		return NULL;
	ck_assert_msg(fz_engine_open(be, mode, NULL, &o, why, len) == 0, "%s/%s: %s", engine,
		      tv_mode_name(mode), why);
	return o;
}

void run(struct fz_oracle *o, const struct fz_snippet *s, const struct fz_state *in,
		struct fz_result *r)
{
	ck_assert_msg(o->run(o, s, in, r) == 0, "%s: %s", o->name, tv_last_error());
}
