// Reports of traps: the names of the exceptions, the trap frame, what a
// page fault tried, and what happens to a process that faults (a message
// naming it, the fault and the address; the process ends with status
// 128 + vector) or hits a breakpoint (reported; it continues).

#include "arch/x86.h"
#include "console/console.h"
#include "debug/panic.h"
#include "lib/errno.h"
#include "proc/proc.h"
#include "trap/trap.h"

const char *trap_name(uint64_t vector)
{
	static const char *const names[T_NUM_EXCEPTIONS] = {
		[T_DIVIDE] = "divide error",
		[T_DEBUG] = "debug",
		[T_NMI] = "non-maskable interrupt",
		[T_BREAKPOINT] = "breakpoint",
		[T_OVERFLOW] = "overflow",
		[T_BOUND] = "bound range exceeded",
		[T_INVALID_OP] = "invalid opcode",
		[T_DEVICE_NA] = "device not available",
		[T_DOUBLE_FAULT] = "double fault",
		[T_INVALID_TSS] = "invalid TSS",
		[T_SEGMENT_NP] = "segment not present",
		[T_STACK] = "stack-segment fault",
		[T_GP] = "general protection",
		[T_PAGE_FAULT] = "page fault",
		[T_X87_FP] = "x87 floating-point error",
		[T_ALIGNMENT] = "alignment check",
		[T_MACHINE_CHECK] = "machine check",
		[T_SIMD_FP] = "SIMD floating-point exception",
		[T_VIRTUALIZATION] = "virtualization exception",
		[T_CONTROL_PROTECTION] = "control protection",
	};
	if (vector < T_NUM_EXCEPTIONS && names[vector] != NULL)
		return names[vector];
	return "unknown trap";
}

void trap_print_frame(const struct trapframe *tf)
{
	printk("  rax 0x%016lx  rbx 0x%016lx  rcx 0x%016lx\n", tf->rax, tf->rbx, tf->rcx);
	printk("  rdx 0x%016lx  rsi 0x%016lx  rdi 0x%016lx\n", tf->rdx, tf->rsi, tf->rdi);
	printk("  rbp 0x%016lx  rsp 0x%016lx  r8  0x%016lx\n", tf->rbp, tf->rsp, tf->r8);
	printk("  r9  0x%016lx  r10 0x%016lx  r11 0x%016lx\n", tf->r9, tf->r10, tf->r11);
	printk("  r12 0x%016lx  r13 0x%016lx  r14 0x%016lx\n", tf->r12, tf->r13, tf->r14);
	printk("  r15 0x%016lx  rip 0x%016lx  rflags 0x%lx\n", tf->r15, tf->rip, tf->rflags);
	printk("  cs 0x%lx  ss 0x%lx  vector %lu  error 0x%lx  cr2 0x%016lx  cr3 0x%lx\n",
	       tf->cs, tf->ss, tf->vector, tf->error_code, read_cr2(), read_cr3());
}

void print_page_fault_cause(uint64_t error_code)
{
	// BEGIN LAB 1 SOLUTION: fault_report
	printk("%s %s page",
	       error_code & PF_FETCH ? "instruction fetch from" :
	       error_code & PF_WRITE ? "write to" : "read from",
	       error_code & PF_PRESENT ? "a protected" : "a not-present");
	if (error_code & PF_RSVD)
		printk(" (reserved bit set in a page-table entry)");
	// STUB:
	// printk("(LAB 1: fault_report not written: error code 0x%lx)", error_code);
	// END LAB 1
}

void trap_kill_for_fault(const struct trapframe *tf)
{
	struct proc *p = proc_current();

	if (p == NULL)
		panic("a trap from user mode (vector %lu) with no process", tf->vector);
	// BEGIN LAB 3 SOLUTION: trap_user
	printk("process %s[%d] killed: %s (vector %lu) at rip 0x%lx", p->name, p->pid,
	       trap_name(tf->vector), tf->vector, tf->rip);
	if (tf->vector == T_PAGE_FAULT) {
		printk(", address 0x%lx: ", read_cr2());
		print_page_fault_cause(tf->error_code);
	}
	printk("\n");
	trap_print_frame(tf);
	proc_exit(128 + (int)tf->vector);
	// STUB:
	// printk("LAB 3: trap_user not written: process %s[%d] not reported\n", p->name, p->pid);
	// proc_exit(-ENOSYS);
	// END LAB 3
}

void trap_check_return_address(const struct trapframe *tf, const char *what)
{
	// BEGIN LAB 3 SOLUTION: trap_user
	if (is_canonical(tf->rip))
		return;
	struct proc *p = proc_current();
	printk("process %s[%d] killed: its %s would return to the non-canonical "
	       "address 0x%lx\n", p->name, p->pid, what, tf->rip);
	proc_exit(128 + T_GP);
	// STUB:
	// (void)tf, (void)what;
	// END LAB 3
}

void trap_report_breakpoint(const struct trapframe *tf)
{
	struct proc *p = proc_current();

	// BEGIN LAB 3 SOLUTION: trap_user
	printk("process %s[%d]: breakpoint at rip 0x%lx\n", p->name, p->pid, tf->rip);
	trap_print_frame(tf);
	// STUB:
	// printk("LAB 3: trap_user not written: process %s[%d]'s breakpoint not reported\n",
	//        p->name, p->pid);
	// END LAB 3
}
