/* Crafted ELF guests for the loader's tests. */
#include "elf_craft.h"

#include <check.h>
#include <string.h>

/* Two halts: the decoy at the segment's start, the one the entry reaches 8 bytes in.
 *   [66] b8 01 00 00 00   mov eax, 1     (0x66: the operand-size prefix 16-bit code needs)
 *   f4                    hlt
 *   ...                   nop up to 8
 *   [66] b8 2a 00 00 00   mov eax, 42
 *   f4                    hlt */
static void craft_code(uint8_t *code, enum tv_mode mode)
{
	static const uint8_t mov1_hlt[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4 };
	static const uint8_t mov42_hlt[] = { 0xb8, CRAFT_RAX, 0x00, 0x00, 0x00, 0xf4 };
	size_t p = mode == TV_MODE_REAL;

	memset(code, 0x90, CRAFT_CODE_LEN);
	code[0] = code[8] = 0x66; /* overwritten below in 32- and 64-bit code */
	memcpy(code + p, mov1_hlt, sizeof(mov1_hlt));
	memcpy(code + 8 + p, mov42_hlt, sizeof(mov42_hlt));
}

uint64_t craft_hlt_end(enum tv_mode mode)
{
	return mode == TV_MODE_REAL ? 7 : 6;
}

void craft_segments(struct craft *f, const struct craft_seg *s, unsigned n)
{
	ck_assert_uint_le(n, CRAFT_SEGS_MAX);
	for (unsigned i = 0; i < n; i++) {
		if (f->bits == 64) {
			*craft_phdr64(f, i) = (Elf64_Phdr){
				.p_type = s[i].type, .p_offset = s[i].offset, .p_vaddr = s[i].paddr,
				.p_paddr = s[i].paddr, .p_filesz = s[i].filesz,
				.p_memsz = s[i].memsz, .p_flags = PF_R | PF_X, .p_align = 0x1000,
			};
		} else {
			*craft_phdr32(f, i) = (Elf32_Phdr){
				.p_type = s[i].type, .p_offset = (Elf32_Off)s[i].offset,
				.p_vaddr = (Elf32_Addr)s[i].paddr, .p_paddr = (Elf32_Addr)s[i].paddr,
				.p_filesz = (Elf32_Word)s[i].filesz, .p_memsz = (Elf32_Word)s[i].memsz,
				.p_flags = PF_R | PF_X, .p_align = 0x1000,
			};
		}
	}
	if (f->bits == 64)
		craft_ehdr64(f)->e_phnum = (Elf64_Half)n;
	else
		craft_ehdr32(f)->e_phnum = (Elf32_Half)n;
}

void craft_elf(struct craft *f, int bits, enum tv_mode mode)
{
	const struct craft_seg code = { PT_LOAD, CRAFT_CODE_OFF, CRAFT_PADDR, CRAFT_CODE_LEN,
					 CRAFT_MEMSZ };
	const unsigned char ident[EI_NIDENT] = {
		ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, bits == 64 ? ELFCLASS64 : ELFCLASS32,
		ELFDATA2LSB, EV_CURRENT,
	};

	memset(f, 0, sizeof(*f));
	f->bits = bits;
	f->len = CRAFT_CODE_OFF + CRAFT_CODE_LEN;
	if (bits == 64) {
		*craft_ehdr64(f) = (Elf64_Ehdr){
			.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			.e_entry = CRAFT_ENTRY, .e_phoff = sizeof(Elf64_Ehdr),
			.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
		};
	} else {
		*craft_ehdr32(f) = (Elf32_Ehdr){
			.e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
			.e_entry = CRAFT_ENTRY, .e_phoff = sizeof(Elf32_Ehdr),
			.e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
		};
	}
	memcpy(f->b, ident, sizeof(ident));
	craft_segments(f, &code, 1);
	craft_code(f->b + CRAFT_CODE_OFF, mode);
}
