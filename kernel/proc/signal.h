// Signals of faults (the ABI: lib/signum.h). A process has a handler
// per signal, kept in its leader; each thread has its set of blocked
// signals, those whose handler it is running.

#ifndef KERNEL_PROC_SIGNAL_H
#define KERNEL_PROC_SIGNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/trapframe.h"

struct proc;

// Installs handler (SIG_DFL: the default action) for sig in the current
// process, with restorer as the handler's return address. Returns 0, or
// -EINVAL for a signal that is not one of a fault's or an address outside
// user space.
int signal_action(int sig, uint64_t handler, uint64_t restorer);

// For trap_dispatch: the fault in tf, at addr (CR2 for a page fault),
// goes to the thread's handler if its process has one and the signal is
// not blocked: returns true and tf continues in the handler. Returns false
// if the default action applies (a message says why if there was a
// handler).
bool signal_deliver(struct trapframe *tf, uint64_t addr);

// sigreturn: continues the current thread at the context at ctx (user
// memory), the one signal_deliver saved or one the handler changed.
// Returns the context's rax (the system call's result becomes it), or
// -EFAULT or -EINVAL (see struct sigcontext) with nothing changed.
int64_t signal_return(uint64_t ctx);

// fork's child has its parent's handlers and the caller's blocked set;
// exec restores the default actions.
void signal_fork(struct proc *child, const struct proc *parent);
void signal_exec(struct proc *p);

#endif
