// The kernel starts its subsystems in stages, each after the ones before
// it. A self-test names the stage it needs (test/ktest.h), so that a lab's
// tests do not run code of later labs: in a handout those are stubs.

#ifndef KERNEL_BOOT_INIT_H
#define KERNEL_BOOT_INIT_H

enum stage {
	STAGE_CONSOLE = 1,      // console, GDT, exceptions, boot info (Lab 1)
	STAGE_PAGES,            // the physical page allocator and the heap (Lab 2)
	STAGE_MEMORY,           // the kernel's own page tables (Lab 2)
	STAGE_PROCESSES,        // system calls, user processes (Lab 3)
	STAGE_SMP,              // the other CPUs, timers, interrupts on (Lab 4)
	STAGE_VMX,              // VMX operation on every CPU (Lab 5)
};

// Brings the kernel up to stage (no-op for stages already up).
void bring_up(enum stage stage);

#endif
