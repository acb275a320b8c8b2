// Trap entry points for all 256 vectors. Each vector's stub makes the
// stack look the same (an error code, 0 if the CPU pushed none, then the
// vector number) and jumps to trap_common, which saves the general
// registers as a struct trapframe (trap/trap.h) and calls
// trap_dispatch(tf). trap_return restores a trapframe and returns with
// iretq: from a trap, or into a process for the first time.
//
// A trap from user mode (CPL 3 in the saved CS) swaps GS to the kernel's
// per-CPU base on the way in and back on the way out (cpu/cpu.h).

#include "arch/frame.h"

#define TF_CS_FROM_VECTOR 24    // saved CS, seen from the vector slot

// A vector's entry stub: leaves the error code (the CPU's, or a 0 where
// the CPU pushes none) and the vector number under the CPU's frame, and
// goes on to trap_common.
.macro trap_stub vector
	.balign 16
trap_vector_\vector:
	// BEGIN LAB 1 SOLUTION: trap_entry
	// The exceptions for which the CPU pushes an error code (SDM Vol.
	// 3A 6.15): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX.
	.if !(\vector == 8 || (\vector >= 10 && \vector <= 14) || \vector == 17 || \vector == 21 || \vector == 29 || \vector == 30)
	pushq $0
	.endif
	pushq $\vector
	jmp trap_common
	// STUB:
	// ud2
	// END LAB 1
.endm

	.text
trap_common:
	testb $3, TF_CS_FROM_VECTOR(%rsp)
	jz 1f
	swapgs
1:
	// BEGIN LAB 1 SOLUTION: trap_entry
	save_general_registers
	movq %rsp, %rdi
	cld
	call trap_dispatch
	// STUB:
	// ud2
	// END LAB 1
	// fall through

// trap_return(tf): continue at the state in tf, which is on this stack.
	.globl trap_return
trap_return:
	// BEGIN LAB 1 SOLUTION: trap_entry
	restore_general_registers
	addq $16, %rsp                  // vector and error code
	// STUB:
	// ud2
	// END LAB 1
	testb $3, 8(%rsp)               // returning to user mode?
	jz 1f
	swapgs
1:	iretq

.altmacro
.set vector, 0
.rept 256
	trap_stub %vector
	.set vector, vector + 1
.endr

.macro trap_vector_address vector
	.quad trap_vector_\vector
.endm

	.section .rodata
	.balign 8
	.globl trap_vectors
trap_vectors:
.set vector, 0
.rept 256
	trap_vector_address %vector
	.set vector, vector + 1
.endr
