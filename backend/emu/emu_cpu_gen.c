/* Build time (meson's custom_target emu_cpu_table): measures what every CPU model's CPUID
 * answers on the Unicorn this is linked with, as a process would at its first VM
 * (emu_cpu_models.c), and writes the answers as C, the table emu_cpu.c takes them from when its
 * Unicorn reports the same uc_version(). When a model cannot be measured the table says version
 * 0, which no Unicorn reports: every process then measures, and reports that model's failure
 * itself (twinvm info), as it would without a table.
 *
 * Usage: emu-cpu-gen OUTPUT.c (exit status 1, and OUTPUT removed, when it cannot be written). */
#include "emu_cpu_models.h"

#include <stdio.h>

#if !EMU_HAVE_CPU_MODEL
#error "emu-cpu-gen needs uc_ctl_set_cpu_model (meson.build builds it only where it exists)"
#endif

static void write_model(FILE *f, size_t i, const struct emu_cpu_answers *m)
{
	fprintf(f, "\t\t[%zu] = { /* %s */\n", i, emu_cpu_models[i].name);
	for (unsigned q = 0; q < EMU_CPU_QUERIES; q++)
		fprintf(f, "\t\t\t{ 0x%08x, 0x%08x, 0x%08x, 0x%08x },\n", m->out[q][0], m->out[q][1],
			m->out[q][2], m->out[q][3]);
	fprintf(f, "\t\t},\n");
}

static void write_table(FILE *f, const struct emu_cpu_answers m[EMU_CPU_NMODELS],
			const char *error)
{
	unsigned major, minor, version = uc_version(&major, &minor);

	fprintf(f, "/* Written at build time by emu-cpu-gen (backend/emu/emu_cpu_gen.c): what every "
		   "CPU model's\n * CPUID answered on Unicorn %u.%u (uc_version() 0x%08x). */\n",
		major, minor, version);
	if (error[0])
		fprintf(f, "/* Not to be used (%s): every process measures. */\n", error);
	fprintf(f, "#include \"emu/emu_cpu_models.h\"\n\n");
	fprintf(f, "const struct emu_cpu_table emu_cpu_built = {\n");
	fprintf(f, "\t.version = 0x%08x,\n", error[0] ? 0 : version);
	fprintf(f, "\t.id = {");
	for (size_t i = 0; i < EMU_CPU_NMODELS; i++)
		fprintf(f, "%s%d,", i % 16 ? " " : "\n\t\t", emu_cpu_models[i].id);
	fprintf(f, "\n\t},\n\t.out = {\n");
	for (size_t i = 0; i < EMU_CPU_NMODELS; i++)
		write_model(f, i, &m[i]);
	fprintf(f, "\t},\n};\n");
}

int main(int argc, char **argv)
{
	static struct emu_cpu_answers m[EMU_CPU_NMODELS];
	char error[200];
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: emu-cpu-gen OUTPUT.c\n");
		return 2;
	}
	emu_cpu_measure_all(m, error, sizeof(error));
	if (error[0])
		fprintf(stderr, "emu-cpu-gen: %s: the table is left unused\n", error);
	f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	write_table(f, m, error);
	if (ferror(f) | fclose(f)) {
		perror(argv[1]);
		remove(argv[1]);
		return 1;
	}
	return 0;
}
