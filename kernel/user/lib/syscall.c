#include "ulib.h"

int64_t syscall3(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2)
{
	int64_t ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(n), "D"(a0), "S"(a1), "d"(a2)
		     : "rcx", "r11", "memory");
	return ret;
}

void exit(int status)
{
	syscall3(SYS_exit, (uint64_t)status, 0, 0);
	for (;;)
		;
}

int64_t write(int fd, const void *buf, size_t len)
{
	return syscall3(SYS_write, (uint64_t)fd, (uint64_t)buf, len);
}

int getpid(void)
{
	return (int)syscall3(SYS_getpid, 0, 0, 0);
}

void *sbrk(intptr_t increment)
{
	return (void *)syscall3(SYS_sbrk, (uint64_t)increment, 0, 0);
}

int map(void *addr, size_t len, int prot)
{
	return (int)syscall3(SYS_map, (uint64_t)addr, len, (uint64_t)prot);
}

int munmap(void *addr, size_t len)
{
	return (int)syscall3(SYS_munmap, (uint64_t)addr, len, 0);
}

int mprotect(void *addr, size_t len, int prot)
{
	return (int)syscall3(SYS_mprotect, (uint64_t)addr, len, (uint64_t)prot);
}

int clone(void *rip, void *rsp, void *arg)
{
	return (int)syscall3(SYS_clone, (uint64_t)rip, (uint64_t)rsp, (uint64_t)arg);
}

int join(int tid, int *value)
{
	return (int)syscall3(SYS_join, (uint64_t)tid, (uint64_t)value, 0);
}

void thread_exit(int value)
{
	syscall3(SYS_thread_exit, (uint64_t)value, 0, 0);
	for (;;)
		;
}

int64_t read(int fd, void *buf, size_t len)
{
	return syscall3(SYS_read, (uint64_t)fd, (uint64_t)buf, len);
}

int fork(void)
{
	return (int)syscall3(SYS_fork, 0, 0, 0);
}

int exec(const char *name, char *const argv[])
{
	return (int)syscall3(SYS_exec, (uint64_t)name, (uint64_t)argv, 0);
}

int wait(int *status)
{
	return (int)syscall3(SYS_wait, (uint64_t)status, 0, 0);
}

void yield(void)
{
	syscall3(SYS_yield, 0, 0, 0);
}

void sleep(uint64_t ticks)
{
	syscall3(SYS_sleep, ticks, 0, 0);
}

int pipe(int fds[2])
{
	return (int)syscall3(SYS_pipe, (uint64_t)fds, 0, 0);
}

int close(int fd)
{
	return (int)syscall3(SYS_close, (uint64_t)fd, 0, 0);
}

int dup(int fd)
{
	return (int)syscall3(SYS_dup, (uint64_t)fd, 0, 0);
}

void ps(void)
{
	syscall3(SYS_ps, 0, 0, 0);
}

void shutdown(void)
{
	syscall3(SYS_shutdown, 0, 0, 0);
	for (;;)
		;
}

void programs(void)
{
	syscall3(SYS_programs, 0, 0, 0);
}

int setpgid(int pid, int pgid)
{
	return (int)syscall3(SYS_setpgid, (uint64_t)pid, (uint64_t)pgid, 0);
}

int tcsetpgrp(int pgid)
{
	return (int)syscall3(SYS_tcsetpgrp, (uint64_t)pgid, 0, 0);
}

int dune_enter_config(const struct dune_config *config)
{
	return (int)syscall3(SYS_dune_enter, (uint64_t)config, 0, 0);
}

int64_t dma_alloc(size_t len, uint64_t *bus)
{
	return syscall3(SYS_dma_alloc, len, (uint64_t)bus, 0);
}

int nic_open(int port, struct nic_info *info)
{
	return (int)syscall3(SYS_nic_open, (uint64_t)port, (uint64_t)info, 0);
}

int64_t nic_wait(int port, uint64_t ticks)
{
	return syscall3(SYS_nic_wait, (uint64_t)port, ticks, 0);
}

int nic_ctl(int port, uint32_t op, uint32_t arg0, uint32_t arg1)
{
	return (int)syscall3(SYS_nic_ctl, (uint64_t)port, op, (uint64_t)arg1 << 32 | arg0);
}

uint64_t mmio_count(void)
{
	return (uint64_t)syscall3(SYS_mmio_count, 0, 0, 0);
}
