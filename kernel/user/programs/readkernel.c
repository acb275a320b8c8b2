// Reads kernel memory: present, but not for user mode.
#include "ulib.h"

int main(uint64_t arg)
{
	volatile uint64_t *kernel = (volatile uint64_t *)(0xFFFFFFFF80100000ul + (arg & 0xF000));

	printf("reading %p\n", (void *)kernel);
	printf("readkernel: read 0x%lx\n", *kernel);
	return 0;
}
