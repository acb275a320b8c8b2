// Writes twice to each of `pages` pages that the host write-protected:
// the first write to a page faults (the host then lets it write), the
// second does not. Every write must land. Then it halts; when it runs
// again (the host having taken the write permission of the first page
// away again), it writes to the first page once more: that write must
// fault, though the guest wrote there a moment ago. It halts again; the
// third time (the host having unmapped the first page), it reads the
// first page: a new, zeroed page, mapped on demand.
#include "arch/memlayout.h"
#include "guest.h"

#define BASE 0x100000ul

void main(uint64_t pages)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < pages; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(BASE + i * PAGE_SIZE);
		*p = i;
		*p += 1;
		sum += *p;
	}
	printf("wprotect: %lu pages written, sum %lu\n", pages, sum);
	asm volatile("hlt");
	*(volatile uint64_t *)BASE += 1;
	printf("wprotect: the first page holds %lu\n", *(volatile uint64_t *)BASE);
	asm volatile("hlt");
	printf("wprotect: after the unmap, the first page holds %lu\n", *(volatile uint64_t *)BASE);
}
