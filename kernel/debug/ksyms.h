// The kernel's own symbol table, for backtraces.
//
// The build links the kernel twice (kernel/Makefrag): the first image's
// function symbols (nm) become tools/mksyms.py's table, which is linked into
// the second image in the .ksyms section. The section sits after all code
// and read-only data, so adding it moves no function.

#ifndef KERNEL_DEBUG_KSYMS_H
#define KERNEL_DEBUG_KSYMS_H

#include <stdbool.h>
#include <stdint.h>

// The generated table: ksym_count functions sorted by address, plus one
// last entry that marks the end of the kernel text. The name of function
// i is the string at ksym_names + ksym_name_offsets[i].
extern const uint64_t ksym_count;
extern const uint64_t ksym_addrs[];
extern const uint32_t ksym_name_offsets[];
extern const char ksym_names[];

// Finds the function that contains addr. On success sets *name and *start
// (the function's first address) and returns true; returns false if addr
// is not inside the kernel text.
bool ksym_lookup(uint64_t addr, const char **name, uint64_t *start);

#endif
