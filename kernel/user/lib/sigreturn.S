// The return address of every signal handler (the restorer sigaction
// passes). The handler's ret leaves %rsp at the frame's siginfo, right
// below the saved context (lib/signum.h): sigreturn(that context).
// sigreturn returns only if the handler spoiled the context: the process
// then ends as a fault's default action would have ended it.

#include "lib/signum.h"
#include "lib/sysnum.h"

	.text
	.globl sigreturn_restorer
sigreturn_restorer:
	leaq SIGINFO_SIZE(%rsp), %rdi
	movl $SYS_sigreturn, %eax
	syscall
	movl $(128 + SIGSEGV), %edi
	movl $SYS_exit, %eax
	syscall
