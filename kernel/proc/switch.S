// context_switch(struct context **save, struct context *next)
//
// Saves the callee-saved registers of the caller on its stack, stores
// that stack pointer (a struct context *) in *save, and continues on the
// stack of next with its registers: `ret` returns into whoever saved
// next, or into the function a new context was made to start in.
// The other registers need no saving: the C calling convention lets the
// callee clobber them.

#include "arch/frame.h"

	.text
	.globl context_switch
context_switch:
	save_callee_saved_registers
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	restore_callee_saved_registers
	ret
