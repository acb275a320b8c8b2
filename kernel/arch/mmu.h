// Page-table entry bits (SDM Vol. 3A 4.5, Tables 4-15 to 4-20), for C
// and assembly alike (boot/entry.S builds the boot tables with them).
// The kernel's own software bits are in mm/vm.h.

#ifndef KERNEL_ARCH_MMU_H
#define KERNEL_ARCH_MMU_H

#ifdef __ASSEMBLER__
#define MMU_UL(x) x
#else
#define MMU_UL(x) x##ul
#endif

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

#endif
