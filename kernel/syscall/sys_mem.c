// System calls about user memory: sbrk, map, munmap, mprotect, and
// dma_alloc, memory for a device driver (mm/devmem.h). Every change goes
// through the process's address space (mm/aspace.h), which the threads
// of the process share.

#include "console/console.h"
#include "lib/errno.h"
#include "mm/aspace.h"
#include "mm/devmem.h"
#include "mm/page.h"
#include "mm/uaccess.h"
#include "proc/proc.h"
#include "syscall/syscall.h"
#include "lib/sysnum.h"

#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))

// False if [start, end) needs more pages than are free: such a request is
// refused before any work proportional to its length (a scan of a 16 TiB
// range would hold the address space's lock, interrupts off, for minutes).
static bool pages_available(uint64_t start, uint64_t end)
{
	struct page_stats s;

	page_get_stats(&s);
	return (end - start) / PAGE_SIZE <= s.free;
}

// Maps zeroed pages on [start, end) with perm, as->lock held. Returns 0,
// or -ENOMEM, or -EEXIST at a page already mapped (left as it is), and
// sets *done to the end of what it mapped (for the caller to unmap once
// the lock is released).
static int map_zeroed(struct aspace *as, uint64_t start, uint64_t end, uint64_t perm,
		      uint64_t *done)
{
	for (*done = start; *done < end; *done += PAGE_SIZE) {
		if (vm_lookup(as->pml4, *done, NULL) != NULL)
			return -EEXIST;
		struct page *pg = page_alloc(0, true);
		int err = pg ? vm_map(as->pml4, *done, pg, perm) : -ENOMEM;
		if (pg)
			page_put(pg);
		if (err < 0)
			return err;
	}
	return 0;
}

// sbrk(increment): moves the break, the end of the heap, by increment
// (signed) and returns the old break. Growing maps zeroed, writable pages
// up to the page that holds the new break; a growth that wraps, passes
// USER_HEAP_MAX or needs more pages than are free is -ENOMEM, and one
// that fails half-way (-ENOMEM, or -EEXIST at a page already mapped)
// unmaps what it mapped. Shrinking below heap_start, or wrapping below 0,
// is -EINVAL; otherwise the pages above the new break's page are unmapped
// and freed. On an error the heap stays as it was.
int64_t sys_sbrk(uint64_t increment)
{
	// BEGIN LAB 3 SOLUTION: sbrk
	struct aspace *as = proc_current()->as;
	int err = 0;

	aspace_lock(as);
	uint64_t old = as->brk, new = old + increment;
	uint64_t from = PAGE_ROUND_UP(old), to = PAGE_ROUND_UP(new), done = from;
	if ((int64_t)increment >= 0) {
		if (new < old || new > USER_HEAP_MAX || !pages_available(from, to))
			err = -ENOMEM;
		else
			err = map_zeroed(as, from, to, PTE_U | PTE_W | PTE_NX, &done);
	} else if (new > old || new < as->heap_start) {
		err = -EINVAL;
	}
	if (err == 0)
		as->brk = new;
	aspace_unlock(as);
	// aspace_unmap takes the lock itself.
	if (err < 0 && done > from)
		aspace_unmap(as, from, done - from);
	if (err == 0 && new < old)
		aspace_unmap(as, to, from - to);
	return err < 0 ? err : (int64_t)old;
	// STUB:
	// printk("LAB 3: sbrk not written\n");
	// (void)increment;
	// return -ENOSYS;
	// END LAB 3
}

// Checks a range of user memory passed to map, munmap or mprotect:
// page-aligned, not empty, not wrapping, inside the user half (which also
// keeps out kernel and non-canonical addresses). Returns 0 or -EINVAL.
static int check_range(uint64_t addr, uint64_t len)
{
	if (addr % PAGE_SIZE || len == 0 || len > USER_TOP || addr > USER_TOP - len)
		return -EINVAL;
	return 0;
}

// Sets *perm to the PTE permissions for prot (PROT_*); false for unknown
// bits. x86 pages are readable whenever they are accessible at all:
// PROT_WRITE and PROT_EXEC imply PROT_READ, and PROT_NONE leaves the page
// mapped without user access.
static bool prot_to_perm(uint64_t prot, uint64_t *perm)
{
	if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
		return false;
	if (prot == PROT_NONE)
		*perm = 0;
	else
		*perm = PTE_U | (prot & PROT_WRITE ? PTE_W : 0) | (prot & PROT_EXEC ? 0 : PTE_NX);
	return true;
}

int64_t sys_map(uint64_t addr, uint64_t len, uint64_t prot)
{
	struct aspace *as = proc_current()->as;
	uint64_t perm, done = addr;
	int err = 0;

	if (check_range(addr, len) < 0 || addr < PAGE_SIZE || !prot_to_perm(prot, &perm))
		return -EINVAL;
	// The kernel's windows (arch/memlayout.h): what it maps there, it
	// picks the place of.
	if (addr < USER_MMIO_END && USER_DMA_BASE < addr + len)
		return -EINVAL;
	if (!pages_available(addr, PAGE_ROUND_UP(addr + len)))
		return -ENOMEM;
	aspace_lock(as);
	// Checked first: a refused map maps nothing, not even for a moment.
	for (uint64_t va = addr; va < addr + len && err == 0; va += PAGE_SIZE)
		if (vm_lookup(as->pml4, va, NULL) != NULL)
			err = -EEXIST;
	if (err == 0)
		err = map_zeroed(as, addr, PAGE_ROUND_UP(addr + len), perm, &done);
	aspace_unlock(as);
	if (err == -ENOMEM && done > addr)
		aspace_unmap(as, addr, done - addr);
	return err;
}

int64_t sys_munmap(uint64_t addr, uint64_t len)
{
	int err = check_range(addr, len);

	if (err < 0)
		return err;
	// DMA memory stays mapped while the address space lives
	// (mm/devmem.h): a device may be writing it.
	if (aspace_dma_overlaps(proc_current()->as, addr, PAGE_ROUND_UP(len)))
		return -EINVAL;
	aspace_unmap(proc_current()->as, addr, PAGE_ROUND_UP(len));
	return 0;
}

int64_t sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot)
{
	uint64_t perm;

	if (check_range(addr, len) < 0 || !prot_to_perm(prot, &perm))
		return -EINVAL;
	return aspace_protect(proc_current()->as, addr, PAGE_ROUND_UP(len), perm);
}

int64_t sys_dma_alloc(uint64_t len, uint64_t bus_out)
{
	uint64_t va, bus;
	int err;

	// Checked first: an allocation the caller cannot learn of would stay
	// pinned until the process ends.
	if ((err = user_writable(bus_out, sizeof(bus))) < 0)
		return err;
	if ((err = aspace_dma_alloc(proc_current()->as, len, &va, &bus)) < 0)
		return err;
	if ((err = copy_to_user(bus_out, &bus, sizeof(bus))) < 0)
		return err;
	return (int64_t)va;
}
