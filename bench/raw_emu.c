/* twinvm-raw-emu: the start-up baseline of `twinvm bench --startup`. The least code that runs the
 * built-in hello guest in protected mode on Unicorn, as `twinvm run --backend emu --mode
 * protected` does: one instance in 32-bit mode (Unicorn starts it with CR0.PE set and flat 4 GiB
 * segments), the image at 0 in 2 MiB of RAM, the stack below 0xF000, an OUT hook that prints
 * HC_print8bit's byte, and a run to the guest's HLT. Nothing of twinvm is linked in but the
 * guest's bytes. Exit status 0 when the guest halted with 42 in EAX, as hello does. */
#include <stdint.h>
#include <stdio.h>
#include <unicorn/unicorn.h>

extern const uint8_t tv_blob_hello_32[];
extern const size_t tv_blob_hello_32_len;

static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *user)
{
	(void)uc, (void)size, (void)user;
	if (port == 0xE9) /* HC_print8bit */
		fputc((int)(value & 0xff), stdout);
}

int main(void)
{
	uint32_t esp = 0xF000, eax = 0;
	uc_engine *uc;
	uc_hook hook;
	uc_err err = uc_open(UC_ARCH_X86, UC_MODE_32, &uc);

	if (err) {
		fprintf(stderr, "twinvm-raw-emu: uc_open: %s\n", uc_strerror(err));
		return 2;
	}
	err = uc_mem_map(uc, 0, 2u << 20, UC_PROT_ALL);
	if (!err)
		err = uc_mem_write(uc, 0, tv_blob_hello_32, tv_blob_hello_32_len);
	if (!err)
		err = uc_reg_write(uc, UC_X86_REG_ESP, &esp);
	if (!err)
		err = uc_hook_add(uc, &hook, UC_HOOK_INSN, (void *)on_out, NULL, 1, 0,
				  UC_X86_INS_OUT);
	if (!err)
		err = uc_emu_start(uc, 0, 2u << 20, 0, 0); /* ends at the guest's hlt */
	if (!err)
		err = uc_reg_read(uc, UC_X86_REG_EAX, &eax);
	uc_close(uc);
	if (err) {
		fprintf(stderr, "twinvm-raw-emu: %s\n", uc_strerror(err));
		return 2;
	}
	return eax == 42 ? 0 : 1;
}
