/* A golden trace's header line (trace_header.h) as diff reads it: what was run, so `twinvm diff
 * --against FILE` takes the guest, mode, platform and limits from the file, and the fields the
 * golden is known to differ in, with why. */
#ifndef TWINVM_GOLDEN_HEADER_H
#define TWINVM_GOLDEN_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "modes.h"

#define TV_GOLDEN_EXPECT_MAX 16

struct tv_golden_header {
	bool present; /* false: a trace of format 1, with no header line */
	char guest[256];
	enum tv_mode mode;
	uint64_t mem, max_exits; /* max_exits 0: the run went to its end */
	char platform[8];        /* --platform: "pc", or "none" when the header names none */
	bool instruction_level;  /* "level": "instruction" (every instruction), not "exit" */
	char engine[16];
	int nexpect;
	struct {
		char field[32];   /* a name --ignore takes */
		char reason[200];
	} expect[TV_GOLDEN_EXPECT_MAX];
};

/* True when the line is a header (it has the "twinvm_trace" member). */
bool tv_golden_is_header(const json_t *line);

/* Checks the header line and fills *h: 0, or -EINVAL with msg naming the field
 * ("\"twinvm_trace.mode\": not real, protected, paged32 or long"). */
int tv_golden_header_parse(const json_t *line, struct tv_golden_header *h, char *msg,
			   size_t msglen);

#endif
