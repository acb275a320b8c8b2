// Traps with known registers, for lab1.trap (test/lab1.c). Each function
// takes regs, the 15 general registers in the order of struct trapframe
// (arch/trapframe.h), loads them all except rbp, which keeps the frame
// for the backtrace, and raises a trap:
//
//   lab1_trap_device(regs)    vector 64, the first device vector, with
//                             interrupts on, then stores the registers
//                             back into regs;
//   lab1_trap_breakpoint(regs)  int3 (no error code): does not return;
//   lab1_trap_gp(regs)        loads lab1_gp_selector into DS at
//                             lab1_gp_fault: a #GP whose error code is the
//                             selector (SDM Vol. 3A 6.13): does not return.
//
// A fault's frame holds the faulting instruction (lab1_gp_fault), a
// trap's the one after it (lab1_breakpoint_next): SDM Vol. 3A 6.5.

#include "arch/frame.h"

.macro load_test_registers
	movq 0*8(%rdi), %r15
	movq 1*8(%rdi), %r14
	movq 2*8(%rdi), %r13
	movq 3*8(%rdi), %r12
	movq 4*8(%rdi), %r11
	movq 5*8(%rdi), %r10
	movq 6*8(%rdi), %r9
	movq 7*8(%rdi), %r8
	movq 9*8(%rdi), %rsi
	movq 11*8(%rdi), %rdx
	movq 12*8(%rdi), %rcx
	movq 13*8(%rdi), %rbx
	movq 14*8(%rdi), %rax
	movq 8*8(%rdi), %rdi
.endm

	.text
	.globl lab1_trap_device
lab1_trap_device:
	pushq %rbp
	movq %rsp, %rbp
	save_callee_saved_registers
	pushq %rdi
	load_test_registers
	sti
	int $64                         // T_DEVICE_FIRST (cpu/lapic.h)
	cli
	xchgq %rdi, (%rsp)              // regs back; the rdi of the trap on the stack
	movq %r15, 0*8(%rdi)
	movq %r14, 1*8(%rdi)
	movq %r13, 2*8(%rdi)
	movq %r12, 3*8(%rdi)
	movq %r11, 4*8(%rdi)
	movq %r10, 5*8(%rdi)
	movq %r9, 6*8(%rdi)
	movq %r8, 7*8(%rdi)
	popq 8*8(%rdi)
	movq %rsi, 9*8(%rdi)
	movq %rdx, 11*8(%rdi)
	movq %rcx, 12*8(%rdi)
	movq %rbx, 13*8(%rdi)
	movq %rax, 14*8(%rdi)
	restore_callee_saved_registers
	popq %rbp
	ret

	.globl lab1_trap_breakpoint
lab1_trap_breakpoint:
	pushq %rbp
	movq %rsp, %rbp
	load_test_registers
	int3
.Lbreakpoint_next:
	ud2

	.globl lab1_trap_gp
lab1_trap_gp:
	pushq %rbp
	movq %rsp, %rbp
	load_test_registers
	jmp lab1_gp_fault

// The #GP is the first instruction of a function: a report that looks up
// the faulting rip as if it were a return address names the wrong one.
	.globl lab1_gp_fault
lab1_gp_fault:
	movw lab1_gp_selector(%rip), %ds
	ud2

	.section .rodata
	.balign 8
	.globl lab1_breakpoint_next
lab1_breakpoint_next:
	.quad .Lbreakpoint_next
