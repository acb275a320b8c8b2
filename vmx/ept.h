// Extended page tables: guest-physical to host-physical translation
// (SDM Vol. 3C 29.3). Four levels like the ordinary page tables, but an
// entry is present when any of its R, W, X bits is set, and a leaf names
// the memory type.

#ifndef VMX_EPT_H
#define VMX_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_R 0x1ul
#define EPT_W 0x2ul
#define EPT_X 0x4ul
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MEMTYPE_WB (6ul << 3)       // leaf: write-back (SDM 29.3.7)
#define EPT_LARGE (1ul << 7)            // a 2 MiB (PD) or 1 GiB (PDPT) leaf
#define EPT_ACCESSED (1ul << 8)         // set by the CPU when A/D flags are on
#define EPT_DIRTY (1ul << 9)
#define EPT_ADDR_MASK 0x000FFFFFFFFFF000ul

struct ept {
	uint64_t *pml4;
	uint64_t eptp;          // the VMCS's EPT pointer
	uint64_t table_pages;
	bool accessed_dirty;    // the CPU keeps A/D flags in this EPT
};

// A new, empty EPT. Returns 0 or -ENOMEM.
int ept_create(struct ept *e);
// Maps [gpa, gpa + size) to [hpa, hpa + size) with perm (EPT_R/W/X),
// using 2 MiB leaves where both sides are aligned. Returns 0 or -ENOMEM.
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perm);
// The host-physical address of gpa, or -1 if it is not mapped.
uint64_t ept_translate(const struct ept *e, uint64_t gpa);

// The entry at `level` (0: a 4 KiB leaf, 1: a 2 MiB one) on the way to
// gpa, making missing tables if create; a large leaf above that level is
// returned instead. NULL if a table is missing and !create, or if memory
// is short.
uint64_t *ept_walk(struct ept *e, uint64_t gpa, int level, bool create);
// Replaces the 2 MiB leaf that maps gpa by a table of 512 4 KiB leaves
// that map the same memory with the same bits, then runs INVEPT. Returns
// 0 (also when gpa's 2 MiB are mapped by a table already), -ENOENT if
// nothing maps them, -ENOMEM (no table; the leaf is left as it was).
int ept_split(struct ept *e, uint64_t gpa);
// Changes the permissions of the 4 KiB leaf at gpa (0: no access, but
// keep the page), splitting a 2 MiB leaf first. Returns 0, -ENOENT if
// none, or ept_split's error.
int ept_protect(struct ept *e, uint64_t gpa, uint64_t perm);
// Removes the 4 KiB leaf at gpa, splitting a 2 MiB leaf first; returns
// its host-physical address, or -1.
uint64_t ept_unmap(struct ept *e, uint64_t gpa);
// The dirty log of [gpa, gpa + len) (len a multiple of 4 KiB): sets bit
// i of bitmap (len / 4 KiB bits, rounded up to whole words, the others
// cleared) for each page i the guest wrote since the last call, as the
// leaves' dirty flags say, and clears the flags. A 2 MiB leaf reports
// its pages in the range; its flag is cleared only if the range covers
// it whole. Returns 0, or -ENODEV if the EPT keeps no dirty flags
// (accessed_dirty false).
int ept_dirty_log(struct ept *e, uint64_t gpa, uint64_t len, uint64_t *bitmap);
// Narrows every leaf in [gpa, gpa + len) to the permissions keep (a
// subset of EPT_RWX; 0 removes the leaves), skipping missing tables, so
// that a range of terabytes costs what is mapped in it. A 2 MiB leaf
// that the range only partly covers is removed whole. No INVEPT: the
// caller flushes once (vm_flush_ept, ept_invalidate).
void ept_narrow_range(struct ept *e, uint64_t gpa, uint64_t len, uint64_t keep);
// Makes every CPU forget the translations of this EPT (INVEPT): needed
// after a permission is reduced or a mapping removed (SDM Vol. 3C 29.4.3).
void ept_invalidate(const struct ept *e);
// Frees the tables (not the memory they map).
void ept_destroy(struct ept *e);

#endif
