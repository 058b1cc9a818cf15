/* The native oracle's context page, at a fixed address so that code with every general register
 * taken by the snippet can still reach it (absolute addressing, no base register). Shared by
 * native.c and native_stub.S. */
#ifndef TWINVM_FZ_NATIVE_CTX_H
#define TWINVM_FZ_NATIVE_CTX_H

#define FZ_CTX_ADDR 0x60000
#define FZ_CTX_IN (FZ_CTX_ADDR + 0x000)       /* 16 registers in encoding order, then RFLAGS */
#define FZ_CTX_OUT (FZ_CTX_ADDR + 0x100)      /* the same, at the end */
#define FZ_CTX_HOST_RSP (FZ_CTX_ADDR + 0x200) /* the C caller's stack */
#define FZ_CTX_CODE (FZ_CTX_ADDR + 0x208)     /* where the snippet starts */
#define FZ_CTX_EXIT (FZ_CTX_ADDR + 0x210)     /* fz_native_exit, which the snippet's tail jumps to */

#endif
