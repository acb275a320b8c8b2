#include <stdbool.h>

#include "arch/gdt.h"
#include "arch/regs.h"
#include "arch/x86.h"
#include "console/console.h"
#include "lib/errno.h"
#include "lib/sysnum.h"
#include "proc/proc.h"
#include "syscall/syscall.h"


void syscall_init(void)
{
	extern char syscall_entry[];

	// BEGIN LAB 3 SOLUTION: syscall_init
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	// SYSCALL loads CS from STAR[47:32] (and SS = CS + 8); SYSRET to
	// 64-bit code loads CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8,
	// with RPL 3: GDT_USER_CODE and GDT_USER_DATA (arch/gdt.h).
	wrmsr(MSR_STAR, ((uint64_t)GDT_KERNEL_DATA << 48) | ((uint64_t)GDT_KERNEL_CODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	// NT too: a process could set it with popf, and an IRET with NT set
	// faults in 64-bit mode.
	wrmsr(MSR_FMASK, RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC);
	// STUB:
	// printk("LAB 3: syscall_init not written: SYSCALL is off\n");
	// (void)syscall_entry;
	// END LAB 3
}

// Every handler is called with the six argument registers; one that takes
// fewer ignores the rest, which the System V calling convention allows
// (arguments travel in registers the callee may ignore). The cast through
// void (*)(void) says that this is meant.
typedef int64_t (*syscall_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

#define SYSCALL(name) [SYS_##name] = { #name, (syscall_fn)(void (*)(void))sys_##name }
static const struct {
	const char *name;
	syscall_fn fn;
} syscalls[NSYSCALLS] = {
	SYSCALL(exit),
	SYSCALL(write),
	SYSCALL(getpid),
	SYSCALL(sbrk),
	SYSCALL(map),
	SYSCALL(read),
	SYSCALL(fork),
	SYSCALL(exec),
	SYSCALL(wait),
	SYSCALL(yield),
	SYSCALL(sleep),
	SYSCALL(pipe),
	SYSCALL(close),
	SYSCALL(dup),
	SYSCALL(ps),
	SYSCALL(shutdown),
	SYSCALL(programs),
	SYSCALL(munmap),
	SYSCALL(mprotect),
	SYSCALL(clone),
	SYSCALL(join),
	SYSCALL(thread_exit),
	SYSCALL(sigaction),
	SYSCALL(sigreturn),
	SYSCALL(clock),
	SYSCALL(setpgid),
	SYSCALL(tcsetpgrp),
	SYSCALL(dune_enter),
	SYSCALL(dma_alloc),
	SYSCALL(nic_open),
	SYSCALL(nic_wait),
	SYSCALL(nic_ctl),
	SYSCALL(mmio_count),
};

int64_t syscall_invoke(uint64_t nr, const uint64_t args[SYSCALL_ARGS])
{
	// BEGIN LAB 3 SOLUTION: syscall_dispatch
	if (nr >= NSYSCALLS || syscalls[nr].fn == NULL)
		return -ENOSYS;
	return syscalls[nr].fn(args[0], args[1], args[2], args[3], args[4], args[5]);
	// STUB:
	// (void)nr, (void)args, (void)syscalls;
	// return -ENOSYS;
	// END LAB 3
}

bool syscall_dispatch(struct trapframe *tf)
{
	// BEGIN LAB 3 SOLUTION: syscall_dispatch
	const uint64_t args[SYSCALL_ARGS] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };

	tf->rax = syscall_invoke(tf->rax, args);
	proc_exit_if_killed();
	trap_check_return_address(tf, "system call");
	// STUB:
	// printk("LAB 3: syscall_dispatch not written: system call %lu\n", tf->rax);
	// proc_exit(-ENOSYS);
	// END LAB 3
	// SYSRET takes rip from %rcx and rflags from %r11.
	return tf->rcx != tf->rip || tf->r11 != tf->rflags;
}
