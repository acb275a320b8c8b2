#include "arch/memlayout.h"
#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/vm.h"
#include "sync/spinlock.h"

pte_t *kernel_pml4;
uint64_t vm_table_pages;
void (*tlb_shootdown_hook)(pte_t *pml4, uint64_t va);

#define KERNEL_HALF_FIRST_ENTRY 256

#define PAGE_ROUND_DOWN(x) ((x) & ~(uint64_t)(PAGE_SIZE - 1))
#define PAGE_ROUND_UP(x) PAGE_ROUND_DOWN((x) + PAGE_SIZE - 1)

// A zeroed page for a page table. Returns NULL when out of memory.
static pte_t *alloc_table(void)
{
	struct page *p = page_alloc(0, true);

	if (p == NULL)
		return NULL;
	__atomic_fetch_add(&vm_table_pages, 1, __ATOMIC_RELAXED);
	return page_to_va(p);
}

pte_t *pt_walk_level(pte_t *pml4, uint64_t va, int level, bool create)
{
	// BEGIN LAB 2 SOLUTION: pt_walk
	pte_t *table = pml4;

	for (int l = PT_LEVELS - 1; l > level; l--) {
		pte_t *entry = &table[PT_INDEX(va, l)];
		if (*entry & PTE_P) {
			if (*entry & PTE_PS)
				return entry;
		} else {
			if (!create)
				return NULL;
			pte_t *next = alloc_table();
			if (next == NULL)
				return NULL;
			// Upper levels allow everything; the last level decides.
			*entry = V2P(next) | PTE_P | PTE_W | PTE_U;
		}
		table = P2V(PTE_ADDR(*entry));
	}
	return &table[PT_INDEX(va, level)];
	// STUB:
	// (void)pml4, (void)va, (void)level, (void)create, (void)alloc_table;
	// panic("pt_walk_level: LAB 2: pt_walk not written (walking to 0x%lx)", va);
	// END LAB 2
}

int vm_map(pte_t *pml4, uint64_t va, struct page *p, uint64_t perm)
{
	// BEGIN LAB 2 SOLUTION: vm_map
	pte_t *pte = pt_walk(pml4, va, true);

	if (pte == NULL)
		return -ENOMEM;
	if (*pte & PTE_PS)
		return -EEXIST;
	// Take the new reference first: remapping a page where it already is
	// must not free it on the way.
	page_get(p);
	if (*pte & PTE_P)
		vm_unmap(pml4, va);
	*pte = page_to_pa(p) | perm | PTE_P;
	return 0;
	// STUB:
	// (void)pml4, (void)va, (void)p, (void)perm;
	// return -ENOSYS;
	// END LAB 2
}

int vm_map_phys(pte_t *pml4, uint64_t va, uint64_t pa, uint64_t len, uint64_t perm)
{
	// BEGIN LAB 2 SOLUTION: kernel_map
	for (uint64_t off = 0; off < len;) {
		bool large = (va + off) % LARGE_PAGE_SIZE == 0 && (pa + off) % LARGE_PAGE_SIZE == 0 &&
			     len - off >= LARGE_PAGE_SIZE;
		pte_t *pte = pt_walk_level(pml4, va + off, large ? 1 : 0, true);
		if (pte == NULL)
			return -ENOMEM;
		*pte = (pa + off) | perm | PTE_P | PTE_NOREF | (large ? PTE_PS : 0);
		off += large ? LARGE_PAGE_SIZE : PAGE_SIZE;
	}
	return 0;
	// STUB:
	// (void)pml4, (void)pa, (void)len, (void)perm;
	// panic("vm_map_phys: LAB 2: kernel_map not written (mapping 0x%lx)", va);
	// END LAB 2
}

void *vm_map_mmio(uint64_t pa, uint64_t len)
{
	static struct spinlock lock = SPINLOCK_INIT("mmio");
	static uint64_t next = MMIO_BASE;
	uint64_t start = pa & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t size = (pa + len - start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);

	if (kernel_pml4 == NULL || len == 0)
		return NULL;
	spin_lock(&lock);
	// Each range starts on a 2 MiB boundary, at the offset of pa within
	// its 2 MiB page, so that large ranges get large pages.
	uint64_t va = ((next + LARGE_PAGE_SIZE - 1) & ~(LARGE_PAGE_SIZE - 1)) +
		      (start & (LARGE_PAGE_SIZE - 1));
	bool fits = va + size <= MMIO_END && va + size > va;
	if (fits)
		next = va + size;
	spin_unlock(&lock);
	if (!fits || vm_map_phys(kernel_pml4, va, start, size,
				 PTE_W | PTE_NX | PTE_G | PTE_PCD | PTE_PWT) < 0)
		return NULL;
	return (void *)(va + (pa - start));
}

struct page *vm_lookup(pte_t *pml4, uint64_t va, pte_t *pte_out)
{
	// BEGIN LAB 2 SOLUTION: vm_lookup
	pte_t *pte = pt_walk(pml4, va, false);
	pte_t entry = pte != NULL ? *pte : 0;

	if (pte_out != NULL)
		*pte_out = entry;
	if (!(entry & PTE_P) || (entry & PTE_NOREF))
		return NULL;
	return pa_to_page(PTE_ADDR(entry));
	// STUB:
	// static bool said;
	// if (!said)
	// 	printk("vm_lookup: LAB 2: vm_lookup not written: no page is found (looking up 0x%lx)\n", va);
	// said = true;
	// (void)pml4;
	// if (pte_out != NULL)
	// 	*pte_out = 0;
	// return NULL;
	// END LAB 2
}

// Removes the mapping of the page at va, if any (see vm_unmap_range).
static void unmap_page(pte_t *pml4, uint64_t va)
{
	// BEGIN LAB 2 SOLUTION: vm_unmap
	pte_t *pte = pt_walk(pml4, va, false);

	if (pte == NULL || !(*pte & PTE_P))
		return;
	if (*pte & PTE_PS)
		panic("vm_unmap: 0x%lx lies in a 2 MiB page (entry 0x%lx)", va, *pte);
	pte_t old = *pte;
	*pte = 0;
	// Before the page can go back to the allocator: no CPU may reach it.
	tlb_invalidate(pml4, va);
	if (!(old & PTE_NOREF))
		page_put(pa_to_page(PTE_ADDR(old)));
	// STUB:
	// (void)pml4, (void)va;
	// END LAB 2
}

void vm_unmap_range(pte_t *pml4, uint64_t va, uint64_t len)
{
	// BEGIN LAB 2 SOLUTION: vm_unmap
	uint64_t start = PAGE_ROUND_DOWN(va), end = PAGE_ROUND_UP(va + len);

	for (uint64_t page = start; page < end; page += PAGE_SIZE)
		unmap_page(pml4, page);
	// STUB:
	// (void)len, (void)unmap_page;
	// panic("vm_unmap: LAB 2: vm_unmap not written (unmapping 0x%lx)", va);
	// END LAB 2
}

// The entry of the 4 KiB page at va, for vm_protect_range: NULL if none
// is present; sets *err to -ENOENT then, or to -EEXIST if a 2 MiB page
// maps va.
static pte_t *protectable_entry(pte_t *pml4, uint64_t va, int *err)
{
	pte_t *pte = pt_walk(pml4, va, false);

	*err = 0;
	if (pte == NULL || !(*pte & PTE_P))
		*err = -ENOENT;
	else if (*pte & PTE_PS)
		*err = -EEXIST;
	return *err ? NULL : pte;
}

int vm_protect_range(pte_t *pml4, uint64_t va, uint64_t len, uint64_t perm)
{
	// BEGIN LAB 2 SOLUTION: vm_protect
	uint64_t start = PAGE_ROUND_DOWN(va), end = PAGE_ROUND_UP(va + len);
	int err;

	// Every page first, so that a failure changes nothing.
	for (uint64_t page = start; page < end; page += PAGE_SIZE)
		if (protectable_entry(pml4, page, &err) == NULL)
			return err;
	for (uint64_t page = start; page < end; page += PAGE_SIZE) {
		pte_t *pte = protectable_entry(pml4, page, &err);
		*pte = PTE_ADDR(*pte) | (*pte & PTE_NOREF) | perm | PTE_P;
		tlb_invalidate(pml4, page);
	}
	return 0;
	// STUB:
	// (void)pml4, (void)len, (void)perm, (void)protectable_entry;
	// panic("vm_protect: LAB 2: vm_protect not written (protecting 0x%lx)", va);
	// END LAB 2
}

void tlb_invalidate(pte_t *pml4, uint64_t va)
{
	// BEGIN LAB 2 SOLUTION: vm_unmap
	if (read_cr3() == V2P(pml4) || va >= DIRECTMAP_BASE)
		asm volatile("invlpg (%0)" : : "r"(va) : "memory");
	// STUB:
	// (void)pml4, (void)va;
	// END LAB 2
	if (tlb_shootdown_hook != NULL)
		tlb_shootdown_hook(pml4, va);
}

void vm_switch(pte_t *pml4)
{
	write_cr3(V2P(pml4));
}

pte_t *vm_create(void)
{
	pte_t *pml4 = alloc_table();

	if (pml4 == NULL)
		return NULL;
	for (int i = KERNEL_HALF_FIRST_ENTRY; i < PT_ENTRIES; i++)
		pml4[i] = kernel_pml4[i];
	return pml4;
}

// Gives back a page-table page that alloc_table made.
static void free_table(pte_t *table)
{
	// BEGIN LAB 2 SOLUTION: vm_destroy
	__atomic_fetch_sub(&vm_table_pages, 1, __ATOMIC_RELAXED);
	page_free(pa_to_page(V2P(table)));
	// STUB:
	// (void)table;
	// END LAB 2
}

// Frees the table at `level` (0: a PT) and the tables below it, and drops
// the references of the pages its entries map (4 KiB pages, and 2 MiB
// pages, which hold no table below them); mappings with PTE_NOREF hold
// none.
static void destroy_level(pte_t *table, int level)
{
	// BEGIN LAB 2 SOLUTION: vm_destroy
	for (int i = 0; i < PT_ENTRIES; i++) {
		pte_t e = table[i];
		if (!(e & PTE_P))
			continue;
		if (level == 0 || (e & PTE_PS)) {
			if (!(e & PTE_NOREF))
				page_put(pa_to_page(PTE_ADDR(e)));
		} else {
			destroy_level(P2V(PTE_ADDR(e)), level - 1);
		}
	}
	free_table(table);
	// STUB:
	// (void)table, (void)level;
	// END LAB 2
}

void vm_destroy(pte_t *pml4)
{
	if (read_cr3() == V2P(pml4))
		panic("vm_destroy: address space %p is the one in use", pml4);
	// BEGIN LAB 2 SOLUTION: vm_destroy
	// The kernel half's tables are kernel_pml4's, shared by every space.
	for (int i = 0; i < KERNEL_HALF_FIRST_ENTRY; i++)
		if (pml4[i] & PTE_P)
			destroy_level(P2V(PTE_ADDR(pml4[i])), PT_LEVELS - 2);
	free_table(pml4);
	// STUB:
	// static bool said;
	// if (!said)
	// 	printk("vm_destroy: LAB 2: vm_destroy not written: the tables and the pages they map are kept\n");
	// said = true;
	// (void)destroy_level, (void)free_table;
	// END LAB 2
}

static void map_kernel_range(pte_t *pml4, const char *start, const char *end, uint64_t perm,
			     const char *what)
{
	uint64_t va = (uint64_t)start;

	if (vm_map_phys(pml4, va, KIMG_V2P(va), (uint64_t)end - va, perm | PTE_G) < 0)
		panic("vm_init: no memory for the page tables of the kernel %s", what);
}

// Fills the kernel half of pml4: the direct map of physical memory from 0
// to top (a multiple of 2 MiB) at DIRECTMAP_BASE, writable, not
// executable, in 2 MiB pages; and the kernel image at KERNBASE section by
// section (kernel.ld): text read-only and executable, read-only data not
// executable, data and bss writable and not executable. Every mapping is
// global (the kernel half is the same in every address space) and for
// the supervisor only. Panics when no memory is left for a table.
static void map_kernel_half(pte_t *pml4, uint64_t top)
{
	extern char _text[], _rodata[], _data[], _end[];

	// BEGIN LAB 2 SOLUTION: kernel_map
	if (vm_map_phys(pml4, DIRECTMAP_BASE, 0, top, PTE_W | PTE_NX | PTE_G) < 0)
		panic("vm_init: no memory for the page tables of the direct map");
	map_kernel_range(pml4, _text, _rodata, 0, "text");
	map_kernel_range(pml4, _rodata, _data, PTE_NX, "read-only data");
	map_kernel_range(pml4, _data, _end, PTE_W | PTE_NX, "data");
	// STUB:
	// // The boot page tables' kernel half (boot/entry.S): 4 GiB of direct
	// // map, the image in 2 MiB pages, writable and executable.
	// printk("vm_init: LAB 2: kernel_map not written: the boot page tables' mappings stay\n");
	// pte_t *boot = P2V(read_cr3() & PTE_ADDR_MASK);
	// for (int i = KERNEL_HALF_FIRST_ENTRY; i < PT_ENTRIES; i++)
	// 	pml4[i] = boot[i];
	// (void)top, (void)map_kernel_range, (void)_text, (void)_rodata, (void)_data, (void)_end;
	// END LAB 2
}

void vm_init(void)
{
	kernel_pml4 = alloc_table();
	if (kernel_pml4 == NULL)
		panic("vm_init: no memory for the kernel PML4");

	// The direct map covers all RAM, and at least the first 4 GiB, where
	// the devices' registers are (the APICs, PCI memory).
	uint64_t top = (uint64_t)npages << PAGE_SHIFT;
	if (top < (uint64_t)BOOT_DIRECTMAP_GIB << 30)
		top = (uint64_t)BOOT_DIRECTMAP_GIB << 30;
	map_kernel_half(kernel_pml4, (top + LARGE_PAGE_SIZE - 1) & ~(LARGE_PAGE_SIZE - 1));

	write_cr4(read_cr4() | CR4_PGE);
	write_cr0(read_cr0() | CR0_WP);
	vm_switch(kernel_pml4);
	page_init_high();
}
