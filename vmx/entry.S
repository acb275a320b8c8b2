// Entering a guest and coming back (SDM Vol. 3C 27, 28).
//
// vmx_enter(regs, launched) saves the host's callee-saved registers,
// records its stack pointer as HOST_RSP, loads the guest's general
// registers and CR2 from regs and executes VMLAUNCH or VMRESUME. A VM exit
// lands at vmx_exit (HOST_RIP) on that same stack, with the guest's
// registers still in the CPU: they are stored back into regs, and
// vmx_enter returns 0. If the entry itself fails, the instruction falls
// through with CF (VMfailInvalid) or ZF (VMfailValid) set.

#include "arch/frame.h"

#define HOST_RSP 0x6C14

#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8  56
#define R_R9  64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112
#define R_CR2 120

	.text
	.globl vmx_enter, vmx_exit
vmx_enter:
	save_callee_saved_registers
	pushq %rdi                      // regs, for vmx_exit
	movq $HOST_RSP, %rax
	vmwrite %rsp, %rax
	movq R_CR2(%rdi), %rax          // the guest's CR2 (before the test: MOV to CR changes flags)
	movq %rax, %cr2
	testl %esi, %esi                // launched? (the moves below keep the flags)
	movq R_RAX(%rdi), %rax
	movq R_RBX(%rdi), %rbx
	movq R_RCX(%rdi), %rcx
	movq R_RDX(%rdi), %rdx
	movq R_RSI(%rdi), %rsi
	movq R_RBP(%rdi), %rbp
	movq R_R8(%rdi), %r8
	movq R_R9(%rdi), %r9
	movq R_R10(%rdi), %r10
	movq R_R11(%rdi), %r11
	movq R_R12(%rdi), %r12
	movq R_R13(%rdi), %r13
	movq R_R14(%rdi), %r14
	movq R_R15(%rdi), %r15
	movq R_RDI(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp entry_failed
1:	vmresume
entry_failed:
	movl $1, %eax                   // VMfailInvalid: CF
	jc 2f
	movl $2, %eax                   // VMfailValid: ZF
2:	addq $8, %rsp
	jmp restore_host

vmx_exit:
	pushq %rdi                      // the guest's rdi
	movq 8(%rsp), %rdi              // regs
	movq %rax, R_RAX(%rdi)
	movq %rbx, R_RBX(%rdi)
	movq %rcx, R_RCX(%rdi)
	movq %rdx, R_RDX(%rdi)
	movq %rsi, R_RSI(%rdi)
	movq %rbp, R_RBP(%rdi)
	movq %r8, R_R8(%rdi)
	movq %r9, R_R9(%rdi)
	movq %r10, R_R10(%rdi)
	movq %r11, R_R11(%rdi)
	movq %r12, R_R12(%rdi)
	movq %r13, R_R13(%rdi)
	movq %r14, R_R14(%rdi)
	movq %r15, R_R15(%rdi)
	movq %cr2, %rax
	movq %rax, R_CR2(%rdi)
	popq R_RDI(%rdi)
	addq $8, %rsp                   // regs
	xorl %eax, %eax
restore_host:
	restore_callee_saved_registers
	ret
