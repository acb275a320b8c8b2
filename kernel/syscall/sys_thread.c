// System calls about threads: clone, join, thread_exit (proc/thread.c).

#include "lib/errno.h"
#include "mm/uaccess.h"
#include "proc/proc.h"
#include "syscall/syscall.h"

int64_t sys_clone(uint64_t rip, uint64_t rsp, uint64_t arg)
{
	return proc_clone(rip, rsp, arg);
}

int64_t sys_join(uint64_t tid, uint64_t value_ptr)
{
	int value;

	// Checked before the thread is freed, so that a bad pointer loses
	// nothing: the thread stays to be joined.
	if (tid > INT32_MAX)
		return -ESRCH;
	if (value_ptr != 0 && user_writable(value_ptr, sizeof(value)) < 0)
		return -EFAULT;
	int err = proc_join((int)tid, &value);
	if (err == 0 && value_ptr != 0 && copy_to_user(value_ptr, &value, sizeof(value)) < 0)
		return -EFAULT;         // another thread unmapped it meanwhile
	return err;
}

int64_t sys_thread_exit(uint64_t value)
{
	proc_thread_exit((int)value);
}
