// Images linked into the kernel image: the user programs (ELF files,
// kernel/user/Makefrag) and the test guests (flat binaries, vmx/Makefrag).
// tools/mkimages.py writes each set as a table of struct image named by
// the Makefrag, with its length in NAME_count.

#ifndef KERNEL_LIB_IMAGE_H
#define KERNEL_LIB_IMAGE_H

#include <stdint.h>

struct image {
	const char *name;
	const uint8_t *start;   // the file's bytes, 16-byte aligned
	const uint8_t *end;
};

// Returns the image called name among the count of table, or NULL.
const struct image *image_find(const struct image *table, uint64_t count, const char *name);

#endif
