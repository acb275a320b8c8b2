// System calls about signals: sigaction, sigreturn (proc/signal.c).

#include "proc/signal.h"
#include "syscall/syscall.h"

int64_t sys_sigaction(uint64_t sig, uint64_t handler, uint64_t restorer)
{
	return signal_action(sig > INT32_MAX ? -1 : (int)sig, handler, restorer);
}

int64_t sys_sigreturn(uint64_t ctx)
{
	return signal_return(ctx);
}
