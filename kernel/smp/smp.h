// Starting the other CPUs, and running work on them.

#ifndef KERNEL_SMP_SMP_H
#define KERNEL_SMP_SMP_H

// The page the other CPUs start in (reserved: below 1 MiB).
#define TRAMPOLINE_PHYS 0x7000

#ifndef __ASSEMBLER__

// Finds the CPUs (ACPI), calibrates and starts the boot CPU's local APIC
// timer, starts every other CPU, and turns interrupts on. A CPU that does
// not answer within a second is reported and left out.
//
// Each other CPU runs entry once it has its struct cpu (cpu_init), the
// kernel's page tables and its local APIC and timer, with interrupts off;
// entry does the rest of the kernel's per-CPU set-up (kernel/main.c: the
// IDT, the SYSCALL MSRs) and never returns.
void smp_start(void (*entry)(void));

// Runs the work smp_call_all left for this CPU, if any: the other CPUs'
// scheduler calls it between processes.
void smp_run_calls(void);

// Runs fn(cpu index) on every running CPU (the caller's too) and waits
// for all of them to return.
void smp_call_all(void (*fn)(int cpu));

#endif
#endif
