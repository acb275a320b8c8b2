#include "arch/regs.h"
#include "arch/x86.h"
#include "cpu/pmu.h"

#define FIXED_CTR0_ALL_RINGS    0x3     // count in ring 0 and in ring 3
#define GLOBAL_CTRL_FIXED0      (1ull << 32)

bool pmu_init(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 0xA)
		return false;
	cpuid(0xA, 0, &a, &b, &c, &d);
	// EAX[7:0]: version (fixed counters from version 2); EDX[4:0]: how
	// many fixed counters (SDM Vol. 2A, CPUID leaf 0AH).
	if ((a & 0xFF) < 2 || (d & 0x1F) < 1)
		return false;
	wrmsr(MSR_FIXED_CTR0, 0);
	wrmsr(MSR_FIXED_CTR_CTRL, FIXED_CTR0_ALL_RINGS);
	wrmsr(MSR_PERF_GLOBAL_CTRL, rdmsr(MSR_PERF_GLOBAL_CTRL) | GLOBAL_CTRL_FIXED0);
	// Some emulators report the counters but do not count: believe only
	// a counter that moves.
	uint64_t before = rdmsr(MSR_FIXED_CTR0);
	for (volatile int i = 0; i < 100; i++)
		;
	if (rdmsr(MSR_FIXED_CTR0) == before)
		return false;
	write_cr4(read_cr4() | CR4_PCE);
	return true;
}
