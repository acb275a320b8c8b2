// Writes to the pages whose numbers (0-63, within its first 256 KiB past
// 1 MiB) are set in `mask`, and only reads the others: the host then
// reports which pages the EPT marked dirty.
#include "guest.h"

#define BASE 0x100000ul

void main(uint64_t mask)
{
	uint64_t sum = 0;

	for (int i = 0; i < 64; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(BASE + (uint64_t)i * 4096);
		if (mask & (1ul << i))
			*p = (uint64_t)i;
		else
			sum += *p;
	}
	printf("dirty: done (%lu)\n", sum);
}
