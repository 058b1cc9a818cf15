/* Exit traces: one JSON object per line (JSON Lines), the canonical record of an exit. The same
 * format is written by `twinvm run --trace` and kept as golden traces in tests/.
 *
 * {"vm":0,"seq":1,"reason":"IO","code":2,
 *  "io":{"dir":"out","port":233,"size":1,"count":1,"data":"48"},
 *  "regs":{"rax":"0x48",...,"rip":"0x7","rflags":"0x2"},
 *  "sregs":{"cs":{"sel":"0x0","base":"0x0"},...,"cr0":"0x10","cr3":"0x0","cr4":"0x0","efer":"0x0"}}
 *
 * Register values are hex strings: JSON numbers lose precision above 2^53. I/O and MMIO data are
 * the bytes in guest order, as hex. */
#ifndef TWINVM_TRACE_H
#define TWINVM_TRACE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "hypercalls.h"

/* The JSON object for one exit; the caller owns the reference. regs and sregs may be NULL when
 * the state could not be read (the record then has no "regs"/"sregs"). */
json_t *tv_trace_record(int vm, uint64_t seq, const struct tv_exit *exit,
			const struct tv_regs *regs, const struct tv_sregs *sregs);

/* {"name":"HC_printStr","arg":"0x...","result":"0x...","text":"...","error":"..."}: what a
 * hypercall exit did; arg, result, gpa and hva (HC_gvaToHva: where the address led, hva the whole
 * host pointer), text (HC_printStr's string) and error appear only when there is one. */
json_t *tv_trace_hypercall(const struct tv_hc_record *hc);

/* Guest bytes as a JSON string, each byte the code point of its value (ISO 8859-1), so any bytes
 * make valid JSON and printable ASCII reads as itself. */
json_t *tv_json_bytes_text(const char *bytes, size_t len);

/* Writes the object as one line and flushes, so a trace survives a crash of the guest's run.
 * 0, or -EIO. */
int tv_trace_write(FILE *f, json_t *record);

/* Hex string of a 64-bit value, "0x2a"; parses back with tv_trace_hex(). */
json_t *tv_json_hex(uint64_t value);
/* Reads a "0x..." string member of obj; -EINVAL when missing or malformed. */
int tv_trace_hex(const json_t *obj, const char *key, uint64_t *value);

#endif
