// The ring-0 entry points of the Dune test runtime (ring0.h): exception
// stubs, the SYSCALL handler, and the start of a thread in Dune mode.

	.text
// Exception stubs: push 0 where the CPU pushes no error code (SDM Vol. 3A
// 6.15: vectors 8, 10-14, 17, 21, 29, 30 push one), then the vector.
.macro stub n
	.globl ring0_vector\n
ring0_vector\n:
	.if !(\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	pushq $0
	.endif
	pushq $\n
	jmp ring0_trap_common
.endm

	.altmacro
	.set i, 0
	.rept 32
	stub %i
	.set i, i + 1
	.endr

ring0_trap_common:
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
	movq %rsp, %rbx
	andq $-16, %rsp
	call ring0_trap
	movq %rbx, %rsp
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
	addq $16, %rsp
	iretq

.macro vector_address n
	.quad ring0_vector\n
.endm

	.data
	.balign 8
	.globl ring0_vectors
ring0_vectors:
	.set i, 0
	.rept 32
	vector_address %i
	.set i, i + 1
	.endr

	.text
// SYSCALL from ring 3 (IA32_LSTAR): the number and arguments are where
// VMCALL wants them, and VMCALL changes only RAX, so the handler forwards
// the call as it is, on the caller's stack, and returns to ring 3.
	.globl ring0_syscall_entry
ring0_syscall_entry:
	lock incq ring0_syscalls(%rip)
	vmcall
	sysretq

// A thread's first ring-0 code: RDI = fn, RSI = arg, RAX = 0 for the
// first thread (which loads the TSS), RSP = its stack.
	.globl ring0_start
ring0_start:
	movq %rax, %rdx
	xorl %ebp, %ebp
	call ring0_main
1:	jmp 1b

// ring0_read64(address): the 8 bytes at address; if the read faults, the
// probe's handler (ring0.c) continues at ring0_read64_done.
	.globl ring0_read64, ring0_read64_done
ring0_read64:
	movq (%rdi), %rax
ring0_read64_done:
	ret
