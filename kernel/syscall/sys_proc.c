// System calls about the process itself: exit, getpid, sbrk, map.

#include "lib/errno.h"
#include "mm/page.h"
#include "proc/proc.h"
#include "syscall/syscall.h"
#include "syscall/sysnum.h"

#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))

int64_t sys_exit(uint64_t status)
{
	proc_exit((int)status);
}

int64_t sys_getpid(void)
{
	return proc_current()->pid;
}

// Maps zeroed pages on [start, end) with perm; on failure unmaps what it
// mapped. Returns 0 or -ENOMEM.
static int map_zeroed(pte_t *pml4, uint64_t start, uint64_t end, uint64_t perm)
{
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		struct page *pg = page_alloc(0, true);
		int err = pg ? vm_map(pml4, va, pg, perm) : -ENOMEM;
		if (pg)
			page_put(pg);
		if (err < 0) {
			for (uint64_t done = start; done < va; done += PAGE_SIZE)
				vm_unmap(pml4, done);
			return err;
		}
	}
	return 0;
}

int64_t sys_sbrk(uint64_t increment)
{
	struct proc *p = proc_current();
	uint64_t old = p->brk, new = old + (int64_t)increment;

	if ((int64_t)increment >= 0) {
		if (new < old || new > USER_HEAP_MAX)
			return -ENOMEM;
		int err = map_zeroed(p->pml4, PAGE_ROUND_UP(old), PAGE_ROUND_UP(new),
				     PTE_U | PTE_W | PTE_NX);
		if (err < 0)
			return err;
	} else {
		if (new > old || new < p->heap_start)
			return -EINVAL;
		for (uint64_t va = PAGE_ROUND_UP(new); va < PAGE_ROUND_UP(old); va += PAGE_SIZE)
			vm_unmap(p->pml4, va);
	}
	p->brk = new;
	return old;
}

int64_t sys_map(uint64_t addr, uint64_t len, uint64_t prot)
{
	struct proc *p = proc_current();

	if (addr % PAGE_SIZE || len == 0 || len > USER_TOP || addr > USER_TOP - len ||
	    addr < PAGE_SIZE || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	for (uint64_t va = addr; va < addr + len; va += PAGE_SIZE)
		if (vm_lookup(p->pml4, va, NULL) != NULL)
			return -EEXIST;
	uint64_t perm = PTE_U | (prot & PROT_WRITE ? PTE_W : 0) | (prot & PROT_EXEC ? 0 : PTE_NX);
	return map_zeroed(p->pml4, addr, PAGE_ROUND_UP(addr + len), perm);
}
