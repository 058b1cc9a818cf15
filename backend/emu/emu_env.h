/* The part of Unicorn's x86 CPU state its API does not reach, through the CPU context blob
 * (uc_context_save copies QEMU's CPUX86State into it; uc_context_restore copies it back).
 *
 * Unicorn stops at a guest exception without delivering it, and what delivery needs is not in
 * the API: the exception's error code, whether it came from INT n (a trap) or the CPU (a fault),
 * the segments' hidden parts (64-bit mode writes only selectors), and the CPL. Worse, QEMU keeps
 * the exception "in flight" (old_exception) until its own delivery code, which Unicorn never
 * runs, clears it: the vCPU's next contributory fault or #PF would become #DF, the one after a
 * triple fault. So emu_exception.c reads and writes those fields here.
 *
 * The offsets come from QEMU 5.0's CPUX86State as Unicorn 2.1 builds it on a 64-bit host, and
 * are not trusted: emu_env_layout() checks them once per process against values written through
 * the API on a scratch instance (general registers and RIP at the start of the structure, the
 * debug registers near its end, FS's base in the segment array, the in-flight
 * marker at its reset value). Another layout fails the check, and the backend then reports
 * exceptions as it did before it could deliver them: SHUTDOWN, with the reason. */
#ifndef TWINVM_EMU_ENV_H
#define TWINVM_EMU_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include "emu_uc.h"

#include "x86.h"

/* QEMU's segment register order in env->segs. */
enum emu_env_seg { EMU_R_ES, EMU_R_CS, EMU_R_SS, EMU_R_DS, EMU_R_FS, EMU_R_GS };

/* A segment as QEMU caches it: flags is the descriptor's high dword (type, S, DPL, P, AVL, L,
 * D/B, G where those exist; base and limit bits in it are not used). */
struct emu_seg {
	uint32_t selector;
	uint64_t base;
	uint32_t limit;
	uint32_t flags;
};

/* QEMU's hflags bits this backend keeps in step when it loads CS or SS itself. */
#define EMU_HF_CPL_MASK 3u
#define EMU_HF_INHIBIT_IRQ (1u << 3) /* the instruction after STI or MOV SS: no interrupt */
#define EMU_HF_CS32 (1u << 4)
#define EMU_HF_SS32 (1u << 5)
#define EMU_HF_ADDSEG (1u << 6)
#define EMU_HF_LMA (1u << 14)
#define EMU_HF_CS64 (1u << 15)

/* A copy of one instance's CPU state, to read and change before putting it back. */
struct emu_env {
	uc_engine *uc;
	uc_context *ctx;
	uint8_t *env; /* CPUX86State's first byte inside ctx */
};

/* 0 when this Unicorn's layout is the one checked for; else -ENOTSUP with the reason in
 * tv_last_error() (the same answer every time: the check runs once). */
int emu_env_layout(void);

/* Saves uc's CPU state into e (emu_env_layout() must have said 0). -errno with the reason. */
int emu_env_save(struct emu_env *e, uc_engine *uc);

/* Writes e back into its instance. */
int emu_env_restore(struct emu_env *e);

/* Frees what emu_env_save allocated; e may be zeroed or already released. */
void emu_env_release(struct emu_env *e);

/* The exception Unicorn stopped at: its error code, and whether INT n, INT3 or INTO raised it
 * (RIP is then already on the next instruction). */
uint32_t emu_env_error_code(const struct emu_env *e);
bool emu_env_is_software(const struct emu_env *e);

/* Clears QEMU's exception in flight, as QEMU's own delivery does once a handler is entered. */
void emu_env_end_exception(struct emu_env *e);

uint32_t emu_env_hflags(const struct emu_env *e);
void emu_env_seg(const struct emu_env *e, enum emu_env_seg i, struct emu_seg *out);

/* Loads CS or SS (or another segment) and updates hflags as QEMU's cpu_x86_load_seg_cache does:
 * CS sets the code size (and 64-bit code under EFER.LMA), SS the CPL and the stack size. cr0_pe
 * and vm are the CPU's CR0.PE and EFLAGS.VM. */
void emu_env_load_seg(struct emu_env *e, enum emu_env_seg i, const struct emu_seg *seg,
		      bool cr0_pe, bool vm);

/* Sets the CPL alone (64-bit delivery to an inner level loads SS with a null selector whose
 * cached DPL is the new CPL: emu_env_load_seg on SS does that too). */
void emu_env_set_cpl(struct emu_env *e, unsigned cpl);

#endif
