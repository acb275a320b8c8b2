// Bits of the control registers and of EFER that the kernel sets, for C
// and assembly alike (SDM Vol. 3A 2.5 "Control Registers", 2.2.1 EFER).

#ifndef KERNEL_ARCH_REGS_H
#define KERNEL_ARCH_REGS_H

#define CR0_PE   0x00000001     // protected mode
#define CR0_WP   0x00010000     // ring 0 honours read-only pages too
#define CR0_NW   0x20000000     // not write-through (with CD: caching off)
#define CR0_CD   0x40000000     // cache disable
#define CR0_PG   0x80000000     // paging
#define CR4_PAE  0x00000020     // physical address extension (needed for long mode)
#define CR4_PGE  0x00000080     // global pages
#define CR4_PCE  0x00000100     // rdpmc allowed in ring 3

#define MSR_EFER 0xC0000080
#define EFER_SCE 0x00000001     // SYSCALL/SYSRET
#define EFER_LME 0x00000100     // long mode enable
#define EFER_NXE 0x00000800     // no-execute bit in page tables
#define EFER_LMA 0x00000400     // long mode active (set by the CPU; by VM entry for a guest)

#ifdef __ASSEMBLER__
// From 32-bit protected mode with paging off to long mode (SDM Vol. 3A
// 10.8.5): PAE, the PML4 (its physical address in \\pml4, below 4 GiB),
// EFER.LME and NXE, then paging with the extra CR0 bits. The code must be
// mapped 1:1 by that PML4. Clobbers %eax, %ecx, %edx.
.macro enable_long_mode pml4, cr0_bits=0
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl \pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | \cr0_bits), %eax
	movl %eax, %cr0
.endm
#endif

#endif
