/* A machine as twinvm's tools run it: created, its default devices registered, the guest
 * loaded and the vCPU in its mode. */
#include "devices.h"

#include <errno.h>

#include "elf_load.h"

int tv_guest_image_check(const void *image, size_t len, uint64_t ram_size, enum tv_mode mode)
{
	uint64_t entry;

	if (tv_elf_is(image, len))
		return tv_elf_check(image, len, ram_size, mode, &entry);
	return tv_image_check(len, ram_size);
}

/* An ELF file by its segments, which also name where the vCPU starts; anything else raw at 0. */
static int load_image(struct tv_machine *m, const void *image, size_t len, enum tv_mode mode)
{
	if (tv_elf_is(image, len))
		return tv_elf_load(image, len, &m->ram, mode, &m->opt.entry);
	return tv_machine_load(m, image, len);
}

/* --platform pc's devices, each on its ports. */
static int pc_devices(struct tv_machine *m)
{
	int rc = tv_uart16550_attach(m);

	if (!rc)
		rc = tv_debug_exit_attach(m);
	if (!rc)
		rc = tv_fw_cfg_attach(m);
	if (!rc)
		rc = tv_apic_attach(m);
	if (!rc)
		rc = tv_testdev_attach(m);
	return rc ? rc : tv_pic_attach(m);
}

int tv_machine_boot(struct tv_machine *m, const struct tv_machine_opts *opt, const void *image,
		    size_t len, enum tv_mode mode)
{
	int rc = tv_machine_create(m, opt);

	if (rc)
		return -ENODEV;
	rc = tv_hypercalls_attach(m, opt->warnings);
	if (!rc && opt->platform == TV_PLATFORM_PC)
		rc = pc_devices(m);
	if (!rc && opt->warnings)
		rc = tv_bus_warn_attach(m, opt->warnings);
	if (!rc && image)
		rc = load_image(m, image, len, mode);
	if (!rc)
		rc = tv_machine_enter_mode(m, mode);
	if (rc)
		tv_machine_destroy(m);
	return rc;
}
