#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/: small, real inputs in
   each target's input format (the comment at the top of each fuzz_<target>.c, and fake_engine.h).
   The corpora are kept in the repository; run this again after changing a format."""
import os
import struct

top = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(top, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


u8 = lambda v: struct.pack("<B", v & 0xff)
u16 = lambda v: struct.pack("<H", v & 0xffff)
u32 = lambda v: struct.pack("<I", v & 0xffffffff)
u64 = lambda v: struct.pack("<Q", v & 0xffffffffffffffff)

# ---- pagewalk -------------------------------------------------------------------------------
CR0_PE, CR0_PG = 1, 1 << 31
CR4_PSE, CR4_PAE, CR4_LA57 = 1 << 4, 1 << 5, 1 << 12
EFER_LME, EFER_LMA, EFER_NXE = 1 << 8, 1 << 10, 1 << 11
P, RW, PS, NX = 1, 2, 1 << 7, 1 << 63


def walk_seed(form, flags, gva, cr0=CR0_PE, cr3=0, cr4=0, efer=0, ds_base=0, writes=(),
              pages=31):
    out = u8(form) + u8(pages) + u8(flags)
    out += b"".join(u64(v) for v in (cr0, cr3, cr4, efer, ds_base, gva))
    for gpa, value in writes:
        out += u32(gpa) + u64(value)
    return out


def long_tables(gva, leaf_level, target, nx=0):
    """PML4 at 0x1000 and one table a level below it, mapping gva to target with a leaf at
       leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB)."""
    writes, table = [], 0x1000
    for level in (4, 3, 2, 1):
        index = (gva >> (12 + 9 * (level - 1))) & 0x1ff
        if level == leaf_level:
            writes.append((table + 8 * index, target | P | RW | (PS if level > 1 else 0) | nx))
            return writes
        nxt = table + 0x1000
        writes.append((table + 8 * index, nxt | P | RW))
        table = nxt
    raise ValueError(leaf_level)


write("pagewalk", "paged32-own-tables", walk_seed(2, 2, 0x12345))
write("pagewalk", "long-own-tables", walk_seed(4, 3, 0x18010))
write("pagewalk", "long-own-tables-3g", walk_seed(4, 3, 0xC0001000))
write("pagewalk", "long-own-tables-noncanonical", walk_seed(4, 3, 0x0000800000000000))
write("pagewalk", "no-paging-ds-base", walk_seed(0, 0, 0x20, ds_base=0x10000))
write("pagewalk", "paged32-4k", walk_seed(1, 0, 0x00403025, cr0=CR0_PE | CR0_PG, cr3=0x1000,
                                          writes=[(0x1004, 0x2000 | P), (0x200c, 0x5000 | P)]))
write("pagewalk", "paged32-pse36", walk_seed(2, 0, 0x00c01234, cr0=CR0_PE | CR0_PG, cr3=0x1000,
                                             cr4=CR4_PSE,
                                             writes=[(0x100c, 0x00c00000 | (0x3 << 13) | P | PS)]))
write("pagewalk", "pae-2m", walk_seed(3, 0, 0x40201234, cr0=CR0_PE | CR0_PG, cr3=0x1000,
                                      cr4=CR4_PAE,
                                      writes=[(0x1008, 0x2000 | P), (0x2008, 0x200000 | P | PS)]))
write("pagewalk", "pae-4k", walk_seed(3, 0, 0x00003456, cr0=CR0_PE | CR0_PG, cr3=0x1000,
                                      cr4=CR4_PAE,
                                      writes=[(0x1000, 0x2000 | P), (0x2000, 0x3000 | P),
                                              (0x3018, 0x7000 | P)]))
lm = dict(cr0=CR0_PE | CR0_PG, cr3=0x1000, cr4=CR4_PAE, efer=EFER_LME | EFER_LMA)
gva = 0x00007f8040201123
write("pagewalk", "long-4k", walk_seed(4, 1, gva, writes=long_tables(gva, 1, 0x9000), **lm))
write("pagewalk", "long-2m", walk_seed(4, 1, gva, writes=long_tables(gva, 2, 0x400000), **lm))
write("pagewalk", "long-1g", walk_seed(4, 1, gva, writes=long_tables(gva, 3, 0x40000000), **lm))
write("pagewalk", "long-nx-without-nxe",
      walk_seed(4, 1, gva, writes=long_tables(gva, 1, 0x9000, nx=NX), **lm))
write("pagewalk", "long-nx-with-nxe",
      walk_seed(4, 1, gva, writes=long_tables(gva, 1, 0x9000, nx=NX),
                **dict(lm, efer=EFER_LME | EFER_LMA | EFER_NXE)))
write("pagewalk", "long-compat-mode", walk_seed(4, 0, 0x1000, ds_base=0x18000,
                                                writes=long_tables(0x19000, 1, 0x9000), **lm))
write("pagewalk", "long-la57", walk_seed(5, 1, gva, **lm))
# The high bits of the form byte: the access tv_linear_access checks (bits 5-3) and set_ad (bit 6).
ACC_WRITE, ACC_USER, ACC_FETCH, SET_AD = 1 << 3, 2 << 3, 4 << 3, 1 << 6
write("pagewalk", "long-4k-write-set-ad",
      walk_seed(4 | ACC_WRITE | SET_AD, 1, gva, writes=long_tables(gva, 1, 0x9000), **lm))
write("pagewalk", "long-4k-user-read-supervisor-page",
      walk_seed(4 | ACC_USER | SET_AD, 1, gva, writes=long_tables(gva, 1, 0x9000), **lm))
write("pagewalk", "long-nx-fetch-with-nxe",
      walk_seed(4 | ACC_FETCH, 1, gva, writes=long_tables(gva, 1, 0x9000, nx=NX),
                **dict(lm, efer=EFER_LME | EFER_LMA | EFER_NXE)))
write("pagewalk", "long-table-outside-ram", walk_seed(4, 1, gva, writes=[(0x1000 + 8 * 0xff, 0x7ffff000 | P)],
                                                      **lm))

# ---- hypercalls -----------------------------------------------------------------------------
REAL, PROTECTED, PAGED32, LONG, ZERO = range(5)
QUIET, TRACE, PRECISE, STEP = 1, 2, 4, 8
RAX, RBX, RCX, RIP = 0, 1, 2, 16
CR0, CR3, CR4, EFER = 0, 1, 2, 3
HLT, SHUTDOWN, DEBUG, INTR, FAIL_ENTRY, INTERNAL_ERROR, UNKNOWN = range(7)
IN, OUT = 0, 1


def hc_seed(mode, flags, ops, pages=31, max_exits=0):
    return u8(pages) + u8(mode) + u8(flags) + u8(max_exits) + b"".join(ops)


def ram(gpa, data):
    out = b""
    for i in range(0, len(data), 32):
        chunk = data[i:i + 32]
        out += u8(0) + u32(gpa + i) + u8(len(chunk) - 1) + chunk
    return out


reg = lambda i, v: u8(1) + u8(i) + u64(v)
sreg = lambda i, v: u8(2) + u8(i) + u64(v)


def io(direction, size, port, count=1, data=b""):
    flags = direction | {1: 0, 2: 2, 4: 4}[size]
    out = u8(3) + u8(flags) + u16(port) + u16(count - 1)
    if direction == OUT:
        out += data.ljust(count * size, b"\0")
    return out


def mmio(gpa, length, is_write, data=b""):
    return u8(4) + u64(gpa) + u8(length - 1) + u8(is_write) + data.ljust(8, b"\0")


exit_ = lambda reason, code=0: u8(5) + u8(reason) + u64(code)
fail = lambda bits: u8(6) + u8(bits)

write("hypercalls", "print8bit-real", hc_seed(REAL, 0, [io(OUT, 1, 0xE9, data=b"H"),
                                                         io(OUT, 1, 0xE9, data=b"i"), exit_(HLT)]))
write("hypercalls", "print32bit-traced", hc_seed(PROTECTED, TRACE, [
    reg(RAX, 42), io(OUT, 4, 0xEA, data=u32(42)), exit_(HLT)]))
write("hypercalls", "printstr-long", hc_seed(LONG, TRACE | QUIET, [
    ram(0x18000, b"Hello, fuzz\n\0"), reg(RAX, 0x18000), io(OUT, 4, 0xEC, data=u32(0x18000)),
    exit_(HLT)]))
write("hypercalls", "printstr-paged32-page-crossing", hc_seed(PAGED32, PRECISE, [
    ram(0x18ffa, b"across a page\0"), io(OUT, 4, 0xEC, data=u32(0x18ffa)), exit_(HLT)]))
write("hypercalls", "printstr-real-unterminated", hc_seed(REAL, 0, [
    ram(0x1ffe0, b"x" * 32), io(OUT, 4, 0xEC, data=u32(0x1ffe0)), exit_(HLT)]))
write("hypercalls", "numexits", hc_seed(REAL, TRACE, [
    io(OUT, 1, 0x80, data=b"\1"), io(IN, 4, 0xEB), exit_(HLT)]))
write("hypercalls", "numexitsbytype-protected", hc_seed(PROTECTED, TRACE, [
    io(IN, 4, 0xED), exit_(HLT)]))
write("hypercalls", "numexitsbytype-small-ram", hc_seed(ZERO, 0, [io(IN, 4, 0xED), exit_(HLT)],
                                                        pages=0))
write("hypercalls", "gvatohva-long", hc_seed(LONG, TRACE, [
    reg(RBX, 0x18000), io(IN, 4, 0xEE), reg(RBX, 0x7fff00000000), io(IN, 4, 0xEE),
    exit_(HLT)]))
write("hypercalls", "gvatohva-paged32-unmapped-pde", hc_seed(PAGED32, 0, [
    ram(0x11000 + 4 * 3, u32(0)), reg(RBX, 0x00c00010), io(IN, 4, 0xEE), exit_(HLT)]))
# rep outsb at RIP 0, one exit per element as the emulator reports them, merged into one record
rep_outsb = ram(0, b"\xf3\x6e\xf4")
write("hypercalls", "rep-outsb-per-element", hc_seed(REAL, TRACE, [
    rep_outsb, reg(RIP, 0), reg(RCX, 2), io(OUT, 1, 0xE9, data=b"a"), reg(RCX, 1),
    io(OUT, 1, 0xE9, data=b"b"), reg(RCX, 0), reg(RIP, 2), io(OUT, 1, 0xE9, data=b"c"),
    exit_(HLT)]))
# the same batched into one exit, as KVM may
write("hypercalls", "rep-outsb-batched", hc_seed(REAL, TRACE, [
    rep_outsb, reg(RIP, 2), reg(RCX, 0), io(OUT, 1, 0xE9, count=5, data=b"hello"), exit_(HLT)]))
write("hypercalls", "rep-insw-long", hc_seed(LONG, TRACE, [
    ram(0, b"\xf3\x66\x6d\xf4"), reg(RIP, 0), reg(RCX, 1), io(IN, 2, 0x60), reg(RCX, 0),
    reg(RIP, 3), io(IN, 2, 0x60), exit_(HLT)]))
write("hypercalls", "no-device-ports", hc_seed(REAL, 0, [
    io(IN, 2, 0x60), io(OUT, 1, 0x80, data=b"\x55"), io(IN, 1, 0xE9), io(OUT, 2, 0xEA, data=b"\1\2"),
    exit_(HLT)]))
write("hypercalls", "mmio", hc_seed(PROTECTED, TRACE, [
    mmio(0x100000000, 4, 0), mmio(0xfee00000, 8, 1, u64(0x1122334455667788)), exit_(HLT)]))
write("hypercalls", "state-read-fails", hc_seed(LONG, TRACE, [
    fail(2), io(OUT, 4, 0xEC, data=u32(0x18000)), fail(1), io(IN, 4, 0xEE), exit_(HLT)]))
write("hypercalls", "step-debug-exits", hc_seed(REAL, STEP, [
    exit_(DEBUG), reg(RIP, 1), exit_(DEBUG), exit_(HLT)]))
write("hypercalls", "shutdown", hc_seed(LONG, TRACE, [
    sreg(CR3, 0xfffff000), exit_(SHUTDOWN, 0)]))
write("hypercalls", "run-fails", hc_seed(REAL, 0, [io(OUT, 1, 0xE9, data=b"x"), fail(4)]))
write("hypercalls", "max-exits", hc_seed(REAL, 0, [io(OUT, 1, 0xE9, data=b"%c" % c)
                                                    for c in b"abcdef"] + [exit_(HLT)],
                                         max_exits=3))

# ---- cli_parse ------------------------------------------------------------------------------
for i, s in enumerate(["2M", "512K", "1G", "4096", "0x1000", "2MiB", "2MB", "128K", "3G", "40",
                       "10", "2.5", "300ms", "2s", "0", "-1", "1e3", "0x10p0", ""]):
    write("cli_parse", "%02d" % i, s.encode())

# ---- trace_reader: pieces of the golden traces, which `twinvm run --trace` wrote ---------------
golden = os.path.join(top, "..", "tests", "golden")
for name, first, last in [("hello-real", 3, 1), ("hypercalls-long", 4, 1), ("cpuid-protected", 6, 0),
                          ("guest1-real", 2, 1), ("hypercalls-protected", 22, 0)]:
    lines = open(os.path.join(golden, name + ".jsonl"), "rb").read().splitlines(keepends=True)
    write("trace_reader", name, b"".join(lines[:first] + (lines[-last:] if last else [])))

# ---- descriptors: GDTs where twinvm's modes put them, and at the edges of the address space ----
def desc_seed(pages, base, cr0, efer, limit, loads):
    return (bytes([pages]) + struct.pack("<QQQH", base, cr0, efer, limit) +
            b"".join(struct.pack("<HB", sel, seg) for sel, seg in loads))

PE, PG, LME, LMA = 1, 1 << 31, 1 << 8, 1 << 10
write("descriptors", "protected-flat", desc_seed(31, 0x10000, PE, 0, 0x1f, [(0x08, 0), (0x10, 1), (0x10, 2)]))
write("descriptors", "long-fs-gs", desc_seed(31, 0x10000, PE | PG, LME | LMA, 0x1f, [(0x18, 0), (0x10, 4), (0x10, 5)]))
write("descriptors", "real-mode", desc_seed(0, 0, 0, 0, 0xffff, [(0x1000, 0), (0xb800, 2)]))
write("descriptors", "top-of-64-bit", desc_seed(31, 0xfffffffffffffff0, PE | PG, LME | LMA, 0xff, [(0x08, 4), (0x10, 5)]))
write("descriptors", "top-of-32-bit", desc_seed(31, 0xfffffff0, PE, 0, 0xff, [(0x08, 2), (0x18, 3)]))
write("descriptors", "ldt-and-limit", desc_seed(1, 0x0, PE, 0, 0x7, [(0x0c, 1), (0x08, 2), (0xfff8, 3)]))

# ---- deliver: an event through each mode's table, as twinvm's modes and guests lay them out ----
def deliver_seed(cr0, efer, rip, rsp, cpl, idt, idt_limit, gdt, gdt_limit, cs, cs_flags, vector,
                 software, error, writes, tr=0, tr_limit=0, tr_type=0, ss_flags=0, rflags=0x202):
    out = u8(31) + b"".join(u64(v) for v in (cr0, 0, 0, efer, rip, rsp, rflags)) + u8(cpl)
    out += u64(idt) + u16(idt_limit) + u64(gdt) + u16(gdt_limit) + u64(tr) + u32(tr_limit)
    out += u8(tr_type) + u16(cs) + u32(cs_flags) + u64(0) + u32(ss_flags)
    out += u8(vector) + u8(software) + u32(error)
    return out + b"".join(u32(gpa) + u64(value) for gpa, value in writes)

CODE32 = 0x00cf9a000000ffff  # flat 32-bit code, DPL 0
DATA32 = 0x00cf92000000ffff
CODE64 = 0x00af9a000000ffff
CODE32_USER = 0x00cffa000000ffff
gate32 = lambda off, sel, kind=0x8e: (off & 0xffff) | sel << 16 | kind << 40 | (off >> 16) << 48
write("deliver", "real-int21", deliver_seed(0, 0, 0x1002, 0x7000, 0, 0, 0x3ff, 0, 0, 0, 0, 0x21,
                                            1, 0, [(0x84, 0x00001000)]))
write("deliver", "protected-gp", deliver_seed(CR0_PE, 0, 0x2000, 0x8000, 0, 0x3000, 0x7ff, 0x10000,
                                              0x1f, 0x08, 0x00cf9a00, 13, 0, 0x10,
                                              [(0x3000 + 13 * 8, gate32(0x4000, 0x08)),
                                               (0x10008, CODE32), (0x10010, DATA32)],
                                              ss_flags=0x00cf9200))
write("deliver", "protected-user-int80", deliver_seed(CR0_PE, 0, 0x2002, 0x9000, 3, 0x3000, 0x7ff,
                                                      0x10000, 0x2f, 0x1b, 0x00cffa00, 0x80, 1, 0,
                                                      [(0x3000 + 0x80 * 8, gate32(0x4000, 0x08, 0xef)),
                                                       (0x10008, CODE32), (0x10010, DATA32),
                                                       (0x10018, CODE32_USER), (0x5004, 0x10 << 32 | 0x6000)],
                                                      tr=0x5000, tr_limit=0x67, tr_type=0xb,
                                                      ss_flags=0x00cff200))
write("deliver", "long-ist", deliver_seed(CR0_PE, EFER_LME | EFER_LMA, 0x2000, 0x8000, 0, 0x3000,
                                          0xfff, 0x10000, 0x1f, 0x18, 0x00af9a00, 14, 0, 2,
                                          [(0x3000 + 14 * 16, gate32(0x4000, 0x18) | 1 << 32),
                                           (0x10018, CODE64), (0x5024, 0x7000)],
                                          tr=0x5000, tr_limit=0x67, tr_type=0xb))

# ---- elf_load ---------------------------------------------------------------------------------
# u8 mode, u8 ram, then the file: a minimal ELF64 and ELF32 with one PT_LOAD at 0x1000 and the entry
# on its code (mov eax, 42; hlt), and one whose segment would land on long mode's page tables.


def elf(cls, paddr, entry, code, memsz=None):
    memsz = len(code) if memsz is None else memsz
    if cls == 64:
        ehsize, phsize = 64, 56
        head = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
        head += u16(2) + u16(62) + u32(1) + u64(entry) + u64(ehsize) + u64(0) + u32(0)
        head += u16(ehsize) + u16(phsize) + u16(1) + u16(0) + u16(0) + u16(0)
        off = ehsize + phsize
        ph = u32(1) + u32(5) + u64(off) + u64(paddr) + u64(paddr) + u64(len(code))
        ph += u64(memsz) + u64(0x1000)
    else:
        ehsize, phsize = 52, 32
        head = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
        head += u16(2) + u16(3) + u32(1) + u32(entry) + u32(ehsize) + u32(0) + u32(0)
        head += u16(ehsize) + u16(phsize) + u16(1) + u16(0) + u16(0) + u16(0)
        off = ehsize + phsize
        ph = u32(1) + u32(off) + u32(paddr) + u32(paddr) + u32(len(code)) + u32(memsz)
        ph += u32(5) + u32(0x1000)
    return head + ph + code


code = b"\xb8\x2a\x00\x00\x00\xf4"
write("elf_load", "elf64-long", u8(3) + u8(0) + elf(64, 0x1000, 0x1000, code))
write("elf_load", "elf32-protected", u8(1) + u8(0) + elf(32, 0x1000, 0x1000, code))
write("elf_load", "elf32-real-bss", u8(0) + u8(3) + elf(32, 0x1000, 0x1000, code, 0x3000))
write("elf_load", "elf64-on-page-tables", u8(3) + u8(0) + elf(64, 0x12000, 0x12000, code))

# ---- multiboot --------------------------------------------------------------------------------
# u8 mode, u8 ram, u8 env (255: the default environment, else that many bytes follow), the
# environment, then the file: an ELF32 with a multiboot header after its code, 4-byte aligned.
MB_MAGIC = 0x1BADB002


def multiboot(flags, paddr=0x20000, memsz=None, sum_off=0):
    f = elf(32, paddr, paddr, code, memsz)
    f += bytes(-len(f) % 4)
    return f + u32(MB_MAGIC) + u32(flags) + u32(-(MB_MAGIC + flags) + sum_off)


env = b"NR_CPUS=1\nTESTNAME=seed\n"
write("multiboot", "protected-default-env", u8(1) + u8(31) + u8(255) + multiboot(2))
write("multiboot", "protected-env-file", u8(1) + u8(31) + u8(len(env)) + env + multiboot(0))
write("multiboot", "low-kernel", u8(1) + u8(0) + u8(255) + multiboot(3, 0x1000))
write("multiboot", "info-does-not-fit", u8(1) + u8(0) + u8(255) + multiboot(0, 0x1e000, 0x1000))
write("multiboot", "aout-kludge", u8(1) + u8(31) + u8(255) + multiboot(1 << 16))
write("multiboot", "video-mode", u8(1) + u8(31) + u8(255) + multiboot(1 << 2))
write("multiboot", "bad-checksum", u8(1) + u8(31) + u8(255) + multiboot(0, sum_off=1))
write("multiboot", "long-mode", u8(3) + u8(31) + u8(255) + multiboot(0))

# ---- gdb_packet -------------------------------------------------------------------------------
# The raw bytes gdb sends to the stub: packets framed as gdb frames them, acknowledgements, Ctrl-C
# and the malformed cases (bad checksum, '$' restarting, an escape at the end); and bare hex, which
# the target also reads as a hex string and a hex number.


def gdb_frame(payload):
    out = b""
    for c in payload:
        out += b"}" + bytes([c ^ 0x20]) if c in b"#$}*" else bytes([c])
    return b"$" + out + b"#%02x" % (sum(out) & 0xff)


write("gdb_packet", "g", b"+" + gdb_frame(b"g"))
write("gdb_packet", "qsupported", gdb_frame(b"qSupported:multiprocess+;swbreak+;hwbreak+;"
                                          b"qRelocInsn+;vContSupported+;no-resumed+") + b"+")
write("gdb_packet", "x-binary", gdb_frame(b"X7c00,6:" + bytes([0x23, 0x24, 0x7d, 0x2a, 0x03, 0])))
write("gdb_packet", "m-read", gdb_frame(b"m7c00,10") + b"+-")
write("gdb_packet", "g-write", gdb_frame(b"G" + b"0123456789abcdef" * 20))
write("gdb_packet", "vcont-ctrl-c", gdb_frame(b"vCont;s:1") + b"junk\x03+" + gdb_frame(b"c"))
write("gdb_packet", "bad-checksum", b"$g#68-" + gdb_frame(b"g"))
write("gdb_packet", "restart", b"$m10$a}" + gdb_frame(b"Z0,7c05,1"))
write("gdb_packet", "escape-at-end", b"$a}#de")
# One byte over TV_GDB_PACKET_MAX (16384), then a good packet; it also lifts libFuzzer's max_len.
write("gdb_packet", "too-long", gdb_frame(b"a" * 16385) + gdb_frame(b"g"))
write("gdb_packet", "hex-bytes", b"00aBfF7f")
write("gdb_packet", "hex-max", b"ffffffffffffffff")
write("gdb_packet", "hex-17-digits", b"10000000000000000")

# ---- gdb_commands -----------------------------------------------------------------------------
# u8 ram, u8 mode, then packets as gdb sends them.


def gdb_frame(payload):
    return b"$" + payload + b"#" + b"%02x" % (sum(payload) & 0xff)


def gdb_seed(mode, *packets):
    return u8(31) + u8(mode) + b"".join(gdb_frame(p) for p in packets)


hexs = lambda text: text.encode().hex().encode()
write("gdb_commands", "connect-long", gdb_seed(3, b"qSupported:swbreak+;hwbreak+", b"?",
      b"qXfer:features:read:target.xml:0,ffb", b"qAttached", b"g", b"p10", b"m0,40"))
write("gdb_commands", "registers-real", gdb_seed(0, b"g", b"G" + b"00" * 400, b"P8=00100000",
      b"P12=0010", b"p25"))
write("gdb_commands", "memory-paged32", gdb_seed(2, b"m400,10", b"M400,4:2a000000",
      b"X400,2:ab", b"mfffff000,4", b"m0,ffffffff"))
write("gdb_commands", "points-protected", gdb_seed(1, b"Z0,10,1", b"Z2,400,1", b"z0,10,1",
      b"Z4,400,8", b"Z2,400,3", b"z2,400,1"))
write("gdb_commands", "monitor", gdb_seed(3, b"qRcmd," + hexs("gpa 0x0 64"),
      b"qRcmd," + hexs("exits on"), b"qRcmd," + hexs("info"), b"qRcmd," + hexs("help"),
      b"qRcmd,zz"))
