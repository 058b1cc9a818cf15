/* The ELF loader: headers read byte by byte as little-endian (the file's fields may sit at any
 * offset, and the host's byte order is not the file's business), each one checked before use. */
#include "elf_load.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "backend.h" /* tv_set_error */
#include "layout.h"

/* Where one field of a header sits: its offset and width in bytes. */
struct field {
	unsigned char off, size;
};

#define FIELD(type, member) { offsetof(type, member), sizeof(((type *)0)->member) }

/* The fields the loader reads, for one ELF class. p_type sits at 0, four bytes, in both. */
struct elf_class {
	int bits;
	size_t ehdr_size, phdr_size;
	struct field entry, phoff, phentsize, phnum;
	struct field p_offset, p_paddr, p_filesz, p_memsz;
};

static const struct elf_class classes[] = {
	[ELFCLASS32] = {
		32, sizeof(Elf32_Ehdr), sizeof(Elf32_Phdr),
		FIELD(Elf32_Ehdr, e_entry), FIELD(Elf32_Ehdr, e_phoff),
		FIELD(Elf32_Ehdr, e_phentsize), FIELD(Elf32_Ehdr, e_phnum),
		FIELD(Elf32_Phdr, p_offset), FIELD(Elf32_Phdr, p_paddr),
		FIELD(Elf32_Phdr, p_filesz), FIELD(Elf32_Phdr, p_memsz),
	},
	[ELFCLASS64] = {
		64, sizeof(Elf64_Ehdr), sizeof(Elf64_Phdr),
		FIELD(Elf64_Ehdr, e_entry), FIELD(Elf64_Ehdr, e_phoff),
		FIELD(Elf64_Ehdr, e_phentsize), FIELD(Elf64_Ehdr, e_phnum),
		FIELD(Elf64_Phdr, p_offset), FIELD(Elf64_Phdr, p_paddr),
		FIELD(Elf64_Phdr, p_filesz), FIELD(Elf64_Phdr, p_memsz),
	},
};

/* The guest-physical ranges the hypervisor writes or uses for a mode: a segment there would be
 * overwritten when the mode is entered, or would take the guest's stack. */
static const struct {
	const char *what;
	uint64_t first, end;
	bool in_real; /* real mode has no GDT and no page tables */
	enum tv_mode only; /* TV_MODE_COUNT: every mode that has it */
} reserved[] = {
	{ "stack", TV_STACK_BOTTOM, TV_STACK_TOP, true, TV_MODE_COUNT },
	{ "scratch page", TV_SCRATCH, TV_SCRATCH + TV_SCRATCH_SIZE, true, TV_MODE_COUNT },
	{ "GDT", TV_GDT, TV_GDT + TV_PAGE_SIZE, false, TV_MODE_COUNT },
	{ "page directory", TV_PD32, TV_PD32 + TV_PAGE_SIZE, false, TV_MODE_PAGED32 },
	{ "page tables", TV_PML4, TV_LAYOUT_END, false, TV_MODE_LONG },
};

/* One program header, whichever the class. */
struct segment {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

struct header {
	const struct elf_class *c;
	uint64_t entry, phoff;
	unsigned phentsize, phnum;
};

static uint64_t le(const uint8_t *p, struct field f)
{
	uint64_t v = 0;

	for (unsigned i = f.size; i-- > 0;)
		v = v << 8 | p[f.off + i];
	return v;
}

bool tv_elf_is(const void *file, size_t len)
{
	return len >= SELFMAG && memcmp(file, ELFMAG, SELFMAG) == 0;
}

/* The identity bytes, the type and the machine: what kind of file this is. */
static int check_ident(const uint8_t *f, size_t len)
{
	const struct field type = FIELD(Elf32_Ehdr, e_type), machine = FIELD(Elf32_Ehdr, e_machine);
	uint64_t t, m;

	if (!tv_elf_is(f, len)) {
		tv_set_error("not an ELF file");
		return -EINVAL;
	}
	if (len < EI_NIDENT) {
		tv_set_error("the ELF header is cut short: %zu bytes", len);
		return -EINVAL;
	}
	if (f[EI_CLASS] != ELFCLASS32 && f[EI_CLASS] != ELFCLASS64) {
		tv_set_error("ELF class %u is neither ELF32 (1) nor ELF64 (2)", f[EI_CLASS]);
		return -EINVAL;
	}
	if (f[EI_DATA] != ELFDATA2LSB) {
		tv_set_error("the ELF file is not little-endian (EI_DATA %u), as x86 code is",
			     f[EI_DATA]);
		return -EINVAL;
	}
	if (len < classes[f[EI_CLASS]].ehdr_size) {
		tv_set_error("the ELF header is cut short: %zu bytes, ELF%d's is %zu", len,
			     classes[f[EI_CLASS]].bits, classes[f[EI_CLASS]].ehdr_size);
		return -EINVAL;
	}
	m = le(f, machine);
	if (m != EM_386 && m != EM_X86_64) {
		tv_set_error("the ELF file is for machine %" PRIu64 ", not x86 (EM_386 3 or "
			     "EM_X86_64 62)", m);
		return -EINVAL;
	}
	t = le(f, type);
	if (t != ET_EXEC) {
		tv_set_error("the ELF file is of type %" PRIu64 ", not an executable (ET_EXEC 2)%s", t,
			     t == ET_REL ? ": an object file from as; link it with ld first" : "");
		return -EINVAL;
	}
	return 0;
}

/* The ELF header, and the program header table inside the file. */
static int read_header(const uint8_t *f, size_t len, struct header *h)
{
	int rc = check_ident(f, len);

	if (rc)
		return rc;
	h->c = &classes[f[EI_CLASS]];
	h->entry = le(f, h->c->entry);
	h->phoff = le(f, h->c->phoff);
	h->phentsize = (unsigned)le(f, h->c->phentsize);
	h->phnum = (unsigned)le(f, h->c->phnum);
	if (h->phnum == 0)
		return 0; /* nothing to read: check_segments says there is no PT_LOAD */
	if (h->phentsize != h->c->phdr_size) {
		tv_set_error("e_phentsize %u is not ELF%d's program header size (%zu)", h->phentsize,
			     h->c->bits, h->c->phdr_size);
		return -EINVAL;
	}
	/* phnum * phentsize is at most 65535 * 56: no overflow. */
	if (h->phoff > len || (uint64_t)h->phnum * h->phentsize > len - h->phoff) {
		tv_set_error("the program headers (%u of %u bytes at e_phoff 0x%" PRIx64 ") run "
			     "past the end of the file (%zu bytes)", h->phnum, h->phentsize, h->phoff,
			     len);
		return -EINVAL;
	}
	return 0;
}

static void read_segment(const uint8_t *f, const struct header *h, unsigned i, struct segment *s)
{
	const uint8_t *p = f + h->phoff + (uint64_t)i * h->phentsize;

	s->type = (uint32_t)le(p, (struct field){ 0, 4 });
	s->offset = le(p, h->c->p_offset);
	s->paddr = le(p, h->c->p_paddr);
	s->filesz = le(p, h->c->p_filesz);
	s->memsz = le(p, h->c->p_memsz);
}

#define NRESERVED (sizeof(reserved) / sizeof(reserved[0]))

static bool reserved_in(size_t r, enum tv_mode mode)
{
	if (mode == TV_MODE_REAL && !reserved[r].in_real)
		return false;
	return reserved[r].only == TV_MODE_COUNT || reserved[r].only == mode;
}

/* Whether [first, end) meets a range the hypervisor uses in mode; says which when it does, and
 * where a segment may go instead. */
static bool meets_reserved(uint64_t first, uint64_t end, enum tv_mode mode, unsigned i)
{
	uint64_t free_from = 0;
	size_t hit = NRESERVED;

	for (size_t r = 0; r < NRESERVED; r++) {
		if (!reserved_in(r, mode))
			continue;
		if (reserved[r].end > free_from)
			free_from = reserved[r].end;
		if (hit == NRESERVED && first < reserved[r].end && reserved[r].first < end)
			hit = r;
	}
	if (hit == NRESERVED)
		return false;
	tv_set_error("segment %u (0x%" PRIx64 "-0x%" PRIx64 ") overlaps the %s at 0x%" PRIx64
		     "-0x%" PRIx64 " that %s mode uses; link it below 0x%llx or from 0x%" PRIx64
		     " on", i, first, end - 1, reserved[hit].what, reserved[hit].first,
		     reserved[hit].end - 1, tv_mode_name(mode), TV_STACK_BOTTOM, free_from);
	return true;
}

/* One PT_LOAD segment: in the file, in RAM, clear of the hypervisor's structures. */
static int check_segment(const struct segment *s, unsigned i, size_t len, uint64_t ram_size,
			 enum tv_mode mode)
{
	if (s->offset > len || s->filesz > len - s->offset) {
		tv_set_error("segment %u's bytes (p_offset 0x%" PRIx64 ", p_filesz 0x%" PRIx64 ") run "
			     "past the end of the file (%zu bytes)", i, s->offset, s->filesz, len);
		return -EINVAL;
	}
	if (s->filesz > s->memsz) {
		tv_set_error("segment %u's p_filesz 0x%" PRIx64 " is larger than its p_memsz 0x%" PRIx64,
			     i, s->filesz, s->memsz);
		return -EINVAL;
	}
	if (s->paddr > ram_size || s->memsz > ram_size - s->paddr) {
		tv_set_error("segment %u (p_paddr 0x%" PRIx64 ", p_memsz 0x%" PRIx64 ") leaves guest "
			     "RAM (0x%" PRIx64 " bytes): link it lower or raise --mem", i, s->paddr,
			     s->memsz, ram_size);
		return -EINVAL;
	}
	if (s->memsz && meets_reserved(s->paddr, s->paddr + s->memsz, mode, i))
		return -EINVAL;
	return 0;
}

/* Every PT_LOAD segment, then the entry against them. */
static int check_segments(const uint8_t *f, size_t len, const struct header *h,
			  uint64_t ram_size, enum tv_mode mode)
{
	bool entry_in = false;
	unsigned loads = 0;
	struct segment s;
	int rc;

	for (unsigned i = 0; i < h->phnum; i++) {
		read_segment(f, h, i, &s);
		if (s.type != PT_LOAD)
			continue;
		rc = check_segment(&s, i, len, ram_size, mode);
		if (rc)
			return rc;
		loads++;
		entry_in |= h->entry >= s.paddr && h->entry - s.paddr < s.memsz;
	}
	if (!loads) {
		tv_set_error("the ELF file has no PT_LOAD segment: nothing to load");
		return -EINVAL;
	}
	if (!entry_in) {
		tv_set_error("the entry point 0x%" PRIx64 " (e_entry) lies in no PT_LOAD segment",
			     h->entry);
		return -EINVAL;
	}
	if (mode == TV_MODE_REAL && h->entry > 0xffff) {
		tv_set_error("the entry point 0x%" PRIx64 " is above 0xffff: real mode starts with CS "
			     "at 0, so it must be in the first 64 KiB", h->entry);
		return -EINVAL;
	}
	return 0;
}

/* The header, read and checked with every segment. */
static int parse(const uint8_t *f, size_t len, uint64_t ram_size, enum tv_mode mode,
		 struct header *h)
{
	int rc = read_header(f, len, h);

	return rc ? rc : check_segments(f, len, h, ram_size, mode);
}

int tv_elf_check(const void *file, size_t len, uint64_t ram_size, enum tv_mode mode,
		 uint64_t *entry)
{
	struct header h;
	int rc = parse(file, len, ram_size, mode, &h);

	if (!rc)
		*entry = h.entry;
	return rc;
}

int tv_elf_extent(const void *file, size_t len, uint64_t ram_size, enum tv_mode mode,
		  uint64_t *entry, uint64_t *end)
{
	struct header h;
	struct segment s;
	int rc = parse(file, len, ram_size, mode, &h);

	if (rc)
		return rc;
	*entry = h.entry;
	*end = 0;
	for (unsigned i = 0; i < h.phnum; i++) {
		read_segment(file, &h, i, &s);
		/* parse checked paddr + memsz against RAM: no overflow */
		if (s.type == PT_LOAD && s.memsz && s.paddr + s.memsz > *end)
			*end = s.paddr + s.memsz;
	}
	return 0;
}

int tv_elf_load(const void *file, size_t len, const struct tv_ram *ram, enum tv_mode mode,
		uint64_t *entry)
{
	const uint8_t *f = file;
	struct header h;
	struct segment s;
	uint8_t *to;
	int rc = parse(f, len, ram->size, mode, &h);

	if (rc)
		return rc;
	for (unsigned i = 0; i < h.phnum; i++) {
		read_segment(f, &h, i, &s);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		/* parse checked that the file holds [offset, + filesz) and RAM [paddr, + memsz). */
		to = tv_ram_ptr(ram, s.paddr, s.memsz);
		if (!to) {
			tv_set_error("segment %u at 0x%" PRIx64 " is outside guest RAM", i, s.paddr);
			return -EFAULT;
		}
		memcpy(to, f + s.offset, s.filesz);
		memset(to + s.filesz, 0, s.memsz - s.filesz);
	}
	*entry = h.entry;
	return 0;
}
