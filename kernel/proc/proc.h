// Processes: a user address space, a kernel stack, and the saved state of
// the process while it is not running.
//
// User memory layout:
//   USER_TOP (0x800000000000)     the end of the lower half
//   USER_STACK_TOP                the user stack grows down from here
//   USER_MMIO_BASE, USER_DMA_BASE device registers and DMA memory, at
//                                 addresses the kernel picks
//   USER_HEAP_MAX                 the most the heap reaches
//   ...                           the heap (sbrk) grows up from the end
//                                 of the program's last segment
// (the constants: arch/memlayout.h)
//   0x400000                      the program (user.ld)
//   0                             never mapped
//
// A process runs until it exits, is killed for a fault, or (Lab 4) is
// preempted. Its kernel stack holds, at the top, the trapframe that says
// where it continues in user mode, and below it the kernel's own frames
// while it is in a system call.

#ifndef KERNEL_PROC_PROC_H
#define KERNEL_PROC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/memlayout.h"
#include "arch/trapframe.h"
#include "lib/signum.h"
#include "mm/aspace.h"
#include "sync/sched.h"         // sleep, wakeup, proc_killed, proc_kill_group
#include "sync/spinlock.h"

#define PROC_NAME_MAX   16
#define NPROC           64

enum proc_state {
	PROC_UNUSED,            // a free slot of the table
	PROC_EMBRYO,            // being made or being freed: nobody else touches it
	PROC_RUNNABLE,          // waiting for a CPU
	PROC_RUNNING,           // on a CPU
	PROC_SLEEPING,          // waiting for a wakeup on chan
	PROC_ZOMBIE,            // exited; its parent has not waited for it yet
};

// The callee-saved registers context_switch keeps (proc/switch.S).
struct context {
	uint64_t r15, r14, r13, r12, rbx, rbp, rip;
};

struct fdtable;
struct dune_thread;

// A thread of a process. A process is the threads that share one address
// space and one file table; its first thread, the leader, stands for it:
// its pid is the process's, its parent and children are the process's,
// and it ends last. Every thread is scheduled on its own.
struct proc {
	int pid;                // the thread's id; the leader's is the process's
	char name[PROC_NAME_MAX];
	enum proc_state state;  // proc_lock
	struct proc *leader;    // the first thread of its process (itself for it)
	int nthreads;           // proc_lock; in the leader: threads not ended yet
	bool exiting;           // proc_lock; in the leader: the process is ending
	int pgid;               // proc_lock; in the leader: its process group (Ctrl-C's target)
	struct aspace *as;      // its address space and heap (mm/aspace.h)
	struct page *kstack;
	struct trapframe *tf;   // at the top of the kernel stack
	struct context *context;        // where it continues in the kernel
	int exit_status;
	struct proc *parent;    // proc_lock; NULL for processes the kernel started
	bool orphan;            // proc_lock; its parent exited: the scheduler reaps it
	void *chan;             // proc_lock; what it sleeps on
	bool killed;            // proc_lock; exit at the next return to user mode
	struct fdtable *files;  // its descriptors (fs/fdtable.h)
	struct sighandler {
		uint64_t fn, restorer;
	} sig[NSIG];            // proc_lock; in the leader: the handlers (proc/signal.h)
	uint64_t sig_blocked;   // the signals whose handler this thread runs
	// If set, a new thread (of fork) starts with kernel_start(p) before it
	// returns to user mode through its trapframe (when kernel_start
	// returns): a Dune process's child continues in VMX non-root mode.
	void (*kernel_start)(struct proc *p);
	struct dune_thread *dune;       // its Dune mode (vmx/dune/), or NULL
	// If set, sched() calls it on the CPU the thread is leaving, before
	// the switch (proc_lock held): Dune mode puts the thread's vCPU there,
	// which its system calls keep loaded otherwise.
	void (*switch_out)(struct proc *p);
	// Its accesses to emulated device registers (trap/mmio.h): page
	// faults, or in Dune mode EPT violations, that the kernel emulated.
	uint64_t mmio_accesses;
	// The TSC ticks it has run on a CPU, counted by the scheduler from
	// the switch to it to the switch away: its own code and the kernel's
	// work for it (system calls, faults, VM exits and the devices they
	// emulate), and the interrupts that came meanwhile. For benchmarks
	// (proc_cpu_ticks).
	uint64_t cpu_ticks;
	uint64_t running_since; // the TSC at the switch to it
	// Of cpu_ticks, those an emulated device took to do its accesses
	// (trap/mmio.h): for the 82599's model, its registers' effects, its
	// DMA and its wire, the work a real device does without the CPU.
	uint64_t device_ticks;
};

// Guards the process table: every state, parent and chan.
extern struct spinlock proc_lock;
// The NPROC slots of the table.
struct proc *proc_table(void);

void context_switch(struct context **save, struct context *next);

// Makes a process from the ELF image [image, image + size), with the
// console as its files 0, 1 and 2, ready to run (proc_start) but not
// runnable. Returns it, or sets *error (-ENOEXEC for a bad image, -ENOMEM)
// and returns NULL.
struct proc *proc_create(const char *name, const void *image, size_t size, int *error);

// Maps a fresh user stack below USER_STACK_TOP into pml4 (of an address
// space no one runs yet): USER_STACK_PAGES zeroed pages the process may
// read and write but not execute. Returns 0 or -ENOMEM.
int proc_map_stack(pte_t *pml4);

// Lets p run on any CPU.
void proc_start(struct proc *p);

// Runs the scheduler on this CPU until p (started by the kernel, not by a
// process) exits; frees p and returns its exit status.
int proc_wait_kernel(struct proc *p);

// Runs the scheduler on this CPU until ready() says yes (it is called
// without proc_lock, between the runs and at each interrupt while idle)
// or p (started by the kernel) has exited, and returns whether ready()
// said yes; p is not freed (proc_wait_kernel does it). For a test that
// starts a process once another is ready for it.
bool proc_run_kernel_until(struct proc *p, bool (*ready)(void));

// Runs the scheduler on this CPU until no process is left (orphans
// reaped too): what a test waits for before it counts free pages.
void proc_wait_all_kernel(void);

// proc_start then proc_wait_kernel: p runs to its end (Lab 3).
int proc_run(struct proc *p);

// Frees what p holds: its memory, kernel stack, files, and its slot. p
// must not be running, and the caller must not hold proc_lock.
void proc_free(struct proc *p);

// The process running on this CPU (NULL in kernel-only code).
struct proc *proc_current(void);

// The TSC ticks the current thread has run up to tsc, a reading of the
// TSC in its present turn on the CPU: its cpu_ticks and this turn's.
uint64_t proc_cpu_ticks(uint64_t tsc);

// Ends the current process with status (the first status given if its
// threads end it more than once): its other threads are killed, and the
// process ends when they are gone. Does not return.
__attribute__((noreturn)) void proc_exit(int status);

// Threads (proc/thread.c). proc_clone starts a thread of the current
// process at rip with stack pointer rsp and %rdi = arg; returns its id,
// -EINVAL for an address outside user space, -ENOMEM, or -EINTR if the
// process is ending.
int proc_clone(uint64_t rip, uint64_t rsp, uint64_t arg);
// Waits for thread tid of the current process (not its first) to end;
// sets *value to what it passed to proc_thread_exit and frees it. Returns
// 0, -ESRCH (no such thread), -EDEADLK (the caller itself) or -EINTR.
int proc_join(int tid, int *value);
// Ends the calling thread with value for proc_join; in the first thread,
// ends the process as proc_exit(value). Does not return.
__attribute__((noreturn)) void proc_thread_exit(int value);

// Process groups: the processes a terminal's Ctrl-C kills together (a
// shell's job). A process starts in its parent's group; the first one
// in a group of its own. proc_setpgid puts process pid (0: the caller),
// the caller or a child of it, in group pgid (0: pid's own); returns 0,
// -ESRCH or -EINVAL. proc_kill_group (sync/sched.h) kills every process
// of group pgid.
int proc_setpgid(int pid, int pgid);

// fork: a copy of the current process (its memory shared copy-on-write).
// Returns the child's pid, or -ENOMEM.
int proc_fork(void);
// fork with a hook: prepare(child, arg) runs once the child's memory and
// files are copied, before it may run; an error it returns undoes the
// fork and is returned.
int proc_fork_with(int (*prepare)(struct proc *child, void *arg), void *arg);

// Waits for a child to exit; returns its pid and sets *status, or
// -ECHILD if the process has no children.
int proc_wait(int *status);

// Makes p exit (status 128 + 9) when it next returns to user mode; wakes
// it if it sleeps.
void proc_kill(struct proc *p);
// Exits the current process if it was killed (at a return to user mode).
void proc_exit_if_killed(void);

// Prints the process table, one line per process (for ps).
void proc_dump(void);

// Within proc/: proc_alloc claims a slot and a kernel stack (NULL when
// none is left); proc_kill_threads_locked kills every thread of leader's
// process but `except` (proc_lock held); proc_thread_end ends thread p,
// not the leader, with value: p drops its files and becomes a zombie for
// proc_join, or for the scheduler to free if the process is ending.
struct proc *proc_alloc(const char *name);
void proc_kill_threads_locked(struct proc *leader, struct proc *except);
__attribute__((noreturn)) void proc_thread_end(struct proc *p, int value);

// -- the scheduler (proc/sched.c) --

// Runs one runnable process on this CPU, if there is one, until it gives
// the CPU back; returns false if none was runnable. Called with
// proc_lock held (and returns with it held).
bool schedule_once(void);

// This CPU's loop when it has nothing else to do: schedule, or halt
// until the next interrupt. Calls idle_hook each time around.
__attribute__((noreturn)) void scheduler(void (*idle_hook)(void));

// Gives the CPU to another process (the timer calls it).
void yield(void);

// sleep and wakeup are declared in sync/sched.h (for the layers below
// proc/ too) and defined in sched.c. wakeup_locked is wakeup with
// proc_lock already held.
void wakeup_locked(void *chan);

// Gives the CPU up from the current process, whose state the caller set
// (not PROC_RUNNING), with proc_lock held and no other lock.
void sched(void);

#endif
