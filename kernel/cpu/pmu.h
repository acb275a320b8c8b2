// Architectural performance monitoring (SDM Vol. 3B chapter 20): fixed
// counter 0 counts instructions retired. Where the CPU has it, pmu_init
// starts it in every ring and lets user code read it with rdpmc, so
// benchmarks can count instructions as well as cycles.

#ifndef KERNEL_CPU_PMU_H
#define KERNEL_CPU_PMU_H

#include <stdbool.h>

// The rdpmc index of fixed counter 0 (bit 30 selects the fixed counters).
#define PMU_INSTRUCTIONS_RETIRED ((1u << 30) | 0)

// Starts the counter on this CPU; returns false if the CPU has none.
bool pmu_init(void);

#endif
