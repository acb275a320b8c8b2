// The scheduler: round robin over the process table, on every CPU.
//
// proc_lock is held across context_switch: the scheduler takes it, picks
// a process and switches to it; the process releases it (in forkret, or
// after the sched() it had called), and takes it again before it gives
// the CPU back. A process thus never runs on two CPUs, and its state
// changes are never seen half done.

#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "debug/panic.h"
#include "proc/proc.h"
#include "sync/sched.h"           // sleep and wakeup, defined here

static uint64_t kstack_top(const struct proc *p)
{
	return (uint64_t)page_to_va(p->kstack) + (PAGE_SIZE << KSTACK_ORDER);
}

// Runs p on this CPU until it gives the CPU back (proc_lock held).
static void run(struct cpu *c, struct proc *p)
{
	p->state = PROC_RUNNING;
	c->proc = p;
	c->processes_run++;
	cpu_set_kernel_stack(c, kstack_top(p));
	aspace_activate(p->as);
	p->running_since = rdtsc();
	context_switch(&c->scheduler, p->context);
	p->cpu_ticks += rdtsc() - p->running_since;
	// p->as, not a copy: exec may have replaced it.
	vm_switch(kernel_pml4);
	aspace_deactivate(p->as);
	c->proc = NULL;
}

// The next runnable process after the one this CPU ran last, in table
// order (round robin), or NULL (proc_lock held): the search starts at the
// slot after c->last_run, wraps around the table's NPROC slots, and ends
// at c->last_run itself (the process that just gave the CPU back runs
// again only if nothing else can); the choice becomes c->last_run.
static struct proc *pick_next(struct cpu *c)
{
	struct proc *procs = proc_table();

	// BEGIN LAB 4 SOLUTION: pick_next
	for (int n = 1; n <= NPROC; n++) {
		int i = (c->last_run + n) % NPROC;
		if (procs[i].state == PROC_RUNNABLE) {
			c->last_run = i;
			return &procs[i];
		}
	}
	return NULL;
	// STUB:
	// static bool said;
	// if (!said) {
	// 	said = true;
	// 	printk("LAB 4: pick_next not written: the first runnable process in the table runs\n");
	// }
	// (void)c;
	// for (int i = 0; i < NPROC; i++)
	// 	if (procs[i].state == PROC_RUNNABLE)
	// 		return &procs[i];
	// return NULL;
	// END LAB 4
}

// Frees the zombies whose parent exited: nobody will wait for them
// (proc_lock held; released while freeing).
static void reap_orphans(void)
{
	struct proc *procs = proc_table();

	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state == PROC_ZOMBIE && p->orphan) {
			p->state = PROC_EMBRYO;
			spin_unlock(&proc_lock);
			proc_free(p);
			spin_lock(&proc_lock);
		}
	}
}

bool schedule_once(void)
{
	struct cpu *c = this_cpu();

	reap_orphans();
	struct proc *p = pick_next(c);
	if (p == NULL)
		return false;
	run(c, p);
	return true;
}

// Waits for an interrupt with proc_lock released.
static void idle(void)
{
	spin_unlock(&proc_lock);
	asm volatile("sti; hlt; cli" ::: "memory");
	spin_lock(&proc_lock);
}

void scheduler(void (*idle_hook)(void))
{
	spin_lock(&proc_lock);
	for (;;) {
		if (idle_hook) {
			spin_unlock(&proc_lock);
			idle_hook();
			spin_lock(&proc_lock);
		}
		if (!schedule_once())
			idle();
	}
}

uint64_t proc_cpu_ticks(uint64_t tsc)
{
	struct proc *p = proc_current();

	return p->cpu_ticks + (tsc - p->running_since);
}

int proc_wait_kernel(struct proc *p)
{
	spin_lock(&proc_lock);
	while (p->state != PROC_ZOMBIE)
		if (!schedule_once())
			idle();
	int status = p->exit_status;
	p->state = PROC_EMBRYO;
	spin_unlock(&proc_lock);
	proc_free(p);
	return status;
}

bool proc_run_kernel_until(struct proc *p, bool (*ready)(void))
{
	for (;;) {
		if (ready())
			return true;
		spin_lock(&proc_lock);
		bool ended = p->state == PROC_ZOMBIE;
		if (!ended && !schedule_once())
			idle();
		spin_unlock(&proc_lock);
		if (ended)
			return false;
	}
}

void proc_wait_all_kernel(void)
{
	struct proc *procs = proc_table();

	spin_lock(&proc_lock);
	for (;;) {
		bool busy = false;
		for (int i = 0; i < NPROC && !busy; i++)
			busy = procs[i].state != PROC_UNUSED;
		if (!busy)
			break;
		if (!schedule_once())
			idle();
	}
	spin_unlock(&proc_lock);
}

int proc_run(struct proc *p)
{
	proc_start(p);
	return proc_wait_kernel(p);
}

void sched(void)
{
	struct cpu *c = this_cpu();
	struct proc *p = c->proc;

	if (!spin_holding(&proc_lock))
		panic("sched: proc_lock is not held");
	if (c->ncli != 1)
		panic("sched: %s[%d] holds %d locks besides proc_lock", p->name, p->pid, c->ncli - 1);
	if (p->state == PROC_RUNNING)
		panic("sched: %s[%d] is still marked running", p->name, p->pid);
	// Whether interrupts come back on belongs to this process, not to the
	// CPU: it may continue on another one.
	int interrupts_were_on = c->interrupts_were_on;
	if (p->switch_out != NULL)
		p->switch_out(p);
	context_switch(&p->context, c->scheduler);
	this_cpu()->interrupts_were_on = interrupts_were_on;
}

void yield(void)
{
	spin_lock(&proc_lock);
	proc_current()->state = PROC_RUNNABLE;
	sched();
	spin_unlock(&proc_lock);
}

void sleep(void *chan, struct spinlock *lk)
{
	struct proc *p = proc_current();

	// Take proc_lock before letting lk go: a wakeup (which needs
	// proc_lock) cannot slip in between.
	if (lk != &proc_lock) {
		spin_lock(&proc_lock);
		spin_unlock(lk);
	}
	p->chan = chan;
	p->state = PROC_SLEEPING;
	sched();
	p->chan = NULL;
	if (lk != &proc_lock) {
		spin_unlock(&proc_lock);
		spin_lock(lk);
	}
}

void wakeup_locked(void *chan)
{
	struct proc *procs = proc_table();

	for (int i = 0; i < NPROC; i++)
		if (procs[i].state == PROC_SLEEPING && procs[i].chan == chan)
			procs[i].state = PROC_RUNNABLE;
}

void wakeup(void *chan)
{
	spin_lock(&proc_lock);
	wakeup_locked(chan);
	spin_unlock(&proc_lock);
}
