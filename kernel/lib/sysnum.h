// System call numbers and flags: the ABI between user programs and the
// kernel, shared by both (kernel/user/lib includes this file).
//
// A program puts the number in %rax and the arguments in %rdi, %rsi,
// %rdx, %r10, %r8, %r9 and executes `syscall`; the result comes back in
// %rax, a negative error code (lib/errno.h) on failure. %rcx and %r11 are
// clobbered (the CPU keeps the return address and flags there).

#ifndef KERNEL_LIB_SYSNUM_H
#define KERNEL_LIB_SYSNUM_H

// The timer's ticks a second: the unit of sleep and nic_wait (the local
// APIC timer interrupts each CPU this often, cpu/lapic.c).
#define TIMER_HZ 100

#define SYS_exit     0  // exit(status): does not return
#define SYS_write    1  // write(fd, buf, len): bytes written
#define SYS_getpid   2  // getpid(): the process id
#define SYS_sbrk     3  // sbrk(increment): the old end of the heap
#define SYS_map      4  // map(addr, len, prot): maps zeroed pages at addr
#define SYS_read     5  // read(fd, buf, len): bytes read, 0 at the end
#define SYS_fork     6  // fork(): the child's pid, 0 in the child
#define SYS_exec     7  // exec(name, argv): runs a program; returns only on error
#define SYS_wait     8  // wait(&status): the pid of a child that exited
#define SYS_yield    9  // yield(): let another process run
#define SYS_sleep   10  // sleep(ticks): wait for that many timer ticks
#define SYS_pipe    11  // pipe(fds): fds[0] reads what fds[1] writes
#define SYS_close   12  // close(fd)
#define SYS_dup     13  // dup(fd): a new descriptor for the same file
#define SYS_ps      14  // ps(): the kernel prints the process table
#define SYS_shutdown 15 // shutdown(): ends the run (powers the machine off)
#define SYS_programs 16 // programs(): the kernel prints the programs it has
#define SYS_munmap  17  // munmap(addr, len): unmaps the pages of the range
#define SYS_mprotect 18 // mprotect(addr, len, prot): sets the pages' permissions
#define SYS_clone   19  // clone(rip, rsp, arg): starts a thread; its id
#define SYS_join    20  // join(tid, &value): waits for a thread to end
#define SYS_thread_exit 21 // thread_exit(value): ends the calling thread
#define SYS_sigaction 22 // sigaction(sig, handler, restorer): lib/signum.h
#define SYS_sigreturn 23 // sigreturn(ctx): back from a signal handler
#define SYS_clock   24  // clock(&reading): the time, struct clock_reading
#define SYS_setpgid 25  // setpgid(pid, pgid): puts a process in a process group
#define SYS_tcsetpgrp 26 // tcsetpgrp(pgid): the group the console's Ctrl-C kills
#define SYS_dune_enter 27 // dune_enter(&config): Dune mode (vmx/dune/dune.h); returns only on error
#define SYS_dma_alloc 28 // dma_alloc(len, &bus): pinned memory a device may reach; its address
#define SYS_nic_open 29 // nic_open(port, &info): the 82599's registers (struct nic_info)
#define SYS_nic_wait 30 // nic_wait(port, ticks): waits for the port's interrupt; its causes
#define SYS_nic_ctl 31  // nic_ctl(port, op, arg1 << 32 | arg0): a request to its owner (nic_ctl)
#define SYS_mmio_count 32 // mmio_count(): the calling thread's emulated device-register accesses
#define NSYSCALLS   33

// prot bits of SYS_map and SYS_mprotect
#define PROT_NONE  0
#define PROT_READ  1
#define PROT_WRITE 2
#define PROT_EXEC  4

#ifndef __ASSEMBLER__
#include <stdint.h>

// What SYS_clock fills in: the TSC, which counts at a constant rate on
// every CPU, and the time since the machine started that it stands for;
// and the TSC ticks the calling thread has run on a CPU so far, the
// kernel's work for it (system calls, faults, VM exits) included, and
// how many of them went to emulated devices (the 82599's model: its DMA
// and its wire, the work a real NIC does without the CPU).
struct clock_reading {
	uint64_t cycles;
	uint64_t ns;
	uint64_t cycles_per_ms; // the rate the kernel measured at boot
	uint64_t thread_cycles; // the caller's own ticks (proc_cpu_ticks)
	uint64_t device_cycles; // of them, in emulated devices (struct proc's device_ticks)
};
#endif

#ifndef __ASSEMBLER__
// What SYS_nic_open fills in. The same call serves a real 82599 (its
// BAR 0 mapped uncached) and the emulated one (vmx/dev: its registers
// trapped at the same address); a driver need not know which it has.
struct nic_info {
	uint64_t regs;          // the address of BAR 0 in the caller
	uint64_t regs_len;
	uint16_t vendor, device;        // from PCI configuration space
	uint16_t msix_vectors;          // MSI-X table size
	uint8_t emulated;               // 1: vmx/dev's model (for messages only)
	uint8_t port;
	uint64_t ctl;                   // the address of the port's struct nic_ctl in the caller
};

// The control plane's requests to a port's owner (IX's control plane):
// a page of the owner's, which nic_ctl writes and the owner's loop reads.
// A request is posted when posted != done: op and its arguments are
// valid, and the owner, once it has carried it out, sets result and
// then done = posted. nic_ctl refuses a request while one is posted.
#define NIC_CTL_MOVE 1          // arg0: a flow group, arg1: the core to run it from now on
struct nic_ctl {
	volatile uint64_t posted, done;
	volatile uint32_t op, arg0, arg1;
	volatile int32_t result;        // the last request's: 0, or a negative error
};
#endif

#define EXEC_MAX_ARGS 16
#define EXEC_MAX_ARG_LEN 128

#endif
