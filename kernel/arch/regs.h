// Bits of the control registers, EFER, RFLAGS and CPUID, and the numbers
// of the MSRs the kernel uses, for C and assembly alike (SDM Vol. 3A 2.5
// "Control Registers", 2.2.1 EFER, 2.3 RFLAGS; Vol. 4 for the MSRs).

#ifndef KERNEL_ARCH_REGS_H
#define KERNEL_ARCH_REGS_H

#define CR0_PE   0x00000001     // protected mode
#define CR0_NE   0x00000020     // native x87 error reporting (required in VMX operation)
#define CR0_WP   0x00010000     // ring 0 honours read-only pages too
#define CR0_NW   0x20000000     // not write-through (with CD: caching off)
#define CR0_CD   0x40000000     // cache disable
#define CR0_PG   0x80000000     // paging
#define CR4_PAE  0x00000020     // physical address extension (needed for long mode)
#define CR4_PGE  0x00000080     // global pages
#define CR4_PCE  0x00000100     // rdpmc allowed in ring 3
#define CR4_VMXE 0x00002000     // VMX enable (SDM Vol. 3C 24.7)

#define RFLAGS_CF 0x00000001    // carry
#define RFLAGS_RESERVED 0x00000002      // bit 1 is always 1
#define RFLAGS_PF 0x00000004    // parity
#define RFLAGS_AF 0x00000010    // auxiliary carry
#define RFLAGS_ZF 0x00000040    // zero
#define RFLAGS_SF 0x00000080    // sign
#define RFLAGS_TF 0x00000100    // trap flag (single step)
#define RFLAGS_IF 0x00000200    // interrupts enabled
#define RFLAGS_DF 0x00000400    // string direction
#define RFLAGS_OF 0x00000800    // overflow
#define RFLAGS_IOPL 0x00003000  // I/O privilege level (two bits)
#define RFLAGS_NT 0x00004000    // nested task
#define RFLAGS_RF 0x00010000    // resume (no instruction breakpoint)
#define RFLAGS_AC 0x00040000    // alignment check
#define RFLAGS_ID 0x00200000    // CPUID is there (a program may toggle it)
// The flags a process's saved context may hold besides IF: those popf
// may change in ring 3 but TF (this kernel single-steps nobody), and RF,
// which the CPU sets in the image of a fault (SDM Vol. 1 3.4.3, Vol. 3A
// 17.3.1.1). Never IOPL, NT or VM.
#define RFLAGS_USER (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | \
		     RFLAGS_DF | RFLAGS_OF | RFLAGS_RF | RFLAGS_AC | RFLAGS_ID)

#define CPUID_1_ECX_VMX        0x00000020       // CPUID.1:ECX[5]: VMX
#define CPUID_1_ECX_HYPERVISOR 0x80000000       // CPUID.1:ECX[31]: running under a hypervisor
#define CPUID_HYPERVISOR_LEAF  0x40000000       // where hypervisors name themselves

#define MSR_TSC            0x00000010
#define MSR_FS_BASE        0xC0000100
#define MSR_GS_BASE        0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_STAR           0xC0000081
#define MSR_LSTAR          0xC0000082
#define MSR_FMASK          0xC0000084

// Performance monitoring (SDM Vol. 3B 20.2.2, Vol. 4 Table 2-2).
#define MSR_FIXED_CTR0          0x309
#define MSR_FIXED_CTR_CTRL      0x38D
#define MSR_PERF_GLOBAL_CTRL    0x38F
#define RDPMC_FIXED_CTR0        (1u << 30)      // rdpmc's index of fixed counter 0 (bit 30: the fixed ones)

// VMX capability MSRs (SDM Vol. 3D Appendix A).
#define MSR_FEATURE_CONTROL     0x03A
#define MSR_VMX_BASIC           0x480
#define MSR_VMX_PINBASED        0x481
#define MSR_VMX_PROCBASED       0x482
#define MSR_VMX_EXIT            0x483
#define MSR_VMX_ENTRY           0x484
#define MSR_VMX_MISC            0x485
#define MSR_VMX_CR0_FIXED0      0x486
#define MSR_VMX_CR0_FIXED1      0x487
#define MSR_VMX_CR4_FIXED0      0x488
#define MSR_VMX_CR4_FIXED1      0x489
#define MSR_VMX_PROCBASED2      0x48B
#define MSR_VMX_EPT_VPID_CAP    0x48C
#define MSR_VMX_TRUE_PINBASED   0x48D
#define MSR_VMX_TRUE_PROCBASED  0x48E
#define MSR_VMX_TRUE_EXIT       0x48F
#define MSR_VMX_TRUE_ENTRY      0x490

#define MSR_EFER 0xC0000080
#define EFER_SCE 0x00000001     // SYSCALL/SYSRET
#define EFER_LME 0x00000100     // long mode enable
#define EFER_NXE 0x00000800     // no-execute bit in page tables
#define EFER_LMA 0x00000400     // long mode active (set by the CPU; by VM entry for a guest)

// The message a device sends for an interrupt (MSI, MSI-X) in the local
// APIC's format (SDM Vol. 3A 11.11.1, 11.11.2): written to 0xFEE00000
// with the destination APIC id in address bits 19:12 (physical
// destination, no redirection hint); the data is the vector, with fixed
// delivery and edge trigger (bits 10:8 and 15 zero).
#define MSI_ADDRESS_BASE       0xFEE00000u
#define MSI_ADDRESS_DEST_SHIFT 12
#define MSI_DATA_VECTOR_MASK   0xFFu

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
