// libdune's entry points in ring 0: the 256 exception stubs and their
// common path, the SYSCALL handler, the start of a thread in Dune mode,
// and the way into ring 3 and back (dune.h).
//
// GS base is the thread's struct dune_percpu in ring 0 and the user's
// while ring 3 runs (SWAPGS at each crossing, told by the CS of the
// frame). A system call tells its ring by the saved RFLAGS in R11: ring 3
// runs with IF set and cannot clear it (IOPL 0), ring 0 always runs with
// IF clear.

#include "arch/frame.h"
#include "internal.h"

	.text
// Exception stubs: push 0 where the CPU pushes no error code (SDM Vol.
// 3A 6.15: vectors 8, 10-14, 17, 21, 29, 30 push one), then the vector.
.macro stub n
dune_vector\n:
	.if !(\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq $0
	.endif
	pushq $\n
	jmp dune_trap_common
.endm

	.altmacro
	.set i, 0
	.rept 256
	stub %i
	.set i, i + 1
	.endr

.macro save_regs
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
.endm

dune_trap_common:
	testb $3, 24(%rsp)              // the CS of the frame: from ring 3?
	jz 1f
	swapgs
1:	cld
	save_regs
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call dune_trap
	movq %rbx, %rsp
	jmp dune_tf_return

// Resumes the frame at RSP (struct dune_tf): every register, then IRETQ
// (SWAPGS first if it goes to ring 3).
	.globl dune_tf_return
dune_tf_return:
	popq %rax
	popq %rbx
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbp
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	addq $16, %rsp                  // vector, error code
	testb $3, 8(%rsp)
	jz 1f
	swapgs
1:	iretq

.macro vector_address n
	.quad dune_vector\n
.endm

	.section .rodata
	.balign 8
	.globl dune_vectors
dune_vectors:
	.set i, 0
	.rept 256
	vector_address %i
	.set i, i + 1
	.endr

	.text
// SYSCALL (IA32_LSTAR). From ring 0: ask the kernel by VMCALL (which
// changes only RAX) and go back, with the flags of R11, without touching
// the stack below RSP - 128 (the caller's red zone). From ring 3: switch
// to the thread's exception stack, build a struct dune_tf and call
// dune_syscall, then resume the frame.
	.globl dune_syscall_entry
dune_syscall_entry:
	testl $0x200, %r11d
	jnz 1f
	vmcall
	leaq -128(%rsp), %rsp
	pushq %r11
	popfq
	leaq 128(%rsp), %rsp
	jmpq *%rcx
1:	swapgs
	movq %rsp, %gs:PERCPU_TMP
	movq %gs:PERCPU_KSTACK, %rsp
	pushq $DUNE_USER_DS_VALUE
	pushq %gs:PERCPU_TMP
	pushq %r11
	pushq $DUNE_USER_CS_VALUE
	pushq %rcx
	pushq $0
	pushq $256
	cld
	save_regs
	movq %rsp, %rdi
	call dune_syscall
	jmp dune_tf_return

// __dune_enter(config, percpu): enters Dune mode (SYS_dune_enter) to
// continue at dune_resume on this stack, with these callee-saved
// registers; returns 0 there, or the error natively.
	.globl __dune_enter
__dune_enter:
	save_callee_saved_registers
	subq $8, %rsp                   // 16-byte aligned, as SYS_dune_enter wants
	movq %rsp, 8(%rdi)              // config->rsp
	leaq dune_resume(%rip), %rax
	movq %rax, 0(%rdi)              // config->rip
	movq %rsi, 32(%rdi)             // config->rdi: the percpu
	movl $27, %eax                  // SYS_dune_enter
	syscall
	addq $8, %rsp
	restore_callee_saved_registers
	ret

dune_resume:
	call dune_boot_percpu           // RDI: the percpu (config->rdi)
	addq $8, %rsp                   // the slot that aligned the stack
	restore_callee_saved_registers
	xorl %eax, %eax
	ret

// __dune_jump_to_user(tf): keeps this context for dune_ret_from_user,
// then resumes tf in ring 3.
	.globl __dune_jump_to_user
__dune_jump_to_user:
	save_callee_saved_registers
	movq %rsp, %gs:PERCPU_JMP_RSP
	movq %rdi, %rsp
	jmp dune_tf_return

// dune_ret_from_user(ret): back to the context __dune_jump_to_user kept,
// which returns ret.
	.globl dune_ret_from_user
dune_ret_from_user:
	movslq %edi, %rax
	movq %gs:PERCPU_JMP_RSP, %rsp
	restore_callee_saved_registers
	ret
