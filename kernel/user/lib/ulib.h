// The user library: system call wrappers, formatted output, strings and a
// heap. Programs include only this header.

#ifndef KERNEL_USER_LIB_ULIB_H
#define KERNEL_USER_LIB_ULIB_H

#include <stddef.h>
#include <stdint.h>

#include "lib/errno.h"
#include "lib/string.h"
#include "lib/signum.h"
#include "lib/sysnum.h"

// Raw system call: number and up to three arguments.
int64_t syscall3(uint64_t n, uint64_t a0, uint64_t a1, uint64_t a2);

__attribute__((noreturn)) void exit(int status);
int64_t write(int fd, const void *buf, size_t len);
int getpid(void);
void *sbrk(intptr_t increment);
int map(void *addr, size_t len, int prot);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);

int64_t read(int fd, void *buf, size_t len);
int fork(void);
int exec(const char *name, char *const argv[]);
int wait(int *status);
void yield(void);
void sleep(uint64_t ticks);
int pipe(int fds[2]);
int close(int fd);
int dup(int fd);
void ps(void);
__attribute__((noreturn)) void shutdown(void);
void programs(void);

// Process groups and the terminal: setpgid puts process pid (0: the
// caller; or a child) in group pgid (0: its own); tcsetpgrp makes group
// pgid the console's foreground, which Ctrl-C kills (0: none).
int setpgid(int pid, int pgid);
int tcsetpgrp(int pgid);

// Threads: clone starts one at rip with stack pointer rsp and arg in
// %rdi; join waits for one to end and gets its value; thread_exit ends
// the calling thread (in the first thread, the process).
int clone(void *rip, void *rsp, void *arg);
int join(int tid, int *value);
__attribute__((noreturn)) void thread_exit(int value);
// Starts a thread that runs fn(arg) on the stack [stack, stack + size)
// and ends with what fn returns; returns its id or an error.
int thread_create(int (*fn)(void *), void *arg, void *stack, size_t size);

// Signals (lib/signum.h): sigaction installs handler for a fault's
// signal (SIG_DFL: the default action again), with the library's
// restorer; sigreturn continues at a context (the restorer calls it when
// a handler returns; it returns only an error).
typedef void (*sighandler_t)(int sig, struct siginfo *info, struct sigcontext *ctx);
int sigaction(int sig, sighandler_t handler);
int64_t sigreturn(const struct sigcontext *ctx);

// The time: the TSC and the nanoseconds since the machine started;
// uptime_ms, the milliseconds since then. For a loop that reads the time
// at every turn, the same milliseconds without a system call (a Dune
// process's system calls are VM exits): ms_clock_rate() asks the kernel
// once for the TSC's rate, then ms_clock_read(rate) divides the TSC by
// it, as the kernel does.
int clock(struct clock_reading *reading);
uint64_t uptime_ms(void);
uint64_t ms_clock_rate(void);
uint64_t ms_clock_read(uint64_t rate);

// Dune mode (vmx/dune/dune.h): the calling thread continues in VMX
// non-root ring 0 as config says; returns only an error. (Programs on
// libdune call its dune_enter instead: libdune/dune.h.)
struct dune_config;
int dune_enter_config(const struct dune_config *config);

// A user-space driver's calls (lib/sysnum.h). dma_alloc maps len bytes
// of zeroed, physically contiguous memory a device may reach; returns
// its address (at most 4 MiB at once, mm/devmem.h) and puts the bus
// address in *bus, or returns a negative error. nic_open gives the
// calling process port 0 or 1 of the 82599 and its registers (info);
// nic_wait sleeps until the port interrupts or ticks pass and returns
// the causes (EICR bits; 0 after the ticks), or a negative error.
// nic_ctl posts a request to the owner of a port (struct nic_ctl:
// NIC_CTL_MOVE moves a flow group of its dataplane to another core);
// returns 0, -EBUSY while the last one is not carried out, or another
// negative error.
// mmio_count says how many of the calling thread's accesses to emulated
// registers the kernel has trapped and emulated since it started.
int64_t dma_alloc(size_t len, uint64_t *bus);
int nic_open(int port, struct nic_info *info);
int64_t nic_wait(int port, uint64_t ticks);
int nic_ctl(int port, uint32_t op, uint32_t arg0, uint32_t arg1);
uint64_t mmio_count(void);

// printf to the console (fd 1); returns the number of characters.
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// printf to fd.
int fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// A heap on sbrk: first fit over a list of free blocks.
void *malloc(size_t size);
void free(void *ptr);

#endif
