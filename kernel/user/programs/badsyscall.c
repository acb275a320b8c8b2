// System call numbers the kernel does not have, and the last one it has.
#include "ulib.h"

int main(uint64_t arg)
{
	uint64_t numbers[] = { NSYSCALLS, NSYSCALLS + arg % 1000, (uint64_t)-1, 1ul << 63,
			       (1ul << 32) | SYS_getpid };

	for (int i = 0; i < 5; i++)
		printf("syscall %lu = %ld\n", numbers[i], syscall3(numbers[i], 0, 0, 0));
	// SYS_mmio_count: no device register was emulated for this process.
	printf("syscall %d = %ld\n", NSYSCALLS - 1, syscall3(NSYSCALLS - 1, 0, 0, 0));
	return 0;
}
