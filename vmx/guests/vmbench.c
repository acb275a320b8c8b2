// The costs of virtualization, measured in the guest: a VMCALL round
// trip (exit and entry), and an EPT violation answered by the host with
// a fresh page. Printed, never judged.
#include "arch/memlayout.h"
#include "guest.h"

#define ROUNDS 200
#define FAULT_PAGES 64
#define START (4ul << 20)

void main(void)
{
	uint64_t t = rdtsc();
	for (int i = 0; i < ROUNDS; i++)
		vmcall(HC_ADD, 1, 2);
	printf("bench: %-28s %8lu cycles\n", "VMCALL round trip", (rdtsc() - t) / ROUNDS);

	t = rdtsc();
	for (uint64_t i = 0; i < FAULT_PAGES; i++)
		*(volatile uint64_t *)(START + i * PAGE_SIZE) = i;
	printf("bench: %-28s %8lu cycles\n", "EPT violation (new page)", (rdtsc() - t) / FAULT_PAGES);
}
