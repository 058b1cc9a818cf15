/* twinvm run --api-chart: the run's engine calls drawn as a flowchart (SVG).
 *
 * The recorder is a stdio stream handed to the engine as its api_log (backend.h): every
 * --trace-api line written to it goes on to echo (stderr under --trace-api, or nowhere) and is
 * read back into steps. A line that ends with a step note (TV_API_NOTE) is a step; lines without
 * one only check or read back and are left out. Consecutive calls with the same note make one box
 * ("KVM_CHECK_EXTENSION x6"). The calls that enter the guest (KVM_RUN, uc_emu_start) make the run
 * box; what happens between two of them with the same note is folded into it, and it is drawn as
 * the run loop. A line that begins with two spaces (a Unicorn hook, the data an IN returns) is
 * kept with the next step, as what happened inside it. */
#ifndef TWINVM_API_CHART_H
#define TWINVM_API_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TV_CHART_SAMPLES 24 /* calls of one name kept per box, for its text; more are counted */
#define TV_CHART_NAMES 4    /* call names per group; calls of further names are counted */
#define TV_CHART_BOXES 64   /* steps drawn; later ones are counted */
#define TV_CHART_TEXT 512   /* bytes kept of one call's inputs or result (a box shows less) */

/* The calls of one name in a box: how many, and the inputs and results of the first ones. */
struct tv_chart_calls {
	char name[48];
	bool paren; /* a call, "NAME(args)"; else a line inside one, "hook OUT port 0xe9 ..." */
	unsigned long count;
	char *args[TV_CHART_SAMPLES];	/* "slot 0, flags 0x0, ..." */
	char *result[TV_CHART_SAMPLES]; /* "fd 4", "UC_ERR_OK", "0: KVM_EXIT_HLT" */
};

struct tv_chart_group {
	struct tv_chart_calls of[TV_CHART_NAMES];
	size_t n;
	unsigned long more; /* calls whose name did not fit */
};

/* One step of the run. */
struct tv_chart_box {
	char *note;
	bool run; /* its calls enter the guest */
	struct tv_chart_group calls;
	struct tv_chart_group inside;  /* what happened inside or around the calls: hooks */
	struct tv_chart_group between; /* a run box: the steps made between two of its calls */
};

struct tv_api_chart {
	FILE *log;  /* what the engine writes to */
	FILE *echo; /* where its lines go on, or NULL */
	char line[8192];
	size_t len;
	bool overlong; /* the line being written did not fit: left out */
	struct tv_chart_box box[TV_CHART_BOXES];
	size_t nbox;
	unsigned long dropped;	       /* steps after the last box */
	struct tv_chart_group pending; /* lines inside a call, waiting for the step they belong to */
	long loop;		       /* the run box later runs with its note fold into; -1: none */
	int error;		       /* the first failure to keep a line (-ENOMEM), or 0 */
};

/* A recorder whose stream c->log passes every line on to echo (NULL: nowhere). 0, or -errno. */
int tv_api_chart_open(struct tv_api_chart **out, FILE *echo);

/* Takes one whole line, without its newline, as if the engine had written it. */
void tv_api_chart_line(struct tv_api_chart *c, const char *line);

/* Draws the steps so far as an SVG flowchart under title ("KVM, long mode, guest hello"). 0, or
 * -errno when out could not be written or a line could not be kept. */
int tv_api_chart_write(struct tv_api_chart *c, FILE *out, const char *title);

/* Closes the stream and frees c; NULL-safe. */
void tv_api_chart_close(struct tv_api_chart *c);

#endif
