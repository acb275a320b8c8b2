// Signals: the ABI between user programs and the kernel, shared by both
// (kernel/user/lib includes this file). Only the signals of a fault, the
// small subset a user-level fault handler needs (POSIX numbers).
//
// sigaction(sig, handler, restorer) installs handler for sig in the whole
// process (0: the default action, which kills the process as a fault
// does, or for SIGTRAP reports the breakpoint and goes on). When a thread
// faults, the kernel saves its registers in a struct sigcontext on its
// stack, below the 128-byte red zone, with a struct siginfo and, below
// them, restorer as a return address; and runs
//
//	handler(int sig, struct siginfo *info, struct sigcontext *ctx)
//
// with sig blocked in that thread. When handler returns, restorer calls
// sigreturn(ctx), which continues the thread at the (perhaps changed)
// context. A fault of a blocked signal is not delivered again: it kills.

#ifndef KERNEL_LIB_SIGNUM_H
#define KERNEL_LIB_SIGNUM_H

#define SIGILL   4      // invalid opcode
#define SIGTRAP  5      // breakpoint (int3)
#define SIGFPE   8      // divide error, x87 or SIMD floating-point error
#define SIGSEGV 11      // page fault, general protection, stack, alignment
#define NSIG    32

#define SIG_DFL  0      // sigaction's handler for the default action

#define SIGINFO_SIZE 24 // sizeof(struct siginfo), for restorers in assembly

#ifndef __ASSEMBLER__
#include <stdint.h>

struct siginfo {
	int32_t signo;
	int32_t trapno;         // the CPU's exception vector
	uint64_t error_code;    // the exception's error code (0 if none)
	uint64_t addr;          // for a page fault the address touched, else the instruction's
};

// The thread's registers when it faulted; sigreturn refuses (-EINVAL) an
// rip or rsp outside user space, rflags bits a program cannot set, or
// signals in blocked that the kernel does not have.
struct sigcontext {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t blocked;       // the thread's blocked signals before the handler
};

// What the kernel pushes; the handler starts with %rsp at restorer.
struct sigframe {
	uint64_t restorer;
	struct siginfo info;
	struct sigcontext ctx;
};
#endif /* __ASSEMBLER__ */

#endif
