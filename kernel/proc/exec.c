// exec: replaces the current process's program. The new address space
// is built completely before the old one is given up, so a failing exec
// returns an error to a process that is still whole.

#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "lib/sysnum.h"
#include "proc/elf.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "proc/programs.h"
#include "proc/signal.h"

// Writes len bytes to va of the address space pml4 (not the current one),
// through the direct map. Returns 0 or -EFAULT if a page is missing.
static int write_to_space(pte_t *pml4, uint64_t va, const void *src, size_t len)
{
	const uint8_t *s = src;

	while (len > 0) {
		struct page *pg = vm_lookup(pml4, va, NULL);
		if (pg == NULL)
			return -EFAULT;
		size_t off = va % PAGE_SIZE, n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
		memcpy((uint8_t *)page_to_va(pg) + off, s, n);
		va += n, s += n, len -= n;
	}
	return 0;
}

// Lays out argv on the new stack of pml4: the strings, with their NULs,
// at USER_STACK_TOP, then below them the array of argc pointers to them
// and a NULL, 16-byte aligned. Sets *argv_va to the array and *sp, where
// the process starts (aligned, as crt0.S wants), to the same address.
// Returns 0 or -EFAULT.
static int push_arguments(pte_t *pml4, char *const argv[], int argc,
			  uint64_t *sp, uint64_t *argv_va)
{
	// BEGIN LAB 3 SOLUTION: exec_args
	uint64_t ptrs[EXEC_MAX_ARGS + 1];
	uint64_t top = USER_STACK_TOP;

	for (int i = argc - 1; i >= 0; i--) {
		size_t len = strlen(argv[i]) + 1;
		top -= len;
		if (write_to_space(pml4, top, argv[i], len) < 0)
			return -EFAULT;
		ptrs[i] = top;
	}
	ptrs[argc] = 0;
	top = (top - (argc + 1) * sizeof(uint64_t)) & ~(uint64_t)15;
	if (write_to_space(pml4, top, ptrs, (argc + 1) * sizeof(uint64_t)) < 0)
		return -EFAULT;
	*argv_va = top;
	*sp = top;
	return 0;
	// STUB:
	// printk("LAB 3: exec_args not written\n");
	// (void)pml4, (void)argv, (void)argc, (void)sp, (void)argv_va, (void)write_to_space;
	// return -ENOSYS;
	// END LAB 3
}

int proc_exec(const char *name, char *const argv[], int argc)
{
	struct proc *p = proc_current();
	const struct image *prog = user_program_find(name);
	uint64_t entry, end, sp, argv_va;
	int err;

	if (prog == NULL)
		return -ENOENT;
	// The other threads run the old program: exec would pull it from
	// under them. Only the caller could add a thread, so the count
	// cannot grow once it reads 1.
	spin_lock(&proc_lock);
	int nthreads = p->leader->nthreads;
	spin_unlock(&proc_lock);
	if (nthreads > 1)
		return -EBUSY;
	struct aspace *as = aspace_create();
	if (as == NULL)
		return -ENOMEM;
	if ((err = elf_load(as->pml4, prog->start, prog->end - prog->start, &entry, &end)) < 0 ||
	    (err = proc_map_stack(as->pml4)) < 0 ||
	    (err = push_arguments(as->pml4, argv, argc, &sp, &argv_va)) < 0) {
		aspace_put(as);
		return err;
	}

	struct aspace *old = p->as;
	p->as = as;
	aspace_activate(as);
	aspace_deactivate(old);
	aspace_put(old);
	strlcpy(p->name, name, sizeof(p->name));
	signal_exec(p);
	as->heap_start = as->brk = (end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	p->tf->rip = entry;
	p->tf->rsp = sp;
	p->tf->rdi = (uint64_t)argc;            // main(argc, argv)
	p->tf->rsi = argv_va;
	return 0;
}

struct proc *proc_spawn(const char *name, char *const argv[], int argc, int *error)
{
	const struct image *prog = user_program_find(name);
	uint64_t sp, argv_va;

	if (prog == NULL) {
		*error = -ENOENT;
		return NULL;
	}
	struct proc *p = proc_create(name, prog->start, prog->end - prog->start, error);
	if (p == NULL)
		return NULL;
	if ((*error = push_arguments(p->as->pml4, argv, argc, &sp, &argv_va)) < 0) {
		proc_free(p);
		return NULL;
	}
	p->tf->rsp = sp;
	p->tf->rdi = (uint64_t)argc;
	p->tf->rsi = argv_va;
	return p;
}

struct proc *proc_spawn_started(char *const argv[], int argc)
{
	int err;
	struct proc *p = proc_spawn(argv[0], argv, argc, &err);

	if (p == NULL)
		panic("cannot start %s: %d (%s)", argv[0], err, strerror(err));
	proc_start(p);
	return p;
}

int proc_wait_report(struct proc *p)
{
	char name[PROC_NAME_MAX];
	int pid = p->pid;

	strlcpy(name, p->name, sizeof(name));
	int status = proc_wait_kernel(p);
	printk("process %s[%d] ended with status %d\n", name, pid, status);
	return status;
}
