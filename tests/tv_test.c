/* Shared test helpers. */
#include "tv_test.h"

#include <string.h>
#include <unistd.h>

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

const char *tv_temp_path(char *path, size_t len, const char *suffix)
{
	int fd;

	ck_assert_int_lt(snprintf(path, len, "/tmp/twinvm-test-XXXXXX%s", suffix), (int)len);
	fd = mkstemps(path, (int)strlen(suffix));
	ck_assert_int_ge(fd, 0);
	close(fd);
	return path;
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
