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

// Vectors for which the CPU pushes an error code (SDM Vol. 3A 6.15).
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

.macro trap_stub vector
	.balign 16
trap_vector_\vector:
	.if !HAS_ERROR_CODE(\vector)
	pushq $0
	.endif
	pushq $\vector
	jmp trap_common
.endm

	.text
trap_common:
	testb $3, TF_CS_FROM_VECTOR(%rsp)
	jz 1f
	swapgs
1:	save_general_registers
	movq %rsp, %rdi
	cld
	call trap_dispatch
	// fall through

// trap_return(tf): continue at the state in tf, which is on this stack.
	.globl trap_return
trap_return:
	restore_general_registers
	addq $16, %rsp                  // vector and error code
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
