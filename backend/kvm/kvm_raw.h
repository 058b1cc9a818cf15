/* The KVM baseline for benchmarks (kvm_raw.c). */
#ifndef TWINVM_KVM_RAW_H
#define TWINVM_KVM_RAW_H

#include "../backend.h"

int kvm_raw_run(void *ram, uint64_t ram_size, const struct tv_raw_io *io,
		struct tv_raw_result *res);

#endif
