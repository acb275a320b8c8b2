// Virtual memory layout of the kernel.
//
//   0xFFFFFFFF80000000  KERNBASE: the kernel image, linked here and loaded
//                       at physical KERNEL_LOAD_PHYS (the top 2 GiB, so the
//                       compiler's -mcmodel=kernel can use 32-bit addresses).
//   0xFFFFFF8000000000  MMIO_BASE: device registers mapped uncached
//                       (vm_map_mmio), up to KERNBASE. It lies in the last
//                       PML4 entry, the image's, which every address space
//                       shares from vm_init on, so a mapping made later is
//                       seen by all of them.
//   0xFFFF800000000000  DIRECTMAP_BASE: all of physical memory, mapped 1:1
//                       at this offset, so the kernel reaches any physical
//                       page at P2V(pa).
//   0x0000000000000000  user space (page 0 is never mapped: NULL faults).
//
// The boot page tables (boot/entry.S) map the first 1 GiB at KERNBASE and
// the first 4 GiB at DIRECTMAP_BASE with 2 MiB pages; the identity map the
// 32-bit entry code runs on is dropped as soon as C starts (mm/bootmap.c).

#ifndef KERNEL_ARCH_MEMLAYOUT_H
#define KERNEL_ARCH_MEMLAYOUT_H

#define KERNBASE           0xFFFFFFFF80000000
#define DIRECTMAP_BASE     0xFFFF800000000000
#define KERNEL_LOAD_PHYS   0x100000
#define MMIO_BASE          0xFFFFFF8000000000
#define MMIO_END           KERNBASE
#define BOOT_DIRECTMAP_GIB 4

#define USER_TOP 0x0000800000000000ul   // the end of the user half

// The user half's layout (proc/proc.h draws it), which the user programs
// and their tests rely on too: the stack, USER_STACK_PAGES pages below
// USER_STACK_TOP, and the most the heap (sbrk) may reach.
#define USER_STACK_TOP   0x00007FFFFFF00000ul
#define USER_STACK_PAGES 16
#define USER_HEAP_MAX    0x0000700000000000ul

// Windows of the user half where the kernel picks the address of what it
// maps into a process: DMA memory (SYS_dma_alloc) and device registers
// (SYS_nic_open; mm/devmem.h). They lie in the top GiB, below the stack
// (proc/proc.h), which Dune mode reaches too (vmx/dune/dune.h), and far
// above the heap; SYS_map refuses addresses in them.
#define USER_DMA_BASE  0x00007FFFD0000000ul
#define USER_DMA_END   0x00007FFFE0000000ul     // 256 MiB
#define USER_MMIO_BASE USER_DMA_END
#define USER_MMIO_END  0x00007FFFF0000000ul     // 256 MiB

#define PAGE_SIZE 4096
#define PAGE_SHIFT 12
#define KSTACK_SIZE (4 * PAGE_SIZE)

#ifndef __ASSEMBLER__
#include <stdint.h>

// Physical address <-> direct-map virtual address.
#define P2V(pa) ((void *)((uintptr_t)(pa) + DIRECTMAP_BASE))
#define V2P(va) ((uintptr_t)(va) - DIRECTMAP_BASE)
// Physical address of a symbol of the kernel image.
#define KIMG_V2P(va) ((uintptr_t)(va) - KERNBASE)
#endif

#endif
