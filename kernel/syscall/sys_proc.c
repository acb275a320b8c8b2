// System calls about processes: exit, getpid, fork, exec, wait, yield,
// sleep, clock, setpgid, mmio_count; and ps, shutdown, programs.

#include "arch/x86.h"
#include "clock/clock.h"
#include "console/console.h"
#include "cpu/cpu.h"
#include "cpu/lapic.h"
#include "lib/errno.h"
#include "lib/sysnum.h"
#include "mm/page.h"
#include "mm/uaccess.h"
#include "platform/platform.h"
#include "proc/exec.h"
#include "proc/proc.h"
#include "proc/programs.h"
#include "syscall/syscall.h"

int64_t sys_exit(uint64_t status)
{
	proc_exit((int)status);
}

int64_t sys_getpid(void)
{
	return proc_current()->leader->pid;
}

int64_t sys_fork(void)
{
	return proc_fork();
}

// Copies the argument vector argv (user pointers, NULL-terminated) into
// strings, and points args[i] at strings[i]. Returns argc; -E2BIG for
// more than EXEC_MAX_ARGS arguments or one without a NUL in its first
// EXEC_MAX_ARG_LEN bytes; -EFAULT for a pointer the process may not read.
static int copy_arguments(uint64_t argv, char strings[][EXEC_MAX_ARG_LEN], char *args[])
{
	// BEGIN LAB 3 SOLUTION: exec_args
	for (int argc = 0;; argc++) {
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
	// STUB:
	// printk("LAB 3: exec_args not written\n");
	// (void)argv, (void)strings, (void)args;
	// return -ENOSYS;
	// END LAB 3
}

int64_t sys_exec(uint64_t name, uint64_t argv)
{
	static char strings[MAX_CPUS][EXEC_MAX_ARGS][EXEC_MAX_ARG_LEN];
	char program[EXEC_MAX_ARG_LEN], *args[EXEC_MAX_ARGS + 1];

	int64_t len = copy_string_from_user(program, name, sizeof(program));
	if (len < 0)
		return len;
	if (user_program_find(program) == NULL)
		return -ENOENT;         // before its arguments are read
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
	clock_wait(nticks);
	return 0;
}

int64_t sys_clock(uint64_t reading)
{
	uint64_t tsc = rdtsc();
	// In two steps, so that nothing overflows 64 bits.
	struct clock_reading r = {
		.cycles = tsc,
		.ns = tsc / tsc_per_ms * 1000000 + tsc % tsc_per_ms * 1000000 / tsc_per_ms,
		.cycles_per_ms = tsc_per_ms,
		.thread_cycles = proc_cpu_ticks(tsc),
		.device_cycles = proc_current()->device_ticks,
	};

	return copy_to_user(reading, &r, sizeof(r));
}

int64_t sys_setpgid(uint64_t pid, uint64_t pgid)
{
	if (pid > INT32_MAX || pgid > INT32_MAX)
		return -EINVAL;
	return proc_setpgid((int)pid, (int)pgid);
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

// What the benchmarks count as the cost of a driver's register accesses
// (bench.nic): each one emulated is a trap into the kernel.
int64_t sys_mmio_count(void)
{
	return (int64_t)proc_current()->mmio_accesses;
}
