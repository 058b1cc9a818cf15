/* The differential tester: one guest on two engines in lockstep (or one engine against a golden
 * trace), canonical record by canonical record (record.h), reporting the first divergence.
 *
 * What is compared, per record: the exit reason; the IO payload (direction, port, size, count,
 * data) or the MMIO one (address, length, direction, data); every general register, RIP and
 * RFLAGS; the six segment selectors and bases; CR0, CR3, CR4 and EFER; what the hypercall device
 * made of it (name, argument, result, guest-physical address, string, error). At the end, guest RAM: a
 * hash, then the first differing byte. Fields can be masked with --ignore (exact names, as
 * diff_fields.c's table lists them, "ram", or one RFLAGS bit such as rflags.af). */
#ifndef TWINVM_DIFF_H
#define TWINVM_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "backend.h"
#include "golden.h"
#include "machine.h"
#include "modes.h"

enum tv_diff_status {
	TV_DIFF_SAME = 0,
	TV_DIFF_DIVERGED = 1,
	TV_DIFF_ERROR = 2,
};

struct tv_diff_opts {
	enum tv_mode mode;
	const char *guest_name; /* for the report */
	const uint8_t *image;
	size_t len;
	uint64_t ram_size;
	bool step;            /* compare after every instruction, not only at exits */
	uint64_t max_records; /* stop, agreeing, after this many; 0: until the guest ends */
	const char *const *ignore;
	int nignore;
	const struct tv_backend_ops *a; /* the engine that runs */
	const struct tv_backend_ops *b; /* the other engine, or NULL with golden */
	FILE *golden;                   /* --against: records recorded earlier */
	const char *golden_name;
	/* its header: the expected divergences (in ignore too) are named in the report */
	const struct tv_golden_header *golden_header;
	double timeout_s; /* for each engine to reach its next record */
	const char *cpu_model; /* tv_machine_opts.cpu_model for both engines; NULL: default */
	/* tv_machine_opts' devices and multiboot environment, the same for both engines */
	enum tv_platform platform;
	const void *multiboot_env;
	size_t multiboot_env_len;
	const char *multiboot_cmdline;
	/* With two live engines, b's guest sees a's CPUID table (--cpuid shared), when a can give it
	 * (cpuid_table) and b can take it: a guest that reads CPUID takes the same paths on both. */
	bool mirror_cpuid;
	FILE *out;        /* the report */
	FILE *err;        /* error lines ("twinvm diff: ..."); NULL: stderr */
};

/* True when name is something --ignore understands (a field, or rflags.<flag>). */
bool tv_diff_field_known(const char *name);

/* Runs the comparison and writes its report to o->out; errors go to o->err. */
enum tv_diff_status tv_diff(const struct tv_diff_opts *o);

#endif
