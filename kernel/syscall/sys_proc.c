// System calls about processes: exit, getpid, sbrk, map, fork, exec,
// wait, yield, sleep; and ps, shutdown, programs.

#include "console/console.h"
#include "lib/errno.h"
#include "platform/platform.h"
#include "proc/exec.h"
#include "proc/programs.h"
#include "proc/uaccess.h"
#include "cpu/cpu.h"
#include "mm/page.h"
#include "proc/proc.h"
#include "syscall/syscall.h"
#include "syscall/sysnum.h"

#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1))

int64_t sys_exit(uint64_t status)
{
	proc_exit((int)status);
}

int64_t sys_getpid(void)
{
	return proc_current()->pid;
}

// Maps zeroed pages on [start, end) with perm; on failure unmaps what it
// mapped. Returns 0 or -ENOMEM.
static int map_zeroed(pte_t *pml4, uint64_t start, uint64_t end, uint64_t perm)
{
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		struct page *pg = page_alloc(0, true);
		int err = pg ? vm_map(pml4, va, pg, perm) : -ENOMEM;
		if (pg)
			page_put(pg);
		if (err < 0) {
			for (uint64_t done = start; done < va; done += PAGE_SIZE)
				vm_unmap(pml4, done);
			return err;
		}
	}
	return 0;
}

int64_t sys_sbrk(uint64_t increment)
{
	struct proc *p = proc_current();
	uint64_t old = p->brk, new = old + (int64_t)increment;

	if ((int64_t)increment >= 0) {
		if (new < old || new > USER_HEAP_MAX)
			return -ENOMEM;
		int err = map_zeroed(p->pml4, PAGE_ROUND_UP(old), PAGE_ROUND_UP(new),
				     PTE_U | PTE_W | PTE_NX);
		if (err < 0)
			return err;
	} else {
		if (new > old || new < p->heap_start)
			return -EINVAL;
		for (uint64_t va = PAGE_ROUND_UP(new); va < PAGE_ROUND_UP(old); va += PAGE_SIZE)
			vm_unmap(p->pml4, va);
	}
	p->brk = new;
	return old;
}

int64_t sys_map(uint64_t addr, uint64_t len, uint64_t prot)
{
	struct proc *p = proc_current();

	if (addr % PAGE_SIZE || len == 0 || len > USER_TOP || addr > USER_TOP - len ||
	    addr < PAGE_SIZE || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	for (uint64_t va = addr; va < addr + len; va += PAGE_SIZE)
		if (vm_lookup(p->pml4, va, NULL) != NULL)
			return -EEXIST;
	uint64_t perm = PTE_U | (prot & PROT_WRITE ? PTE_W : 0) | (prot & PROT_EXEC ? 0 : PTE_NX);
	return map_zeroed(p->pml4, addr, PAGE_ROUND_UP(addr + len), perm);
}

int64_t sys_fork(void)
{
	return proc_fork();
}

// Copies the argument vector argv (user pointers, NULL-terminated) into
// strings; returns argc or an error.
static int copy_arguments(uint64_t argv, char strings[][EXEC_MAX_ARG_LEN], char *args[])
{
	for (int argc = 0; argc <= EXEC_MAX_ARGS; argc++) {
		uint64_t ptr;
		if (copy_from_user(&ptr, argv + argc * sizeof(ptr), sizeof(ptr)) < 0)
			return -EFAULT;
		if (ptr == 0)
			return argc;
		if (argc == EXEC_MAX_ARGS)
			return -E2BIG;
		int64_t len = copy_string_from_user(strings[argc], ptr, EXEC_MAX_ARG_LEN);
		if (len < 0)
			return (int)len;
		args[argc] = strings[argc];
	}
	return -E2BIG;
}

int64_t sys_exec(uint64_t name, uint64_t argv)
{
	static char strings[MAX_CPUS][EXEC_MAX_ARGS][EXEC_MAX_ARG_LEN];
	char program[EXEC_MAX_ARG_LEN], *args[EXEC_MAX_ARGS + 1];

	int64_t len = copy_string_from_user(program, name, sizeof(program));
	if (len < 0)
		return len;
	// One buffer per CPU: the copy and the exec run without a switch in
	// between (system calls are not preempted).
	char (*mine)[EXEC_MAX_ARG_LEN] = strings[this_cpu()->id];
	int argc = copy_arguments(argv, mine, args);
	if (argc < 0)
		return argc;
	return proc_exec(program, args, argc);
}

int64_t sys_wait(uint64_t status_ptr)
{
	int status;
	int pid = proc_wait(&status);

	if (pid > 0 && status_ptr != 0 && copy_to_user(status_ptr, &status, sizeof(status)) < 0)
		return -EFAULT;
	return pid;
}

int64_t sys_yield(void)
{
	yield();
	return 0;
}

int64_t sys_sleep(uint64_t nticks)
{
	spin_lock(&tick_lock);
	uint64_t end = ticks + nticks;
	while (ticks < end)
		sleep((void *)&ticks, &tick_lock);
	spin_unlock(&tick_lock);
	return 0;
}

int64_t sys_ps(void)
{
	proc_dump();
	return 0;
}

int64_t sys_shutdown(void)
{
	power_off(POWER_OK);
}

int64_t sys_programs(void)
{
	user_program_list();
	return 0;
}
