// The CPU's 4-level paging (SDM Vol. 3A 4.5): the page-table entry bits
// (Tables 4-15 to 4-20), the entry's address field, the tables' shape and
// the large page, for C and assembly alike (boot/entry.S builds the boot
// tables with them). Software bits are their users' own: the kernel's in
// mm/vm.h, libdune's in libdune/dune.h.

#ifndef KERNEL_ARCH_MMU_H
#define KERNEL_ARCH_MMU_H

#ifdef __ASSEMBLER__
#define MMU_UL(x) x
#else
#define MMU_UL(x) x##ul
#endif

#include "arch/memlayout.h"

#define PTE_P    MMU_UL(0x001)  // present
#define PTE_W    MMU_UL(0x002)  // writable
#define PTE_U    MMU_UL(0x004)  // user-accessible
#define PTE_PWT  MMU_UL(0x008)  // write-through
#define PTE_PCD  MMU_UL(0x010)  // cache disable
#define PTE_A    MMU_UL(0x020)  // accessed
#define PTE_D    MMU_UL(0x040)  // dirty
#define PTE_PS   MMU_UL(0x080)  // large page (in a PDPT or PD entry)
#define PTE_G    MMU_UL(0x100)  // global: survives CR3 reloads (CR4.PGE)
#define PTE_NX   (MMU_UL(1) << 63)      // no execute (EFER.NXE)

// The physical address of the page or table an entry points to: bits
// 51-12 (the architectural maximum; the bits above MAXPHYADDR are 0).
#define PTE_ADDR_MASK MMU_UL(0x000FFFFFFFFFF000)
#define PTE_ADDR(pte) ((pte) & PTE_ADDR_MASK)
#define PTE_FLAGS(pte) ((pte) & ~PTE_ADDR_MASK)

// A virtual address splits into four 9-bit table indices and a 12-bit
// offset: PML4 (bits 47-39), PDPT (38-30), PD (29-21), PT (20-12). A table
// is one page of PT_ENTRIES 8-byte entries.
#define PT_LEVELS 4
#define PT_ENTRIES 512
// A PD entry with PTE_PS maps a 2 MiB page.
#define LARGE_PAGE_SIZE (MMU_UL(1) << 21)

// The lowest bit of the index into the table of a level (0 = PT, 3 = PML4):
// an entry of that table spans 1 << PT_SHIFT(level) bytes.
#define PT_SHIFT(level) (PAGE_SHIFT + 9 * (level))

#ifndef __ASSEMBLER__
// Index into the table of a level for va.
#define PT_INDEX(va, level) (((uint64_t)(va) >> PT_SHIFT(level)) & (PT_ENTRIES - 1))
#endif

#endif
