// Writes to the pages whose numbers (0-63, within its first 256 KiB past
// 1 MiB) are set in `mask`, and only reads the others; writes one word in
// the 2 MiB leaf the host maps at 4 MiB. It halts: the host reports
// which pages the EPT marked dirty. Run again, it writes the pages set in
// `again` and only reads the others and the 2 MiB leaf.
#include "arch/memlayout.h"
#include "guest.h"

#define BASE 0x100000ul
#define LEAF 0x400000ul

static uint64_t touch(uint64_t mask)
{
	uint64_t sum = 0;

	for (int i = 0; i < 64; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(BASE + (uint64_t)i * PAGE_SIZE);
		if (mask & (1ul << i))
			*p = (uint64_t)i;
		else
			sum += *p;
	}
	return sum;
}

void main(uint64_t mask, uint64_t again)
{
	uint64_t sum = touch(mask);

	*(volatile uint64_t *)(LEAF + 0x12345 * 8) = sum;
	printf("dirty: done (%lu)\n", sum);
	asm volatile("hlt");
	sum = touch(again) + *(volatile uint64_t *)(LEAF + 0x12345 * 8);
	printf("dirty: done again (%lu)\n", sum);
}
