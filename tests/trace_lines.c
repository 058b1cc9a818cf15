/* Reading a trace back in a test. */
#include "trace_lines.h"

#include <check.h>

json_t *tv_test_trace_next(struct tv_trace_reader *r)
{
	char msg[512];
	json_t *obj;
	int rc = tv_trace_read(r, &obj, msg, sizeof(msg));

	ck_assert_msg(rc >= 0, "%s", msg);
	return obj;
}

json_t *tv_test_trace_record(struct tv_trace_reader *r)
{
	json_t *obj = tv_test_trace_next(r);

	if (obj && r->line == 1 && json_object_get(obj, "twinvm_trace")) {
		json_decref(obj);
		obj = tv_test_trace_next(r);
	}
	return obj;
}
