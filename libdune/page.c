// libdune's page pool (dune.h): pages of the process's own memory at
// DUNE_POOL_BASE, mapped from the kernel (SYS_map) a chunk at a time as
// the pool grows, and given out one by one with a reference count. Their
// guest-physical address is their address (the first window of dune.h).

#include "internal.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "lib/sysnum.h"

#define CHUNK_PAGES 64

static struct page pages[DUNE_POOL_PAGES];
static struct page *free_list;
static size_t mapped;           // pages mapped from DUNE_POOL_BASE
static size_t bump;             // pages handed out from the bump pointer
static size_t in_use;
static volatile uint32_t pool_lock;

static void lock(void)
{
	while (__atomic_test_and_set(&pool_lock, __ATOMIC_ACQUIRE))
		asm volatile("pause");
}

static void unlock(void)
{
	__atomic_clear(&pool_lock, __ATOMIC_RELEASE);
}

uintptr_t dune_page2pa(struct page *pg)
{
	return DUNE_POOL_BASE + (uintptr_t)(pg - pages) * PGSIZE;
}

struct page *dune_pa2page(uintptr_t pa)
{
	return &pages[(pa - DUNE_POOL_BASE) / PGSIZE];
}

bool dune_page_isfrompool(uintptr_t pa)
{
	return pa >= DUNE_POOL_BASE && pa < DUNE_POOL_BASE + DUNE_POOL_PAGES * PGSIZE;
}

// n pages from the bump pointer, mapping chunks as needed; with the lock.
static struct page *take_fresh(size_t n)
{
	if (bump + n > DUNE_POOL_PAGES)
		return NULL;
	while (bump + n > mapped) {
		size_t more = CHUNK_PAGES;
		if (mapped + more > DUNE_POOL_PAGES)
			more = DUNE_POOL_PAGES - mapped;
		if (dune_vmcall(SYS_map, DUNE_POOL_BASE + mapped * PGSIZE, more * PGSIZE,
				PROT_READ | PROT_WRITE) < 0)
			return NULL;
		mapped += more;
	}
	struct page *pg = &pages[bump];
	bump += n;
	return pg;
}

struct page *dune_page_alloc(void)
{
	lock();
	struct page *pg = free_list;
	if (pg != NULL)
		free_list = pg->next;
	else
		pg = take_fresh(1);
	if (pg != NULL) {
		pg->ref = 1;
		pg->next = NULL;
		in_use++;
	}
	unlock();
	return pg;
}

void dune_page_free(struct page *pg)
{
	lock();
	pg->ref = 0;
	pg->next = free_list;
	free_list = pg;
	in_use--;
	unlock();
}

void dune_page_get(struct page *pg)
{
	__atomic_fetch_add(&pg->ref, 1, __ATOMIC_RELAXED);
}

void dune_page_put(struct page *pg)
{
	if (__atomic_sub_fetch(&pg->ref, 1, __ATOMIC_ACQ_REL) == 0)
		dune_page_free(pg);
}

size_t dune_page_count(void)
{
	return in_use;
}

void *dune_pool_zalloc(size_t n)
{
	if (n == 1) {
		struct page *pg = dune_page_alloc();
		if (pg == NULL)
			return NULL;
		void *va = (void *)dune_page2pa(pg), *d = va;
		uint64_t n = PGSIZE / 8;
		asm volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ul) : "memory");
		return va;
	}
	// Fresh pages: zero as the kernel mapped them, and untouched.
	lock();
	struct page *pg = take_fresh(n);
	for (size_t i = 0; pg != NULL && i < n; i++)
		pg[i].ref = 1;
	if (pg != NULL)
		in_use += n;
	unlock();
	return pg == NULL ? NULL : (void *)dune_page2pa(pg);
}
