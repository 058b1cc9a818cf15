/* Probes: what an engine can really do on this host, found by running tiny guests rather than
 * assumed from version numbers. */
#ifndef TWINVM_PROBE_H
#define TWINVM_PROBE_H

#include <stddef.h>

#include "backend.h"
#include "modes.h"

/* Runs a probe guest in mode on be. It reads a marker through the mode's addressing: in the paged
 * modes through a page mapped away from its physical address, so an engine that ignores the guest
 * page tables reads the wrong memory. Returns 0 when the mode runs, -ENODEV when the engine cannot
 * be opened here, -ENOTSUP when it opens but cannot run the mode; reason says why in one line. */
int tv_probe_mode(const struct tv_backend_ops *be, enum tv_mode mode, char *reason, size_t len);

/* How many probe VMs this process has made: each is a whole VM's start-up, which a run on a
 * named engine does not pay (tests hold it to that). */
unsigned long tv_probe_count(void);

#endif
