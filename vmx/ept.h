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
#define EPT_ADDR_MASK 0x000FFFFFFFFFF000ul

struct ept {
	uint64_t *pml4;
	uint64_t eptp;          // the VMCS's EPT pointer
	uint64_t table_pages;
};

// A new, empty EPT. Returns 0 or -ENOMEM.
int ept_create(struct ept *e);
// Maps [gpa, gpa + size) to [hpa, hpa + size) with perm (EPT_R/W/X),
// using 2 MiB leaves where both sides are aligned. Returns 0 or -ENOMEM.
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perm);
// The host-physical address of gpa, or -1 if it is not mapped.
uint64_t ept_translate(const struct ept *e, uint64_t gpa);
// Frees the tables (not the memory they map).
void ept_destroy(struct ept *e);

#endif
