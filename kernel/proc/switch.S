// context_switch(struct context **save, struct context *next)
//
// Saves the callee-saved registers of the caller on its stack, stores
// that stack pointer (a struct context *) in *save, and continues on the
// stack of next with its registers: `ret` returns into whoever saved
// next, or into the function a new context was made to start in.
// The other registers need no saving: the C calling convention lets the
// callee clobber them.

	.text
	.globl context_switch
context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
