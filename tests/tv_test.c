/* Shared test helpers. */
#include "tv_test.h"

#include <string.h>

#include "probe.h"

const struct tv_backend_ops *tv_test_engine(const char *name, enum tv_mode mode, char *why,
					    size_t len)
{
	const struct tv_backend_ops *be = tv_backend_find(name);

	if (!be) {
		snprintf(why, len, "engine %s is not built in", name);
		return NULL;
	}
	if (tv_probe_mode(be, mode, why, len) != 0)
		return NULL;
	return be;
}

int tv_test_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
