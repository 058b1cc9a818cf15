/* A trace's first line: what it is a trace of, so a golden file describes itself and `twinvm diff
 * --against FILE` needs nothing else. {"twinvm_trace":{"format":2,"version":"0.1.0","guest":
 * "hello","mode":"long","mem":"0x200000","max_exits":0,"level":"exit","engine":"kvm","cpu":
 * {"vendor":"AuthenticAMD","signature":"0xa00f11","brand":"AMD EPYC"}}}, with "platform":"pc"
 * last when the run had --platform pc (absent: none). A golden may add
 * "expect": [{"field":"rbx","reason":"..."}], the fields it is known to differ in (golden.h). A
 * trace without this line (format 1, before it existed) is still read. */
#ifndef TWINVM_TRACE_HEADER_H
#define TWINVM_TRACE_HEADER_H

#include <stdint.h>

#include <jansson.h>

#include "modes.h"

#define TV_TRACE_HEADER_KEY "twinvm_trace"
#define TV_TRACE_FORMAT 2

struct tv_machine;

/* What the tool knows of a run that the machine does not. */
struct tv_trace_info {
	const char *guest;     /* as the user named it: a built-in's name or a file */
	const char *cpu_model; /* --cpu as given, or NULL */
	const char *version;   /* twinvm's */
	uint64_t max_exits;    /* 0: none */
};

/* The header line for m, booted (its vCPU answers CPUID), or NULL when out of memory. */
json_t *tv_trace_header(struct tv_machine *m, const struct tv_trace_info *info);

#endif
