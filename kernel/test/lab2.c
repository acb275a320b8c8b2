// Lab 2 self-tests, in the order of the exercises: the buddy allocator's
// initial blocks (lab2.alloc), split (lab2.split) and merge (lab2.alloc),
// the page-table walk, the lookup and an address space's teardown
// (lab2.walk), the kernel's own page tables (lab2.kernel_map,
// lab2.write_text, lab2.exec_data), vm_map (lab2.vm, lab2.free_mapped),
// vm_unmap and vm_protect on ranges (lab2.unmap, lab2.protect) and the TLB
// after them (lab2.stale), the heap. They print what they did (addresses, flags,
// counts); grader/lab2.py checks it against the memory map and its own
// model of what must have happened.

#include <stdint.h>

#include "arch/x86.h"
#include "boot/bootinfo.h"
#include "boot/cmdline.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/page.h"
#include "mm/vm.h"
#include "test/ktest.h"
#include "test/prng.h"

// Prints the number of free blocks of each order, 0 first, after a colon.
static void print_free_blocks(void)
{
	struct page_stats s;

	page_get_stats(&s);
	printk(":");
	for (int k = 0; k <= PAGE_MAX_ORDER; k++)
		printk(" %lu", s.free_blocks[k]);
	printk("\n");
}

static void print_stats(const char *when)
{
	struct page_stats s;

	page_get_stats(&s);
	printk("pages %s: total %lu reserved %lu free %lu\n", when, s.total, s.reserved, s.free);
	printk("free blocks %s", when);
	print_free_blocks();
	// Only the first page of a free block is marked free.
	size_t marked = 0;
	for (size_t pfn = 0; pfn < npages; pfn++)
		marked += (pages[pfn].flags & PAGE_FREE) != 0;
	printk("pages marked free %s: %lu\n", when, marked);
}

// Prints what the grader needs to know which pages page_init frees: the
// usable regions, the kernel image, pages[].
static void print_layout(void)
{
	extern char _end[];

	for (int i = 0; i < bootinfo.nregions; i++) {
		const struct mem_region *m = &bootinfo.regions[i];
		if (m->type == MEM_USABLE)
			printk("usable: 0x%lx-0x%lx\n", m->base, m->base + m->length);
	}
	printk("kernel image: 0x%x-0x%lx\n", KERNEL_LOAD_PHYS, KIMG_V2P(_end));
	printk("page array: 0x%lx-0x%lx\n", V2P(pages), V2P(pages + npages));
}

// Allocates blocks of the order until none is left, chaining them through
// their first word; returns the chain and sets *n to how many it got.
static uint64_t *take_every_block(unsigned order, size_t *n)
{
	uint64_t *chain = NULL;
	struct page *p;

	*n = 0;
	while ((p = page_alloc(order, false)) != NULL) {
		uint64_t *va = page_to_va(p);
		*va = (uint64_t)chain;
		chain = va;
		(*n)++;
	}
	return chain;
}

// Frees the blocks of a chain made by take_every_block.
static void give_back(uint64_t *chain)
{
	while (chain != NULL) {
		uint64_t *next = (uint64_t *)*chain;
		page_free(pa_to_page(V2P(chain)));
		chain = next;
	}
}

// Allocates every page, then frees them all. Returns how many it got.
static size_t exhaust_memory(void)
{
	size_t n;

	give_back(take_every_block(0, &n));
	return n;
}

#define SPLIT_STEPS 24

KTEST(lab2_split, "lab2.split", STAGE_PAGES, "buddy allocator: split blocks of orders from seed=, then every largest block");
static void lab2_split(void)
{
	struct prng r;
	struct page *live[SPLIT_STEPS];
	int nlive = 0;

	print_layout();
	printk("free blocks at start");
	print_free_blocks();
	// Orders 0-10, one in four the largest, each asked twice in a row (the
	// second gets the upper half the first split off): no block is freed,
	// so every allocation splits what the ones before left.
	prng_seed(&r, cmdline_get_u64("seed", 1));
	unsigned order = 0;
	for (int step = 0; step < SPLIT_STEPS; step++) {
		uint64_t v = prng_next(&r);
		if (step % 2 == 0)
			order = v % 4 == 0 ? PAGE_MAX_ORDER : (v >> 8) % PAGE_MAX_ORDER;
		struct page *p = page_alloc(order, false);
		if (p == NULL)
			printk("split order %u: none; free blocks", order);
		else
			printk("split order %u: 0x%lx; free blocks", order, page_to_pa(p));
		print_free_blocks();
		if (p != NULL)
			live[nlive++] = p;
	}
	size_t largest;
	uint64_t *chain = take_every_block(PAGE_MAX_ORDER, &largest);
	printk("blocks of order %d until none: %lu; free blocks", PAGE_MAX_ORDER, largest);
	print_free_blocks();
	give_back(chain);
	while (nlive > 0)
		page_free(live[--nlive]);
}

#define ALLOC_STEPS 96
#define MAX_LIVE 48

// Makes [start, end) of the usable region that holds it a region of bad
// RAM: a made-up memory map, with a hole whose edges need not be aligned.
static void punch_hole(uint64_t start, uint64_t end)
{
	for (int i = 0; i < bootinfo.nregions; i++) {
		struct mem_region *r = &bootinfo.regions[i];
		uint64_t r_end = r->base + r->length;
		if (r->type != MEM_USABLE || start < r->base || end > r_end)
			continue;
		if (bootinfo.nregions + 2 > BOOTINFO_MAX_REGIONS)
			panic("lab2.alloc: no room for two more memory regions");
		r->length = start - r->base;
		bootinfo.regions[bootinfo.nregions++] = (struct mem_region){
			.base = start, .length = end - start, .type = MEM_BAD };
		bootinfo.regions[bootinfo.nregions++] = (struct mem_region){
			.base = end, .length = r_end - end, .type = MEM_USABLE };
		return;
	}
	panic("lab2.alloc: no usable region holds the hole 0x%lx-0x%lx", start, end);
}

KTEST(lab2_alloc, "lab2.alloc", STAGE_CONSOLE, "buddy allocator on the memory map with the hole hole= to hole_end=: random blocks from seed=, then exhaust memory");
static void lab2_alloc(void)
{
	struct prng r;
	struct page *live[MAX_LIVE];
	int nlive = 0;
	uint64_t hole = cmdline_get_u64("hole", 0);

	// The allocator is brought up here, once the map has its hole.
	if (hole != 0)
		punch_hole(hole, cmdline_get_u64("hole_end", hole));
	page_init();
	print_layout();
	print_stats("before");

	// Random allocations of orders 0-9 (9: a 2 MiB page) and frees.
	prng_seed(&r, cmdline_get_u64("seed", 1));
	for (int step = 0; step < ALLOC_STEPS; step++) {
		uint64_t v = prng_next(&r);
		if (nlive > 0 && (nlive == MAX_LIVE || v % 3 == 0)) {
			int i = (v >> 8) % nlive;
			printk("free 0x%lx\n", page_to_pa(live[i]));
			page_free(live[i]);
			live[i] = live[--nlive];
			continue;
		}
		unsigned order = (v >> 8) % 4 == 0 ? (v >> 16) % (PAGE_ORDER_2M + 1) : (v >> 16) % 3;
		struct page *p = page_alloc(order, false);
		if (p == NULL) {
			printk("alloc order %u: none\n", order);
			continue;
		}
		printk("alloc order %u: 0x%lx\n", order, page_to_pa(p));
		live[nlive++] = p;
	}
	while (nlive > 0)
		page_free(live[--nlive]);
	print_stats("after");

	size_t before = page_free_count();
	size_t got = exhaust_memory();
	printk("exhaust: %lu pages until page_alloc returned NULL; free before %lu after %lu\n",
	       got, before, page_free_count());
	printk("free blocks after exhaust");
	print_free_blocks();
}

KTEST(lab2_double_free, "lab2.double_free", STAGE_PAGES, "free a page twice: the allocator must panic");
static void lab2_double_free(void)
{
	struct page *p = page_alloc(0, false);

	printk("allocated page 0x%lx\n", page_to_pa(p));
	page_free(p);
	page_free(p);
	printk("lab2.double_free: the second free passed unnoticed\n");
}

// Prints the entry that maps va in pml4, as "<what> 0x<va>: flags 0x<flags>
// address 0x<address>" (without A and D, which the CPU sets) or "<what>
// 0x<va>: not mapped".
static void print_mapping(pte_t *pml4, const char *what, uint64_t va)
{
	pte_t *pte = pt_walk(pml4, va, false);

	if (pte == NULL || !(*pte & PTE_P))
		printk("%s 0x%lx: not mapped\n", what, va);
	else
		printk("%s 0x%lx: flags 0x%lx address 0x%lx\n", what, va,
		       PTE_FLAGS(*pte) & ~(PTE_A | PTE_D), PTE_ADDR(*pte));
}

// The entry of the table at level on the way to va, found as the CPU
// finds it (SDM Vol. 3A 4.5): NULL if a table is missing or a large page
// maps va above that level. The tests compare pt_walk_level with it.
static pte_t *reference_walk(pte_t *pml4, uint64_t va, int level)
{
	pte_t *table = pml4;

	for (int l = PT_LEVELS - 1; l > level; l--) {
		pte_t e = table[PT_INDEX(va, l)];
		if (!(e & PTE_P) || (e & PTE_PS))
			return NULL;
		table = P2V(PTE_ADDR(e));
	}
	return &table[PT_INDEX(va, level)];
}

// Prints the flags of the entries on the way to va, PML4 entry first:
// "walk 0x<va>: 0x7 0x7 0x7 0x7".
static void print_walk(pte_t *pml4, uint64_t va)
{
	pte_t *table = pml4;

	printk("walk 0x%lx:", va);
	for (int level = PT_LEVELS - 1; level >= 0; level--) {
		pte_t e = table[PT_INDEX(va, level)];
		printk(" 0x%lx", e & (PTE_P | PTE_W | PTE_U));
		if (!(e & PTE_P))
			break;
		table = P2V(PTE_ADDR(e));
	}
	printk("\n");
}

// Walks with pt_walk_level and prints what came back: "walk 0x<va> level L
// create C: N new tables, <what>", where what is "NULL", "the entry" (the
// entry the CPU's walk reaches), "a large page's entry" (PTE_PS set) or
// "a wrong entry".
static pte_t *walk_and_print(pte_t *pml4, uint64_t va, int level, bool create)
{
	uint64_t tables = vm_table_pages;
	pte_t *pte = pt_walk_level(pml4, va, level, create);
	const char *what = pte == NULL ? "NULL" :
			   pte == reference_walk(pml4, va, level) ? "the entry" :
			   (*pte & PTE_PS) ? "a large page's entry" : "a wrong entry";

	printk("walk 0x%lx level %d create %d: %lu new tables, %s\n", va, level, create,
	       vm_table_pages - tables, what);
	return pte;
}

// Maps page p at va as vm_map does, taking a reference, or with
// PTE_NOREF in perm as vm_map_phys does, without one; for the tests of
// the exercises before vm_map.
static void map_by_hand(pte_t *as, uint64_t va, struct page *p, uint64_t perm)
{
	pte_t *pte = pt_walk(as, va, true);

	if (pte == NULL)
		panic("lab2: no memory for the tables of 0x%lx", va);
	if (!(perm & PTE_NOREF))
		page_get(p);
	*pte = page_to_pa(p) | perm | PTE_P;
}

// Fills the walks' PML4 for vm_lookup and vm_destroy: the kernel half of
// the tables in use (the boot tables, which are not the allocator's
// pages: vm_destroy must not touch them); page p at va and at the last
// user page (the last entry of every level); q without a reference, and
// q's address in an entry that is not present; a 2 MiB block with a
// reference beside the 2 MiB page at va2.
static void fill_for_lookup_and_destroy(pte_t *pml4, uint64_t va, uint64_t va2,
					struct page *p, struct page *q, struct page *big)
{
	pte_t *in_use = P2V(read_cr3() & PTE_ADDR_MASK);

	for (int i = PT_ENTRIES / 2; i < PT_ENTRIES; i++)
		pml4[i] = in_use[i];
	map_by_hand(pml4, va, p, PTE_W | PTE_U);
	map_by_hand(pml4, USER_TOP - PAGE_SIZE, p, PTE_U | PTE_NX);
	map_by_hand(pml4, va + PAGE_SIZE, q, PTE_U | PTE_NOREF);
	*pt_walk(pml4, va + 3 * PAGE_SIZE, false) = page_to_pa(q) | PTE_U;     // not present
	pte_t *pde = pt_walk_level(pml4, va2 ^ LARGE_PAGE_SIZE, 1, true);
	if (pde == NULL)
		panic("lab2.walk: no memory for the tables of a 2 MiB block");
	page_get(big);
	*pde = page_to_pa(big) | PTE_P | PTE_W | PTE_U | PTE_PS;
}

// Prints what vm_lookup finds at va: "lookup 0x<va>: page 0x<pa>" or
// "lookup 0x<va>: no page", then ", entry 0x<entry>".
static void lookup_and_print(pte_t *pml4, uint64_t va)
{
	pte_t entry = ~0ul;             // vm_lookup must write it
	struct page *pg = vm_lookup(pml4, va, &entry);

	if (pg == NULL)
		printk("lookup 0x%lx: no page, entry 0x%lx\n", va, entry);
	else
		printk("lookup 0x%lx: page 0x%lx, entry 0x%lx\n", va, page_to_pa(pg), entry);
}

// vm_lookup in the walks' PML4, filled as above: each kind of
// entry, an empty one, and an address with no tables (none made).
static void lookup_each_kind(pte_t *pml4, uint64_t va, uint64_t va2)
{
	uint64_t tables = vm_table_pages;

	lookup_and_print(pml4, va);
	lookup_and_print(pml4, USER_TOP - PAGE_SIZE);
	lookup_and_print(pml4, va + PAGE_SIZE);
	lookup_and_print(pml4, va + 2 * PAGE_SIZE);
	lookup_and_print(pml4, va + 3 * PAGE_SIZE);
	lookup_and_print(pml4, va2 + 0x1234);
	lookup_and_print(pml4, (va2 ^ LARGE_PAGE_SIZE) + 0x5000);
	lookup_and_print(pml4, va ^ (5ul << 39));
	printk("lookups: %lu new tables\n", vm_table_pages - tables);
}

KTEST(lab2_walk, "lab2.walk", STAGE_PAGES, "pt_walk_level in a new, empty PML4 around va= (on the boot page tables), then vm_lookup and vm_destroy");
static void lab2_walk(void)
{
	uint64_t va = cmdline_get_u64("va", 0x400000);
	size_t free_at_start = page_free_count();
	uint64_t tables_at_start = vm_table_pages;
	struct page *root = page_alloc(0, true);

	if (root == NULL)
		panic("lab2.walk: no page for a PML4");
	pte_t *pml4 = page_to_va(root);
	__atomic_fetch_add(&vm_table_pages, 1, __ATOMIC_RELAXED);      // vm_destroy counts it

	walk_and_print(pml4, va, 0, false);
	walk_and_print(pml4, va, 0, true);
	print_walk(pml4, va);
	walk_and_print(pml4, va, 0, true);
	walk_and_print(pml4, va, 0, false);
	walk_and_print(pml4, va + LARGE_PAGE_SIZE, 0, true);   // the next page table
	walk_and_print(pml4, va ^ (1ul << 30), 0, true);         // another PDPT entry
	walk_and_print(pml4, va ^ (1ul << 39), 0, true);         // another PML4 entry
	walk_and_print(pml4, va + (PT_ENTRIES - 1) * PAGE_SIZE, 0, false);

	// Levels above the PT: a PD entry, then a PDPT entry in a new PML4 entry.
	uint64_t va2 = va ^ (1ul << 30) ^ (4ul << 20);
	pte_t *pde = walk_and_print(pml4, va2, 1, true);
	walk_and_print(pml4, va ^ (2ul << 39), 2, true);

	// A 2 MiB page at va2: a walk to its 4 KiB entries stops at it.
	if (pde != NULL)
		*pde = 0x200000 | PTE_P | PTE_W | PTE_PS | PTE_NOREF;
	walk_and_print(pml4, va2 + 0x1234, 0, false);
	walk_and_print(pml4, va2 + 0x5000, 0, true);

	size_t taken;
	uint64_t *every_page = take_every_block(0, &taken);
	walk_and_print(pml4, va ^ (3ul << 39), 0, true);
	give_back(every_page);

	struct page *p = page_alloc(0, true), *q = page_alloc(0, true);
	struct page *big = page_alloc(PAGE_ORDER_2M, true);
	if (p == NULL || q == NULL || big == NULL)
		panic("lab2.walk: no memory for the pages to map");
	fill_for_lookup_and_destroy(pml4, va, va2, p, q, big);
	printk("pages: 0x%lx 0x%lx 0x%lx\n", page_to_pa(p), page_to_pa(q), page_to_pa(big));
	lookup_each_kind(pml4, va, va2);
	printk("before destroy: refcount %u, no-reference page refcount %u, 2 MiB block "
	       "refcount %u\n", p->refcount, q->refcount, big->refcount);
	vm_destroy(pml4);
	printk("destroyed: refcount %u, no-reference page refcount %u, 2 MiB block refcount "
	       "%u, %lu tables left\n", p->refcount, q->refcount, big->refcount,
	       vm_table_pages - tables_at_start);
	page_put(p);
	page_put(q);
	page_put(big);
	printk("free pages: start %lu end %lu\n", free_at_start, page_free_count());
}

// A 2 MiB page and a 4 KiB-aligned range in a new address space, through
// vm_map_phys: large pages only where va, pa and the length allow.
static void map_phys_in_new_space(uint64_t va)
{
	pte_t *as = vm_create();
	struct page *big = page_alloc(PAGE_ORDER_2M, true);

	if (as == NULL || big == NULL)
		panic("lab2.kernel_map: no memory for an address space and a 2 MiB block");
	int err = vm_map_phys(as, va, page_to_pa(big), LARGE_PAGE_SIZE, PTE_W | PTE_U);
	printk("map 2M 0x%lx: %d\n", va, err);
	print_mapping(as, "large", va + 0x1234);
	// 2 MiB from the block's second page, 2 MiB further: va is aligned,
	// pa is not, so every page is a 4 KiB one. (The last is the page
	// after the block: mapped, never touched.)
	uint64_t va4k = va + LARGE_PAGE_SIZE;
	err = vm_map_phys(as, va4k, page_to_pa(big) + PAGE_SIZE, LARGE_PAGE_SIZE, PTE_U);
	printk("map 4K 0x%lx: %d\n", va4k, err);
	print_mapping(as, "small", va4k);
	print_mapping(as, "small", va4k + LARGE_PAGE_SIZE - PAGE_SIZE);
	print_mapping(as, "small", va4k + LARGE_PAGE_SIZE);
	size_t taken;
	uint64_t *every_page = take_every_block(0, &taken);
	printk("map with no memory: %d\n", vm_map_phys(as, va + (2ul << 30), 0, PAGE_SIZE, 0));
	give_back(every_page);
	vm_destroy(as);
	page_free(big);
}

KTEST(lab2_kernel_map, "lab2.kernel_map", STAGE_MEMORY, "the kernel's mappings and permissions (pa= to look up), vm_map_phys at va=");
static void lab2_kernel_map(void)
{
	extern char _text[], _rodata[], _data[], _end[];
	static const char rodata_object[] = "read-only";
	static uint64_t data_object = 1;
	uint64_t pa = cmdline_get_u64("pa", 0x100000);
	uint64_t last_page = ((uint64_t)npages - 1) << PAGE_SHIFT;

	printk("page tables: %lu pages\n", vm_table_pages);
	print_mapping(kernel_pml4, "text", (uint64_t)vm_init);
	print_mapping(kernel_pml4, "rodata", (uint64_t)rodata_object);
	print_mapping(kernel_pml4, "data", (uint64_t)&data_object);
	// Each section's first and last byte.
	print_mapping(kernel_pml4, "text", (uint64_t)_text);
	print_mapping(kernel_pml4, "text", (uint64_t)_rodata - 1);
	print_mapping(kernel_pml4, "rodata", (uint64_t)_rodata);
	print_mapping(kernel_pml4, "rodata", (uint64_t)_data - 1);
	print_mapping(kernel_pml4, "data", (uint64_t)_data);
	print_mapping(kernel_pml4, "data", (uint64_t)_end - 1);
	print_mapping(kernel_pml4, "direct", (uint64_t)P2V(pa));
	print_mapping(kernel_pml4, "direct", (uint64_t)P2V(last_page));
	print_mapping(kernel_pml4, "direct", (uint64_t)P2V(0xFFFFFFFFul));
	// vm_init's end of the direct map: RAM, at least 4 GiB, in 2 MiB pages.
	uint64_t top = last_page + PAGE_SIZE > (4ul << 30) ? last_page + PAGE_SIZE : 4ul << 30;
	print_mapping(kernel_pml4, "beyond", (uint64_t)P2V((top + LARGE_PAGE_SIZE - 1) &
							   ~(LARGE_PAGE_SIZE - 1)));
	print_mapping(kernel_pml4, "null", 0);
	map_phys_in_new_space(cmdline_get_u64("va", 0x40000000));
}

KTEST(lab2_vm, "lab2.vm", STAGE_MEMORY, "vm_map pages at va= in a new address space");
static void lab2_vm(void)
{
	uint64_t va = cmdline_get_u64("va", 0x400000);
	uint64_t value = cmdline_get_u64("value", 0x1234);
	size_t free_at_start = page_free_count();

	pte_t *as = vm_create();
	struct page *p = page_alloc(0, true);
	if (as == NULL || p == NULL)
		panic("lab2.vm: out of memory at the start");
	printk("page: 0x%lx\n", page_to_pa(p));

	uint64_t tables = vm_table_pages;
	int err = vm_map(as, va, p, PTE_W | PTE_U);
	printk("map 0x%lx: %d (%s), %lu new tables, refcount %u\n", va, err,
	       err ? strerror(err) : "ok", vm_table_pages - tables, p->refcount);
	tables = vm_table_pages;
	err = vm_map(as, va + PAGE_SIZE, p, PTE_U);
	printk("map 0x%lx: %d, %lu new tables, refcount %u\n", va + PAGE_SIZE, err,
	       vm_table_pages - tables, p->refcount);
	print_mapping(as, "user", va);
	print_mapping(as, "user", va + PAGE_SIZE);
	print_walk(as, va);
	err = vm_map(as, va + 2 * PAGE_SIZE, p, PTE_NX);
	printk("map 0x%lx: %d\n", va + 2 * PAGE_SIZE, err);
	print_mapping(as, "kernel", va + 2 * PAGE_SIZE);

	// Through the mapping, then back through the direct map.
	vm_switch(as);
	*(volatile uint64_t *)(va + 8) = value;
	vm_switch(kernel_pml4);
	printk("read back 0x%lx\n", ((uint64_t *)page_to_va(p))[1]);

	// A 4 KiB page inside a 2 MiB one, 1 GiB above va; a mapping that
	// needs tables with no memory.
	uint64_t big_va = (va + (1ull << 30)) & ~(LARGE_PAGE_SIZE - 1);
	pte_t *pde = pt_walk_level(as, big_va, 1, true);
	if (pde == NULL)
		panic("lab2.vm: no memory for the tables of a 2 MiB page");
	*pde = 0x200000 | PTE_P | PTE_U | PTE_PS | PTE_NOREF;
	printk("map inside 2M: %d, refcount %u\n", vm_map(as, big_va + PAGE_SIZE, p, PTE_U),
	       p->refcount);
	size_t taken;
	uint64_t *every_page = take_every_block(0, &taken);
	printk("map with no memory: %d, refcount %u\n", vm_map(as, va + (2ull << 30), p, PTE_U),
	       p->refcount);
	give_back(every_page);

	// Remapping va + PAGE_SIZE to another page drops p's reference.
	struct page *p2 = page_alloc(0, true);
	if (p2 == NULL)
		panic("lab2.vm: out of memory for a second page");
	err = vm_map(as, va + PAGE_SIZE, p2, PTE_U);
	printk("remap: %d, old page refcount %u, new page refcount %u\n", err, p->refcount,
	       p2->refcount);
	print_mapping(as, "remapped", va + PAGE_SIZE);
	page_put(p2);           // its mapping keeps it

	// Mapping in place again, with the mapping as the page's only
	// reference; then replacing a mapping the TLB holds.
	uint64_t va3 = va + 3 * PAGE_SIZE;
	struct page *q = page_alloc(0, true), *q2 = page_alloc(0, true);
	if (q == NULL || q2 == NULL)
		panic("lab2.vm: out of memory for the remapped pages");
	((uint64_t *)page_to_va(q))[0] = value;
	vm_map(as, va3, q, PTE_W | PTE_U);
	page_put(q);
	err = vm_map(as, va3, q, PTE_U);
	printk("map in place: %d, refcount %u\n", err, q->refcount);
	print_mapping(as, "in place", va3);
	vm_switch(as);
	uint64_t before = *(volatile uint64_t *)va3;
	vm_map(as, va3, q2, PTE_W | PTE_U);
	uint64_t after = *(volatile uint64_t *)va3;
	vm_switch(kernel_pml4);
	printk("replaced while in use: read 0x%lx, then 0x%lx\n", before, after);
	page_put(q2);           // its mapping at va3 keeps it
	page_put(p);            // its mappings keep it

	vm_destroy(as);
	printk("free pages: start %lu end %lu\n", free_at_start, page_free_count());
}

KTEST(lab2_free_mapped, "lab2.free_mapped", STAGE_MEMORY, "free a page that is still mapped: the allocator must panic");
static void lab2_free_mapped(void)
{
	pte_t *as = vm_create();
	struct page *p = page_alloc(0, false);

	printk("allocated page 0x%lx\n", page_to_pa(p));
	vm_map(as, 0x10000, p, PTE_U);
	page_free(p);
	printk("lab2.free_mapped: freeing a mapped page passed unnoticed\n");
}

// Pages of the range tests: RANGE_PAGES from va, which the grader puts
// across the boundary of two page tables.
#define RANGE_PAGES 6

// Prints the mappings of the pages from one before the range to one after.
static void print_range(pte_t *as, const char *what, uint64_t va)
{
	for (int i = -1; i <= RANGE_PAGES; i++)
		print_mapping(as, what, va + i * PAGE_SIZE);
}

KTEST(lab2_unmap, "lab2.unmap", STAGE_MEMORY, "vm_unmap_range around va= (a page-table boundary) with holes");
static void lab2_unmap(void)
{
	uint64_t va = cmdline_get_u64("va", LARGE_PAGE_SIZE - 3 * PAGE_SIZE);
	size_t free_at_start = page_free_count();
	pte_t *as = vm_create();
	struct page *p = page_alloc(0, true), *q = page_alloc(0, true);

	if (as == NULL || p == NULL || q == NULL)
		panic("lab2.unmap: out of memory at the start");
	// Every page from one before the range to one after, but the range's
	// third; the range's fifth without a reference.
	for (int i = -1; i <= RANGE_PAGES; i++)
		if (i == 4)
			map_by_hand(as, va + i * PAGE_SIZE, q, PTE_U | PTE_NOREF);
		else if (i != 2)
			vm_map(as, va + i * PAGE_SIZE, p, PTE_W | PTE_U);
	printk("mapped: refcount %u, no-reference page refcount %u\n", p->refcount, q->refcount);
	uint64_t tables = vm_table_pages;
	vm_unmap_range(as, va, RANGE_PAGES * PAGE_SIZE);
	printk("unmap range: refcount %u, no-reference page refcount %u, %lu tables freed\n",
	       p->refcount, q->refcount, tables - vm_table_pages);
	print_range(as, "after", va);

	// Nothing mapped there: nothing to do, and no table made.
	vm_unmap_range(as, va, RANGE_PAGES * PAGE_SIZE);
	vm_unmap_range(as, va + (5ul << 30), 1ul << 30);
	printk("unmap again and where nothing is: refcount %u, %lu new tables\n", p->refcount,
	       vm_table_pages - tables);
	// Unaligned byte ranges: the pages they touch, and only those (the
	// first one's first page is no longer mapped).
	vm_unmap_range(as, va + RANGE_PAGES * PAGE_SIZE - 8, 16);
	vm_unmap_range(as, va - 8, 8);
	print_range(as, "bytes", va);
	printk("unmap bytes: refcount %u\n", p->refcount);

	vm_destroy(as);
	page_put(p);
	page_put(q);
	printk("free pages: start %lu end %lu\n", free_at_start, page_free_count());
}

KTEST(lab2_protect, "lab2.protect", STAGE_MEMORY, "vm_protect_range around va= (a page-table boundary)");
static void lab2_protect(void)
{
	uint64_t va = cmdline_get_u64("va", LARGE_PAGE_SIZE - 3 * PAGE_SIZE);
	size_t free_at_start = page_free_count();
	pte_t *as = vm_create();
	struct page *p = page_alloc(0, true), *q = page_alloc(0, true);

	if (as == NULL || p == NULL || q == NULL)
		panic("lab2.protect: out of memory at the start");
	// The range's pages and one on each side; the fourth without a reference.
	for (int i = -1; i <= RANGE_PAGES; i++)
		if (i == 3)
			map_by_hand(as, va + i * PAGE_SIZE, q, PTE_W | PTE_U | PTE_NOREF);
		else
			vm_map(as, va + i * PAGE_SIZE, p, PTE_W | PTE_U);
	uint64_t tables = vm_table_pages;
	int err = vm_protect_range(as, va, RANGE_PAGES * PAGE_SIZE, PTE_U | PTE_NX);
	printk("protect range: %d, refcount %u, %lu new tables\n", err, p->refcount,
	       vm_table_pages - tables);
	print_range(as, "protected", va);
	err = vm_protect_range(as, va + PAGE_SIZE + 5, 2 * PAGE_SIZE, PTE_W);
	printk("protect bytes: %d\n", err);
	print_range(as, "bytes", va);

	// A hole in the range, or a 2 MiB page in it: an error, nothing changed.
	// (The hole is made by hand: as was never loaded, no TLB holds it.)
	pte_t *last = pt_walk(as, va + (RANGE_PAGES - 1) * PAGE_SIZE, false);
	*last = 0;
	page_put(p);
	err = vm_protect_range(as, va, RANGE_PAGES * PAGE_SIZE, PTE_W | PTE_U);
	printk("protect with a hole: %d\n", err);
	uint64_t big_va = (va + (1ull << 30)) & ~(LARGE_PAGE_SIZE - 1);
	vm_map(as, big_va - PAGE_SIZE, p, PTE_U);
	pte_t *pde = pt_walk_level(as, big_va, 1, true);
	if (pde == NULL)
		panic("lab2.protect: no memory for the tables of a 2 MiB page");
	*pde = 0x200000 | PTE_P | PTE_U | PTE_PS | PTE_NOREF;
	err = vm_protect_range(as, big_va - PAGE_SIZE, 2 * PAGE_SIZE, PTE_W | PTE_U);
	printk("protect a 2 MiB page: %d\n", err);
	print_mapping(as, "before 2M", big_va - PAGE_SIZE);
	tables = vm_table_pages;
	err = vm_protect_range(as, va + (5ul << 30), PAGE_SIZE, PTE_U);
	printk("protect unmapped: %d, %lu new tables\n", err, vm_table_pages - tables);
	print_range(as, "unchanged", va);

	vm_destroy(as);
	page_put(p);
	page_put(q);
	printk("free pages: start %lu end %lu\n", free_at_start, page_free_count());
}

KTEST(lab2_stale, "lab2.stale", STAGE_MEMORY, "op=unmap|protect a page the TLB holds, then use it: a page fault");
static void lab2_stale(void)
{
	uint64_t va = cmdline_get_u64("va", 0x400000);
	const char *op = cmdline_get("op");
	pte_t *as = vm_create();
	struct page *p = page_alloc(0, true);

	if (as == NULL || p == NULL)
		panic("lab2.stale: out of memory at the start");
	if (op == NULL || (strcmp(op, "unmap") != 0 && strcmp(op, "protect") != 0))
		panic("lab2.stale: op= must be unmap or protect, not '%s'", op ? op : "");
	vm_map(as, va, p, PTE_W);
	vm_switch(as);
	*(volatile uint64_t *)va = 1;           // the TLB holds va, writable
	if (strcmp(op, "unmap") == 0) {
		vm_unmap(as, va);
		printk("unmapped 0x%lx; reading it\n", va);
		printk("lab2.stale: read 0x%lx through an unmapped page\n", *(volatile uint64_t *)va);
	} else {
		vm_protect(as, va, 0);
		printk("made 0x%lx read-only; writing it\n", va);
		*(volatile uint64_t *)va = 2;
		printk("lab2.stale: wrote to a read-only page\n");
	}
	vm_switch(kernel_pml4);
}

KTEST(lab2_write_text, "lab2.write_text", STAGE_MEMORY, "write to the kernel's text: a page fault");
static void lab2_write_text(void)
{
	volatile uint8_t *code = (volatile uint8_t *)vm_init;

	printk("writing to vm_init at %p\n", (void *)code);
	*code = 0xCC;
	printk("lab2.write_text: the kernel's text is writable\n");
}

KTEST(lab2_exec_data, "lab2.exec_data", STAGE_MEMORY, "call an instruction in the kernel's data: a page fault");
static void lab2_exec_data(void)
{
	static uint8_t ret_instruction = 0xC3;
	void (*fn)(void) = (void (*)(void))&ret_instruction;

	printk("calling data at %p\n", (void *)fn);
	fn();
	printk("lab2.exec_data: the kernel's data is executable\n");
}

#define KMALLOC_STEPS 600
#define KMALLOC_LIVE 64

// Fills an object with a pattern made from its address and size.
static void fill(uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)((uintptr_t)p + i + size);
}

static void check_fill(uint8_t *p, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (p[i] != (uint8_t)((uintptr_t)p + i + size))
			panic("kmalloc: object %p (%lu bytes) was overwritten at byte %lu",
			      p, size, i);
}

KTEST(lab2_kmalloc, "lab2.kmalloc", STAGE_PAGES, "random kmalloc/kfree from seed=, checking every object");
static void lab2_kmalloc(void)
{
	struct prng r;
	void *obj[KMALLOC_LIVE];
	size_t size[KMALLOC_LIVE];
	int nlive = 0, allocs = 0, frees = 0;
	size_t free_at_start = page_free_count();

	prng_seed(&r, cmdline_get_u64("seed", 1));
	for (int step = 0; step < KMALLOC_STEPS; step++) {
		uint64_t v = prng_next(&r);
		if (nlive > 0 && (nlive == KMALLOC_LIVE || v % 2 == 0)) {
			int i = (v >> 8) % nlive;
			check_fill(obj[i], size[i]);
			kfree(obj[i]);
			frees++;
			obj[i] = obj[nlive - 1];
			size[i] = size[nlive - 1];
			nlive--;
			continue;
		}
		size_t n = 1 + (v >> 16) % ((v >> 8) % 8 == 0 ? 3 * PAGE_SIZE : 300);
		void *p = kmalloc(n);
		if (p == NULL)
			panic("kmalloc(%lu) returned NULL with %lu pages free", n, page_free_count());
		if ((uintptr_t)p % (n >= 16 ? 16 : 1) != 0)
			panic("kmalloc(%lu) returned %p, not 16-byte aligned", n, p);
		fill(p, n);
		obj[nlive] = p;
		size[nlive++] = n;
		allocs++;
	}
	while (nlive > 0) {
		nlive--;
		check_fill(obj[nlive], size[nlive]);
		kfree(obj[nlive]);
		frees++;
	}
	printk("kmalloc: %d allocations, %d frees\n", allocs, frees);
	printk("free pages: start %lu end %lu\n", free_at_start, page_free_count());
}

KTEST(lab2_kfree_twice, "lab2.kfree_twice", STAGE_PAGES, "kfree an object twice: the heap must panic");
static void lab2_kfree_twice(void)
{
	void *p = kmalloc(100);

	printk("object %p\n", p);
	kfree(p);
	kfree(p);
	printk("lab2.kfree_twice: the second kfree passed unnoticed\n");
}
