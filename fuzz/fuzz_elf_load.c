/* Drives the ELF guest loader (core/guest/elf_load.h) with fuzzed files: every field of an ELF
 * guest is the user's, untrusted. RAM is a heap buffer of exactly its size, so a segment copied
 * outside it is an AddressSanitizer report, not a quiet overwrite.
 *
 * Input: u8 mode (low 2 bits: real, protected, paged32, long), u8 ram (RAM is 128 KiB plus
 * (ram % 32) * 16 KiB), then the file, whole.
 * A finding is a crash or sanitizer report; a check and a load that disagree (one accepts, the
 * other refuses, or their entries differ); an entry outside RAM; a refused file that changed RAM.
 * (Where an accepted file may write, the hypervisor's structures left alone, is the loader's
 * tests' subject: tests/test_elf_load.c.) */
#include <stdlib.h>
#include <string.h>

#include "elf_load.h"
#include "fuzz_input.h"
#include "layout.h"

#define FILL 0xa5 /* what RAM holds before the load */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	enum tv_mode mode = (enum tv_mode)(fz_u8(&in) % 4);
	struct tv_ram ram = { .size = 0x20000 + (fz_u8(&in) % 32) * 0x4000ull };
	uint64_t checked = 0, loaded = 0;
	int rc_check, rc_load;

	ram.host = malloc(ram.size);
	if (!ram.host)
		return 0;
	memset(ram.host, FILL, ram.size);
	rc_check = tv_elf_check(in.p, in.n, ram.size, mode, &checked);
	rc_load = tv_elf_load(in.p, in.n, &ram, mode, &loaded);
	if ((rc_check == 0) != (rc_load == 0) || (rc_load == 0 && checked != loaded))
		abort(); /* the check and the load disagree */
	if (rc_load == 0 && loaded >= ram.size)
		abort(); /* an entry outside RAM */
	for (uint64_t i = 0; rc_load != 0 && i < ram.size; i++)
		if (ram.host[i] != FILL)
			abort(); /* a refused file wrote RAM */
	free(ram.host);
	return 0;
}
