#include <stdint.h>

#include "debug/panic.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "sync/spinlock.h"

#define NCLASSES 8              // 16, 32, ..., 2048 bytes
#define FREE_OBJECT_MAGIC 0xF4EEF4EEF4EEF4EEull

// A free object holds the link to the next free object of its slab and a
// magic word that makes double frees easy to spot.
struct free_object {
	struct free_object *next;
	uint64_t magic;
};

// Per class: the slabs that have free objects.
static struct page *partial_slabs[NCLASSES];
// Guards the slab lists and the slabs' objects; taken before page_lock.
static struct spinlock heap_lock = SPINLOCK_INIT("heap");

static unsigned size_class(size_t size)
{
	unsigned c = 0;

	while ((size_t)KMALLOC_MIN << c < size)
		c++;
	return c;
}

static size_t class_size(unsigned c)
{
	return (size_t)KMALLOC_MIN << c;
}

static unsigned pages_order(size_t size)
{
	unsigned order = 0;

	while ((size_t)PAGE_SIZE << order < size)
		order++;
	return order;
}

// A new slab for class c: a page cut into free objects.
static struct page *new_slab(unsigned c)
{
	struct page *slab = page_alloc(0, false);

	if (slab == NULL)
		return NULL;
	slab->flags |= PAGE_SLAB;
	slab->slab_class = c;
	slab->slab_used = 0;
	slab->slab_free = NULL;
	char *base = page_to_va(slab);
	for (size_t off = PAGE_SIZE; off >= class_size(c); off -= class_size(c)) {
		struct free_object *o = (struct free_object *)(base + off - class_size(c));
		o->next = slab->slab_free;
		o->magic = FREE_OBJECT_MAGIC;
		slab->slab_free = o;
	}
	page_list_push(&partial_slabs[c], slab);
	return slab;
}

void *kmalloc(size_t size)
{
	if (size == 0)
		return NULL;
	if (size > KMALLOC_MAX_SMALL) {
		struct page *p = page_alloc(pages_order(size), false);
		return p ? page_to_va(p) : NULL;
	}
	unsigned c = size_class(size);
	spin_lock(&heap_lock);
	struct page *slab = partial_slabs[c];
	if (slab == NULL && (slab = new_slab(c)) == NULL) {
		spin_unlock(&heap_lock);
		return NULL;
	}
	struct free_object *o = slab->slab_free;
	slab->slab_free = o->next;
	o->magic = 0;
	if (++slab->slab_used * class_size(c) == PAGE_SIZE)
		page_list_remove(&partial_slabs[c], slab);
	spin_unlock(&heap_lock);
	return o;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

static bool on_free_list(const struct page *slab, const struct free_object *o)
{
	for (const struct free_object *f = slab->slab_free; f != NULL; f = f->next)
		if (f == o)
			return true;
	return false;
}

void kfree(void *ptr)
{
	if (ptr == NULL)
		return;
	uint64_t pa = V2P(ptr);
	struct page *p = pa_to_page(pa & ~(uint64_t)(PAGE_SIZE - 1));
	spin_lock(&heap_lock);
	if (p->refcount == 0)
		panic("kfree: double free of %p: its page 0x%lx is already free",
		      ptr, pa & ~(uint64_t)(PAGE_SIZE - 1));
	if (!(p->flags & PAGE_SLAB)) {
		if (pa % PAGE_SIZE != 0)
			panic("kfree: %p was not returned by kmalloc (inside a page block)", ptr);
		spin_unlock(&heap_lock);
		page_free(p);
		return;
	}

	unsigned c = p->slab_class;
	struct free_object *o = ptr;
	if (pa % class_size(c) != 0)
		panic("kfree: %p is not the start of a %lu-byte object", ptr, class_size(c));
	if (o->magic == FREE_OBJECT_MAGIC && on_free_list(p, o))
		panic("kfree: double free of %p (a %lu-byte object)", ptr, class_size(c));

	bool was_full = p->slab_used * class_size(c) == PAGE_SIZE;
	o->next = p->slab_free;
	o->magic = FREE_OBJECT_MAGIC;
	p->slab_free = o;
	p->slab_used--;
	if (p->slab_used == 0) {
		if (!was_full)
			page_list_remove(&partial_slabs[c], p);
		page_free(p);
	} else if (was_full) {
		page_list_push(&partial_slabs[c], p);
	}
	spin_unlock(&heap_lock);
}
