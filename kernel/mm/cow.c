#include "arch/trapframe.h"
#include "arch/x86.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/cow.h"

#define USER_HALF_ENTRIES 256

// Shares the present user page that src_pte maps at va with the address
// space dst: the child's entry names the same page, so both must lose
// write access to it. A writable page becomes read-only with PTE_COW in
// both (the first write faults into cow_fault); a read-only page stays
// read-only in both; the other permission bits (U, NX) are kept. A page
// mapped with vm_map gains a reference (vm_map takes it); one mapped
// without (PTE_NOREF: the kernel image, say) is copied as the same
// entry. A pinned page (DMA memory or device registers, mm/devmem.h)
// cannot be copied on write: the child goes without it and the parent
// keeps it writable. Returns 0, or -ENOMEM, or -EINVAL for a large page.
static int share_page(pte_t *dst, pte_t *src_pte, uint64_t va)
{
	pte_t e = *src_pte;

	// BEGIN LAB 4 SOLUTION: share_page
	if (e & PTE_PINNED)
		return 0;
	if (e & PTE_PS)
		return -EINVAL;
	if (e & PTE_W) {
		e = (e & ~PTE_W) | PTE_COW;
		*src_pte = e;
	}
	if (e & PTE_NOREF) {
		pte_t *d = pt_walk(dst, va, true);
		if (d == NULL)
			return -ENOMEM;
		*d = e;
		return 0;
	}
	return vm_map(dst, va, pa_to_page(PTE_ADDR(e)), PTE_FLAGS(e) & ~(PTE_P | PTE_A | PTE_D));
	// STUB:
	// printk("LAB 4: share_page not written: fork cannot share the page at 0x%lx\n", va);
	// (void)dst, (void)e;
	// return -ENOSYS;
	// END LAB 4
}

// Walks the page table `table` of `level` (2: a PDPT, 1: a PD, 0: a PT)
// that maps the user addresses from `base`, and shares every present
// page it leads to with dst: an entry of a PT, or a large page
// (PTE_PS) of a PD or PDPT, goes to share_page at its address; any
// other present entry names the table of the next level down. Entry i
// of a level-`level` table maps base + i * 2^(12 + 9 * level) (SDM Vol.
// 3A 4.5, Figure 4-8). Returns 0, or the first error.
static int copy_level(pte_t *dst, pte_t *table, int level, uint64_t base)
{
	// BEGIN LAB 4 SOLUTION: share_page
	for (int i = 0; i < PT_ENTRIES; i++) {
		if (!(table[i] & PTE_P))
			continue;
		uint64_t va = base | ((uint64_t)i << (PAGE_SHIFT + 9 * level));
		int err = level == 0 || (table[i] & PTE_PS) ? share_page(dst, &table[i], va)
							     : copy_level(dst, P2V(PTE_ADDR(table[i])), level - 1, va);
		if (err < 0)
			return err;
	}
	return 0;
	// STUB:
	// printk("LAB 4: share_page not written: fork cannot walk the table at 0x%lx\n", base);
	// (void)dst, (void)table, (void)level, (void)share_page;
	// return -ENOSYS;
	// END LAB 4
}

int vm_copy_cow(pte_t *dst, pte_t *src)
{
	int err = 0;

	for (int i = 0; i < USER_HALF_ENTRIES && err == 0; i++)
		if (src[i] & PTE_P)
			err = copy_level(dst, P2V(PTE_ADDR(src[i])), PT_LEVELS - 2,
					 (uint64_t)i << (PAGE_SHIFT + 9 * (PT_LEVELS - 1)));
	// Pages of src lost their write permission: flush its stale entries.
	if (read_cr3() == V2P(src))
		write_cr3(read_cr3());
	return err;
}

bool cow_fault(pte_t *pml4, uint64_t va, uint64_t error_code)
{
	if ((error_code & (PF_PRESENT | PF_WRITE)) != (PF_PRESENT | PF_WRITE))
		return false;
	va &= ~(uint64_t)(PAGE_SIZE - 1);
	pte_t *pte = pt_walk(pml4, va, false);
	if (pte == NULL || !(*pte & PTE_COW))
		return false;

	// BEGIN LAB 4 SOLUTION: cow_fault
	struct page *shared = pa_to_page(PTE_ADDR(*pte));
	uint64_t perm = (PTE_FLAGS(*pte) & ~(PTE_COW | PTE_P | PTE_A | PTE_D)) | PTE_W;

	// The last one to hold the page may just write to it.
	if (shared->refcount == 1) {
		*pte = PTE_ADDR(*pte) | perm | PTE_P;
		tlb_invalidate(pml4, va);
		return true;
	}
	struct page *copy = page_alloc(0, false);
	if (copy == NULL)
		return false;
	memcpy(page_to_va(copy), page_to_va(shared), PAGE_SIZE);
	int err = vm_map(pml4, va, copy, perm);         // drops the shared page
	page_put(copy);
	return err == 0;
	// STUB:
	// return false;
	// END LAB 4
}
