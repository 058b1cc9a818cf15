/* Shared test helpers. */
#include "tv_test.h"

#include <string.h>
#include <unistd.h>

#include "probe.h"

/* The signatures: which engine, which mode (TV_MODE_COUNT: any), and text the reason carries. */
static const struct {
	enum tv_host_limit limit;
	const char *engine;
	enum tv_mode mode;
	const char *signature;
} host_limits[] = {
	{ TV_LIMIT_KVM_ABSENT, "kvm", TV_MODE_COUNT, "/dev/kvm: No such file or directory" },
	{ TV_LIMIT_KVM_ABSENT, "kvm", TV_MODE_COUNT, "/dev/kvm: Permission denied" },
	{ TV_LIMIT_KVM_ABSENT, "kvm", TV_MODE_COUNT, "/dev/kvm: Operation not permitted" },
	{ TV_LIMIT_KVM_ABSENT, "kvm", TV_MODE_COUNT, "/dev/kvm: not used here: TWINVM_NO_KVM is set" },
	{ TV_LIMIT_KVM_ABSENT, "kvm", TV_MODE_COUNT, "engine kvm is not built in" },
	{ TV_LIMIT_KVM_NO_PAGED32, "kvm", TV_MODE_PAGED32,
	  "paged32 mode is not supported by this host's kvm: it dropped CR0.PG when the registers "
	  "were set" },
	{ TV_LIMIT_CPU_NO_1G, "kvm", TV_MODE_LONG,
	  "the guest's CPUID has no 1 GiB pages (CPUID 0x80000001 EDX bit 26 clear)" },
	{ TV_LIMIT_KVM_NO_EMULATION, "kvm", TV_MODE_COUNT,
	  "(KVM_INTERNAL_ERROR_EMULATION): cannot emulate the instruction at" },
	/* set_debug_points' -EOPNOTSUPP (backend/kvm/kvm_debug.c) */
	{ TV_LIMIT_KVM_NO_DEBUGREGS, "kvm", TV_MODE_COUNT, "KVM debug registers: " },
	/* The native oracle's reasons for a width it cannot run (core/fuzz/native.c). */
	{ TV_LIMIT_NATIVE_NO_COMPAT, "native", TV_MODE_COUNT,
	  "the far jump into the 32-bit user code segment (0x23) faults on this host" },
	/* modify_ldt failing with ENOSYS or EPERM: native.c names each in the same words. */
	{ TV_LIMIT_NATIVE_NO_16BIT, "native", TV_MODE_COUNT,
	  "(a kernel without CONFIG_MODIFY_LDT_SYSCALL)" },
	{ TV_LIMIT_NATIVE_NO_16BIT, "native", TV_MODE_COUNT, "(a seccomp filter refuses it?)" },
	{ TV_LIMIT_NATIVE_NO_16BIT, "native", TV_MODE_COUNT,
	  "the far jump into the 16-bit LDT code segment" },
};

const char *tv_host_limit_tag(enum tv_host_limit limit)
{
	static const char *const tags[TV_LIMIT_COUNT] = {
		[TV_LIMIT_KVM_ABSENT] = "kvm-absent",
		[TV_LIMIT_KVM_NO_PAGED32] = "kvm-no-paged32",
		[TV_LIMIT_CPU_NO_1G] = "cpu-no-1g-pages",
		[TV_LIMIT_KVM_NO_EMULATION] = "kvm-no-emulation",
		[TV_LIMIT_NATIVE_NO_COMPAT] = "native-no-compat",
		[TV_LIMIT_NATIVE_NO_16BIT] = "native-no-16bit",
		[TV_LIMIT_NO_BINUTILS] = "binutils-absent",
		[TV_LIMIT_NO_GDB] = "gdb-absent",
		[TV_LIMIT_KVM_NO_DEBUGREGS] = "kvm-no-debugregs",
	};

	return (unsigned)limit < TV_LIMIT_COUNT ? tags[limit] : "?";
}

bool tv_test_host_limit(const char *engine, enum tv_mode mode, const char *reason, char *why,
			size_t len)
{
	for (size_t i = 0; i < sizeof(host_limits) / sizeof(host_limits[0]); i++) {
		if (strcmp(host_limits[i].engine, engine) != 0 ||
		    (host_limits[i].mode != TV_MODE_COUNT && host_limits[i].mode != mode) ||
		    !strstr(reason, host_limits[i].signature))
			continue;
		char copy[1024];

		snprintf(copy, sizeof(copy), "%s", reason); /* why may be reason */
		snprintf(why, len, "[host limit: %s] %s", tv_host_limit_tag(host_limits[i].limit),
			 copy);
		return true;
	}
	return false;
}

const struct tv_backend_ops *tv_test_engine(const char *name, enum tv_mode mode, char *why,
					    size_t len)
{
	const struct tv_backend_ops *be = tv_backend_find(name);
	char reason[768];

	if (!be)
		snprintf(reason, sizeof(reason), "engine %s is not built in", name);
	else if (tv_probe_mode(be, mode, reason, sizeof(reason)) == 0)
		return be;
	if (!tv_test_host_limit(name, mode, reason, why, len))
		ck_abort_msg("%s cannot run %s mode here, and no known host limit explains it (so "
			     "this is a failure, not a skip): %s", name, tv_mode_name(mode), reason);
	return NULL;
}

const char *tv_temp_path(char *path, size_t len, const char *suffix)
{
	int fd;

	ck_assert_int_lt(snprintf(path, len, "/tmp/twinvm-test-XXXXXX%s", suffix), (int)len);
	fd = mkstemps(path, (int)strlen(suffix));
	ck_assert_int_ge(fd, 0);
	close(fd);
	return path;
}

bool tv_test_mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

int tv_test_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
