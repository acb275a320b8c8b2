// The process table and the life of a process: creation from an ELF
// image, fork, exit, wait. Scheduling is in sched.c.

#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "debug/panic.h"
#include "fs/fdtable.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "proc/elf.h"
#include "proc/proc.h"
#include "proc/signal.h"


struct spinlock proc_lock = SPINLOCK_INIT("proc");
static struct proc procs[NPROC];
static int next_pid = 1;

struct proc *proc_table(void)
{
	return procs;
}

struct proc *proc_current(void)
{
	struct proc *p;

	push_cli();             // this_cpu() must not change under us
	p = this_cpu()->proc;
	pop_cli();
	return p;
}

static uint64_t kstack_top(const struct proc *p)
{
	return (uint64_t)page_to_va(p->kstack) + (PAGE_SIZE << KSTACK_ORDER);
}

// A new process starts here: context_switch returned into it with
// proc_lock held by the CPU's scheduler. It returns into trap_return,
// whose address lies above it on the stack, and so into user mode.
static void forkret(void)
{
	struct proc *p = proc_current();

	spin_unlock(&proc_lock);
	if (p->kernel_start != NULL) {
		void (*start)(struct proc *p) = p->kernel_start;
		p->kernel_start = NULL;
		start(p);
	}
}

// Claims a slot and a kernel stack for a process of one thread. The
// kernel stack holds, from the top: the trapframe, the address of
// trap_return (forkret's return address), and the context that
// context_switch starts forkret with.
struct proc *proc_alloc(const char *name)
{
	extern char trap_return[];
	struct proc *p = NULL;

	spin_lock(&proc_lock);
	for (int i = 0; i < NPROC && p == NULL; i++)
		if (procs[i].state == PROC_UNUSED)
			p = &procs[i];
	if (p != NULL) {
		*p = (struct proc){ .state = PROC_EMBRYO, .pid = next_pid, .pgid = next_pid,
				    .leader = p, .nthreads = 1 };
		next_pid++;
	}
	spin_unlock(&proc_lock);
	if (p == NULL)
		return NULL;
	strlcpy(p->name, name, sizeof(p->name));
	if ((p->kstack = page_alloc(KSTACK_ORDER, false)) == NULL) {
		proc_free(p);
		return NULL;
	}
	p->tf = (struct trapframe *)kstack_top(p) - 1;
	memset(p->tf, 0, sizeof(*p->tf));
	uint64_t *return_address = (uint64_t *)p->tf - 1;
	*return_address = (uint64_t)trap_return;
	p->context = (struct context *)return_address - 1;
	*p->context = (struct context){ .rip = (uint64_t)forkret };
	return p;
}

void proc_free(struct proc *p)
{
	if (p->files != NULL)
		fdtable_put(p->files);
	if (p->as != NULL)
		aspace_put(p->as);
	if (p->kstack != NULL)
		page_free(p->kstack);
	spin_lock(&proc_lock);
	if (p->state == PROC_RUNNING)
		panic("proc_free: process %s[%d] is running", p->name, p->pid);
	p->state = PROC_UNUSED;
	spin_unlock(&proc_lock);
}

int proc_map_stack(pte_t *pml4)
{
	// BEGIN LAB 3 SOLUTION: user_entry
	for (int i = 1; i <= USER_STACK_PAGES; i++) {
		struct page *pg = page_alloc(0, true);
		if (pg == NULL)
			return -ENOMEM;
		int err = vm_map(pml4, USER_STACK_TOP - i * PAGE_SIZE, pg, PTE_W | PTE_U | PTE_NX);
		page_put(pg);           // the mapping holds it now
		if (err < 0)
			return err;
	}
	return 0;
	// STUB:
	// printk("LAB 3: user_entry not written: no user stack\n");
	// (void)pml4;
	// return -ENOSYS;
	// END LAB 3
}

// Sets the trapframe with which trap_return's iretq first enters user
// mode (SDM Vol. 3A 6.14.3: iretq pops rip, cs, rflags, rsp, ss): at entry,
// in ring 3 (the user code and data selectors of arch/gdt.h with RPL 3),
// with interrupts on and nothing else set in RFLAGS but its reserved bit
// 1, on the empty stack at USER_STACK_TOP (16-byte aligned, as crt0.S
// wants it).
static void set_user_entry(struct trapframe *tf, uint64_t entry)
{
	// BEGIN LAB 3 SOLUTION: user_entry
	tf->rip = entry;
	tf->cs = GDT_USER_CODE | 3;
	tf->rflags = RFLAGS_RESERVED | RFLAGS_IF;
	tf->rsp = USER_STACK_TOP;
	tf->ss = GDT_USER_DATA | 3;
	// STUB:
	// (void)tf, (void)entry;
	// END LAB 3
}

struct proc *proc_create(const char *name, const void *image, size_t size, int *error)
{
	struct proc *p = proc_alloc(name);
	uint64_t entry, end;

	*error = -ENOMEM;
	if (p == NULL)
		return NULL;
	if ((p->as = aspace_create()) == NULL)
		goto fail;
	if ((*error = elf_load(p->as->pml4, image, size, &entry, &end)) < 0)
		goto fail;
	if ((*error = proc_map_stack(p->as->pml4)) < 0)
		goto fail;
	p->as->heap_start = p->as->brk = (end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	set_user_entry(p->tf, entry);
	if ((p->files = fdtable_create()) == NULL)
		goto fail;
	for (int fd = 0; fd < 3; fd++) {
		struct file *f = file_console();
		if (f == NULL)
			goto fail;
		fdtable_install(p->files, f);
	}
	return p;
fail:
	proc_free(p);
	return NULL;
}

void proc_start(struct proc *p)
{
	spin_lock(&proc_lock);
	p->state = PROC_RUNNABLE;
	spin_unlock(&proc_lock);
}

int proc_fork(void)
{
	return proc_fork_with(NULL, NULL);
}

// The child: a new slot (proc_alloc, with the parent's name), the
// parent's address space shared copy-on-write (aspace_fork), its open
// files (fdtable_copy), its signal handlers (signal_fork), and a copy of
// the caller's trapframe with rax = 0, so that it returns from the same
// system call with 0. Any failure frees the child (proc_free) and
// returns the error. Under proc_lock, once prepare agreed: the parent is
// the caller's process (its leader, if the caller is one of its
// threads), the group is the parent's, and the child becomes RUNNABLE.
int proc_fork_with(int (*prepare)(struct proc *child, void *arg), void *arg)
{
	struct proc *parent = proc_current();

	// BEGIN LAB 4 SOLUTION: proc_fork
	struct proc *child = proc_alloc(parent->name);
	int err;

	if (child == NULL)
		return -ENOMEM;
	if ((child->as = aspace_fork(parent->as)) == NULL ||
	    (child->files = fdtable_copy(parent->files)) == NULL) {
		proc_free(child);
		return -ENOMEM;
	}
	// The child has one thread: a copy of the caller.
	*child->tf = *parent->tf;
	signal_fork(child, parent);
	child->tf->rax = 0;             // fork returns 0 in the child
	if (prepare != NULL && (err = prepare(child, arg)) < 0) {
		proc_free(child);
		return err;
	}
	int pid = child->pid;
	spin_lock(&proc_lock);
	child->parent = parent->leader;
	child->pgid = parent->leader->pgid;
	child->state = PROC_RUNNABLE;
	spin_unlock(&proc_lock);
	return pid;
	// STUB:
	// printk("LAB 4: proc_fork not written: %s[%d] cannot fork\n", parent->name, parent->pid);
	// (void)prepare, (void)arg;
	// return -ENOSYS;
	// END LAB 4
}

void proc_exit(int status)
{
	struct proc *p = proc_current();
	struct proc *leader = p->leader;

	spin_lock(&proc_lock);
	if (!leader->exiting) {
		leader->exiting = true;
		leader->exit_status = status;
	}
	proc_kill_threads_locked(leader, p);
	if (p != leader) {
		spin_unlock(&proc_lock);
		proc_thread_end(p, status);
	}
	while (leader->nthreads > 1)
		sleep(leader, &proc_lock);      // proc_thread_end wakes us
	spin_unlock(&proc_lock);
	// Files first: closing a pipe wakes its other end (and takes locks
	// that must not be taken under proc_lock).
	fdtable_put(p->files);
	p->files = NULL;
	spin_lock(&proc_lock);
	for (int i = 0; i < NPROC; i++) {
		if (procs[i].parent == p) {
			procs[i].parent = NULL;
			procs[i].orphan = true;
		}
	}
	p->state = PROC_ZOMBIE;
	if (p->parent != NULL)
		wakeup_locked(p->parent);
	sched();
	panic("proc_exit: process %s[%d] ran again after its exit", p->name, p->pid);
}

int proc_wait(int *status)
{
	struct proc *p = proc_current()->leader;        // the process's children

	spin_lock(&proc_lock);
	// BEGIN LAB 4 SOLUTION: proc_wait
	for (;;) {
		bool children = false;
		for (int i = 0; i < NPROC; i++) {
			struct proc *c = &procs[i];
			if (c->parent != p)
				continue;
			children = true;
			if (c->state == PROC_ZOMBIE) {
				int pid = c->pid;
				*status = c->exit_status;
				c->state = PROC_EMBRYO;
				c->parent = NULL;
				spin_unlock(&proc_lock);
				proc_free(c);
				return pid;
			}
		}
		if (!children || proc_killed()) {
			spin_unlock(&proc_lock);
			return children ? -EINTR : -ECHILD;
		}
		sleep(p, &proc_lock);   // proc_exit of a child wakes us
	}
	// STUB:
	// (void)p, (void)status;
	// spin_unlock(&proc_lock);
	// return -ECHILD;
	// END LAB 4
}

#define KILLED_STATUS (128 + 9)

void proc_kill(struct proc *p)
{
	spin_lock(&proc_lock);
	p->killed = true;
	if (p->state == PROC_SLEEPING)
		p->state = PROC_RUNNABLE;
	spin_unlock(&proc_lock);
}

int proc_setpgid(int pid, int pgid)
{
	struct proc *caller = proc_current()->leader;

	if (pid < 0 || pgid < 0)
		return -EINVAL;
	spin_lock(&proc_lock);
	struct proc *p = NULL;
	for (int i = 0; i < NPROC && p == NULL; i++) {
		struct proc *q = &procs[i];
		if (q == q->leader && q->state != PROC_UNUSED && q->state != PROC_ZOMBIE &&
		    (pid == 0 ? q == caller : q->pid == pid && (q == caller || q->parent == caller)))
			p = q;
	}
	if (p != NULL)
		p->pgid = pgid == 0 ? p->pid : pgid;
	spin_unlock(&proc_lock);
	return p != NULL ? 0 : -ESRCH;
}

void proc_kill_group(int pgid)
{
	spin_lock(&proc_lock);
	for (int i = 0; i < NPROC; i++) {
		struct proc *t = &procs[i];
		if (t->state == PROC_UNUSED || t->state == PROC_ZOMBIE || t->leader->pgid != pgid)
			continue;
		t->killed = true;
		if (t->state == PROC_SLEEPING)
			t->state = PROC_RUNNABLE;
	}
	spin_unlock(&proc_lock);
}

bool proc_killed(void)
{
	struct proc *p = proc_current();

	return p != NULL && p->killed;
}

void proc_exit_if_killed(void)
{
	struct proc *p = proc_current();

	if (p != NULL && p->killed)
		proc_exit(KILLED_STATUS);
}

void proc_dump(void)
{
	static const char *const states[] = {
		[PROC_UNUSED] = "unused", [PROC_EMBRYO] = "embryo",
		[PROC_RUNNABLE] = "runnable", [PROC_RUNNING] = "running",
		[PROC_SLEEPING] = "sleeping", [PROC_ZOMBIE] = "zombie",
	};

	spin_lock(&proc_lock);
	printk("  PID  PPID STATE     NAME\n");
	for (int i = 0; i < NPROC; i++) {
		const struct proc *p = &procs[i];
		if (p->state != PROC_UNUSED)
			printk("%5d %5d %-9s %s\n", p->pid, p->parent ? p->parent->pid : 0,
			       states[p->state], p->name);
	}
	spin_unlock(&proc_lock);
}
