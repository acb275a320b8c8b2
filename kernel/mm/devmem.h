// Device memory of an address space: what a user-space driver needs
// besides ordinary pages.
//
// MMIO regions. A region [va, va + len) stands for the registers of an
// emulated device: nothing is mapped there, so every access is a
// not-present page fault, which trap/trap.c decodes (trap/mmio.h) and
// hands to the region's ops with the offset in the region. A region is
// dropped when any part of it is unmapped (munmap) and when the address
// space goes; fork's child does not inherit it.
//
// Device registers. A real device's registers are mapped uncached into
// the same window (aspace_map_device); fork's child does not get them.
//
// DMA memory. aspace_dma_alloc maps zeroed, physically contiguous pages
// (one buddy block) whose bus address is their physical address (no
// IOMMU). They are pinned: never copy-on-write (fork's child does not
// get them: a device writes them behind the CPU's back, so a copy would
// split what the device and the process see), and never freed while the
// address space lives. munmap of any part of them is refused (-EINVAL);
// they go with the address space (exit, exec). The address space keeps
// its DMA ranges so that a device model can check the bus addresses a
// driver gives it (aspace_dma_range).
//
// Addresses come from windows the kernel keeps for these
// (arch/memlayout.h): USER_MMIO_BASE and USER_DMA_BASE, never reused
// within one address space.
//
// Locks: the lists and window cursors change under as->lock; the DMA
// list also under as->dma_lock, a leaf lock, so that a device model may
// check a range with its own spinlock held (as->lock may not be taken
// then).

#ifndef KERNEL_MM_DEVMEM_H
#define KERNEL_MM_DEVMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/aspace.h"

#define DMA_ALLOC_MAX   (1ul << (PAGE_SHIFT + PAGE_MAX_ORDER))  // 4 MiB: one buddy block
#define DMA_ASPACE_MAX  (64ul << 20)    // what one address space may hold, in blocks

// What an emulated device does for an access of width bytes (1, 2, 4
// or 8) at offset in its region. Called with no lock held, interrupts
// off, on behalf of the faulting thread.
struct mmio_ops {
	uint64_t (*read)(void *dev, uint64_t offset, int width);
	void (*write)(void *dev, uint64_t offset, int width, uint64_t value);
};

struct mmio_region {
	uint64_t va, len;
	const struct mmio_ops *ops;
	void *dev;
	struct mmio_region *next;
};

struct dma_range {
	uint64_t va, bus, len;  // len: what is mapped, pages of block
	struct page *block;     // page_alloc's block, freed with the address space
	struct dma_range *next;
};

// Makes an MMIO region of len bytes (rounded up to pages) at an address
// the kernel picks, returned in *va. Returns 0, -EINVAL (len 0 or larger
// than the window), or -ENOMEM (the window or the heap is exhausted).
int aspace_add_mmio(struct aspace *as, uint64_t len, const struct mmio_ops *ops, void *dev,
		    uint64_t *va);
// Copies the region that holds va into *r; false if none does.
bool aspace_find_mmio(struct aspace *as, uint64_t va, struct mmio_region *r);

// Maps the registers at physical [pa, pa + len) (page-aligned) uncached
// and writable for user code at an address the kernel picks (*va).
// Returns 0, -EINVAL (len 0, pa not page-aligned) or -ENOMEM.
int aspace_map_device(struct aspace *as, uint64_t pa, uint64_t len, uint64_t *va);

// Maps len bytes (rounded up to pages) of zeroed DMA memory; sets *va
// and *bus. Returns 0, -EINVAL (len 0 or above DMA_ALLOC_MAX), or
// -ENOMEM (no contiguous block that big, or the address space would hold
// more than DMA_ASPACE_MAX).
int aspace_dma_alloc(struct aspace *as, uint64_t len, uint64_t *va, uint64_t *bus);
// True if [bus, bus + len) lies in one DMA allocation of as.
bool aspace_dma_range(struct aspace *as, uint64_t bus, uint64_t len);
// True if [va, va + len) overlaps DMA memory of as (munmap refuses it).
bool aspace_dma_overlaps(struct aspace *as, uint64_t va, uint64_t len);

// For mm/aspace.c: drop the MMIO regions that overlap [va, va + len)
// (as->lock held); free the regions and DMA blocks of an address space
// whose page tables are gone.
void devmem_unmap_locked(struct aspace *as, uint64_t va, uint64_t len);
void devmem_release(struct aspace *as);

#endif
