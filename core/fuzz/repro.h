/* A divergence on disk: a JSON record (the guest mode, the snippet, its start state, both results,
 * where they differ, the masks used) and a raw guest image for that mode that reproduces it under
 * `twinvm run --mode M` and `twinvm diff`, printing the diverging values with HC_print32bit. */
#ifndef TWINVM_FZ_REPRO_H
#define TWINVM_FZ_REPRO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "minimize.h"

/* The record of c. key names its bucket, oracle the other side ("native", "kvm"), disasm the
 * snippet as text (may be NULL). NULL when out of memory. */
json_t *fz_case_json(const struct fz_case *c, const char *key, const char *oracle,
		     const char *disasm);

/* Reads a record back into c (mode and s.bits, snippet code, start state, both results with their
 * error codes and system state where recorded, masks; c->s.ninsn and off[] are left for the
 * caller's fz_analyze) and the oracle's name. A record without "mode" is long mode (records from
 * before the other modes). Every field is checked: -EINVAL with why naming the first that is
 * missing or malformed. */
int fz_case_from_json(json_t *rec, struct fz_case *c, char *oracle, size_t oracle_len, char *why,
		      size_t why_len);

/* The reproducer: a raw image for c->mode, loaded and started at 0 as twinvm starts that mode,
 * that copies the start state's scratch area into place, loads its RFLAGS and registers, runs the
 * snippet at FZ_CODE_ADDR (real mode: at FZ_CODE_ADDR >> 4 : 0, with DS, ES and SS at
 * FZ_SCRATCH_ADDR >> 4, as fz.h has 16-bit code), and prints each field of c->diff with
 * HC_print32bit, then halts. Long mode prints a register's low half, then its high half, and the
 * 8 scratch bytes holding the first difference; the other modes compare only low halves and
 * print them, and the 4 scratch bytes holding it. RFLAGS is masked to the compared bits. A
 * snippet that faults ends the run in that fault. -EINVAL when c->s.bits is not c->mode's width,
 * -ENOSPC when cap is too small. */
int fz_repro_image(const struct fz_case *c, uint8_t *img, size_t cap, size_t *len);
#define FZ_REPRO_IMAGE_SIZE 0x4000u /* every reproducer image's size */

/* Writes <dir>/<name>.json and <dir>/<name>.bin for c. 0, or -errno with why. */
int fz_case_write(const char *dir, const char *name, const struct fz_case *c, const char *key,
		  const char *oracle, const char *disasm, char *why, size_t why_len);

#endif
