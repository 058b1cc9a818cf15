/* The built-in guests: images embedded in the binary, one per bitness, chosen by name. */
#ifndef TWINVM_BUILTIN_H
#define TWINVM_BUILTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"

struct tv_builtin {
	const char *name;
	const char *summary;
	const uint8_t *image[3]; /* 16-, 32- and 64-bit builds; NULL where there is none */
	const size_t *len[3];
	/* Optional: the host-side checks that prove the guest ran right, after it halted. Prints
	 * one line per check to out; returns the number of failed checks. */
	int (*check)(struct tv_machine *m, FILE *out);
};

/* The guest called name, or NULL. */
const struct tv_builtin *tv_builtin_find(const char *name);

/* All built-in guests, NULL-terminated. */
extern const struct tv_builtin *const tv_builtins[];

/* The mode a run of g takes when the user names none: real mode for a guest built for real mode
 * alone (guest1, counter), long mode for any other, and for NULL (a file). */
enum tv_mode tv_builtin_mode(const struct tv_builtin *g);

/* The image of g for mode; false when g has no build for that mode's bitness. */
bool tv_builtin_image(const struct tv_builtin *g, enum tv_mode mode, const uint8_t **image,
		      size_t *len);

#endif
