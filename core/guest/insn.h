/* The little x86 decoding twinvm needs: string I/O instructions (ins/outs, with or without rep),
 * to tell the exits of one such instruction apart from the next instruction's; the instruction
 * that made an I/O or HLT exit, for traces; and the bytes at a guest address for reports. Not a disassembler: disasm.h is, when Capstone is installed. */
#ifndef TWINVM_INSN_H
#define TWINVM_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "guestmem.h"

#define TV_INSN_MAX 15 /* the longest x86 instruction */

/* 16, 32 or 64: the code size the CPU state says (CS.L under EFER.LMA, else CS.D). */
int tv_code_bits(const struct tv_sregs *s);

/* Reads up to TV_INSN_MAX bytes of the instruction at rip through the guest's page tables;
 * returns how many could be read (0 when rip is unmapped or outside RAM). */
size_t tv_insn_fetch(const struct tv_ram *ram, const struct tv_sregs *s, uint64_t rip,
		     uint8_t *bytes);

struct tv_string_io {
	unsigned len;   /* instruction length in bytes */
	bool rep;       /* F2/F3 prefix: RCX counts the elements */
	uint64_t count_mask; /* the part of RCX the address size uses */
};

/* True when bytes (n of them, for code of the given size) start with ins or outs; fills *io. */
bool tv_decode_string_io(const uint8_t *bytes, size_t n, int bits, struct tv_string_io *io);

/* The instruction that made an IO or HLT exit, whose state (s, rip) is the one after it: its
 * address in *addr and its bytes, read through the page tables, in bytes (TV_INSN_MAX of room);
 * returns its length, or 0 when no instruction ending at rip makes that exit (or e is another
 * kind of exit). The I/O forms are few and short, so looking back is unambiguous. */
size_t tv_exit_insn(const struct tv_ram *ram, const struct tv_sregs *s, uint64_t rip,
		    const struct tv_exit *e, uint64_t *addr, uint8_t *bytes);

#endif
