// Touches `pages` pages from 2 MiB on, beyond the memory the guest
// started with: each first touch is an EPT violation the host answers
// with a zeroed page. Then checks that the pages read back as written.
#include "arch/memlayout.h"
#include "guest.h"

#define START (2ul << 20)

void main(uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++)
		*(volatile uint64_t *)(START + i * PAGE_SIZE) = i + 1;
	uint64_t bad = 0;
	for (uint64_t i = 0; i < pages; i++)
		bad += *(volatile uint64_t *)(START + i * PAGE_SIZE) != i + 1;
	printf("demand: %lu pages touched, %lu read back wrong\n", pages, bad);
}
