// Threads: more than one thread of control in a process. A thread is a
// struct proc of its own (kernel stack, trapframe, state), scheduled like
// any other, that shares the address space and file table of its
// process's first thread, the leader. The leader stands for the process:
// exit from any thread ends all of them, and the leader ends last
// (proc_exit), so that the process's parent sees it end only when none of
// its threads can still run.

#include "arch/regs.h"
#include "debug/panic.h"
#include "fs/fdtable.h"
#include "lib/errno.h"
#include "arch/memlayout.h"
#include "proc/proc.h"

int proc_clone(uint64_t rip, uint64_t rsp, uint64_t arg)
{
	struct proc *p = proc_current(), *leader = p->leader;

	if (rip >= USER_TOP || rsp > USER_TOP)
		return -EINVAL;
	struct proc *t = proc_alloc(p->name);
	if (t == NULL)
		return -ENOMEM;
	t->leader = leader;
	t->as = aspace_get(p->as);
	t->files = fdtable_get(p->files);
	// A fresh register file: only what the thread is started with.
	t->tf->cs = p->tf->cs;
	t->tf->ss = p->tf->ss;
	t->tf->rflags = RFLAGS_RESERVED | RFLAGS_IF;
	t->tf->rip = rip;
	t->tf->rsp = rsp;
	t->tf->rdi = arg;
	int tid = t->pid;
	spin_lock(&proc_lock);
	if (leader->exiting) {
		spin_unlock(&proc_lock);
		proc_free(t);
		return -EINTR;
	}
	leader->nthreads++;
	t->state = PROC_RUNNABLE;
	spin_unlock(&proc_lock);
	return tid;
}

// The thread tid of leader's process, not the leader, alive or a zombie
// (proc_lock held), or NULL.
static struct proc *find_thread(struct proc *leader, int tid)
{
	struct proc *procs = proc_table();

	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (t->pid == tid && t->leader == leader && t != leader &&
		    t->state != PROC_UNUSED && t->state != PROC_EMBRYO)
			return t;
	}
	return NULL;
}

int proc_join(int tid, int *value)
{
	struct proc *p = proc_current(), *leader = p->leader;

	if (tid == p->pid)
		return -EDEADLK;
	spin_lock(&proc_lock);
	for (;;) {
		struct proc *t = find_thread(leader, tid);
		if (t == NULL) {
			spin_unlock(&proc_lock);
			return -ESRCH;
		}
		if (t->state == PROC_ZOMBIE) {
			*value = t->exit_status;
			t->state = PROC_EMBRYO;
			spin_unlock(&proc_lock);
			proc_free(t);
			return 0;
		}
		if (proc_killed()) {
			spin_unlock(&proc_lock);
			return -EINTR;
		}
		sleep(leader, &proc_lock);      // proc_thread_end wakes us
	}
}

void proc_kill_threads_locked(struct proc *leader, struct proc *except)
{
	struct proc *procs = proc_table();

	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (t->leader != leader || t == except || t->state == PROC_UNUSED)
			continue;
		if (t->state == PROC_ZOMBIE && t != leader)
			t->orphan = true;       // nobody will join it now
		t->killed = true;
		if (t->state == PROC_SLEEPING)
			t->state = PROC_RUNNABLE;
	}
}

void proc_thread_end(struct proc *p, int value)
{
	struct proc *leader = p->leader;

	// As in proc_exit: files before proc_lock.
	fdtable_put(p->files);
	p->files = NULL;
	spin_lock(&proc_lock);
	p->exit_status = value;
	p->orphan = leader->exiting;
	p->state = PROC_ZOMBIE;
	leader->nthreads--;
	wakeup_locked(leader);
	sched();
	panic("proc_thread_end: thread %s[%d] ran again after its end", p->name, p->pid);
}

void proc_thread_exit(int value)
{
	struct proc *p = proc_current();

	if (p == p->leader)
		proc_exit(value);
	proc_thread_end(p, value);
}
