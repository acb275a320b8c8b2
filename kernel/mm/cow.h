// Copy on write, for fork: parent and child share every page; a page
// that was writable becomes read-only with PTE_COW in both, and the first
// write to it (a page fault) gives the writer its own copy.

#ifndef KERNEL_MM_COW_H
#define KERNEL_MM_COW_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/vm.h"

// Maps every user page of src into dst, sharing them copy-on-write.
// Returns 0, -ENOMEM, or -EINVAL for a user large page (unsupported).
int vm_copy_cow(pte_t *dst, pte_t *src);

// Handles a write fault at va in pml4 (error_code from the CPU) if it hit
// a copy-on-write page: returns true if the page is now writable.
bool cow_fault(pte_t *pml4, uint64_t va, uint64_t error_code);

#endif
