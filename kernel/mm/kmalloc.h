// The kernel heap: kmalloc and kfree for small objects.
//
// Sizes up to KMALLOC_MAX_SMALL are rounded up to a power of two (a size
// class) and carved out of slab pages, each holding objects of one class;
// larger requests get whole pages from page_alloc. The struct page of a
// slab keeps its class, its free objects and its count of objects in use,
// so kfree needs no size.

#ifndef KERNEL_MM_KMALLOC_H
#define KERNEL_MM_KMALLOC_H

#include <stddef.h>

#define KMALLOC_MIN 16
#define KMALLOC_MAX_SMALL 2048

// Returns memory for size bytes aligned to min(size class, 4096), or NULL
// if size is 0 or no memory is left.
void *kmalloc(size_t size);
// Like kmalloc, with the memory cleared.
void *kzalloc(size_t size);
// Frees what kmalloc returned; NULL is ignored. Panics on a pointer
// kmalloc did not return and on a double free.
void kfree(void *ptr);

#endif
