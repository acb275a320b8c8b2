// A minimal ring-0 runtime for the Dune test programs (until libdune):
// what a process needs to run in Dune mode (vmx/dune/dune.h) and to use
// its privilege rings. ring0_enter builds, in the process's own memory,
//   - page tables that map guest-virtual = host-virtual with 2 MiB pages
//     over the first GiB and the top GiB of the user half (the two
//     windows of dune.h), user-accessible, and one supervisor-only alias
//     of the first 2 MiB of the program at RING0_SUPERVISOR_VA;
//   - a GDT (kernel code 0x08 and data 0x10, user data 0x1B and code
//     0x23, a TSS at 0x28 whose rsp0 is the ring-0 stack), an IDT whose
//     32 exception gates call ring0_trap, and the SYSCALL MSRs, with a
//     handler that forwards each system call from ring 3 to the kernel
//     with VMCALL and counts it;
// then enters Dune mode and calls fn(arg) in ring 0.
//
// Ring-0 code talks to the kernel with VMCALL (ring0_call, ring0_printf);
// ring-3 code (ring0_to_user) uses the user library as a native program
// does: its `syscall` lands in the ring-0 handler.

#ifndef KERNEL_USER_DUNE_RING0_H
#define KERNEL_USER_DUNE_RING0_H

#include <stdint.h>

#include "ulib.h"
#include "vmx/dune/dune.h"

#define RING0_KERNEL_CS 0x08
#define RING0_KERNEL_DS 0x10
#define RING0_USER_DS   0x1B
#define RING0_USER_CS   0x23
#define RING0_TSS       0x28
#define RING0_SUPERVISOR_VA 0x3FE00000ul        // alias of [0x400000, 0x600000), ring 0 only
#define RING0_PROBE_VA      0x3FC00000ul        // ring0_probe's 2 MiB window

// What an exception handler sees (ring0_entry.S pushes it).
struct ring0_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

// The PML4 of the page tables above (guest-virtual = host-virtual).
extern uint64_t ring0_pml4[512];

// The exception handler: returns to continue at frame->rip (which it may
// change). Default (NULL): print the exception and exit with 128 + vector.
extern void (*ring0_trap_handler)(struct ring0_frame *frame);

// System calls from ring 3 that reached the ring-0 handler.
extern volatile uint64_t ring0_syscalls;

// Enters Dune mode on the page tables, GDT and IDT above and runs fn(arg)
// in ring 0 on a stack of its own; exits with fn's value when fn returns.
// Returns only if the kernel refused (the error).
int ring0_enter(int (*fn)(uint64_t arg), uint64_t arg);
// The same for another thread of the process, after ring0_enter: the
// same page tables, GDT and IDT, on the ring-0 stack [stack, stack + size).
int ring0_enter_thread(int (*fn)(uint64_t arg), uint64_t arg, void *stack, size_t size);

// VMCALL: the kernel's system call nr with up to three arguments.
int64_t ring0_call(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2);
// printf through VMCALL write (fd 1).
int ring0_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void ring0_exit(int status);

// Continues in ring 3 at fn(arg) on the stack [stack, stack + size); fn
// must not return (it ends with exit()).
__attribute__((noreturn)) void ring0_to_user(void (*fn)(uint64_t), uint64_t arg, void *stack,
					     size_t size);

// The stack an exception from ring 3 switches to (the TSS's rsp0);
// ring0_enter sets it to the top of the first thread's ring-0 stack.
void ring0_set_trap_stack(void *top);

// Maps RING0_PROBE_VA to the 2 MiB of guest-physical memory around gpa
// and reads the 8 bytes at gpa there. Returns 0 and sets *value, or the
// page-fault error code + 1 if the read faulted (ring0_probe installs its
// own exception handler for the read).
uint64_t ring0_probe(uint64_t gpa, uint64_t *value);

// Reads the 8 bytes at address. A handler that catches a fault of this
// read (its rip is ring0_read64) may continue at ring0_read64_done.
uint64_t ring0_read64(uint64_t address);
extern char ring0_read64_done[];

static inline uint64_t ring0_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void ring0_wrmsr(uint32_t msr, uint64_t value)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
		     : "memory");
}

// The current privilege level.
int ring0_cpl(void);

#endif
