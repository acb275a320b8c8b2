#include <stddef.h>

#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/page.h"
#include "mm/vm.h"
#include "vmx/ept.h"
#include "vmx/vmx.h"

#define EPT_LEVELS 4
#define EPTP_MEMTYPE_WB 6ul             // the CPU reads the tables write-back
#define EPTP_WALK_LENGTH_4 (3ul << 3)   // page-walk length minus one (SDM 25.6.11)
#define EPTP_ACCESSED_DIRTY (1ul << 6)  // the CPU sets A/D flags in EPT entries
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2

// A zeroed page for a table of e, counted in e->table_pages; NULL when
// memory is short.
static uint64_t *alloc_table(struct ept *e)
{
	// BEGIN LAB 6 SOLUTION: ept_walk
	struct page *p = page_alloc(0, true);

	if (p == NULL)
		return NULL;
	e->table_pages++;
	return page_to_va(p);
	// STUB:
	// struct page *p = page_alloc(0, true);
	// (void)e;
	// return p != NULL ? page_to_va(p) : NULL;
	// END LAB 6
}

int ept_create(struct ept *e)
{
	*e = (struct ept){ 0 };
	if ((e->pml4 = alloc_table(e)) == NULL)
		return -ENOMEM;
	// BEGIN LAB 6 SOLUTION: ept_create
	e->eptp = V2P(e->pml4) | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
	if (vmx_caps.ept_vpid & EPT_CAP_ACCESSED_DIRTY) {
		e->eptp |= EPTP_ACCESSED_DIRTY;
		e->accessed_dirty = true;
	}
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_create not written: an uncached walk without accessed and dirty flags\n");
	// }
	// e->eptp = V2P(e->pml4) | EPTP_WALK_LENGTH_4;
	// END LAB 6
	return 0;
}

uint64_t *ept_walk(struct ept *e, uint64_t gpa, int level, bool create)
{
	// BEGIN LAB 6 SOLUTION: ept_walk
	uint64_t *table = e->pml4;

	for (int l = EPT_LEVELS - 1; l > level; l--) {
		uint64_t *entry = &table[PT_INDEX(gpa, l)];
		if (*entry & EPT_RWX) {
			if (*entry & EPT_LARGE)
				return entry;
		} else {
			if (!create)
				return NULL;
			uint64_t *next = alloc_table(e);
			if (next == NULL)
				return NULL;
			*entry = V2P(next) | EPT_RWX;
		}
		table = P2V(*entry & EPT_ADDR_MASK);
	}
	return &table[PT_INDEX(gpa, level)];
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_walk not written: Lab 2's pt_walk_level stands in "
	// 	       "(tables not counted, a leaf without R taken for none)\n");
	// }
	// return pt_walk_level(e->pml4, gpa, level, create);
	// END LAB 6
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perm)
{
	// BEGIN LAB 6 SOLUTION: ept_map
	for (uint64_t off = 0; off < size;) {
		bool large = (gpa + off) % LARGE_PAGE_SIZE == 0 && (hpa + off) % LARGE_PAGE_SIZE == 0 &&
			     size - off >= LARGE_PAGE_SIZE;
		uint64_t *entry = ept_walk(e, gpa + off, large ? 1 : 0, true);
		if (entry == NULL)
			return -ENOMEM;
		*entry = (hpa + off) | perm | EPT_MEMTYPE_WB | (large ? EPT_LARGE : 0);
		off += large ? LARGE_PAGE_SIZE : PAGE_SIZE;
	}
	return 0;
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_map not written: Lab 2's vm_map_phys stands in "
	// 	       "(its own bits, no memory type)\n");
	// }
	// return vm_map_phys(e->pml4, gpa, hpa, size, perm);
	// END LAB 6
}

uint64_t ept_translate(const struct ept *e, uint64_t gpa)
{
	// BEGIN LAB 6 SOLUTION: ept_translate
	uint64_t *entry = ept_walk((struct ept *)e, gpa, 0, false);

	if (entry == NULL || !(*entry & EPT_RWX))
		return (uint64_t)-1;
	uint64_t page = *entry & EPT_LARGE ? LARGE_PAGE_SIZE : PAGE_SIZE;
	return (*entry & EPT_ADDR_MASK & ~(page - 1)) | (gpa & (page - 1));
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_translate not written: Lab 2's vm_lookup stands in (4 KiB pages only)\n");
	// }
	// pte_t entry;
	// vm_lookup(e->pml4, gpa, &entry);
	// return entry & PTE_P ? PTE_ADDR(entry) | (gpa & (PAGE_SIZE - 1)) : (uint64_t)-1;
	// END LAB 6
}

static void free_level(uint64_t *table, int level)
{
	// BEGIN LAB 6 SOLUTION: ept_destroy
	for (int i = 0; level > 0 && i < PT_ENTRIES; i++)
		if ((table[i] & EPT_RWX) && !(table[i] & EPT_LARGE))
			free_level(P2V(table[i] & EPT_ADDR_MASK), level - 1);
	page_free(pa_to_page(V2P(table)));
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_destroy not written: the tables are leaked\n");
	// }
	// (void)table, (void)level;
	// END LAB 6
}

void ept_destroy(struct ept *e)
{
	// A later EPT may get the same root page: no translation of this one
	// may survive (SDM Vol. 3C 29.4.3.1).
	ept_invalidate(e);
	free_level(e->pml4, EPT_LEVELS - 1);
	e->pml4 = NULL;
}

int ept_split(struct ept *e, uint64_t gpa)
{
	// BEGIN LAB 6 SOLUTION: ept_split
	uint64_t *entry = ept_walk(e, gpa, 1, false);

	if (entry == NULL || !(*entry & EPT_RWX))
		return -ENOENT;
	if (!(*entry & EPT_LARGE))
		return 0;
	uint64_t *table = alloc_table(e);
	if (table == NULL)
		return -ENOMEM;
	uint64_t hpa = *entry & EPT_ADDR_MASK, bits = *entry & ~EPT_ADDR_MASK & ~EPT_LARGE;
	for (int i = 0; i < PT_ENTRIES; i++)
		table[i] = (hpa + (uint64_t)i * PAGE_SIZE) | bits;
	*entry = V2P(table) | EPT_RWX;
	// The CPU may still hold the 2 MiB translation (SDM Vol. 3C 29.4.3).
	ept_invalidate(e);
	return 0;
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_split not written: a 2 MiB leaf stays whole\n");
	// }
	// (void)e, (void)gpa;
	// return -ENOSYS;
	// END LAB 6
}

// The 4 KiB leaf at gpa, a 2 MiB leaf split for it, or an error: -ENOENT,
// or ept_split's.
static int leaf(struct ept *e, uint64_t gpa, uint64_t **entry)
{
	// BEGIN LAB 6 SOLUTION: ept_protect
	*entry = ept_walk(e, gpa, 0, false);
	if (*entry == NULL || !(**entry & EPT_RWX))
		return -ENOENT;
	if (!(**entry & EPT_LARGE))
		return 0;
	int err = ept_split(e, gpa);
	*entry = ept_walk(e, gpa, 0, false);
	return err;
	// STUB:
	// (void)e, (void)gpa;
	// *entry = NULL;
	// return -ENOSYS;
	// END LAB 6
}

int ept_protect(struct ept *e, uint64_t gpa, uint64_t perm)
{
	uint64_t *entry;
	int err = leaf(e, gpa, &entry);

	// BEGIN LAB 6 SOLUTION: ept_protect
	if (err == -ENOENT && entry != NULL && (*entry & EPT_ADDR_MASK))
		err = 0;        // a page kept with no access (perm 0) may get some back
	if (err < 0)
		return err;
	*entry = (*entry & ~EPT_RWX) | perm;
	ept_invalidate(e);
	return 0;
	// STUB:
	// printk("LAB 6: ept_protect not written (guest-physical 0x%lx)\n", gpa);
	// (void)e, (void)perm, (void)err, (void)entry;
	// return -ENOSYS;
	// END LAB 6
}

uint64_t ept_unmap(struct ept *e, uint64_t gpa)
{
	uint64_t *entry;

	// BEGIN LAB 6 SOLUTION: ept_unmap
	if (leaf(e, gpa, &entry) < 0)
		return (uint64_t)-1;
	uint64_t hpa = *entry & EPT_ADDR_MASK;
	*entry = 0;
	ept_invalidate(e);
	return hpa;
	// STUB:
	// printk("LAB 6: ept_unmap not written (guest-physical 0x%lx)\n", gpa);
	// (void)e, (void)entry;
	// return (uint64_t)-1;
	// END LAB 6
}

// The leaves of table (at level, covering from base) that lie in
// [start, end): narrowed to keep, or cleared.
static void narrow_level(uint64_t *table, int level, uint64_t base, uint64_t start,
			 uint64_t end, uint64_t keep)
{
	// BEGIN LAB 6 SOLUTION: ept_narrow_range
	uint64_t span = (uint64_t)PAGE_SIZE << (9 * level);

	for (int i = 0; i < PT_ENTRIES; i++) {
		uint64_t lo = base + i * span;
		uint64_t *entry = &table[i];
		if (lo + span <= start || lo >= end || !(*entry & EPT_RWX))
			continue;
		if (level == 0 || (*entry & EPT_LARGE)) {
			bool whole = level == 0 || (start <= lo && lo + span <= end);
			*entry = keep != 0 && whole ? *entry & ~(EPT_RWX & ~keep) : 0;
			continue;
		}
		narrow_level(P2V(*entry & EPT_ADDR_MASK), level - 1, lo, start, end, keep);
	}
	// STUB:
	// printk("LAB 6: ept_narrow_range not written: [0x%lx, 0x%lx) keeps its permissions\n",
	//        start, end);
	// (void)table, (void)level, (void)base, (void)keep;
	// END LAB 6
}

void ept_narrow_range(struct ept *e, uint64_t gpa, uint64_t len, uint64_t keep)
{
	if (len > 0)
		narrow_level(e->pml4, EPT_LEVELS - 1, 0, gpa, gpa + len, keep & EPT_RWX);
}

// Sets bit (page - first) of bitmap for each page of [page, end).
static void mark_pages(uint64_t *bitmap, uint64_t first, uint64_t page, uint64_t end)
{
	// BEGIN LAB 6 SOLUTION: ept_dirty_log
	for (; page < end; page += PAGE_SIZE) {
		uint64_t i = (page - first) / PAGE_SIZE;
		bitmap[i / 64] |= 1ul << (i % 64);
	}
	// STUB:
	// (void)bitmap, (void)first, (void)page, (void)end;
	// END LAB 6
}

int ept_dirty_log(struct ept *e, uint64_t gpa, uint64_t len, uint64_t *bitmap)
{
	// BEGIN LAB 6 SOLUTION: ept_dirty_log
	uint64_t end = gpa + len;
	bool cleared = false;

	if (!e->accessed_dirty)
		return -ENODEV;
	memset(bitmap, 0, (len / PAGE_SIZE + 63) / 64 * sizeof(uint64_t));
	for (uint64_t page = gpa; page < end;) {
		uint64_t *entry = ept_walk(e, page, 0, false);
		bool large = entry != NULL && (*entry & EPT_LARGE);
		uint64_t lo = large ? page & ~(LARGE_PAGE_SIZE - 1) : page;
		uint64_t hi = large ? lo + LARGE_PAGE_SIZE : page + PAGE_SIZE;
		if (entry != NULL && (*entry & EPT_RWX) && (*entry & EPT_DIRTY)) {
			mark_pages(bitmap, gpa, page, hi < end ? hi : end);
			// A 2 MiB leaf partly outside keeps its flag for the rest.
			if (gpa <= lo && hi <= end) {
				*entry &= ~EPT_DIRTY;
				cleared = true;
			}
		}
		page = hi;
	}
	// The CPU sets a flag only if it sees it clear: it must forget what it
	// cached (SDM Vol. 3C 29.3.5, 29.4.3).
	if (cleared)
		ept_invalidate(e);
	return 0;
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_dirty_log not written: no page is reported\n");
	// }
	// (void)e, (void)gpa, (void)len, (void)bitmap, (void)mark_pages;
	// return -ENOSYS;
	// END LAB 6
}

void ept_invalidate(const struct ept *e)
{
	// BEGIN LAB 6 SOLUTION: ept_invalidate
	struct { uint64_t eptp, reserved; } descriptor = { e->eptp, 0 };
	uint64_t type = vmx_caps.ept_vpid & EPT_CAP_INVEPT_SINGLE ? INVEPT_SINGLE_CONTEXT
								  : INVEPT_ALL_CONTEXTS;
	bool failed;

	// CF or ZF set: VMfailInvalid or VMfailValid.
	asm volatile("invept %1, %2" : "=@ccbe"(failed) : "m"(descriptor), "r"(type) : "memory");
	if (failed)
		panic("invept: type %lu for EPTP 0x%lx failed", type, e->eptp);
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 6: ept_invalidate not written: the CPU keeps what it cached\n");
	// }
	// (void)e;
	// END LAB 6
}
