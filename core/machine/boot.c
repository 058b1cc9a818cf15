/* A machine as twinvm's tools run it: created, its default devices registered, the guest
 * loaded and the vCPU in its mode. */
#include "devices.h"

#include <errno.h>

int tv_machine_boot(struct tv_machine *m, const struct tv_machine_opts *opt, const void *image,
		    size_t len, enum tv_mode mode)
{
	int rc = tv_machine_create(m, opt);

	if (rc)
		return -ENODEV;
	rc = tv_hypercalls_attach(m, opt->warnings);
	if (!rc && opt->warnings)
		rc = tv_bus_warn_attach(m, opt->warnings);
	if (!rc && image)
		rc = tv_machine_load(m, image, len);
	if (!rc)
		rc = tv_machine_enter_mode(m, mode);
	if (rc)
		tv_machine_destroy(m);
	return rc;
}
