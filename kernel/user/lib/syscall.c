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
