/* The guest's console (what HC_print8bit and its friends print) and the machine's notes about the
 * guest (a refused hypercall, a port with no device, a --verbose detail). On a terminal both go to
 * the same screen, so a note waits until the guest's current line ends: it never lands in the
 * middle of one. Every console write goes through tv_console_write, which knows where lines end. */
#ifndef TWINVM_CONSOLE_H
#define TWINVM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct tv_machine;

struct tv_console {
	bool mid_line;      /* the guest's last byte was not a newline */
	char notes[1024];   /* notes waiting for the line's end, whole lines */
	size_t note_len;
	FILE *note_out;     /* where they go */
};

/* Writes the guest's bytes; a failed write stops the run at this exit (m->output_failed). */
void tv_console_write(struct tv_machine *m, const void *bytes, size_t len);

/* One note line (fmt ends in "\n") to out: now, after the console's bytes so far, when the
 * guest's line has ended; else when it does (or at the run's end, tv_console_notes_out). */
void tv_console_note(struct tv_machine *m, FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The notes still waiting, out now (the console flushed first). */
void tv_console_notes_out(struct tv_machine *m);

#endif
