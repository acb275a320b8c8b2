// Architectural performance monitoring (SDM Vol. 3B chapter 20): fixed
// counter 0 counts instructions retired. Where the CPU has it, pmu_init
// starts it in every ring and lets user code read it with rdpmc, so
// benchmarks can count instructions as well as cycles.

#ifndef KERNEL_CPU_PMU_H
#define KERNEL_CPU_PMU_H

#include <stdbool.h>

// User code reads the counter with rdpmc(RDPMC_FIXED_CTR0) (arch/x86.h,
// arch/regs.h).

// Starts the counter on this CPU; returns false if the CPU has none.
bool pmu_init(void);

#endif
