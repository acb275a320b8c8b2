// Physical pages.
//
// Every page of physical memory up to the highest usable address has a
// struct page in the array `pages` (index = physical page number). Free
// pages are kept by a buddy allocator: a free block of order k is 2^k
// pages long, aligned to its size, and listed in free_lists[k]. Freeing a
// block merges it with its buddy (the block it would form a block of
// order k+1 with) as long as the buddy is free too.
//
// Reference counts: page_alloc returns pages with count 1 (the caller's
// reference); each mapping takes one more (mm/vm.h). page_put drops one
// and frees the block at 0; page_free is for an owner that knows it holds
// the only reference, and panics if the page is still mapped.

#ifndef KERNEL_MM_PAGE_H
#define KERNEL_MM_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/memlayout.h"

#define PAGE_MAX_ORDER 10               // blocks of up to 2^10 pages (4 MiB)
#define PAGE_ORDER_2M 9                 // a 2 MiB page
#define KSTACK_ORDER 2                  // a kernel stack: 16 KiB (a process's, a CPU's)

// struct page flags
#define PAGE_RESERVED 0x1       // never allocated: firmware, the kernel image, modules
#define PAGE_FREE     0x2       // first page of a free block (its order is valid)
#define PAGE_SLAB     0x4       // holds small objects of mm/kmalloc.c

struct page {
	struct page *next;      // free list, or the slab list of kmalloc
	struct page *prev;
	uint32_t refcount;
	uint8_t flags;
	uint8_t order;          // order of the block this page heads
	uint16_t slab_class;    // PAGE_SLAB: the size class of the objects
	void *slab_free;        // PAGE_SLAB: first free object
	uint32_t slab_used;     // PAGE_SLAB: objects handed out
};

extern struct page *pages;
extern size_t npages;           // entries in pages[]

static inline uint64_t page_to_pa(const struct page *p)
{
	return (uint64_t)(p - pages) << PAGE_SHIFT;
}

static inline void *page_to_va(const struct page *p)
{
	return P2V(page_to_pa(p));
}

// Lists of struct pages linked through next/prev, newest first: the
// buddy allocator's free lists and kmalloc's slab lists.
static inline void page_list_push(struct page **head, struct page *p)
{
	p->prev = NULL;
	p->next = *head;
	if (p->next)
		p->next->prev = p;
	*head = p;
}

static inline void page_list_remove(struct page **head, struct page *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		*head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

// The struct page of a physical address; panics outside pages[].
struct page *pa_to_page(uint64_t pa);

// Builds pages[] from the boot memory map and frees the usable pages the
// boot page tables map (the first 4 GiB).
void page_init(void);
// Frees the usable pages above that, once vm_init has mapped them.
void page_init_high(void);

// Allocates a block of 2^order contiguous pages, aligned to its size,
// with refcount 1. If zero, the block is cleared. Returns NULL when no
// block is free (the caller decides what that means).
struct page *page_alloc(unsigned order, bool zero);

// Frees a block of page_alloc's that only the caller references. Panics on
// a double free, on a page still mapped (refcount > 1), or on a reserved
// page.
void page_free(struct page *p);

void page_get(struct page *p);
// Drops a reference; frees the block when none is left.
void page_put(struct page *p);

// Counts, for tests and the monitor.
struct page_stats {
	size_t total;           // pages[] entries
	size_t reserved;
	size_t free;
	size_t free_blocks[PAGE_MAX_ORDER + 1];
};
void page_get_stats(struct page_stats *s);
// The pages free now (page_get_stats's free): what a run or a test
// compares before and after, to find pages it leaked.
size_t page_free_count(void);

// True if [pa, pa + len) overlaps memory the allocator must never hand
// out (what page_init reserved).
bool page_range_is_reserved(uint64_t pa, uint64_t len);

#endif
