/* Choosing the engine for a run: --backend auto|kvm|emu, decided by probes. */
#ifndef TWINVM_SELECT_H
#define TWINVM_SELECT_H

#include <stddef.h>

#include "backend.h"
#include "modes.h"

/* name is "auto", or an engine's name. auto takes the first engine (KVM before the emulator) whose
 * probe runs mode. Returns the engine, or NULL with the reason in why (an unknown name, an engine
 * that is not built in, or one that cannot run mode here). note says what auto chose and why. */
const struct tv_backend_ops *tv_select_backend(const char *name, enum tv_mode mode, char *note,
					       size_t note_len, char *why, size_t why_len);

/* The engine called name, without a probe; NULL with the reason in why (no such engine in this
 * build). For a run that probes only when it fails (frontend/run.c). */
const struct tv_backend_ops *tv_select_named(const char *name, char *why, size_t why_len);

#endif
