// The user programs linked into the kernel image (kernel/user/Makefrag
// makes the table).

#ifndef KERNEL_PROC_PROGRAMS_H
#define KERNEL_PROC_PROGRAMS_H

#include <stdint.h>

struct user_program {
	const char *name;
	const uint8_t *start;   // the ELF image
	const uint8_t *end;
};

// Returns the program called name, or NULL.
const struct user_program *user_program_find(const char *name);
// Prints the names of all programs on one line.
void user_program_list(void);

#endif
