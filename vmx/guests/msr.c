// Reads the TSC through RDMSR (the host allows it), then an MSR the host
// refuses: the #GP it injects finds no IDT, so the guest triple-faults.
#include "guest.h"

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

void main(void)
{
	printf("tsc via rdmsr is %s\n", rdmsr(0x10) ? "nonzero" : "zero");
	rdmsr(0xC0000080);
	printf("read EFER\n");
}
