// Access to user memory from system calls. Every pointer and length a
// process passes is checked against its own page tables before the
// kernel touches it: a bad one is an error (-EFAULT) for the process,
// never a fault in the kernel.

#ifndef KERNEL_MM_UACCESS_H
#define KERNEL_MM_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm/vm.h"

// True if every byte of [va, va + len) lies in user space and is mapped in
// pml4 with user access (and writable, if write). An empty range is fine.
bool user_range_ok(pte_t *pml4, uint64_t va, size_t len, bool write);

// Copy between user memory of the current process and the kernel.
// Return 0, or -EFAULT (copying nothing) if the user range is not ok.
int copy_from_user(void *dst, uint64_t src, size_t len);
// copy_to_user first gives the process its own copy of any copy-on-write
// page in the range (user_writable).
int copy_to_user(uint64_t dst, const void *src, size_t len);

// Returns 0 if the process can write every byte of [dst, dst + len),
// giving it its own copy of each copy-on-write page there, or -EFAULT.
// A call that consumes what it reads (a pipe) checks its buffer so first,
// and an error loses nothing.
int user_writable(uint64_t dst, size_t len);

// Copies a NUL-terminated string of at most max - 1 characters from user
// memory, with its NUL, into dst. A string may end at the last byte of
// user space and may cross into a page that is not mapped: each page it
// enters is checked (user_range_ok) before a byte of it is read. Returns
// its length, -EFAULT if it reaches a byte the process may not read
// before its NUL, or -E2BIG if there is no NUL in its first max bytes.
int64_t copy_string_from_user(char *dst, uint64_t src, size_t max);

#endif
