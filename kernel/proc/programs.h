// The user programs linked into the kernel image (kernel/user/Makefrag
// makes the table with tools/mkimages.py; lib/image.h).

#ifndef KERNEL_PROC_PROGRAMS_H
#define KERNEL_PROC_PROGRAMS_H

#include "lib/image.h"

// Returns the program called name (its ELF image), or NULL.
const struct image *user_program_find(const char *name);
// Prints the names of all programs on one line.
void user_program_list(void);

#endif
