// Assembler macros that save and restore registers on the stack: all the
// general registers, in the order of struct trapframe (trap/trap.h), for
// the two ways into the kernel (trap/vectors.S, syscall/entry.S); and the
// callee-saved ones, in the order of struct context (proc/proc.h), for
// code that leaves a C function's frame and comes back (proc/switch.S,
// vmx/entry.S, libdune/entry.S).

#ifndef KERNEL_ARCH_FRAME_H
#define KERNEL_ARCH_FRAME_H

#ifdef __ASSEMBLER__
.macro save_general_registers
	// BEGIN LAB 1 SOLUTION: trap_entry
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	// END LAB 1
.endm

.macro save_callee_saved_registers
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro restore_callee_saved_registers
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
.endm

.macro restore_general_registers
	// BEGIN LAB 1 SOLUTION: trap_entry
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	// END LAB 1
.endm
#endif

#endif
