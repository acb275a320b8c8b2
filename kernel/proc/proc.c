#include "arch/x86.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "proc/elf.h"
#include "proc/proc.h"

#define RFLAGS_RESERVED 0x2     // bit 1 always reads as 1
#define RFLAGS_IF 0x200

static int next_pid = 1;

struct proc *proc_current(void)
{
	return this_cpu()->proc;
}

static uint64_t kstack_top(const struct proc *p)
{
	return (uint64_t)page_to_va(p->kstack) + (PAGE_SIZE << KSTACK_ORDER);
}

static int map_user_stack(struct proc *p)
{
	for (int i = 1; i <= USER_STACK_PAGES; i++) {
		struct page *pg = page_alloc(0, true);
		if (pg == NULL)
			return -ENOMEM;
		int err = vm_map(p->pml4, USER_STACK_TOP - i * PAGE_SIZE, pg, PTE_W | PTE_U | PTE_NX);
		page_put(pg);           // the mapping holds it now
		if (err < 0)
			return err;
	}
	return 0;
}

// The first time the process runs, context_switch "returns" into
// trap_return with the stack pointer at its trapframe: the process
// starts in user mode at the trapframe's state.
static void prepare_first_run(struct proc *p, uint64_t entry)
{
	p->tf = (struct trapframe *)kstack_top(p) - 1;
	*p->tf = (struct trapframe){
		.rip = entry,
		.cs = GDT_USER_CODE | 3,
		.rflags = RFLAGS_RESERVED | RFLAGS_IF,
		.rsp = USER_STACK_TOP,
		.ss = GDT_USER_DATA | 3,
	};
	extern char trap_return[];
	p->context = (struct context *)p->tf - 1;
	*p->context = (struct context){ .rip = (uint64_t)trap_return };
}

struct proc *proc_create(const char *name, const void *image, size_t size, int *error)
{
	struct proc *p = kzalloc(sizeof(*p));
	uint64_t entry, end;

	*error = -ENOMEM;
	if (p == NULL)
		return NULL;
	p->pid = next_pid++;
	strlcpy(p->name, name, sizeof(p->name));
	p->kstack = page_alloc(KSTACK_ORDER, false);
	p->pml4 = vm_create();
	if (p->kstack == NULL || p->pml4 == NULL)
		goto fail;
	if ((*error = elf_load(p->pml4, image, size, &entry, &end)) < 0)
		goto fail;
	if ((*error = map_user_stack(p)) < 0)
		goto fail;
	p->heap_start = p->brk = (end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	prepare_first_run(p, entry);
	p->state = PROC_RUNNABLE;
	return p;
fail:
	proc_free(p);
	return NULL;
}

void proc_free(struct proc *p)
{
	if (p->state == PROC_RUNNING)
		panic("proc_free: process %s[%d] is running", p->name, p->pid);
	if (p->pml4 != NULL)
		vm_destroy(p->pml4);
	if (p->kstack != NULL)
		page_free(p->kstack);
	kfree(p);
}

int proc_run(struct proc *p)
{
	struct cpu *c = this_cpu();

	c->proc = p;
	p->state = PROC_RUNNING;
	cpu_set_kernel_stack(c, kstack_top(p));
	vm_switch(p->pml4);
	context_switch(&c->scheduler, p->context);
	vm_switch(kernel_pml4);
	c->proc = NULL;
	return p->exit_status;
}

void proc_exit(int status)
{
	struct proc *p = proc_current();

	p->exit_status = status;
	p->state = PROC_ZOMBIE;
	context_switch(&p->context, this_cpu()->scheduler);
	panic("proc_exit: process %s[%d] ran again after its exit", p->name, p->pid);
}

void proc_kill_for_fault(const struct trapframe *tf)
{
	struct proc *p = proc_current();

	if (p == NULL)
		panic("a trap from user mode (vector %lu) with no process", tf->vector);
	printk("process %s[%d] killed: %s (vector %lu) at rip 0x%lx", p->name, p->pid,
	       trap_name(tf->vector), tf->vector, tf->rip);
	if (tf->vector == T_PAGE_FAULT) {
		printk(", address 0x%lx: ", read_cr2());
		print_page_fault_cause(tf->error_code);
	}
	printk("\n");
	trap_print_frame(tf);
	proc_exit(128 + (int)tf->vector);
}

void proc_report_breakpoint(const struct trapframe *tf)
{
	struct proc *p = proc_current();

	printk("process %s[%d]: breakpoint at rip 0x%lx\n", p->name, p->pid, tf->rip);
	trap_print_frame(tf);
}
