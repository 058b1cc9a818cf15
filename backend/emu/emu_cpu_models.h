/* The CPU models Unicorn offers, and what each one's CPUID answers: measured by running cpuid on
 * a scratch instance per model (emu_cpu_models.c). The answers depend on the Unicorn library
 * alone (its model tables and TCG), not on the host, so they are measured twice over: at build
 * time by emu_cpu_gen.c, which writes them into a table (emu_cpu_table.c in the build
 * directory), and at run time by emu_cpu.c only when the process's Unicorn is not the one the
 * table was measured on. emu_cpu.c compares them with the host's own cpuid to pick the default.
 *
 * Self-contained (Unicorn's header only), as the generator is built from it without the rest of
 * the backend. */
#ifndef TWINVM_EMU_CPU_MODELS_H
#define TWINVM_EMU_CPU_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "emu_uc.h"

/* uc_ctl_set_cpu_model is a macro where it exists (2.0 may lack it). */
#ifdef uc_ctl_set_cpu_model
#define EMU_HAVE_CPU_MODEL 1
#else
#define EMU_HAVE_CPU_MODEL 0
#endif

/* The leaves measured on each model: 0, 1, 7.0, 0x80000000, 0x80000001, 0x80000008. */
#define EMU_CPU_QUERIES 6

#if EMU_HAVE_CPU_MODEL

#define EMU_CPU_NMODELS 38

/* The models in the order of enum uc_cpu_x86, oldest family first within each vendor. */
extern const struct emu_cpu_id {
	const char *name;
	int id; /* UC_CPU_X86_* */
} emu_cpu_models[EMU_CPU_NMODELS];

/* EAX and ECX of each query. */
extern const uint32_t emu_cpu_queries[EMU_CPU_QUERIES][2];

/* One model's answers: EAX, EBX, ECX, EDX per query, if it could be measured. */
struct emu_cpu_answers {
	bool ok;
	uint32_t out[EMU_CPU_QUERIES][4];
};

/* Runs the queries on a fresh UC_MODE_64 instance of model id (UC_CPU_X86_*). */
uc_err emu_cpu_measure(int id, uint32_t out[EMU_CPU_QUERIES][4]);

/* Measures every model into m, one scratch instance after the other (Unicorn 2.1.1 leaks when
 * two are open at once); the first failure, "model NAME: Unicorn's text", into error. */
void emu_cpu_measure_all(struct emu_cpu_answers m[EMU_CPU_NMODELS], char *error, size_t len);

/* How many scratch instances emu_cpu_measure opened in this process: 0 where the build's table
 * served (for the tests that check that it does). */
unsigned long emu_cpu_measured_count(void);

/* What emu_cpu_gen wrote at build time: the answers of every model, measured on the Unicorn
 * whose uc_version() is version (0 when a model failed there: the table is not to be used). */
struct emu_cpu_table {
	unsigned version;
	int id[EMU_CPU_NMODELS];
	uint32_t out[EMU_CPU_NMODELS][EMU_CPU_QUERIES][4];
};
extern const struct emu_cpu_table emu_cpu_built;

#endif
#endif
