// Where the other CPUs (APs) start. A STARTUP IPI starts a CPU in real
// mode at a page-aligned address below 1 MiB (SDM Vol. 3A 9.4.4.1):
// smp.c copies this code to TRAMPOLINE_PHYS and fills in the three
// quad words at its end before each start. The code goes to protected
// mode, then to long mode (as boot/entry.S does for the first CPU),
// and jumps to smp.c's ap_start on its own stack in the higher half.
//
// Addresses are those of the copy: T(label).

#include "arch/regs.h"
#include "smp/smp.h"

#define T(label) ((label) - trampoline_start + TRAMPOLINE_PHYS)

	// In .data: smp.c writes the parameters before each copy.
	.data
	.globl trampoline_start, trampoline_end
	.code16
trampoline_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl T(trampoline_gdt_desc)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $0x08, $T(protected_mode)

	.code32
protected_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	enable_long_mode T(trampoline_cr3), CR0_WP
	ljmpl $0x18, $T(long_mode)

	.code64
long_mode:
	movq T(trampoline_stack), %rsp
	xorl %ebp, %ebp
	movq T(trampoline_entry), %rax
	jmp *%rax

	.balign 8
trampoline_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF        // 32-bit code, flat
	.quad 0x00CF92000000FFFF        // 32-bit data, flat
	.quad 0x00209A0000000000        // 64-bit code
trampoline_gdt_desc:
	.word trampoline_gdt_desc - trampoline_gdt - 1
	.long T(trampoline_gdt)

	.balign 8
	.globl trampoline_cr3, trampoline_stack, trampoline_entry
trampoline_cr3:   .quad 0   // a PML4 below 4 GiB that maps this page 1:1
trampoline_stack: .quad 0
trampoline_entry: .quad 0
trampoline_end:
