/* A machine as twinvm's tools run it: created, its default devices registered, the guest
 * loaded and the vCPU in its mode. */
#include "devices.h"

#include <errno.h>

#include "elf_load.h"
#include "multiboot.h"

int tv_guest_image_check(const void *image, size_t len, uint64_t ram_size, enum tv_mode mode)
{
	struct tv_multiboot_header h;
	struct tv_multiboot_boot b;
	uint64_t entry;

	if (tv_multiboot_find(image, len, &h))
		return tv_multiboot_check(image, len, ram_size, mode,
					  sizeof(TV_MULTIBOOT_ENV_DEFAULT) - 1, &b);
	if (tv_elf_is(image, len))
		return tv_elf_check(image, len, ram_size, mode, &entry);
	return tv_image_check(len, ram_size);
}

/* A multiboot kernel: its segments and boot information, and the registers it starts with. */
static int load_multiboot(struct tv_machine *m, const void *image, size_t len, enum tv_mode mode)
{
	struct tv_multiboot_boot b;
	int rc = tv_multiboot_load(image, len, &m->ram, mode, m->opt.multiboot_env,
				   m->opt.multiboot_env_len, m->opt.multiboot_cmdline, &b);

	if (rc)
		return rc;
	m->opt.entry = b.entry;
	m->opt.entry_rax = TV_MULTIBOOT_BOOT_MAGIC;
	m->opt.entry_rbx = b.info;
	return 0;
}

/* A multiboot kernel as one; another ELF file by its segments, which also name where the vCPU
 * starts; anything else raw at 0. */
static int load_image(struct tv_machine *m, const void *image, size_t len, enum tv_mode mode)
{
	struct tv_multiboot_header h;

	if (tv_multiboot_find(image, len, &h))
		return load_multiboot(m, image, len, mode);
	if (tv_elf_is(image, len))
		return tv_elf_load(image, len, &m->ram, mode, &m->opt.entry);
	return tv_machine_load(m, image, len);
}

/* --platform pc's devices, each on its ports. */
static int pc_devices(struct tv_machine *m)
{
	/* The IRQ lines after the PICs they drive. */
	static int (*const attach[])(struct tv_machine *m) = {
		tv_uart16550_attach, tv_debug_exit_attach, tv_fw_cfg_attach, tv_pic_attach,
		tv_irq_lines_attach, tv_apic_attach, tv_testdev_attach,
	};
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(attach) / sizeof(attach[0]); i++)
		rc = attach[i](m);
	return rc;
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
