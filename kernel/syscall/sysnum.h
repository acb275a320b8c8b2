// System call numbers and flags: the ABI between user programs and the
// kernel, shared by both (kernel/user/lib includes this file).
//
// A program puts the number in %rax and the arguments in %rdi, %rsi,
// %rdx, %r10, %r8, %r9 and executes `syscall`; the result comes back in
// %rax, a negative error code (lib/errno.h) on failure. %rcx and %r11 are
// clobbered (the CPU keeps the return address and flags there).

#ifndef KERNEL_SYSCALL_SYSNUM_H
#define KERNEL_SYSCALL_SYSNUM_H

#define SYS_exit    0   // exit(status): does not return
#define SYS_write   1   // write(fd, buf, len): bytes written; fd 1 and 2 are the console
#define SYS_getpid  2   // getpid(): the process id
#define SYS_sbrk    3   // sbrk(increment): the old end of the heap
#define SYS_map     4   // map(addr, len, prot): maps zeroed pages at addr
#define NSYSCALLS   5

// prot bits of SYS_map
#define PROT_READ  1
#define PROT_WRITE 2
#define PROT_EXEC  4

#endif
