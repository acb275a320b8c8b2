// libdune's page tables (dune.h): 4-level x86-64 tables (SDM Vol. 3A
// 4.5) in pool pages, whose guest-physical addresses are their own.
// Level 3 is the PML4, level 0 the page table; a leaf is a level-0 entry
// or a level-1 entry with PTE_PS (2 MiB).

#include "internal.h"
#include "lib/errno.h"
#include "lib/string.h"

#define TABLE_FLAGS (PTE_P | PTE_W | PTE_U)     // leaves decide

ptent_t *pgroot;

static ptent_t *table_of(ptent_t e)
{
	return (ptent_t *)dune_pa_to_va(PTE_ADDR(e));
}

static ptent_t *new_table(void)
{
	return dune_pool_zalloc(1);
}

static ptent_t perm_flags(int perm)
{
	ptent_t f = 0;

	if (perm & (PERM_R | PERM_W | PERM_X))
		f |= PTE_P;
	if (perm & PERM_W)
		f |= PTE_W;
	if (perm & PERM_COW)
		f = (f & ~PTE_W) | PTE_COW;
	if (perm & PERM_U)
		f |= PTE_U;
	if (!(perm & PERM_X))
		f |= PTE_NX;
	if (perm & PERM_UC)
		f |= PTE_PCD | PTE_PWT;
	return f;
}

// Replaces the 2 MiB leaf *e (a level-1 entry) by a table of 512 4 KiB
// entries with its address and permissions.
static int split(ptent_t *e)
{
	ptent_t *t = new_table();

	if (t == NULL)
		return -ENOMEM;
	ptent_t flags = PTE_FLAGS(*e) & ~PTE_PS;
	uint64_t pa = PTE_ADDR(*e) & ~(BIG_PGSIZE - 1);
	for (int i = 0; i < PT_ENTRIES; i++)
		t[i] = (pa + i * PGSIZE) | flags;
	*e = (uintptr_t)t | TABLE_FLAGS;
	return 0;
}

// The entry of va at level stop (0: its 4 KiB entry, 1: its 2 MiB
// entry). create: make missing tables and split 2 MiB leaves above stop;
// else a missing table is -ENOENT and a 2 MiB leaf above stop is the
// answer.
static int walk(ptent_t *root, uintptr_t va, int create, int stop, ptent_t **out)
{
	ptent_t *table = root;

	for (int level = 3; level > stop; level--) {
		ptent_t *e = &table[PT_INDEX(va, level)];
		if (!(*e & PTE_P)) {
			if (!create)
				return -ENOENT;
			ptent_t *t = new_table();
			if (t == NULL)
				return -ENOMEM;
			*e = (uintptr_t)t | TABLE_FLAGS;
		} else if (*e & PTE_PS) {
			if (!create) {
				*out = e;
				return 0;
			}
			int err = split(e);
			if (err)
				return err;
		}
		table = table_of(*e);
	}
	*out = &table[PT_INDEX(va, stop)];
	return 0;
}

int dune_vm_lookup(ptent_t *root, void *va, int create, ptent_t **pte_out)
{
	return walk(root, (uintptr_t)va, create, 0, pte_out);
}

// (Natively, before dune_enter, there is no TLB of these tables to flush.)
void dune_flush_tlb_one(uintptr_t va)
{
	if (dune_cpl() != 0)
		return;
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

void dune_flush_tlb(void)
{
	uint64_t cr3;

	asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

void dune_load_root(ptent_t *root)
{
	asm volatile("mov %0, %%cr3" : : "r"(dune_va_to_pa((uintptr_t)root)) : "memory");
}

// A pool page leaves an entry: one reference less.
static void drop_leaf(ptent_t e)
{
	if ((e & PTE_POOL) && dune_page_isfrompool(PTE_ADDR(e)))
		dune_page_put(dune_pa2page(PTE_ADDR(e)));
}

static bool aligned(uintptr_t x, uintptr_t size)
{
	return (x & (size - 1)) == 0;
}

int dune_vm_map_phys(ptent_t *root, void *va, size_t len, void *pa, int perm)
{
	uintptr_t v = (uintptr_t)va, p = (uintptr_t)pa;
	size_t step = perm & PERM_BIG ? BIG_PGSIZE : PGSIZE;

	if (!aligned(v, step) || !aligned(p, step) || !aligned(len, step) || v + len < v)
		return -EINVAL;
	ptent_t flags = perm_flags(perm) | (perm & PERM_BIG ? PTE_PS : 0);
	for (size_t off = 0; off < len; off += step) {
		ptent_t *e;
		int err = walk(root, v + off, CREATE_NORMAL, perm & PERM_BIG ? 1 : 0, &e);
		if (err)
			return err;
		if ((perm & PERM_BIG) && (*e & PTE_P) && !(*e & PTE_PS))
			return -EBUSY;  // 4 KiB pages are mapped there
		drop_leaf(*e);
		*e = (p + off) | flags;
		dune_flush_tlb_one(v + off);
	}
	return 0;
}

int dune_vm_map_pages(ptent_t *root, void *va, size_t len, int perm)
{
	uintptr_t v = (uintptr_t)va;

	if (len == 0 || dune_va_to_pa(v) == DUNE_NO_GPA || dune_va_to_pa(v + len - 1) == DUNE_NO_GPA ||
	    dune_va_to_pa(v + len - 1) - dune_va_to_pa(v) != len - 1)
		return -EINVAL;
	return dune_vm_map_phys(root, va, len, (void *)dune_va_to_pa(v), perm);
}

// perm (perm_flags) on each 4 KiB page of [va, va + len), which must be
// mapped: a page inside a 2 MiB leaf gets a table of its own first (walk
// with CREATE_NORMAL splits it). An entry keeps its address, PTE_POOL and
// its accessed and dirty bits; its TLB entry goes. -EINVAL if va or len
// is not page-aligned; -ENOMEM at the first page that is not mapped (the
// pages before it stay changed).
int dune_vm_mprotect(ptent_t *root, void *va, size_t len, int perm)
{
	// BEGIN LAB 8 SOLUTION: dune_vm_mprotect
	uintptr_t v = (uintptr_t)va;
	ptent_t flags = perm_flags(perm);

	if (!aligned(v, PGSIZE) || !aligned(len, PGSIZE))
		return -EINVAL;
	for (size_t off = 0; off < len; off += PGSIZE) {
		ptent_t *e;
		if (walk(root, v + off, CREATE_NONE, 0, &e) || *e == 0)
			return -ENOMEM;
		if (*e & PTE_PS) {
			int err = walk(root, v + off, CREATE_NORMAL, 0, &e);
			if (err)
				return err;
		}
		*e = (*e & (PTE_ADDR_MASK | PTE_POOL | PTE_A | PTE_D)) | flags;
		dune_flush_tlb_one(v + off);
	}
	return 0;
	// STUB:
	// (void)root, (void)va, (void)len, (void)perm;
	// return -ENOSYS;
	// END LAB 8
}

void dune_vm_unmap(ptent_t *root, void *va, size_t len)
{
	uintptr_t v = PGADDR(va), end = (uintptr_t)va + len;

	for (; v < end; v += PGSIZE) {
		ptent_t *e;
		if (walk(root, v, CREATE_NONE, 0, &e) || *e == 0)
			continue;
		if ((*e & PTE_PS) && (!aligned(v, BIG_PGSIZE) || end - v < BIG_PGSIZE)) {
			if (walk(root, v, CREATE_NORMAL, 0, &e))
				continue;
		}
		if (*e & PTE_PS) {
			*e = 0;
			dune_flush_tlb_one(v);
			v += BIG_PGSIZE - PGSIZE;
			continue;
		}
		drop_leaf(*e);
		*e = 0;
		dune_flush_tlb_one(v);
	}
}

// The page walk below table, a table of level `level` whose first entry
// maps base: cb(arg, e, va) for each nonzero leaf entry e (level 0, or
// PTE_PS) whose page starts in [start, end] (start >= base), in address
// order, going down into the tables of the other entries. Returns the
// first nonzero result of cb, else 0.
static int walk_level(ptent_t *table, int level, uintptr_t base, uintptr_t start, uintptr_t end,
		      page_walk_cb cb, const void *arg)
{
	// BEGIN LAB 8 SOLUTION: dune_vm_page_walk
	uintptr_t size = 1ul << PT_SHIFT(level);

	for (uintptr_t i = (start - base) >> PT_SHIFT(level); i < PT_ENTRIES; i++) {
		uintptr_t va = base + i * size;
		if (va > end)
			break;
		ptent_t *e = &table[i];
		if (*e == 0)
			continue;
		int ret;
		if (level == 0 || (*e & PTE_PS))
			ret = cb(arg, e, (void *)va);
		else
			ret = walk_level(table_of(*e), level - 1, va, start > va ? start : va, end, cb,
					 arg);
		if (ret)
			return ret;
	}
	return 0;
	// STUB:
	// (void)table, (void)level, (void)base, (void)start, (void)end, (void)cb, (void)arg;
	// return 0;
	// END LAB 8
}

// -EINVAL if start_va > end_va or end_va is not a user address (below
// DUNE_USER_TOP); else the walk of the whole tree, from the PML4.
int dune_vm_page_walk(ptent_t *root, void *start_va, void *end_va, page_walk_cb cb,
		      const void *arg)
{
	// BEGIN LAB 8 SOLUTION: dune_vm_page_walk
	if ((uintptr_t)start_va > (uintptr_t)end_va || (uintptr_t)end_va >= DUNE_USER_TOP)
		return -EINVAL;
	return walk_level(root, 3, 0, (uintptr_t)start_va, (uintptr_t)end_va, cb, arg);
	// STUB:
	// (void)root, (void)start_va, (void)end_va, (void)cb, (void)arg, (void)walk_level;
	// return -ENOSYS;
	// END LAB 8
}

// A copy of table, a table of level `level`: a new table whose leaf
// entries (level 0, or PTE_PS) are table's, each pool page mapped there
// taking a reference, and whose other entries point to copies of their
// tables, with their flags. NULL without memory (what was copied is
// freed).
static ptent_t *clone_level(ptent_t *table, int level)
{
	// BEGIN LAB 8 SOLUTION: dune_vm_clone
	ptent_t *copy = new_table();

	if (copy == NULL)
		return NULL;
	for (int i = 0; i < PT_ENTRIES; i++) {
		ptent_t e = table[i];
		if (e == 0)
			continue;
		if (level == 0 || (e & PTE_PS)) {
			if ((e & PTE_POOL) && dune_page_isfrompool(PTE_ADDR(e)))
				dune_page_get(dune_pa2page(PTE_ADDR(e)));
			copy[i] = e;
			continue;
		}
		ptent_t *t = clone_level(table_of(e), level - 1);
		if (t == NULL) {
			dune_vm_free(copy);     // (a partial copy: frees what it holds)
			return NULL;
		}
		copy[i] = (uintptr_t)t | PTE_FLAGS(e);
	}
	return copy;
	// STUB:
	// (void)table, (void)level;
	// return NULL;
	// END LAB 8
}

ptent_t *dune_vm_clone(ptent_t *root)
{
	return clone_level(root, 3);
}

// Frees table, of level `level`, and the tables under it; each pool page
// its leaves map loses a reference (drop_leaf).
static void free_level(ptent_t *table, int level)
{
	// BEGIN LAB 8 SOLUTION: dune_vm_clone
	for (int i = 0; i < PT_ENTRIES; i++) {
		ptent_t e = table[i];
		if (e == 0)
			continue;
		if (level == 0 || (e & PTE_PS))
			drop_leaf(e);
		else
			free_level(table_of(e), level - 1);
	}
	dune_page_put(dune_pa2page((uintptr_t)table));
	// STUB:
	// (void)table, (void)level;
	// END LAB 8
}

void dune_vm_free(ptent_t *root)
{
	free_level(root, 3);
}

// pgroot: both windows of dune.h in 2 MiB pages, guest-virtual =
// host-virtual, each at its guest-physical address; ring 3 may use them
// if map_full.
int dune_vm_init(bool map_full)
{
	int perm = PERM_R | PERM_W | PERM_X | PERM_BIG | (map_full ? PERM_U : 0);

	pgroot = new_table();
	if (pgroot == NULL)
		return -ENOMEM;
	int err = dune_vm_map_phys(pgroot, (void *)0, DUNE_LOW_END, (void *)0, perm);
	if (!err)
		err = dune_vm_map_phys(pgroot, (void *)DUNE_STACK_VA, DUNE_STACK_SIZE,
				       (void *)DUNE_GPA_STACK, perm);
	return err;
}
