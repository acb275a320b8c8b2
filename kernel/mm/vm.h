// Address spaces: x86-64 4-level page tables (SDM Vol. 3A 4.5).
//
// A virtual address splits into four 9-bit table indices and a 12-bit
// offset: PML4 (bits 47-39), PDPT (38-30), PD (29-21), PT (20-12). An
// address space is named by its PML4 (a kernel virtual address). Its
// upper half (PML4 entries 256-511) is the kernel's and is shared by every
// address space; the lower half belongs to the process.
//
// Mappings made with vm_map hold a reference on their page (mm/page.h);
// those made with vm_map_phys (the direct map, the kernel image, device
// memory) do not, and carry PTE_NOREF so that vm_unmap knows.

#ifndef KERNEL_MM_VM_H
#define KERNEL_MM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/mmu.h"
#include "mm/page.h"

typedef uint64_t pte_t;

// Software bits of a page-table entry, ignored by the CPU (the hardware
// bits, PTE_ADDR, PT_INDEX and LARGE_PAGE_SIZE are in arch/mmu.h).
#define PTE_NOREF 0x200ul      // the mapping holds no page reference
#define PTE_COW  0x400ul        // copy on write (mm/cow.h)
#define PTE_PINNED 0x800ul      // DMA memory or device registers (mm/devmem.h): never shared by fork

extern pte_t *kernel_pml4;
// Page-table pages allocated so far (tests count the ones a walk makes).
extern uint64_t vm_table_pages;

// Builds the kernel's page tables (direct map of all physical memory, the
// kernel image with per-section permissions) and switches to them; turns
// on CR0.WP, so that the kernel too faults on read-only pages, and CR4.PGE.
void vm_init(void);

struct proc;

// Returns the entry of the table at `level` (0: the PT entry of a 4 KiB
// page; 1: the PD entry of a 2 MiB page) on the way to va in the address
// space pml4, making the missing tables above that level if create. If a
// large page maps va above that level, returns its entry (PTE_PS set)
// instead. Returns NULL if a table is missing and !create, or if no
// memory is left for a new table.
pte_t *pt_walk_level(pte_t *pml4, uint64_t va, int level, bool create);

// The PTE of the 4 KiB page at va (see pt_walk_level).
static inline pte_t *pt_walk(pte_t *pml4, uint64_t va, bool create)
{
	return pt_walk_level(pml4, va, 0, create);
}

// Maps page p at va with perm (PTE_W, PTE_U, PTE_NX ...), replacing what
// was there, and takes a reference on p. Returns 0, -ENOMEM if a page
// table cannot be allocated, or -EEXIST if a large page covers va.
int vm_map(pte_t *pml4, uint64_t va, struct page *p, uint64_t perm);

// Maps [pa, pa + len) at va without page references; uses 2 MiB pages
// where va, pa and the length left allow it. Returns 0 or -ENOMEM.
int vm_map_phys(pte_t *pml4, uint64_t va, uint64_t pa, uint64_t len, uint64_t perm);

// Maps the device registers at physical [pa, pa + len) into the kernel's
// MMIO window (mm/memlayout.h), writable, not executable and uncached
// (PCD and PWT: memory type UC with the power-on PAT, SDM Vol. 3A 12.12.3),
// so that every read and write reaches the device in order. Returns the
// virtual address of pa, or NULL if the window or memory for page tables
// is exhausted. Needs the kernel's own tables (vm_init); never unmapped.
void *vm_map_mmio(uint64_t pa, uint64_t len);

// Returns the page mapped at va (NULL if none or not allocator memory);
// if pte is not NULL, *pte gets the entry (0 if none).
struct page *vm_lookup(pte_t *pml4, uint64_t va, pte_t *pte);

// Removes the 4 KiB mappings of the pages that [va, va + len) touches,
// dropping their page references, and makes the CPU forget them
// (tlb_invalidate) before a page can go back to the allocator. Pages not
// mapped are skipped. Panics on a page inside a 2 MiB mapping.
void vm_unmap_range(pte_t *pml4, uint64_t va, uint64_t len);

// Removes the mapping of the 4 KiB page that va lies in (one byte's page).
static inline void vm_unmap(pte_t *pml4, uint64_t va)
{
	vm_unmap_range(pml4, va, 1);
}

// Sets the permissions of the 4 KiB mappings of the pages that [va, va +
// len) touches to perm (and P), keeping their addresses and PTE_NOREF,
// and makes the CPU forget the old ones. Returns 0; or, changing nothing,
// -ENOENT if a page of the range is not mapped, -EEXIST if a 2 MiB page
// maps one.
int vm_protect_range(pte_t *pml4, uint64_t va, uint64_t len, uint64_t perm);

// Sets the permissions of the 4 KiB page that va lies in.
static inline int vm_protect(pte_t *pml4, uint64_t va, uint64_t perm)
{
	return vm_protect_range(pml4, va, 1, perm);
}

// A new address space: the kernel half shared, the user half empty.
// Returns NULL when out of memory.
pte_t *vm_create(void);
// Frees an address space from vm_create: its user mappings (dropping
// their references) and its tables.
void vm_destroy(pte_t *pml4);

// Makes the CPU forget a stale translation of va in pml4 (after a change
// to a present entry), and calls tlb_shootdown_hook, if one is installed,
// for the other CPUs. None is yet: every CPU reloads CR3 when it switches
// process (so no CPU keeps another's user translations), processes have
// one thread, and the kernel half never changes after vm_init. A kernel
// that shares changing mappings between CPUs installs one that sends
// them an interrupt to invalidate.
void tlb_invalidate(pte_t *pml4, uint64_t va);
extern void (*tlb_shootdown_hook)(pte_t *pml4, uint64_t va);

void vm_switch(pte_t *pml4);

#endif
