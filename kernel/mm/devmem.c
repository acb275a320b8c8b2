// Device memory of an address space (mm/devmem.h): MMIO regions, device
// registers mapped for user code, pinned DMA memory.

#include "lib/errno.h"
#include "mm/devmem.h"
#include "mm/kmalloc.h"

#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))

// Takes size bytes (page-aligned) of the MMIO window (as->lock held).
// Returns the address, or 0 when the window is exhausted.
static uint64_t take_mmio_window(struct aspace *as, uint64_t size)
{
	uint64_t va = as->mmio_next;

	if (size > USER_MMIO_END - va)
		return 0;
	as->mmio_next += size;
	return va;
}

int aspace_add_mmio(struct aspace *as, uint64_t len, const struct mmio_ops *ops, void *dev,
		    uint64_t *va)
{
	uint64_t size = PAGE_ROUND_UP(len);
	struct mmio_region *r;

	if (len == 0 || len > USER_MMIO_END - USER_MMIO_BASE)
		return -EINVAL;
	if ((r = kzalloc(sizeof(*r))) == NULL)
		return -ENOMEM;
	aspace_lock(as);
	r->va = take_mmio_window(as, size);
	if (r->va != 0) {
		r->len = size;
		r->ops = ops;
		r->dev = dev;
		r->next = as->mmio;
		as->mmio = r;
	}
	aspace_unlock(as);
	if (r->va == 0) {
		kfree(r);
		return -ENOMEM;
	}
	*va = r->va;
	return 0;
}

bool aspace_find_mmio(struct aspace *as, uint64_t va, struct mmio_region *out)
{
	bool found = false;

	aspace_lock(as);
	for (struct mmio_region *r = as->mmio; r != NULL && !found; r = r->next) {
		if (va >= r->va && va - r->va < r->len) {
			*out = *r;
			found = true;
		}
	}
	aspace_unlock(as);
	return found;
}

void devmem_unmap_locked(struct aspace *as, uint64_t va, uint64_t len)
{
	for (struct mmio_region **pp = &as->mmio, *r; (r = *pp) != NULL;) {
		if (r->va < va + len && va < r->va + r->len) {
			*pp = r->next;
			kfree(r);
		} else {
			pp = &r->next;
		}
	}
}

// Maps [pa, pa + size) at va with perm | PTE_PINNED (as->lock held),
// 4 KiB pages only: munmap, mprotect, fork and the Dune EPT handle no
// large page in the user half. Returns 0, or -ENOMEM with *done set to
// the bytes it mapped, which the caller unmaps (aspace_unmap, after
// as->lock) before it frees what they point to.
static int map_pinned(struct aspace *as, uint64_t va, uint64_t pa, uint64_t size, uint64_t perm,
		      uint64_t *done)
{
	for (*done = 0; *done < size; *done += PAGE_SIZE)
		if (vm_map_phys(as->pml4, va + *done, pa + *done, PAGE_SIZE, perm | PTE_PINNED) < 0)
			return -ENOMEM;
	return 0;
}

int aspace_map_device(struct aspace *as, uint64_t pa, uint64_t len, uint64_t *va)
{
	uint64_t size = PAGE_ROUND_UP(len), done = 0;
	int err = -ENOMEM;

	if (len == 0 || pa % PAGE_SIZE != 0)
		return -EINVAL;
	aspace_lock(as);
	uint64_t at = take_mmio_window(as, size);
	if (at != 0)
		err = map_pinned(as, at, pa, size, PTE_U | PTE_W | PTE_NX | PTE_PCD | PTE_PWT, &done);
	aspace_unlock(as);
	if (err < 0 && done > 0)
		aspace_unmap(as, at, done);
	if (err == 0)
		*va = at;
	return err;
}

// The order of the smallest buddy block of at least size bytes.
static unsigned block_order(uint64_t size)
{
	unsigned order = 0;

	while (((uint64_t)PAGE_SIZE << order) < size)
		order++;
	return order;
}

int aspace_dma_alloc(struct aspace *as, uint64_t len, uint64_t *va, uint64_t *bus)
{
	uint64_t size = PAGE_ROUND_UP(len);
	struct dma_range *d;
	struct page *block;
	uint64_t done = 0;
	int err = 0;

	if (len == 0 || len > DMA_ALLOC_MAX)
		return -EINVAL;
	unsigned order = block_order(size);
	uint64_t block_bytes = (uint64_t)PAGE_SIZE << order;
	if ((d = kzalloc(sizeof(*d))) == NULL)
		return -ENOMEM;
	if ((block = page_alloc(order, true)) == NULL) {
		kfree(d);
		return -ENOMEM;
	}
	*d = (struct dma_range){ .bus = page_to_pa(block), .len = size, .block = block };

	aspace_lock(as);
	d->va = as->dma_next;
	if (as->dma_bytes + block_bytes > DMA_ASPACE_MAX || size > USER_DMA_END - d->va)
		err = -ENOMEM;
	else
		err = map_pinned(as, d->va, d->bus, size, PTE_U | PTE_W | PTE_NX, &done);
	if (err == 0) {
		as->dma_next += size;
		as->dma_bytes += block_bytes;
		spin_lock(&as->dma_lock);
		d->next = as->dma;
		as->dma = d;
		spin_unlock(&as->dma_lock);
	}
	aspace_unlock(as);
	if (err < 0) {
		if (done > 0)
			aspace_unmap(as, d->va, done);
		page_free(block);
		kfree(d);
		return err;
	}
	*va = d->va;
	*bus = d->bus;
	return 0;
}

bool aspace_dma_range(struct aspace *as, uint64_t bus, uint64_t len)
{
	bool ok = false;

	spin_lock(&as->dma_lock);
	for (struct dma_range *d = as->dma; d != NULL && !ok; d = d->next)
		ok = bus >= d->bus && len <= d->len && bus - d->bus <= d->len - len;
	spin_unlock(&as->dma_lock);
	return ok;
}

bool aspace_dma_overlaps(struct aspace *as, uint64_t va, uint64_t len)
{
	bool overlaps = false;

	spin_lock(&as->dma_lock);
	for (struct dma_range *d = as->dma; d != NULL && !overlaps; d = d->next)
		overlaps = d->va < va + len && va < d->va + d->len;
	spin_unlock(&as->dma_lock);
	return overlaps;
}

void devmem_release(struct aspace *as)
{
	devmem_unmap_locked(as, 0, USER_TOP);
	for (struct dma_range *d = as->dma, *next; d != NULL; d = next) {
		next = d->next;
		page_free(d->block);
		kfree(d);
	}
	as->dma = NULL;
}
