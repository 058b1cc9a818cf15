/* The native oracle's context page, at a fixed address so that code with every general register
 * taken by the snippet can still reach it (absolute addressing, no base register), and the page
 * after it, which holds the 64-bit code a 32- or 16-bit snippet's tail far-jumps to: a far
 * pointer from such code has a 32-bit offset, so that code must sit below 4 GiB, where a PIE
 * binary's own is not. Shared by native.c and native_stub.S (and the oracle's tests). */
#ifndef TWINVM_FZ_NATIVE_CTX_H
#define TWINVM_FZ_NATIVE_CTX_H

#define FZ_CTX_ADDR 0x60000
#define FZ_CTX_IN (FZ_CTX_ADDR + 0x000)       /* 16 registers in encoding order, then RFLAGS */
#define FZ_CTX_OUT (FZ_CTX_ADDR + 0x100)      /* the same, at the end */
#define FZ_CTX_HOST_RSP (FZ_CTX_ADDR + 0x200) /* the C caller's stack */
#define FZ_CTX_CODE (FZ_CTX_ADDR + 0x208)     /* where the snippet starts */
#define FZ_CTX_EXIT (FZ_CTX_ADDR + 0x210)     /* fz_native_exit(_compat): where the tail goes */
/* 32 and 16 bits: the far pointer into the snippet's code segment (a 4-byte offset, then the
 * selector), the selector DS, ES and SS hold while it runs, and the process's own three. */
#define FZ_CTX_FAR (FZ_CTX_ADDR + 0x218)
#define FZ_CTX_DATA_SEL (FZ_CTX_ADDR + 0x220)
#define FZ_CTX_HOST_SS (FZ_CTX_ADDR + 0x222)
#define FZ_CTX_HOST_DS (FZ_CTX_ADDR + 0x224)
#define FZ_CTX_HOST_ES (FZ_CTX_ADDR + 0x226)

/* The LDT entries of the 16-bit code and data segments. */
#define FZ_LDT_CODE16 0
#define FZ_LDT_DATA16 1

#define FZ_STUB_ADDR 0x61000 /* fz_native_trampoline's copy, read and execute only */

#endif
