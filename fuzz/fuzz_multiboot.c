/* Drives the multiboot v1 loader (core/guest/multiboot.h) with fuzzed kernels and environments:
 * every field of the file is the user's, untrusted, and so is the environment's size. RAM is a
 * heap buffer of exactly its size, so a byte written outside it is an AddressSanitizer report.
 *
 * Input: u8 mode (low 2 bits: real, protected, paged32, long), u8 ram (RAM is 128 KiB plus
 * (ram % 32) * 16 KiB), u8 env (255: no environment, the default; else that many bytes of it
 * follow), the environment's bytes, then the file, whole.
 * A finding is a crash or sanitizer report; a check and a load that disagree (one accepts, the
 * other refuses, or their placements differ); boot information below TV_LAYOUT_END, below the
 * kernel's end, outside RAM or off a page boundary; an accepted load whose information does not
 * say what the loader promised (the flags, the module list, the module's bytes); a refused
 * kernel that changed RAM. */
#include <stdlib.h>
#include <string.h>

#include "elf_load.h"
#include "fuzz_input.h"
#include "layout.h"
#include "multiboot.h"

#define FILL 0xa5 /* what RAM holds before the load */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What an accepted load must have written, where it said it would. */
static void check_placement(const struct tv_ram *ram, const struct tv_multiboot_boot *b,
			    uint64_t kernel_end, const uint8_t *env, size_t env_len)
{
	const uint8_t *r = ram->host, *info, *mod;

	if (b->info < TV_LAYOUT_END || b->info < kernel_end || b->info % TV_PAGE_SIZE ||
	    b->env % TV_PAGE_SIZE || b->env + env_len > ram->size || b->end > ram->size)
		abort(); /* information on the hypervisor's pages or the kernel's, or outside RAM */
	info = r + b->info;
	mod = r + b->mods;
	if (get32(info) != (TV_MBI_MEM | TV_MBI_CMDLINE | TV_MBI_MODS) || get32(info + 16) !=
	    b->cmdline || r[b->cmdline] != 0 || get32(info + 20) != 1 || get32(info + 24) != b->mods)
		abort(); /* the information says something else */
	if (get32(mod) != b->env || get32(mod + 4) != b->env + env_len || r[get32(mod + 8)] != 0 ||
	    memcmp(r + b->env, env, env_len) != 0)
		abort(); /* the module is not the environment */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz in = { data, size };
	enum tv_mode mode = (enum tv_mode)(fz_u8(&in) % 4);
	struct tv_ram ram = { .size = 0x20000 + (fz_u8(&in) % 32) * 0x4000ull };
	uint8_t env_len = fz_u8(&in), env[255];
	const uint8_t *env_p = env_len == 255 ? NULL : env;
	size_t n = env_len == 255 ? 0 : env_len;
	struct tv_multiboot_boot checked, loaded;
	uint64_t entry, end;
	int rc_check, rc_load;

	fz_bytes(&in, env, n);
	if (!env_p) /* the default the loader writes */
		memcpy(env, TV_MULTIBOOT_ENV_DEFAULT, n = sizeof(TV_MULTIBOOT_ENV_DEFAULT) - 1);
	ram.host = malloc(ram.size);
	if (!ram.host)
		return 0;
	memset(ram.host, FILL, ram.size);
	rc_check = tv_multiboot_check(in.p, in.n, ram.size, mode, n, &checked);
	rc_load = tv_multiboot_load(in.p, in.n, &ram, mode, env_p, n, NULL, &loaded);
	if ((rc_check == 0) != (rc_load == 0) ||
	    (rc_load == 0 && memcmp(&checked, &loaded, sizeof(checked)) != 0))
		abort(); /* the check and the load disagree */
	if (rc_load == 0) {
		if (tv_elf_extent(in.p, in.n, ram.size, mode, &entry, &end) != 0 ||
		    entry != loaded.entry)
			abort(); /* accepted a kernel the ELF loader refuses, or another entry */
		check_placement(&ram, &loaded, end, env, n);
	}
	for (uint64_t i = 0; rc_load != 0 && i < ram.size; i++)
		if (ram.host[i] != FILL)
			abort(); /* a refused kernel wrote RAM */
	free(ram.host);
	return 0;
}
