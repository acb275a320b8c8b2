// Processes: a user address space, a kernel stack, and the saved state of
// the process while it is not running.
//
// User memory layout:
//   USER_TOP (0x800000000000)     the end of the lower half
//   USER_STACK_TOP                the user stack grows down from here
//   ...                           the heap (sbrk) grows up from the end
//                                 of the program's last segment
//   0x400000                      the program (user.ld)
//   0                             never mapped
//
// A process runs until it exits, is killed for a fault, or (Lab 4) is
// preempted. Its kernel stack holds, at the top, the trapframe that says
// where it continues in user mode, and below it the kernel's own frames
// while it is in a system call.

#ifndef KERNEL_PROC_PROC_H
#define KERNEL_PROC_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "mm/vm.h"
#include "trap/trap.h"

#define USER_TOP        0x0000800000000000ul
#define USER_STACK_TOP  0x00007FFFFFF00000ul
#define USER_STACK_PAGES 16
#define USER_HEAP_MAX   0x0000700000000000ul
#define PROC_NAME_MAX   16
#define KSTACK_ORDER    2               // 16 KiB kernel stacks

enum proc_state { PROC_RUNNABLE, PROC_RUNNING, PROC_ZOMBIE };

// The callee-saved registers context_switch keeps (proc/switch.S).
struct context {
	uint64_t r15, r14, r13, r12, rbx, rbp, rip;
};

struct proc {
	int pid;
	char name[PROC_NAME_MAX];
	enum proc_state state;
	pte_t *pml4;
	struct page *kstack;
	struct trapframe *tf;   // at the top of the kernel stack
	struct context *context;
	uint64_t heap_start, brk;
	int exit_status;
};

void context_switch(struct context **save, struct context *next);

// Makes a process from the ELF image [image, image + size). Returns it,
// or sets *error (-ENOEXEC for a bad image, -ENOMEM) and returns NULL.
struct proc *proc_create(const char *name, const void *image, size_t size, int *error);

// Runs p on this CPU until it exits or is killed; returns its exit status.
int proc_run(struct proc *p);

// Frees what p holds. p must not be running.
void proc_free(struct proc *p);

// The process running on this CPU (NULL in kernel-only code).
struct proc *proc_current(void);

// Ends the current process with status; does not return.
__attribute__((noreturn)) void proc_exit(int status);

// For trap.c: a user fault kills the process with a message naming it,
// the fault and the address; a breakpoint is reported and the process
// continues.
__attribute__((noreturn)) void proc_kill_for_fault(const struct trapframe *tf);
void proc_report_breakpoint(const struct trapframe *tf);

#endif
