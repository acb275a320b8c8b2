// Traps: exceptions (vectors 0-31) and interrupts (32-255). trap/vectors.S
// saves the CPU state in a struct trapframe on the kernel stack and calls
// trap_dispatch(). An exception in kernel code is a kernel bug: a panic
// that shows the frame. An exception in a user process is the process's
// fault: the process is killed with a message, the kernel goes on
// (a breakpoint is reported and the process continues).

#ifndef KERNEL_TRAP_TRAP_H
#define KERNEL_TRAP_TRAP_H

#include "arch/trapframe.h"

#ifndef __ASSEMBLER__
#include <stdint.h>

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

// Says what a page fault tried, from its error code (SDM Vol. 3A 4.7):
// "instruction fetch from" (I/D set), else "write to" (W/R set), else
// "read from"; then "a protected page" (P set) or "a not-present page";
// then " (reserved bit set in a page-table entry)" if RSVD is set. For
// example "write to a not-present page". No newline.
void print_page_fault_cause(uint64_t error_code);

// A user fault kills the current process: prints "process NAME[PID]
// killed: FAULT (vector V) at rip 0xRIP", for a page fault followed by
// ", address 0xCR2: " and print_page_fault_cause(), then the frame
// (trap_print_frame), and ends the process with status 128 + V.
__attribute__((noreturn)) void trap_kill_for_fault(const struct trapframe *tf);
// Reports a breakpoint of the current process: "process NAME[PID]:
// breakpoint at rip 0xRIP", then the frame. (The process continues.)
void trap_report_breakpoint(const struct trapframe *tf);
// Ends the current process if returning to it (after `what`) would jump
// to a non-canonical address: SYSRET and IRET would fault in ring 0 (on
// Intel CPUs). Prints "process NAME[PID] killed: its WHAT would return to
// the non-canonical address 0xRIP" and exits with status 128 + T_GP, what
// the #GP in ring 3 of an AMD CPU would have given.
void trap_check_return_address(const struct trapframe *tf, const char *what);

#endif /* __ASSEMBLER__ */

#endif
