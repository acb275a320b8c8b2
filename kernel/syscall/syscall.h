// System calls: the entry (syscall/entry.S), the table of handlers, and
// the handlers themselves (sys_*.c). Numbers and ABI: lib/sysnum.h.

#ifndef KERNEL_SYSCALL_SYSCALL_H
#define KERNEL_SYSCALL_SYSCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "trap/trap.h"

// Programs the SYSCALL MSRs of this CPU (SDM Vol. 3A 5.8.8; Vol. 4,
// Table 2-2): sets EFER.SCE, which enables the instruction; STAR[47:32]
// the kernel code selector and STAR[63:48] the base the user selectors
// follow from (arch/gdt.h); LSTAR the entry point, syscall_entry; FMASK
// the RFLAGS bits cleared on entry: TF, IF, DF, NT and AC.
void syscall_init(void);

#define SYSCALL_ARGS 6

// Runs system call nr of the current process with its arguments (the
// registers %rdi, %rsi, %rdx, %r10, %r8, %r9 of the caller, sysnum.h) and
// returns its result, -ENOSYS for a number with no call. Each entry path
// calls it: SYSCALL from user mode (syscall_dispatch), and VMCALL from a
// process that runs in VMX non-root mode, whose registers come from its
// vCPU instead of a trapframe.
int64_t syscall_invoke(uint64_t nr, const uint64_t args[SYSCALL_ARGS]);

// Called by the entry code with the caller's state: runs the call whose
// number is in tf->rax with the argument registers of tf, puts the result
// in tf->rax, and then ends the process if it was killed meanwhile
// (proc_exit_if_killed) or if SYSRET would return to a non-canonical
// address (trap_check_return_address). Returns whether the entry code
// must return with IRET: when the call changed %rcx or %r11 in tf
// (sigreturn), which SYSRET cannot load.
bool syscall_dispatch(struct trapframe *tf);

// sys_proc.c
int64_t sys_exit(uint64_t status);
int64_t sys_getpid(void);
int64_t sys_fork(void);
int64_t sys_exec(uint64_t name, uint64_t argv);
int64_t sys_wait(uint64_t status);
int64_t sys_yield(void);
int64_t sys_sleep(uint64_t nticks);
int64_t sys_ps(void);
int64_t sys_shutdown(void);
int64_t sys_programs(void);
int64_t sys_clock(uint64_t reading);
int64_t sys_setpgid(uint64_t pid, uint64_t pgid);
int64_t sys_mmio_count(void);
// sys_mem.c
int64_t sys_sbrk(uint64_t increment);
int64_t sys_map(uint64_t addr, uint64_t len, uint64_t prot);
int64_t sys_munmap(uint64_t addr, uint64_t len);
int64_t sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot);
int64_t sys_dma_alloc(uint64_t len, uint64_t bus);
// sys_thread.c
int64_t sys_clone(uint64_t rip, uint64_t rsp, uint64_t arg);
int64_t sys_join(uint64_t tid, uint64_t value);
int64_t sys_thread_exit(uint64_t value);
// sys_signal.c
int64_t sys_sigaction(uint64_t sig, uint64_t handler, uint64_t restorer);
int64_t sys_sigreturn(uint64_t ctx);
// sys_file.c
int64_t sys_read(uint64_t fd, uint64_t buf, uint64_t len);
int64_t sys_write(uint64_t fd, uint64_t buf, uint64_t len);
int64_t sys_close(uint64_t fd);
int64_t sys_dup(uint64_t fd);
int64_t sys_pipe(uint64_t fds);
int64_t sys_tcsetpgrp(uint64_t pgid);
// vmx/dune/dune.c
int64_t sys_dune_enter(uint64_t config);
// vmx/dev/nic.c
int64_t sys_nic_open(uint64_t port, uint64_t info);
int64_t sys_nic_wait(uint64_t port, uint64_t ticks);
int64_t sys_nic_ctl(uint64_t port, uint64_t op, uint64_t args);

#endif
