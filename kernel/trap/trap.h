// Traps: exceptions (vectors 0-31) and interrupts (32-255). trap/vectors.S
// saves the CPU state in a struct trapframe on the kernel stack and calls
// trap_dispatch(). An exception in kernel code is a kernel bug: a panic
// that shows the frame. An exception in a user process is the process's
// fault: the process is killed with a message, the kernel goes on
// (a breakpoint is reported and the process continues).

#ifndef KERNEL_TRAP_TRAP_H
#define KERNEL_TRAP_TRAP_H

#define T_DIVIDE        0
#define T_DEBUG         1
#define T_NMI           2
#define T_BREAKPOINT    3
#define T_OVERFLOW      4
#define T_BOUND         5
#define T_INVALID_OP    6
#define T_DEVICE_NA     7
#define T_DOUBLE_FAULT  8
#define T_INVALID_TSS   10
#define T_SEGMENT_NP    11
#define T_STACK         12
#define T_GP            13
#define T_PAGE_FAULT    14
#define T_X87_FP        16
#define T_ALIGNMENT     17
#define T_MACHINE_CHECK 18
#define T_SIMD_FP       19
#define T_VIRTUALIZATION 20
#define T_CONTROL_PROTECTION 21
#define T_NUM_EXCEPTIONS 32
#define T_IRQ0          32      // the first hardware interrupt
#define T_SYSCALL       0x80    // marks a trapframe made by the syscall entry
#define T_NUM_VECTORS   256

// Page-fault error code bits (SDM Vol. 3A 4.7).
#define PF_PRESENT 0x1
#define PF_WRITE   0x2
#define PF_USER    0x4
#define PF_RSVD    0x8
#define PF_FETCH   0x10

#ifndef __ASSEMBLER__
#include <stdint.h>

// Layout fixed by trap/vectors.S: general registers pushed by the stub,
// then the vector and error code (0 when the CPU pushes none), then the
// frame the CPU pushes (SDM Vol. 3A 6.14.1).
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

void trap_init(void);
// Loads the IDT on this CPU (trap_init does it for the first).
void idt_load(void);
const char *trap_name(uint64_t vector);
void trap_print_frame(const struct trapframe *tf);
void trap_dispatch(struct trapframe *tf);

// Takes a free vector in [T_DEVICE_FIRST, T_DEVICE_LAST] (cpu/lapic.h)
// for a device and has interrupts on it call handler(arg), on whatever
// CPU they arrive, with interrupts off; the local APIC's EOI follows the
// handler. Returns the vector, or -ENOSPC when none is left.
int trap_device_vector(void (*handler)(void *arg), void *arg);

// Says what a page fault tried ("write to a not-present page").
void print_page_fault_cause(uint64_t error_code);

#endif /* __ASSEMBLER__ */

#endif
