// The SYSCALL entry point (IA32_LSTAR). The CPU arrives here in ring 0
// with the user's RIP in %rcx, its RFLAGS in %r11, interrupts off
// (IA32_FMASK), and still on the user's stack and GS (SDM Vol. 2B,
// SYSCALL). The code switches to the process's kernel stack, saves the
// user state as a struct trapframe (so that system calls and traps share
// one picture of a process), and calls syscall_dispatch(tf).
//
// It returns with SYSRET, or through trap_return (IRET) when the call
// set registers SYSRET cannot restore (syscall_dispatch). SYSRET to a non-canonical RIP would fault in
// ring 0 on the user's stack (Intel CPUs check the RIP before the change
// of privilege): syscall_dispatch never lets that happen, it ends such a
// process instead.

#include "cpu/cpu.h"
#include "arch/frame.h"
#include "trap/trap.h"

	.text
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:CPU_USER_RSP
	movq %gs:CPU_KERNEL_RSP, %rsp
	pushq $(GDT_USER_DATA | 3)      // ss
	pushq %gs:CPU_USER_RSP          // rsp
	pushq %r11                      // rflags
	pushq $(GDT_USER_CODE | 3)      // cs
	pushq %rcx                      // rip
	pushq $0                        // error code
	pushq $T_SYSCALL                // vector
	save_general_registers
	movq %rsp, %rdi
	call syscall_dispatch
	testb %al, %al
	jnz trap_return                 // tf holds a whole context: IRET loads it
	restore_general_registers
	addq $16, %rsp                  // vector and error code
	popq %rcx                       // rip, for SYSRET
	addq $8, %rsp                   // cs
	popq %r11                       // rflags, for SYSRET
	// The user's stack from here: an NMI or machine check now still
	// gets a good stack through its IST entry.
	popq %rsp
	swapgs
	sysretq
