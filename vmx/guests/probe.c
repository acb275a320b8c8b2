// Reads guest-physical `address` (its page tables map the first GiB
// 1:1): memory the guest was not given must not be reachable.
#include "guest.h"

void main(uint64_t address)
{
	printf("probe: reading 0x%lx\n", address);
	uint64_t v = *(volatile uint64_t *)address;
	printf("probe: read 0x%lx\n", v);
}
