// Prints a line and halts, three times: the host runs each part on the
// CPU it chooses, and the guest goes on where it stopped.
#include "guest.h"

void main(uint64_t token)
{
	for (int part = 1; part <= 3; part++) {
		printf("part %d, token %lx\n", part, token);
		asm volatile("hlt");
	}
}
