// Starting the other CPUs, and running work on them.

#ifndef KERNEL_CPU_SMP_H
#define KERNEL_CPU_SMP_H

// The page the other CPUs start in (reserved: below 1 MiB).
#define TRAMPOLINE_PHYS 0x7000

#ifndef __ASSEMBLER__

// Finds the CPUs (ACPI), calibrates and starts the boot CPU's local APIC
// timer, starts every other CPU, and turns interrupts on. A CPU that does
// not answer within a second is reported and left out.
void smp_start(void);

// Runs fn(cpu index) on every running CPU (the caller's too) and waits
// for all of them to return.
void smp_call_all(void (*fn)(int cpu));

#endif
#endif
