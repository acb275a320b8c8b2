// Exception entry points. Each vector's stub makes the stack look the same
// (an error code, 0 if the CPU pushed none, then the vector number), and
// jumps to trap_common, which saves the general registers as a struct
// trapframe (trap/trap.h) and calls trap_dispatch(tf).

#include "cpu/gdt.h"

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
	movq %rsp, %rdi
	cld
	call trap_dispatch
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
	addq $16, %rsp                  // vector and error code
	iretq

.altmacro
.macro trap_stubs from, to
	trap_stub \from
	.if \to - \from
	trap_stubs %(\from + 1), \to
	.endif
.endm
	trap_stubs 0, 31

.macro trap_vector_address vector
	.quad trap_vector_\vector
.endm
.macro trap_vector_addresses from, to
	trap_vector_address \from
	.if \to - \from
	trap_vector_addresses %(\from + 1), \to
	.endif
.endm

	.section .rodata
	.balign 8
	.globl trap_vectors
trap_vectors:
	trap_vector_addresses 0, 31
