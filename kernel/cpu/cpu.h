// Per-CPU state. Each CPU has a struct cpu, reached through the GS base
// register while the CPU runs kernel code (this_cpu()); in user mode GS
// holds the user's value and the kernel's waits in IA32_KERNEL_GS_BASE
// until the entry code's swapgs (SDM Vol. 3A 5.8.8).
//
// Each CPU has its own GDT and TSS: the TSS holds the stack the CPU
// switches to on a trap from user mode (rsp0) and the IST stacks of the
// traps that must not trust the current stack (SDM Vol. 3A 8.7).

#ifndef KERNEL_CPU_CPU_H
#define KERNEL_CPU_CPU_H

#include "arch/gdt.h"

#define MAX_CPUS 8

// IST slots (1-based in the IDT gate, 0 = no IST).
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_STACKS 3
#define IST_STACK_SIZE 8192

// Offsets of struct cpu fields that assembly uses (checked in cpu.c).
#define CPU_KERNEL_RSP 8
#define CPU_USER_RSP 16

#ifndef __ASSEMBLER__
#include <stdint.h>

struct __attribute__((packed)) tss {
	uint32_t reserved0;
	uint64_t rsp[3];        // stack for a trap from ring n to ring 0 (rsp[0])
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct proc;
struct aspace;
struct context;

struct cpu {
	struct cpu *self;       // %gs:0, for this_cpu()
	uint64_t kernel_rsp;    // %gs:CPU_KERNEL_RSP: the syscall entry's stack
	uint64_t user_rsp;      // %gs:CPU_USER_RSP: the user's, saved by it
	int id;
	uint32_t apic_id;
	int ncli;               // depth of push_cli
	int interrupts_were_on; // IF before the outermost push_cli
	volatile uint64_t ticks;        // timer interrupts taken
	uint64_t processes_run;         // times the scheduler ran a process here
	struct proc *proc;      // the process running here, or NULL
	struct aspace *as;      // the user address space loaded here (mm/aspace.h), or NULL
	struct context *scheduler;      // where a process switches back to
	int last_run;           // table index of the process run last (round robin)
	struct tss tss;
	uint64_t gdt[GDT_ENTRIES];
	uint8_t ist_stacks[IST_STACKS][IST_STACK_SIZE] __attribute__((aligned(16)));
};

extern struct cpu cpus[MAX_CPUS];
extern int ncpus;               // CPUs running (cpus[0] is the boot CPU)

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	asm volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

// Loads c's GDT and TSS, reloads the segment registers and points GS at
// c. Runs on the CPU itself, first thing.
void cpu_init(struct cpu *c, int id);

// The stack a trap or system call from user mode starts on.
void cpu_set_kernel_stack(struct cpu *c, uint64_t rsp);

// Nested interrupt disabling, per CPU: push_cli turns interrupts off; they
// come back on at the matching outermost pop_cli if they were on before.
// Spinlocks (sync/spinlock.h) nest them; so does any code that must stay
// on this CPU for a while.
void push_cli(void);
void pop_cli(void);

#endif
#endif
