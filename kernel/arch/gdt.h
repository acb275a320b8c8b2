// The kernel's GDT. In long mode segments no longer translate addresses;
// the GDT still holds the code segments (with their privilege level and
// 64-bit flag) and, from Lab 3, the TSS.
//
// The order is fixed by SYSCALL/SYSRET (SDM Vol. 3A 5.8.8): the kernel
// data segment follows the kernel code segment, and the user code segment
// follows the user data segment.

#ifndef KERNEL_ARCH_GDT_H
#define KERNEL_ARCH_GDT_H

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_USER_DATA   0x18    // used with RPL 3
#define GDT_USER_CODE   0x20    // used with RPL 3
#define GDT_TSS         0x28    // a 16-byte system descriptor
#define GDT_ENTRIES     7

// Descriptors (SDM Vol. 3A 3.4.5): present, S=1, the DPL, and for code
// segments execute/read with L=1 (64-bit); for data segments read/write.
#define GDT_DESC_KERNEL_CODE64 0x00209A0000000000
#define GDT_DESC_KERNEL_DATA   0x0000920000000000
#define GDT_DESC_USER_DATA     0x0000F20000000000
#define GDT_DESC_USER_CODE64   0x0020FA0000000000


#endif
