/* The devices of the machine twinvm's tools run (tv_machine_boot), each registered on the
 * machine's port and MMIO table (machine.h). */
#ifndef TWINVM_DEVICES_H
#define TWINVM_DEVICES_H

#include <stdio.h>

#include "hypercalls.h"
#include "machine.h"

/* Ports and MMIO nobody claimed keep the empty bus's answers (writes dropped, reads all ones),
 * and the first access to each port, and the first MMIO access, is said on out. 0, or -errno. */
int tv_bus_warn_attach(struct tv_machine *m, FILE *out);

/* The PC platform's devices (--platform pc), each on its ports: a transmit-only 16550 UART at
 * COM1 (0x3f8-0x3ff), isa-debug-exit at 0xf4 (m->guest_exit), fw_cfg (0x510-0x511), the PICs
 * (0x20-0x21, 0xa0-0xa1: the machine's interrupt controller), pc-testdev's IRQ lines, the local
 * APIC's page (0xfee00000) and QEMU's pc-testdev (0xe0-0xe3, RAM at 0xff000000). 0, or -errno. */
int tv_uart16550_attach(struct tv_machine *m);
int tv_debug_exit_attach(struct tv_machine *m);
int tv_fw_cfg_attach(struct tv_machine *m);
int tv_pic_attach(struct tv_machine *m);
/* pc-testdev's IRQ lines (0x2000-0x2017), to the PICs: after tv_pic_attach. */
int tv_irq_lines_attach(struct tv_machine *m);
int tv_apic_attach(struct tv_machine *m);
int tv_testdev_attach(struct tv_machine *m);

/* Checks a guest image before a machine is made for it, as tv_machine_boot will load it: a
 * multiboot kernel (tv_multiboot_find) by tv_multiboot_check with the default environment,
 * another ELF file (tv_elf_is) by tv_elf_check, anything else by tv_image_check. 0, or -EINVAL
 * with one line in tv_last_error(). */
int tv_guest_image_check(const void *image, size_t len, uint64_t ram_size, enum tv_mode mode);

/* Creates m (tv_machine_create), registers the default devices (the hypercalls; with
 * opt->platform TV_PLATFORM_PC the PC's above; with opt->warnings also the warning bus), loads
 * image (NULL: none; a multiboot kernel with its boot information, EAX and EBX set (multiboot.h);
 * another ELF file by its segments, RIP at its entry; anything else raw at 0) and enters mode. On
 * failure everything made is released and tv_last_error() says what failed. 0; -ENODEV when the engine, its VM or its vCPU could not
 * be made; another -errno when the guest could not be loaded or the mode entered. */
int tv_machine_boot(struct tv_machine *m, const struct tv_machine_opts *opt, const void *image,
		    size_t len, enum tv_mode mode);

#endif
