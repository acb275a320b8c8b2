// The physical page allocator (see page.h): pages[] from the memory map,
// and the buddy allocator over it.

#include "boot/bootinfo.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/string.h"
#include "mm/page.h"
#include "sync/spinlock.h"

struct page *pages;
size_t npages;

// Free blocks of each order: doubly linked through next/prev, newest
// first, so that a block freed is the next one handed out (the tests
// check this reuse).
static struct page *free_lists[PAGE_MAX_ORDER + 1];
// Guards free_lists, and the flags, order and refcount of every page.
static struct spinlock page_lock = SPINLOCK_INIT("pages");

// Physical ranges never handed out, filled in by page_init.
#define MAX_RESERVED 24
static struct { uint64_t start, end; } reserved[MAX_RESERVED];
static int nreserved;

// Until vm_init maps all of it, only memory the boot page tables map
// (boot/entry.S) is given out.
#define BOOT_DIRECTMAP_LIMIT ((uint64_t)BOOT_DIRECTMAP_GIB << 30)

// Everything below 1 MiB stays reserved: the BIOS data area, the EBDA,
// and the page the other CPUs start in (Lab 4); and page 0 is NULL.
#define LOW_MEMORY_END 0x100000

static void reserve_range(uint64_t start, uint64_t end)
{
	if (nreserved == MAX_RESERVED)
		panic("page_init: more than %d reserved ranges", MAX_RESERVED);
	reserved[nreserved].start = start & ~(uint64_t)(PAGE_SIZE - 1);
	reserved[nreserved].end = (end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	nreserved++;
}

bool page_range_is_reserved(uint64_t pa, uint64_t len)
{
	for (int i = 0; i < nreserved; i++)
		if (pa < reserved[i].end && pa + len > reserved[i].start)
			return true;
	return false;
}

static bool range_is_usable(uint64_t pa, uint64_t len)
{
	for (int i = 0; i < bootinfo.nregions; i++) {
		const struct mem_region *r = &bootinfo.regions[i];
		if (r->type == MEM_USABLE && pa >= r->base && pa + len <= r->base + r->length)
			return true;
	}
	return false;
}

static uint64_t highest_usable_address(void)
{
	uint64_t top = 0;

	for (int i = 0; i < bootinfo.nregions; i++) {
		const struct mem_region *r = &bootinfo.regions[i];
		if (r->type == MEM_USABLE && r->base + r->length > top)
			top = r->base + r->length;
	}
	return top & ~(uint64_t)(PAGE_SIZE - 1);
}

// Finds room for pages[] in usable memory above every reserved range
// that page_init knows so far (the kernel image and the modules).
static uint64_t place_page_array(uint64_t bytes)
{
	uint64_t pa = 0;

	for (int i = 0; i < nreserved; i++)
		if (reserved[i].end > pa)
			pa = reserved[i].end;
	for (int i = 0; i < bootinfo.nregions; i++) {
		const struct mem_region *r = &bootinfo.regions[i];
		uint64_t start = r->base > pa ? r->base : pa;
		start = (start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		if (range_is_usable(start, bytes) && start + bytes <= BOOT_DIRECTMAP_LIMIT)
			return start;
	}
	panic("page_init: no usable memory for the %lu KiB page array", bytes / 1024);
}

struct page *pa_to_page(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	if (pfn >= npages)
		panic("pa_to_page: physical address 0x%lx is above the last page 0x%lx",
		      pa, (uint64_t)npages << PAGE_SHIFT);
	return &pages[pfn];
}

// Puts the block of 2^order pages that starts at p on a free list,
// merged with its buddy, and the buddy of the merged block, and so on,
// while the buddy is a whole free block of the same order (never beyond
// PAGE_MAX_ORDER). The block's head ends with PAGE_FREE and its order;
// a buddy merged into it is no head any more. The caller holds page_lock
// (or is page_init, alone).
static void free_block(struct page *p, unsigned order)
{
	// BEGIN LAB 2 SOLUTION: buddy_merge
	size_t pfn = p - pages;

	while (order < PAGE_MAX_ORDER) {
		size_t buddy_pfn = pfn ^ ((size_t)1 << order);
		if (buddy_pfn >= npages)
			break;
		struct page *buddy = &pages[buddy_pfn];
		if (!(buddy->flags & PAGE_FREE) || buddy->order != order)
			break;
		page_list_remove(&free_lists[order], buddy);
		buddy->flags &= ~PAGE_FREE;
		pfn &= ~((size_t)1 << order);   // the merged block starts at the lower half
		order++;
	}
	p = &pages[pfn];
	p->order = order;
	p->flags |= PAGE_FREE;
	page_list_push(&free_lists[order], p);
	// STUB:
	// static bool said;
	// if (!said)
	// 	printk("free_block: LAB 2: buddy_merge not written: freed blocks are not merged\n");
	// said = true;
	// p->order = order;
	// p->flags |= PAGE_FREE;
	// page_list_push(&free_lists[order], p);
	// END LAB 2
}

// The order of the largest block that starts at pa, is aligned to its
// size, ends by end, and holds only usable, unreserved pages; -1 if the
// page at pa itself is not free memory.
static int largest_free_block(uint64_t pa, uint64_t end)
{
	// BEGIN LAB 2 SOLUTION: buddy_init
	for (int order = PAGE_MAX_ORDER; order >= 0; order--) {
		uint64_t size = (uint64_t)PAGE_SIZE << order;
		if (pa % size == 0 && pa + size <= end && range_is_usable(pa, size) &&
		    !page_range_is_reserved(pa, size))
			return order;
	}
	return -1;
	// STUB:
	// (void)pa, (void)end;
	// return -1;
	// END LAB 2
}

// Frees the usable, unreserved pages of [start, end) as the fewest,
// largest aligned blocks: what a fully merged buddy allocator holds. (So
// allocation can be tried before freeing merges anything.) Each page of
// a block freed loses PAGE_RESERVED; the others keep it.
static void free_usable_pages(uint64_t start, uint64_t end)
{
	uint64_t top = (uint64_t)npages << PAGE_SHIFT;

	if (end > top)
		end = top;
	// BEGIN LAB 2 SOLUTION: buddy_init
	for (uint64_t pa = start; pa < end;) {
		int order = largest_free_block(pa, end);
		if (order < 0) {
			pa += PAGE_SIZE;
			continue;
		}
		struct page *p = &pages[pa >> PAGE_SHIFT];
		for (size_t i = 0; i < (size_t)1 << order; i++)
			p[i].flags = 0;
		free_block(p, order);
		pa += (uint64_t)PAGE_SIZE << order;
	}
	// STUB:
	// // Every free page on its own, unmerged: enough for the exercises
	// // that allocate single pages.
	// static bool said;
	// if (!said)
	// 	printk("free_usable_pages: LAB 2: buddy_init not written: free pages are handed out one by one\n");
	// said = true;
	// (void)largest_free_block;
	// for (uint64_t pa = start; pa < end; pa += PAGE_SIZE) {
	// 	if (!range_is_usable(pa, PAGE_SIZE) || page_range_is_reserved(pa, PAGE_SIZE))
	// 		continue;
	// 	struct page *p = &pages[pa >> PAGE_SHIFT];
	// 	*p = (struct page){ .flags = PAGE_FREE };
	// 	page_list_push(&free_lists[0], p);
	// }
	// END LAB 2
}

void page_init(void)
{
	extern char _end[];

	reserve_range(0, LOW_MEMORY_END);
	reserve_range(KERNEL_LOAD_PHYS, KIMG_V2P(_end));
	for (int i = 0; i < bootinfo.nmodules; i++)
		reserve_range(bootinfo.modules[i].start, bootinfo.modules[i].end);

	npages = highest_usable_address() >> PAGE_SHIFT;
	uint64_t array_bytes = npages * sizeof(struct page);
	uint64_t array_pa = place_page_array(array_bytes);
	reserve_range(array_pa, array_pa + array_bytes);
	pages = P2V(array_pa);

	// Every entry first: merging looks at buddies above the block freed.
	for (size_t pfn = 0; pfn < npages; pfn++)
		pages[pfn] = (struct page){ .flags = PAGE_RESERVED };
	free_usable_pages(0, BOOT_DIRECTMAP_LIMIT);
}

void page_init_high(void)
{
	free_usable_pages(BOOT_DIRECTMAP_LIMIT, (uint64_t)npages << PAGE_SHIFT);
}

// Takes a free block of 2^order pages off the free lists: the first block
// of the smallest order k >= order that has one, split in halves while
// k > order, each upper half going to the free list of its order; the
// lower half is kept. Returns the block (PAGE_FREE clear, its order set),
// or NULL if no list of order >= order has a block. The caller holds
// page_lock.
static struct page *alloc_block(unsigned order)
{
	// BEGIN LAB 2 SOLUTION: buddy_split
	unsigned k = order;

	while (k <= PAGE_MAX_ORDER && free_lists[k] == NULL)
		k++;
	if (k > PAGE_MAX_ORDER)
		return NULL;
	struct page *p = free_lists[k];
	page_list_remove(&free_lists[k], p);
	p->flags &= ~PAGE_FREE;

	while (k > order) {
		k--;
		struct page *upper = p + ((size_t)1 << k);
		upper->order = k;
		upper->flags |= PAGE_FREE;
		page_list_push(&free_lists[k], upper);
	}
	p->order = order;
	return p;
	// STUB:
	// static bool said;
	// if (!said)
	// 	printk("alloc_block: LAB 2: buddy_split not written: no block is handed out\n");
	// said = true;
	// (void)order;
	// return NULL;
	// END LAB 2
}

struct page *page_alloc(unsigned order, bool zero)
{
	if (order > PAGE_MAX_ORDER)
		panic("page_alloc: order %u is above the largest, %d", order, PAGE_MAX_ORDER);

	spin_lock(&page_lock);
	struct page *p = alloc_block(order);
	if (p != NULL)
		p->refcount = 1;
	spin_unlock(&page_lock);
	if (p != NULL && zero)
		memset(page_to_va(p), 0, PAGE_SIZE << order);
	return p;
}

// Checks that p heads a block that page_alloc handed out.
static void check_allocated(const struct page *p, const char *who)
{
	if (p < pages || p >= pages + npages)
		panic("%s: %p is not a struct page", who, p);
	if (p->flags & PAGE_RESERVED)
		panic("%s: page 0x%lx is reserved and was never allocated", who, page_to_pa(p));
	if ((p->flags & PAGE_FREE) || p->refcount == 0)
		panic("%s: double free of page 0x%lx", who, page_to_pa(p));
}

void page_free(struct page *p)
{
	spin_lock(&page_lock);
	check_allocated(p, "page_free");
	if (p->refcount != 1)
		panic("page_free: page 0x%lx is still in use (refcount %u): a mapping "
		      "or another owner holds it", page_to_pa(p), p->refcount);
	p->refcount = 0;
	p->flags &= ~PAGE_SLAB;
	free_block(p, p->order);
	spin_unlock(&page_lock);
}

void page_get(struct page *p)
{
	spin_lock(&page_lock);
	check_allocated(p, "page_get");
	p->refcount++;
	spin_unlock(&page_lock);
}

void page_put(struct page *p)
{
	spin_lock(&page_lock);
	check_allocated(p, "page_put");
	if (--p->refcount == 0) {
		p->flags &= ~PAGE_SLAB;
		free_block(p, p->order);
	}
	spin_unlock(&page_lock);
}

void page_get_stats(struct page_stats *s)
{
	spin_lock(&page_lock);
	*s = (struct page_stats){ .total = npages };
	for (size_t pfn = 0; pfn < npages; pfn++)
		if (pages[pfn].flags & PAGE_RESERVED)
			s->reserved++;
	for (unsigned k = 0; k <= PAGE_MAX_ORDER; k++) {
		for (struct page *p = free_lists[k]; p != NULL; p = p->next) {
			s->free_blocks[k]++;
			s->free += (size_t)1 << k;
		}
	}
	spin_unlock(&page_lock);
}

size_t page_free_count(void)
{
	struct page_stats s;

	page_get_stats(&s);
	return s.free;
}
